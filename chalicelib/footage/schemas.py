"""What owners send when they answer a footage request."""
from __future__ import annotations

from typing import Optional

from pydantic import Field, field_validator

from chalicelib.base.validation import Schema, clean_text, optional_text


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
