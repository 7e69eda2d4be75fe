"""An exhibit's chain of custody: append-only, numbered, hash-chained, each event once."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

NOW = datetime(2026, 12, 2, 18, 0, tzinfo=timezone.utc)


def test_events_are_numbered_and_chained_and_a_changed_one_shows(aws):
    from chalicelib.footage import custody
    from chalicelib.footage.tables import CustodyEvent

    custody.record("e1", custody.UPLOAD_STARTED, at=NOW, actor=custody.OWNER, now=NOW)
    custody.record("e1", custody.HASHED, at=NOW, actor=custody.SIGHTLINE, now=NOW, detail={"sha256": "ab" * 32})
    custody.record("e1", custody.DOWNLOADED, at=NOW + timedelta(hours=1), actor="pc.jones", now=NOW,
                   detail={"reason": "review", "size": 12.0})
    shown = custody.view("e1")
    assert shown["chain"] == {"intact": True, "events": 3, "problem": None}
    assert [e["seq"] for e in shown["events"]] == [1, 2, 3]
    assert shown["events"][2]["detail"] == {"reason": "review", "size": 12}

    edited = CustodyEvent.get("e1", 2)
    edited.update(actions=[CustodyEvent.actor.set("someone else")])
    assert custody.view("e1")["chain"]["intact"] is False
    assert "Event 2 has been changed" in custody.view("e1")["chain"]["problem"]

    CustodyEvent.get("e1", 2).delete()
    assert custody.view("e1")["chain"]["problem"] == "Event 2 is missing."


def test_an_event_with_a_once_key_is_recorded_once(aws):
    from chalicelib.footage import custody

    first = custody.record("e2", custody.ACCEPTED, at=NOW, actor=custody.SIGHTLINE, now=NOW, once="accepted")
    again = custody.record("e2", custody.ACCEPTED, at=NOW, actor=custody.SIGHTLINE, now=NOW + timedelta(seconds=5), once="accepted")
    assert again.seq == first.seq == 1
    assert len(custody.events("e2")) == 1
