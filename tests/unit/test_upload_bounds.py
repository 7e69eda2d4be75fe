"""Issue 10, uploads: part sizes bound into each URL, the completion rule, neutral download names."""
import math

from chalicelib.base.config import Config
from chalicelib.footage import objects, uploads
from chalicelib.footage.tables import UploadRecord

MIB = 2**20


class _RecordingS3:
    def __init__(self):
        self.presigned = []

    def create_multipart_upload(self, **kwargs):
        return {"UploadId": "mpu-1"}

    def generate_presigned_url(self, operation, Params, ExpiresIn):
        self.presigned.append((operation, Params))
        return f"https://s3.example/{Params['PartNumber']}"


def test_bounded_every_part_url_binds_the_exact_size_of_its_part():
    from datetime import datetime, timezone

    s3, size = _RecordingS3(), 130 * MIB + 7
    record = UploadRecord("u" + "0" * 24, request_id="q" + "0" * 24, key="requests/q/u/f", size=size)
    answer = uploads._start_multipart(s3, Config(), record, "video/mp4", "f.mp4", datetime.now(timezone.utc))
    part_size = answer["part_size"]
    lengths = [params["ContentLength"] for operation, params in s3.presigned if operation == "upload_part"]
    assert lengths == [part_size] * (math.ceil(size / part_size) - 1) + [size - part_size * (len(lengths) - 1)]
    assert sum(lengths) == size and record.s3_upload_id == "mpu-1" and record.part_size == part_size


def test_bounded_parts_must_be_all_there_in_order_each_its_size():
    part = 5 * MIB
    good = [{"PartNumber": 1, "Size": part}, {"PartNumber": 2, "Size": 2 * MIB}]
    assert uploads.parts_problem(good, 7 * MIB, part) is None
    assert "Part 2" in uploads.parts_problem([good[0], {"PartNumber": 2, "Size": 2 * MIB - 1}], 7 * MIB, part)
    assert "Parts 2" in uploads.parts_problem(good[:1], 7 * MIB, part)
    assert uploads.parts_problem(good + [{"PartNumber": 3, "Size": 1}], 7 * MIB, part)
    assert "No part" in uploads.parts_problem([], 7 * MIB, part)


def test_safe_to_open_download_names_are_the_evidence_id_and_the_verified_type():
    assert objects.download_name("e" + "a" * 24, "video/quicktime") == "e" + "a" * 24 + ".mov"
    assert objects.download_name("e" + "a" * 24, "application/octet-stream") == "e" + "a" * 24 + ".bin"
    assert objects.download_name("e" + "a" * 24, "text/html") == "e" + "a" * 24 + ".bin"
    assert objects.download_type("text/html") == "application/octet-stream"
    assert objects.download_type("image/png") == "image/png"
    # every type an owner may upload has an extension, or is served as opaque bytes
    assert set(Config().allowed_content_types) - set(objects.EXTENSIONS) == {"application/octet-stream"}
