"""The DPIA (docs/dpia.md) quotes the retention periods the code uses and names every table in its
retention schedule: a changed default, or a new table, fails here until the DPIA says the same."""
from __future__ import annotations

import dataclasses
import re
from datetime import timedelta
from pathlib import Path

import pytest

from chalicelib import housekeeping
from chalicelib.base.config import Config
from chalicelib.footage import uploads
from chalicelib.investigations import searches
from chalicelib.registry import records
from chalicelib.tables import ALL_MODELS

ROOT = Path(__file__).resolve().parents[2]
INFRA = ROOT / "infrastructure" / "sightline_infra"


def dpia() -> str:
    return re.sub(r"\s+", " ", (ROOT / "docs" / "dpia.md").read_text(encoding="utf-8"))


def schedule_lines() -> str:
    """Section 5, the retention schedule, as written."""
    text = (ROOT / "docs" / "dpia.md").read_text(encoding="utf-8")
    match = re.search(r"^## 5\. Retention schedule$(.*?)^## 6\.", text, re.DOTALL | re.MULTILINE)
    assert match, "docs/dpia.md has no '## 5. Retention schedule' section followed by '## 6.'"
    return match.group(1)


def schedule() -> str:
    return re.sub(r"\s+", " ", schedule_lines())


def schedule_row(starts_with: str) -> str:
    rows = [line for line in schedule_lines().splitlines() if line.startswith(f"| {starts_with}")]
    assert len(rows) == 1, f"one schedule row starting {starts_with!r}, found {len(rows)}"
    return rows[0]


def env_default(name: str) -> object:
    """The default of the Config field read from environment variable ``name``."""
    for field in dataclasses.fields(Config):
        if field.metadata.get("env") == name:
            return field.default
    raise AssertionError(f"no setting reads {name}")


def infra_default(name: str) -> object:
    """A default of the CDK app's Settings (read from its source: the unit tier imports no CDK)."""
    match = re.search(rf"^    {name}: int = (\d+)$", (INFRA / "settings.py").read_text(), re.MULTILINE)
    assert match, f"Settings.{name} not found"
    return int(match.group(1))


@pytest.mark.parametrize(
    "env",
    [
        "SIGHTLINE_VERIFICATION_TTL_HOURS",
        "SIGHTLINE_MANAGE_LINK_TTL_MINUTES",
        "SIGHTLINE_OWNER_SESSION_TTL_MINUTES",
        "SIGHTLINE_DELETION_RETRY_MINUTES",
        "SIGHTLINE_EVIDENCE_RETENTION_DAYS",
        "SIGHTLINE_EXPORT_TTL_DAYS",
        "SIGHTLINE_AUDIT_RETENTION_DAYS",
        "SIGHTLINE_PUBLIC_EMAILS_PER_HOUR",
        "SIGHTLINE_PUBLIC_EMAILS_PER_DAY",
        "SIGHTLINE_DOWNLOAD_URL_TTL_S",
        "SIGHTLINE_UPLOAD_URL_TTL_S",
    ],
)
def test_each_quoted_setting_is_quoted_with_the_codes_default(env):
    text = dpia()
    quoted = re.findall(rf"`{env}` \(default (\d+)\)", text)
    assert quoted, f"docs/dpia.md does not quote `{env}` (default N)"
    assert set(quoted) == {str(env_default(env))}, f"{env}: the DPIA says {sorted(set(quoted))}, the code {env_default(env)}"


def test_the_schedule_quotes_the_periods_fixed_in_code():
    text = schedule()
    assert f"`SAVED_SEARCH_DAYS` = {searches.SAVED_SEARCH_DAYS} days" in text
    assert uploads.RECORD_GRACE == timedelta(days=1) and "A day (`RECORD_GRACE`)" in text
    assert f"a stray one {records.CLAIM_GRACE.seconds // 3600} hour" in text
    assert f"at most {housekeeping.GIVE_UP_CONFIRMING.days * 24} hours" in text


def test_the_schedule_quotes_the_infrastructures_periods():
    text = schedule()
    data = (INFRA / "data.py").read_text()
    pitr = re.search(r"recovery_period_in_days=(\d+)", data).group(1)
    assert f"{pitr} days (`recovery_period_in_days={pitr}`)" in text

    queues = (INFRA / "queues.py").read_text()
    dlq, work = (int(days) for days in re.findall(r"retention_period=Duration\.days\((\d+)\)", queues))
    assert f"At most {work} days for an unprocessed message" in schedule_row("Work queues")
    assert f"{dlq} days (`retention_period`)" in schedule_row("Dead-letter queues")

    logs = infra_default("log_retention_days")
    assert f"`log_retention_days` (default {logs}) days" in schedule_row("CloudWatch log groups")
    assert f"`log_retention_days` (default {logs}) days" in schedule_row("S3 server access logs")
    audit = infra_default("audit_retention_days")
    assert audit == env_default("SIGHTLINE_AUDIT_RETENTION_DAYS")
    assert f"`audit_retention_days` (default {audit}) days" in schedule_row("Audit log copy")
    assert f"`audit_retention_days` (default {audit}) days" in schedule_row("Evidence bucket access trail")


def test_the_infrastructure_still_sets_those_periods_where_the_dpia_says():
    storage = (INFRA / "storage.py").read_text()
    for rule in ("expire-access-logs", "expire-exports", "expire-after-audit-retention", "abort-incomplete-uploads"):
        assert f'id="{rule}"' in storage and f"`{rule}`" in schedule()
    assert "compliance(Duration.days(days))" in storage
    assert 'id="expire-trail-with-the-audit-log"' in (INFRA / "guard.py").read_text()
    assert "retention=settings.log_retention" in (INFRA / "api.py").read_text()
    assert "eu-west-2" == Config().region and 'region: str = "eu-west-2"' in (INFRA / "settings.py").read_text()


def test_every_table_is_in_the_retention_schedule():
    """A table is named by its suffix in backquotes, in a row's parentheses: ``(`cases`)``."""
    text = schedule()
    missing = [
        f"{model.__name__} (`{model.Meta.table}`)"
        for model in ALL_MODELS
        if not re.search(rf"\((?:`[a-z-]+`, )*`{re.escape(model.Meta.table)}`[,)]", text)
    ]
    assert not missing, (
        f"docs/dpia.md's retention schedule (section 5) has no row for {', '.join(missing)}: "
        "add one saying how long it is kept and where that is enforced (or that nothing enforces it)"
    )
