"""Issue 10, "hashed in time": the largest file Sightline accepts is read and hashed well inside
the ingest function's time limit, at its configured memory (figures: bench/ingest_hash.py)."""
import json
from pathlib import Path

from bench.ingest_hash import BUDGET_FRACTION, ingest_seconds
from chalicelib.base.config import Config

ROOT = Path(__file__).resolve().parents[2]


def test_hashed_in_time_the_largest_accepted_file_fits_the_ingest_timeout_with_margin():
    function = json.loads((ROOT / ".chalice" / "config.json").read_text())["stages"]["prod"]["lambda_functions"][
        "ingest_evidence"
    ]
    seconds = ingest_seconds(Config().max_multipart_bytes, function["lambda_memory_size"])
    assert seconds <= BUDGET_FRACTION * function["lambda_timeout"], f"{seconds:.0f} s"


def test_hashed_in_time_a_presigned_post_is_never_larger_than_a_multipart_file():
    config = Config()
    assert config.max_upload_bytes <= config.max_multipart_bytes
