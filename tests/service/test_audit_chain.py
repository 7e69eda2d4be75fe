"""The audit log's hash chain, its locked copy, its index by registration and its retention, on moto."""
import json
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta, timezone

import boto3
import pytest
from botocore.stub import Stubber

from chalicelib.base import audit, clients
from chalicelib.base.audit import CHAIN, GENESIS, Action, AuditEntry, AuditRegistration, copy_key, verify_chain
from chalicelib.base.config import get_config
from chalicelib.base.officers import Officer
from tests.conftest import REGION, bearer
from tests.service.test_officer_search import CENTRE, offset, place, search
from tools import verify_audit

JONES = Officer(username="pc.jones", sub="sub-jones", groups=frozenset({"officer"}))


@pytest.fixture
def atomic_moto_puts(monkeypatch):
    """DynamoDB applies a conditional put atomically; moto checks then writes, and threads can
    interleave between the two. Make moto's put atomic, as the real service is."""
    from moto.dynamodb.models import DynamoDBBackend

    lock = threading.Lock()
    put_item = DynamoDBBackend.put_item

    def atomic(self, *args, **kwargs):
        with lock:
            return put_item(self, *args, **kwargs)

    monkeypatch.setattr(DynamoDBBackend, "put_item", atomic)


def write(n, now=None, **kwargs):
    moment = now or datetime.now(timezone.utc)
    return [audit.record(JONES, Action.VIEW_CASE, case_ref="20/1/26", reason=f"look {i}", now=moment, **kwargs)
            for i in range(n)]


def chain():
    return list(AuditEntry.query(CHAIN, consistent_read=True))


def verify():
    return verify_chain(verify_audit.read_entries(),
                        verify_audit.read_copies(boto3.client("s3", region_name=REGION), get_config().audit_bucket))


def raw_key(seq):
    return {"chain": {"S": CHAIN}, "seq": {"N": str(seq)}}


def test_entries_chain_across_concurrent_writers_without_fork_or_gap(aws, atomic_moto_puts):
    # Given 8 writers (as many Lambda containers) each appending 6 entries at once
    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(lambda _: write(6), range(8)))
    # Then the 48 entries hold the numbers 1..48 once each, each linked to the one before
    entries = chain()
    assert [int(e.seq) for e in entries] == list(range(1, 49))
    assert entries[0].prev_hash == GENESIS
    for before, after in zip(entries, entries[1:]):
        assert after.prev_hash == before.hash
    for entry in entries:
        assert entry.hash == audit.entry_hash(audit.fields_of(entry))
    # And the copies agree with the table
    found = verify()
    assert found.ok, found.summary()
    assert (found.entries, found.copies) == (48, 48)


def test_a_writer_that_keeps_losing_the_race_fails_closed(aws, monkeypatch):
    # Given a head that is always one behind (another writer always got there first)
    write(2)
    stale = chain()[0]
    monkeypatch.setattr(audit, "head", lambda: stale)
    # Then the writer gives up after a bounded number of tries, with the caller's 503
    with pytest.raises(audit.ServiceUnavailable):
        write(1)
    assert len(chain()) == 2


def test_a_tampered_entry_is_detected(aws, capsys):
    write(3)
    # When someone with write access changes the reason of the second entry
    boto3.client("dynamodb", region_name=REGION).update_item(
        TableName=get_config().table_name("audit"), Key=raw_key(2),
        UpdateExpression="SET reason = :r", ExpressionAttributeValues={":r": {"S": "nothing to see"}},
    )
    found = verify()
    assert found.tampered == [2]
    assert found.differing_copies == [2]  # the locked copy still has what was written
    assert not found.ok
    # And the command says so, with a failing exit status
    assert verify_audit.main([]) == 1
    out = capsys.readouterr().out
    assert "tampered: seq 2" in out and "PROBLEMS" in out.splitlines()[-1]


def test_a_rehashed_tampered_entry_breaks_the_next_link(aws):
    write(3)
    # When the tamperer also recomputes the entry's hash
    entry = audit.fields_of(chain()[1])
    entry["reason"] = "nothing to see"
    boto3.client("dynamodb", region_name=REGION).update_item(
        TableName=get_config().table_name("audit"), Key=raw_key(2),
        UpdateExpression="SET reason = :r, #h = :h", ExpressionAttributeNames={"#h": "hash"},
        ExpressionAttributeValues={":r": {"S": "nothing to see"}, ":h": {"S": audit.entry_hash(entry)}},
    )
    found = verify()
    assert found.tampered == [] and found.broken_links == [3] and found.differing_copies == [2]


@pytest.mark.parametrize("deleted", [2, 3], ids=["in-the-middle", "the-newest"])
def test_a_deleted_entry_is_detected(aws, deleted):
    write(3)
    boto3.client("dynamodb", region_name=REGION).delete_item(
        TableName=get_config().table_name("audit"), Key=raw_key(deleted))
    found = verify()
    assert found.gaps == [deleted]
    assert not found.ok


def test_a_copy_that_differs_is_detected(aws):
    write(3)
    s3 = boto3.client("s3", region_name=REGION)
    original = s3.get_object(Bucket=get_config().audit_bucket, Key=copy_key(2))["Body"].read()
    # A copy whose bytes differ from the entry (the pure check)...
    entries = verify_audit.read_entries()
    copies = {e["seq"]: audit.canonical(e) for e in entries}
    copies[2] = original.replace(b"look", b"book")
    assert verify_chain(entries, copies).differing_copies == [2]
    # ...and a copy overwritten with a new version (the first version is the one compared)
    s3.put_object(Bucket=get_config().audit_bucket, Key=copy_key(2), Body=b"{}", ChecksumAlgorithm="SHA256")
    found = verify()
    assert found.overwritten_copies == [2] and found.differing_copies == []
    assert not found.ok


def test_a_copy_cannot_be_deleted_before_its_retention_ends(aws):
    write(1)
    s3 = boto3.client("s3", region_name=REGION)
    bucket = get_config().audit_bucket
    [version] = s3.list_object_versions(Bucket=bucket, Prefix=copy_key(1))["Versions"]
    # moto enforces compliance-mode retention on a version's deletion (only AWS can prove S3 does)
    with pytest.raises(s3.exceptions.ClientError, match="AccessDenied"):
        s3.delete_object(Bucket=bucket, Key=copy_key(1), VersionId=version["VersionId"])


def test_a_crash_between_entry_and_copy_shows_a_missing_copy_not_tampering(aws, monkeypatch):
    write(1)
    # When the writer's copy fails after its entry was put (a crash, S3 down)
    monkeypatch.setattr(audit, "_copy", lambda fields, bucket: (_ for _ in ()).throw(OSError("lost")))
    with pytest.raises(OSError):
        write(1)
    monkeypatch.undo()
    write(1)
    # Then the chain is whole, and verification names the entry without a copy, and only that
    found = verify()
    assert found.missing_copies == [2]
    assert (found.tampered, found.broken_links, found.gaps, found.differing_copies) == ([], [], [], [])


def test_if_the_copy_cannot_be_written_the_caller_gets_503_and_sees_nothing(officers, client):
    place("rshown", *offset(*CENTRE, 10, 10))
    with Stubber(clients.client("s3")) as s3:
        s3.add_client_error("put_object", "InternalError", http_status_code=500)
        response = search(client, radius_m=100)
    assert response.status_code == 503, response.body
    assert b"rshown" not in response.body
    assert json.loads(response.body)["error"]["code"] == "unavailable"


def test_the_log_is_queried_by_registration_newest_first(officers, client):
    place("rboth", *offset(*CENTRE, 10, 10))
    place("rnear", *offset(*CENTRE, 40, 0))
    place("rfar", *offset(*CENTRE, 400, 0))
    assert search(client, radius_m=100).status_code == 200   # shows rboth, rnear
    assert search(client, radius_m=450, reason="Second look at the street").status_code == 200  # all three
    headers = bearer("auditor.khan")

    def showing(registration_id):
        response = client.http.get(f"/officer/audit?registration_id={registration_id}", headers=headers)
        assert response.status_code == 200, response.body
        return json.loads(response.body)["entries"]

    far = showing("rfar")
    assert [e["reason"] for e in far] == ["Second look at the street"]
    both = showing("rboth")
    assert [e["reason"] for e in both] == ["Second look at the street", search_reason()]
    assert all("rboth" in e["registration_ids"] for e in both)
    assert showing("rnobody") == []
    # Index items: one per registration shown per entry
    assert {i.registration_id for i in AuditRegistration.scan()} == {"rboth", "rnear", "rfar"}
    assert client.http.get("/officer/audit?registration_id=rboth", headers=bearer("pc.jones")).status_code == 403
    assert client.http.get("/officer/audit?registration_id=R-BAD", headers=headers).status_code == 400


def search_reason():
    from tests.service.test_officer_search import search_body

    return search_body()["reason"]


def test_a_search_of_500_registrations_indexes_each(aws):
    ids = [f"r{i:04d}" for i in range(500)]
    write(1, registration_ids=ids)
    assert sorted(i.registration_id for i in AuditRegistration.scan()) == ids
    assert chain()[0].registration_ids == ids


def test_entries_and_index_items_expire_after_the_retention_period(aws, monkeypatch):
    monkeypatch.setenv("SIGHTLINE_AUDIT_RETENTION_DAYS", "30")
    get_config.reset()
    now = datetime(2026, 12, 2, 10, 0, 0, 123456, tzinfo=timezone.utc)
    write(1, now=now, registration_ids=["rkept"])
    [entry] = chain()
    assert entry.expires_at == (now + timedelta(days=30)).replace(microsecond=0)
    [item] = AuditRegistration.query("rkept")
    assert item.expires_at == entry.expires_at
    copy = json.loads(boto3.client("s3", region_name=REGION).get_object(
        Bucket=get_config().audit_bucket, Key=copy_key(1))["Body"].read())
    assert copy["expires_at"] == int((now + timedelta(days=30)).timestamp())


def test_the_default_retention_is_six_years(aws):
    assert get_config().audit_retention_days == 2192
    lock = boto3.client("s3", region_name=REGION).get_object_lock_configuration(Bucket=get_config().audit_bucket)
    retention = lock["ObjectLockConfiguration"]["Rule"]["DefaultRetention"]
    assert (retention["Mode"], retention["Days"]) == ("COMPLIANCE", 2192)


def test_expired_entries_are_not_shown_and_verification_starts_after_them(officers, client):
    long_ago = datetime.now(timezone.utc) - timedelta(days=2200)
    write(2, now=long_ago, registration_ids=["rold"])
    write(1, registration_ids=["rold"])
    # DynamoDB's TTL (eventually) deletes the two expired entries
    for seq in (1, 2):
        boto3.client("dynamodb", region_name=REGION).delete_item(
            TableName=get_config().table_name("audit"), Key=raw_key(seq))
    found = verify()
    assert found.ok, found.summary()
    assert found.expired == 2 and found.first_seq == 3
    assert "oldest remaining entry, 2 older entries expired" in found.summary()
    # Before TTL got to them, the reader leaves expired entries out
    write(1, now=long_ago, registration_ids=["rold"])
    response = client.http.get("/officer/audit?registration_id=rold&from=2000-01-01T00:00:00Z",
                               headers=bearer("auditor.khan"))
    assert len(json.loads(response.body)["entries"]) == 1


def test_verification_of_a_sound_log_passes(aws, capsys):
    write(3)
    assert verify_audit.main([]) == 0
    assert capsys.readouterr().out.strip().startswith("audit log OK: 3 entries (seq 1..3), 3 copies")
