"""What the ingest accepts by first bytes, and the streaming hash: pure, no AWS."""
import hashlib
import io

import pytest

from chalicelib.base.config import Config
from chalicelib.footage.evidence import sha256_of, type_problem
from chalicelib.footage.objects import parse_key, safe_filename

CONFIG = Config.from_environ({})
MP4 = b"\x00\x00\x00\x20ftypisom\x00\x00\x02\x00"


@pytest.mark.parametrize(
    "content_type, head",
    [
        ("video/mp4", MP4),
        ("video/quicktime", b"\x00\x00\x00\x14ftypqt  "),
        ("video/x-msvideo", b"RIFF\x00\x00\x00\x00AVI LIST"),
        ("video/x-matroska", b"\x1a\x45\xdf\xa3\x01\x00"),
        ("image/jpeg", b"\xff\xd8\xff\xe0\x00\x10JFIF"),
        ("image/png", b"\x89PNG\r\n\x1a\n\x00"),
        ("application/octet-stream", b"DHAV\x00\x01proprietary DVR export"),
    ],
)
def test_real_footage_passes(content_type, head):
    assert type_problem(content_type, head, CONFIG) is None


@pytest.mark.parametrize(
    "content_type, head",
    [
        ("video/mp4", b"MZ\x90\x00"),  # an executable called .mp4
        ("application/octet-stream", b"\x7fELF\x02\x01"),
        ("application/octet-stream", b"<!DOCTYPE html><html>"),
        ("image/jpeg", b"\x89PNG\r\n\x1a\n"),  # a PNG that says it is a JPEG
        ("video/mp4", b"PK\x03\x04zip"),
        ("text/html", b"<html>"),
    ],
)
def test_anything_else_is_quarantined(content_type, head):
    assert type_problem(content_type, head, CONFIG)


def test_the_hash_is_streamed_in_chunks():
    data = bytes(range(256)) * 20_000  # 5 MB: several chunks
    digest, size, head = sha256_of(io.BytesIO(data))
    assert digest == hashlib.sha256(data).hexdigest() and size == len(data) and head == data[:64]


def test_keys_are_chosen_by_the_server_and_parsed_back():
    assert safe_filename("../../etc/passwd") == "passwd"
    assert safe_filename("Caméra 1 – nuit.mp4") == "Camera-1-nuit.mp4"
    assert safe_filename("////") == "footage"
    key = f"requests/q{'a' * 24}/u{'0' * 24}/front.mp4"
    assert parse_key(key) == {"request_id": "q" + "a" * 24, "upload_id": "u" + "0" * 24, "filename": "front.mp4"}
    assert parse_key("requests/../../x") == {}
