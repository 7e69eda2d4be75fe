"""The privacy notice says what is held and for how long in the figures the code uses: a change
to a default that the notice quotes fails here until the notice says the same."""
from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path

from chalicelib.base.config import Config

ROOT = Path(__file__).resolve().parents[2]


class _Text(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.parts: list = []

    def handle_data(self, data: str) -> None:
        self.parts.append(data)


def notice() -> str:
    parser = _Text()
    parser.feed((ROOT / "site" / "privacy.html").read_text(encoding="utf-8"))
    return re.sub(r"\s+", " ", " ".join(parser.parts))


def test_the_notice_quotes_the_periods_and_limits_the_code_uses():
    text, config = notice(), Config()
    assert f"deleted after {config.verification_ttl_hours} hours" in text
    assert f"manage your registration after {config.manage_link_ttl_minutes} minutes" in text
    assert f"at most {config.public_emails_per_hour} an hour and {config.public_emails_per_day} a day" in text
    years = {6: "six"}.get(config.audit_retention_days // 365, str(config.audit_retention_days // 365))
    assert f"kept for {years} years" in text
    evidence_years = {6: "six"}.get(config.evidence_retention_days // 365, str(config.evidence_retention_days // 365))
    assert f"while the case is open and for {evidence_years} years after it closes" in text
    assert (
        f"{config.reconfirm_after_days} days after you last confirmed or changed your registration" in text
        and f"paused after {config.reconfirm_pause_after_days} days" in text
        and f"deleted after {config.reconfirm_delete_after_days} more days" in text
        and f"a link to confirm your registration is still right, at most "
        f"{max(config.reconfirm_pause_after_days, config.reconfirm_delete_after_days)} days" in text
    )
    days = re.search(r"recovery_period_in_days=(\d+)", (ROOT / "infrastructure" / "sightline_infra" / "data.py").read_text())
    assert f"keeps backups for {days.group(1)} days" in text


def test_the_notice_lists_what_survives_a_deletion_and_no_longer_says_what_is_untrue():
    text = notice()
    for survivor in ("Footage you chose to upload", "your statement about it", "chain of custody", "how you answered",
                     "The audit log", "Backups"):
        assert survivor in text
    assert "cannot be read back" not in text
    assert "We do not hold any footage or pictures" not in text
