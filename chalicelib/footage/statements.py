"""The owner's statement about the footage they send: who produced it and how, and how far their
recorder's clock is from the true time.

UK guidance on video evidence asks who produced the recording, from what system, whether it is
the recorder's own export, and the recorder's clock against real time. The owner answers on the
respond page before they finish; the clock check is a measurement, not a guess: the page shows
the true time (the API's clock, corrected for the device's own clock and the network's delay),
the owner notes it while looking at their recorder and types what the recorder showed, and the
signed offset is computed here, with how it was measured. The statement is kept with the
evidence, shown to the officers of the case and in every export.
"""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any, Dict, List, Optional
from zoneinfo import ZoneInfo

from chalicelib.base.config import Config
from chalicelib.base.errors import ValidationError
from chalicelib.base.ids import iso
from chalicelib.base.validation import parse, parse_time
from chalicelib.footage.schemas import StatementIn

# The owner's declaration, in our own plain words (not a Criminal Justice Act statement: the
# officer takes one if it is needed, and the statement says whether the owner is willing).
DECLARATION_TEXT = (
    "What I have said here is true to the best of my knowledge. I understand the police may rely "
    "on it, and may ask me to make a formal witness statement about the footage."
)
# How far back a noted time may be (the owner may fill the form in slowly) and how far a
# recorder's clock can sensibly be out before the date was probably typed wrongly.
OBSERVED_WITHIN = timedelta(hours=24)
OBSERVED_AHEAD = timedelta(minutes=2)
MAX_OFFSET = timedelta(days=366)

OPERATORS = {"me": "the owner themself", "my_business": "the owner's business", "managing_agent": "a managing agent"}
SOURCES = {
    "recorder_export": "the recorder's own export",
    "re_recording": "a re-recording (for example a phone filming the recorder's screen)",
}


def cameras_of(registration: Any) -> List[Dict[str, Any]]:
    """The registration's cameras as the respond page lists them (numbered from 1)."""
    if registration is None:
        return []
    described = list(registration.cameras or [])
    shown = []
    for number in range(1, int(registration.camera_count or len(described)) + 1):
        camera = described[number - 1] if number <= len(described) else None
        direction = getattr(camera, "direction_deg", None) if camera is not None else None
        shown.append({
            "number": number,
            "description": getattr(camera, "description", None) if camera is not None else None,
            "direction_deg": int(direction) if direction is not None else None,
        })
    return shown


def build(payload: Any, *, camera_count: int, config: Config, now: datetime) -> Dict[str, Any]:
    """The statement to store: validated, with the clock offset computed and the declaration's
    exact words; ValidationError naming every field that needs correcting."""
    data = parse(StatementIn, payload)
    fields: Dict[str, str] = {}
    if data.operator != "me" and not data.operator_name:
        fields["operator_name"] = "Give the name of the business or managing agent."
    if not data.cameras and not data.cameras_note:
        fields["cameras"] = "Choose the cameras the files come from, or describe them."
    unknown = [n for n in data.cameras if n > camera_count]
    if unknown and camera_count:
        fields["cameras"] = f"Camera {unknown[0]} is not one of your {camera_count} registered cameras."
    if data.source == "re_recording" and not data.source_note:
        fields["source_note"] = "Say how the footage was re-recorded, for example with a phone filming the screen."
    if data.gaps_or_edits and not data.gaps_note:
        fields["gaps_note"] = "Describe the gaps or edits."
    if not data.declaration:
        fields["declaration"] = "Tick the box to confirm what you have said is true."
    clock = _clock(data, config, now, fields)
    if fields:
        raise ValidationError("Some of the details need correcting.", fields)
    stored = data.model_dump(exclude={"clock"})
    stored["cameras"] = sorted(set(data.cameras))
    stored.update(clock=clock, declaration_text=DECLARATION_TEXT, saved_at=iso(now))
    return stored


def view(stored: Any) -> Optional[Dict[str, Any]]:
    """A stored statement as the API shows it (with the clock offset in words too)."""
    if stored is None:
        return None
    statement = stored.as_dict() if hasattr(stored, "as_dict") else dict(stored)
    clock = dict(statement.get("clock") or {})
    if clock.get("checked"):
        clock["offset_words"] = offset_words(clock.get("offset_seconds", 0))
    return {**statement, "clock": clock}


def offset_words(seconds: float) -> str:
    """+18 → "18 seconds fast"; -125 → "2 minutes 5 seconds slow"; 0 → "right to the second"."""
    whole = int(round(seconds))
    if whole == 0:
        return "right to the second"
    parts = []
    remaining = abs(whole)
    for unit, size in (("day", 86400), ("hour", 3600), ("minute", 60), ("second", 1)):
        count, remaining = divmod(remaining, size)
        if count:
            parts.append(f"{count} {unit}{'' if count == 1 else 's'}")
    return " ".join(parts) + (" fast" if whole > 0 else " slow")


def _clock(data: StatementIn, config: Config, now: datetime, fields: Dict[str, str]) -> Dict[str, Any]:
    clock = data.clock
    if not clock.checked:
        if not clock.reason:
            fields["clock.reason"] = "Say why you cannot check the recorder's clock."
        return {"checked": False, "reason": clock.reason}
    if not clock.recorder_shows:
        fields["clock.recorder_shows"] = "Enter the date and time your recorder showed."
    if not clock.observed_at:
        fields["clock.observed_at"] = "Select 'Note the time now' while you look at your recorder."
    if "clock.recorder_shows" in fields or "clock.observed_at" in fields:
        return {}
    observed = parse_time(clock.observed_at)
    if not now - OBSERVED_WITHIN <= observed <= now + OBSERVED_AHEAD:
        fields["clock.observed_at"] = "Note the time again: the one noted is not from today."
        return {}
    zone = ZoneInfo(config.force_timezone)
    shown = datetime.fromisoformat(clock.recorder_shows).replace(tzinfo=zone).astimezone(timezone.utc)
    offset = shown - observed
    if abs(offset) > MAX_OFFSET:
        fields["clock.recorder_shows"] = "This is more than a year from today: check the date you entered."
        return {}
    uncertainty = clock.uncertainty_ms if clock.uncertainty_ms is not None else 0
    return {
        "checked": True,
        "recorder_shows": clock.recorder_shows,
        "timezone": config.force_timezone,
        "observed_at": observed.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
        "offset_seconds": round(offset.total_seconds()),
        "uncertainty_ms": uncertainty,
        "method": (
            "The owner pressed 'Note the time now' on Sightline's page while looking at the "
            "recorder, then typed the date and time the recorder showed. The page's time is the "
            "Sightline server's clock, corrected for the owner's device clock and half the network "
            f"round trip (within {uncertainty} ms); the recorder's display is read to the second, "
            f"as local time in {config.force_timezone}. Offset = recorder time minus true time."
        ),
    }
