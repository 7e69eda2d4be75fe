"""A case export's copies stay within S3's multipart limits, whatever the file's size."""
from __future__ import annotations

import math

import pytest

GIB = 2**30


@pytest.mark.parametrize("size", [1, 64 * 2**20, 5 * GIB, 50 * GIB, 625 * GIB, 1024 * GIB, 5 * 1024 * GIB])
def test_parts_fit_s3s_limits(size):
    from chalicelib.investigations.exports import MAX_PART_BYTES, MAX_PARTS, MIN_PART_BYTES, part_bytes, transfer_config

    part = part_bytes(size)
    assert MIN_PART_BYTES <= part <= MAX_PART_BYTES
    assert math.ceil(size / part) <= MAX_PARTS
    assert transfer_config(size).multipart_chunksize == part


def test_a_50_gib_file_is_800_parts_of_64_mib():
    from chalicelib.investigations.exports import part_bytes

    assert part_bytes(50 * GIB) == 64 * 2**20 and math.ceil(50 * GIB / part_bytes(50 * GIB)) == 800


def test_the_clock_offset_in_words():
    from chalicelib.investigations.exports import clock_in_words

    assert "18 seconds fast" in clock_in_words({"clock": {"checked": True, "offset_seconds": 17.6}})
    assert "subtract 18 seconds" in clock_in_words({"clock": {"checked": True, "offset_seconds": 17.6}})
    slow = clock_in_words({"clock": {"checked": True, "offset_seconds": -3725}})
    assert "1 hour, 2 minutes and 5 seconds slow" in slow and "add 1 hour" in slow
    assert "within a second" in clock_in_words({"clock": {"checked": True, "offset_seconds": 0.4}})
    assert clock_in_words({"clock": {"checked": False, "reason": "No screen"}}).endswith(": No screen")
    assert "No statement" in clock_in_words(None)


def test_folder_and_file_names_are_safe():
    from chalicelib.investigations.exports import folder_for, safe_name

    assert folder_for("20/888/26") == "20-888-26"
    assert folder_for("../..") == "case"
    assert safe_name("JS/1 <b>") == "JS-1-b"
