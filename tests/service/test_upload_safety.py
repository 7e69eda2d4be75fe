"""Issue 10, uploads, evidence and downloads: bounded, safe to open, scanned (on moto).

Each test names the point it proves. moto enforces no signed header, so for part sizes the
test checks what we control: the URL signs content-length, and completion checks the parts.
"""
import time
from urllib.parse import parse_qs, urlparse

import boto3
import pytest

from chalicelib.base.config import get_config
from chalicelib.footage.tables import EvidenceItem, FootageRequest, UploadRecord
from local.scanner import EICAR, scan_object
from tests.conftest import REGION, bearer, give_statement, post_json
from tests.service.test_footage_requests import MP4, ask, body_of, ingest, place, respond_session, tag_scan, upload

pytestmark = pytest.mark.usefixtures("footage")
MIB = 2**20


@pytest.fixture(autouse=True)
def _case(client, footage):
    from tests.conftest import open_case

    return open_case(client, "20/777/26")


@pytest.fixture
def settings(monkeypatch):
    """Change settings for one test (the configuration is read once, so it is re-read)."""

    def change(**values):
        for name, value in values.items():
            monkeypatch.setenv(f"SIGHTLINE_{name.upper()}", str(value))
        get_config.reset()

    yield change
    get_config.reset()


def owner(client, outbox, name):
    place(name)
    ask(client, name)
    return respond_session(client, outbox, f"{name}@example.org")


def start(client, request_id, headers, size, filename="night.dav", content_type="application/octet-stream"):
    return post_json(client, f"/owner/requests/{request_id}/uploads",
                     {"filename": filename, "content_type": content_type, "size": size}, headers=headers)


# -- bounded -------------------------------------------------------------------------------------


def test_bounded_each_part_url_signs_its_content_length(client, outbox):
    request_id, headers = owner(client, outbox, "rparts")
    target = body_of(start(client, request_id, headers, 6 * 2**30))
    assert target["method"] == "multipart"
    for part in target["parts"]:
        signed = parse_qs(urlparse(part["url"]).query)["X-Amz-SignedHeaders"][0].split(";")
        assert "content-length" in signed


def test_bounded_completion_checks_the_parts_add_up_to_the_declared_size(client, outbox, settings):
    settings(multipart_threshold_bytes=MIB, multipart_part_bytes=5 * MIB)
    request_id, headers = owner(client, outbox, "rsum")
    size = 7 * MIB
    response = start(client, request_id, headers, size)
    assert response.status_code == 201
    target = body_of(response)
    assert target["part_size"] == 5 * MIB and len(target["parts"]) == 2
    s3 = boto3.client("s3", region_name=REGION)
    bucket = get_config().evidence_bucket
    upload_id = parse_qs(urlparse(target["parts"][0]["url"]).query)["uploadId"][0]
    body = bytes(range(256)) * (size // 256)
    complete = f"/owner/requests/{request_id}/uploads/{target['upload_id']}/complete"

    # Given part 2 sent one byte short (S3 would refuse it at the signed URL; moto does not)
    first = s3.upload_part(Bucket=bucket, Key=target["key"], UploadId=upload_id, PartNumber=1, Body=body[:5 * MIB])
    s3.upload_part(Bucket=bucket, Key=target["key"], UploadId=upload_id, PartNumber=2, Body=body[5 * MIB:-1])
    # Then completing is refused, naming the part, and no object is made
    refused = post_json(client, complete, {}, headers=headers)
    assert refused.status_code == 400, refused.body
    assert "Part 2" in body_of(refused)["error"]["message"] and "parts" in body_of(refused)["error"]["fields"]
    assert s3.list_objects_v2(Bucket=bucket, Prefix=target["key"]).get("KeyCount") == 0

    # And when part 2 is sent again whole, the upload completes
    assert first["ETag"]
    s3.upload_part(Bucket=bucket, Key=target["key"], UploadId=upload_id, PartNumber=2, Body=body[5 * MIB:])
    done = post_json(client, complete, {}, headers=headers)
    assert done.status_code == 200, done.body
    assert s3.head_object(Bucket=bucket, Key=target["key"])["ContentLength"] == size


def test_bounded_completion_of_an_unknown_upload_is_404(client, outbox):
    request_id, headers = owner(client, outbox, "rnone")
    response = post_json(client, f"/owner/requests/{request_id}/uploads/u{'0' * 24}/complete", {}, headers=headers)
    assert response.status_code == 404 and body_of(response)["error"]["code"] == "not_found"


def test_bounded_each_request_has_a_quota_of_files(client, outbox, settings):
    settings(max_files_per_request=2)
    request_id, headers = owner(client, outbox, "rfiles")
    assert [start(client, request_id, headers, 100).status_code for _ in range(2)] == [201, 201]
    refused = start(client, request_id, headers, 100)
    assert refused.status_code == 409 and "files" in body_of(refused)["error"]["fields"]
    item = FootageRequest.get(request_id)
    assert (item.uploads_started, item.upload_bytes) == (2, 200)  # the refusal wrote nothing
    assert len(list(UploadRecord.scan())) == 2


def test_bounded_each_request_has_a_quota_of_bytes(client, outbox, settings):
    settings(max_bytes_per_request=1000)
    request_id, headers = owner(client, outbox, "rbytes")
    assert start(client, request_id, headers, 600).status_code == 201
    refused = start(client, request_id, headers, 600)
    assert refused.status_code == 413 and "size" in body_of(refused)["error"]["fields"]
    assert start(client, request_id, headers, 400).status_code == 201  # exactly what is left
    assert FootageRequest.get(request_id).upload_bytes == 1000


def test_bounded_the_quota_is_a_condition_not_arithmetic_on_a_stale_read(client, outbox, settings):
    from chalicelib.base.errors import Conflict
    from chalicelib.footage import uploads

    settings(max_files_per_request=1)
    request_id, headers = owner(client, outbox, "rrace")
    stale = FootageRequest.get(request_id)  # read before the other upload started
    assert start(client, request_id, headers, 100).status_code == 201
    with pytest.raises(Conflict):
        uploads._spend_quota(stale, 100, get_config(), stale.created_at)
    assert FootageRequest.get(request_id).uploads_started == 1


def test_bounded_ingest_refuses_objects_that_arrive_after_the_request_closed(client, outbox):
    request_id, headers = owner(client, outbox, "rlate")
    early = upload(client, request_id, headers, MP4, filename="early.mp4")  # stored before closing
    late = body_of(start(client, request_id, headers, len(MP4), filename="late.mp4", content_type="video/mp4"))
    give_statement(client, request_id, headers)
    assert post_json(client, f"/owner/requests/{request_id}/complete", {}, headers=headers).status_code == 200
    time.sleep(0.01)
    # The POST's URL is still valid for minutes: the owner (or whoever has it) uses it now
    boto3.client("s3", region_name=REGION).put_object(
        Bucket=get_config().evidence_bucket, Key=late["fields"]["key"], Body=MP4, ContentType="video/mp4",
    )
    ingest(client, outbox)
    by_key = {item.key: item for item in EvidenceItem.scan()}
    assert by_key[early["fields"]["key"]].status == "accepted"
    refused = by_key[late["fields"]["key"]]
    assert refused.status == "quarantined" and "closed" in refused.problem


def test_bounded_ingest_refuses_an_object_not_the_size_declared(client, outbox):
    request_id, headers = owner(client, outbox, "rsize")
    target = body_of(start(client, request_id, headers, 100, filename="small.mp4", content_type="video/mp4"))
    boto3.client("s3", region_name=REGION).put_object(  # S3 would refuse this POST; moto does not
        Bucket=get_config().evidence_bucket, Key=target["fields"]["key"], Body=MP4, ContentType="video/mp4",
    )
    ingest(client, outbox)
    [item] = list(EvidenceItem.scan())
    assert item.status == "quarantined" and "declared" in item.problem


# -- safe to open, scanned ----------------------------------------------------------------------


def accepted_item(client, outbox, name, content=MP4, filename="front-door.mp4", content_type="video/mp4"):
    request_id, headers = owner(client, outbox, name)
    upload(client, request_id, headers, content, filename=filename, content_type=content_type)
    ingest(client, outbox)
    [item] = list(EvidenceItem.scan())
    assert item.status == "accepted", item.problem
    return request_id, item


def download(client, item):
    return post_json(client, f"/officer/evidence/{item.evidence_id}/downloads", {"reason": "Review the footage"},
                     headers=bearer("pc.jones"))


@pytest.mark.parametrize(
    "filename, content_type, content, extension",
    [
        ("clip.mp4.exe", "video/mp4", MP4, "mp4"),
        ('x";.html', "video/mp4", MP4, "mp4"),
        ("night.dav", "application/octet-stream", b"DAHUA\x00" + bytes(500), "bin"),
    ],
)
def test_safe_to_open_downloads_get_a_neutral_name_and_the_verified_type(client, outbox, filename, content_type,
                                                                          content, extension):
    _, item = accepted_item(client, outbox, "rname", content, filename, content_type)
    tag_scan(item, "NO_THREATS_FOUND")
    response = download(client, item)
    assert response.status_code == 200, response.body
    result = body_of(response)
    query = parse_qs(urlparse(result["url"]).query)
    name = f"{item.evidence_id}.{extension}"
    assert query["response-content-disposition"] == [f'attachment; filename="{name}"']
    assert query["response-content-type"] == [content_type]
    assert result["filename"] == name and result["original_filename"] == filename
    assert filename.rsplit(".", 1)[0] not in query["response-content-disposition"][0]


def test_scanned_no_download_until_the_object_is_tagged_clean(client, outbox):
    _, item = accepted_item(client, outbox, "rwait")
    waiting = download(client, item)
    assert waiting.status_code == 409 and "scanned" in body_of(waiting)["error"]["message"]
    tag_scan(item, "UNSUPPORTED")
    unscannable = download(client, item)
    assert unscannable.status_code == 409 and "UNSUPPORTED" in body_of(unscannable)["error"]["message"]
    tag_scan(item, "NO_THREATS_FOUND")
    assert download(client, item).status_code == 200
    assert EvidenceItem.get(item.evidence_id).scan_result == "clean"  # kept: no tag read next time


def test_scanned_a_threat_is_refused_and_quarantines_the_item(client, outbox):
    # The local scanner (GuardDuty's stand-in) finds the EICAR test string in an accepted DVR export
    request_id, item = accepted_item(client, outbox, "reicar", b"DVR1" + EICAR + bytes(100), "night.dav",
                                     "application/octet-stream")
    assert scan_object(boto3.client("s3", region_name=REGION), get_config().evidence_bucket, item.key,
                       item.version_id) == "THREATS_FOUND"
    refused = download(client, item)
    assert refused.status_code == 409 and "threat" in body_of(refused)["error"]["message"]
    stored = EvidenceItem.get(item.evidence_id)
    assert stored.status == "quarantined" and "malware" in stored.problem
    officer_view = body_of(client.http.get(f"/officer/requests/{request_id}", headers=bearer("pc.jones")))
    assert officer_view["evidence"] == []
    assert download(client, item).status_code == 404  # quarantined for good
