"""What owners send when they answer a footage request."""
from __future__ import annotations

from typing import Annotated, List, Literal, Optional

from pydantic import Field, field_validator

from chalicelib.base.validation import Schema, check_time, clean_text, optional_text


class DeclineIn(Schema):
    reason: Optional[str] = Field(default=None, max_length=500)

    _reason = field_validator("reason")(optional_text)  # blank: none given


class CompleteIn(Schema):
    pass


class UploadIn(Schema):
    filename: str = Field(min_length=1, max_length=255)
    content_type: str = Field(min_length=3, max_length=100)
    size: int = Field(ge=1)

    _filename = field_validator("filename")(clean_text)


class UploadDoneIn(Schema):
    """The owner's browser says a file has been sent, with the SHA-256 it computed of it."""

    sha256: Optional[str] = Field(default=None, pattern=r"^[0-9a-f]{64}$")


class ClockIn(Schema):
    """The clock check: what the recorder showed at the moment the true time was noted, or why
    the owner could not check."""

    checked: bool
    recorder_shows: Optional[str] = Field(default=None, pattern=r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2})?$")
    observed_at: Optional[str] = Field(default=None, max_length=40)
    uncertainty_ms: Optional[int] = Field(default=None, ge=0, le=600_000)
    reason: Optional[str] = Field(default=None, max_length=500)

    _reason = field_validator("reason")(optional_text)
    _observed_at = field_validator("observed_at")(check_time)


class StatementIn(Schema):
    """The owner's statement about the footage (``footage.statements``)."""

    name: str = Field(min_length=2, max_length=100)
    operator: Literal["me", "my_business", "managing_agent"]
    operator_name: Optional[str] = Field(default=None, max_length=200)
    system: str = Field(min_length=1, max_length=200)
    cameras: List[Annotated[int, Field(ge=1, le=64)]] = Field(default_factory=list, max_length=64)
    cameras_note: Optional[str] = Field(default=None, max_length=500)
    source: Literal["recorder_export", "re_recording"]
    source_note: Optional[str] = Field(default=None, max_length=500)
    gaps_or_edits: bool
    gaps_note: Optional[str] = Field(default=None, max_length=1000)
    clock: ClockIn
    witness_statement: Literal["yes", "no", "unsure"]
    declaration: bool

    _name = field_validator("name", "system")(clean_text)
    _notes = field_validator("operator_name", "cameras_note", "source_note", "gaps_note")(optional_text)
