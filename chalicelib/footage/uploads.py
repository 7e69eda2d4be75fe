"""Owners upload footage straight to S3: presigned POSTs, and presigned multipart for large files.

The server chooses every key (``requests/<request id>/<upload id>/<safe file name>``), the
content type comes from an allow-list and is bound into the policy, the size is bounded by a
``content-length-range`` condition, and every URL expires within minutes. S3 (not moto) enforces
these conditions; the ingest handler checks size and type again either way.
"""
from __future__ import annotations

import math
from datetime import datetime, timedelta
from typing import Any, Dict, List
from urllib.parse import quote

from chalicelib.base.config import Config
from chalicelib.base.errors import NotFound, PayloadTooLarge, ValidationError
from chalicelib.base.ids import UPLOAD, iso
from chalicelib.base.validation import parse
from chalicelib.footage import objects, owners, requests
from chalicelib.footage.schemas import UploadIn

S3_MAX_PARTS = 10_000
S3_MIN_PART_BYTES = 5 * 1024 * 1024
SLOW_UPLOAD_BYTES_PER_S = 256 * 1024
MAX_PART_URL_TTL_S = 12 * 3600


def start_upload(request_id: str, payload: Any, *, s3: Any, config: Config, now: datetime) -> Dict[str, Any]:
    item = owners.open_for_upload(request_id, now)  # a closed request is 410 whatever was sent
    data = parse(UploadIn, payload)
    content_type = data.content_type.lower().split(";", 1)[0].strip()
    if content_type not in config.allowed_content_types:
        raise ValidationError(
            "This kind of file cannot be uploaded.",
            {"content_type": "Upload video, photos, or your recorder's own export files."},
        )
    if data.size > config.max_multipart_bytes:
        raise PayloadTooLarge(
            f"Files can be at most {config.max_multipart_bytes // 2**30} GiB. Split the export into shorter clips."
        )
    upload_id = UPLOAD.random()
    key = objects.object_key(request_id, upload_id, data.filename)
    expires_at = now + timedelta(seconds=config.upload_url_ttl_s)
    if data.size <= config.multipart_threshold_bytes:
        post = s3.generate_presigned_post(
            Bucket=config.evidence_bucket,
            Key=key,
            Fields={"Content-Type": content_type, "x-amz-meta-original-filename": _header_safe(data.filename)},
            Conditions=[
                {"Content-Type": content_type},
                {"x-amz-meta-original-filename": _header_safe(data.filename)},
                ["content-length-range", 1, min(data.size, config.max_upload_bytes)],
            ],
            ExpiresIn=config.upload_url_ttl_s,
        )
        answer = {"method": "post", "url": post["url"], "fields": post["fields"]}
    else:
        answer = _start_multipart(s3, config, key, content_type, data.filename, data.size)
    requests.note_upload_started(item, now)
    return {"upload_id": upload_id, "key": key, "expires_at": iso(expires_at), **answer}


def complete_multipart(request_id: str, upload_id: str, *, s3: Any, config: Config, now: datetime) -> Dict[str, Any]:
    """Finish a multipart upload; the parts are listed here (browsers cannot read S3's ETags)."""
    owners.open_for_upload(request_id, now)
    if not UPLOAD.matches(upload_id):
        raise NotFound("There is no such upload.")
    prefix = f"requests/{request_id}/{upload_id}/"
    uploads = s3.list_multipart_uploads(Bucket=config.evidence_bucket, Prefix=prefix).get("Uploads", [])
    if not uploads:
        raise NotFound("There is no such upload in progress.")
    upload = uploads[0]
    parts: List[Dict[str, Any]] = []
    for page in s3.get_paginator("list_parts").paginate(
        Bucket=config.evidence_bucket, Key=upload["Key"], UploadId=upload["UploadId"]
    ):
        parts.extend({"PartNumber": p["PartNumber"], "ETag": p["ETag"]} for p in page.get("Parts", []))
    if not parts:
        raise ValidationError("No part of this file arrived. Try uploading it again.")
    s3.complete_multipart_upload(
        Bucket=config.evidence_bucket,
        Key=upload["Key"],
        UploadId=upload["UploadId"],
        MultipartUpload={"Parts": sorted(parts, key=lambda p: p["PartNumber"])},
    )
    return {"status": "uploaded", "key": upload["Key"]}


def _start_multipart(s3: Any, config: Config, key: str, content_type: str, filename: str, size: int) -> Dict[str, Any]:
    part_size = max(config.multipart_part_bytes, S3_MIN_PART_BYTES, math.ceil(size / S3_MAX_PARTS))
    count = math.ceil(size / part_size)
    upload = s3.create_multipart_upload(
        Bucket=config.evidence_bucket,
        Key=key,
        ContentType=content_type,
        Metadata={"original-filename": _header_safe(filename)},
    )
    # Each part URL opens one part of this one upload; they must outlive the whole upload on a
    # slow home connection, so they last as long as the file needs at 256 KiB/s (12 h at most).
    ttl = min(MAX_PART_URL_TTL_S, max(config.upload_url_ttl_s, math.ceil(size / SLOW_UPLOAD_BYTES_PER_S)))
    parts = [
        {
            "part_number": number,
            "url": s3.generate_presigned_url(
                "upload_part",
                Params={"Bucket": config.evidence_bucket, "Key": key, "UploadId": upload["UploadId"], "PartNumber": number},
                ExpiresIn=ttl,
            ),
        }
        for number in range(1, count + 1)
    ]
    request_id, upload_id = key.split("/")[1:3]
    return {
        "method": "multipart",
        "part_size": part_size,
        "parts": parts,
        "complete_url_path": f"/owner/requests/{request_id}/uploads/{upload_id}/complete",
    }


def _header_safe(filename: str) -> str:
    """S3 metadata must be ASCII: keep the name readable, percent-encoding the rest."""
    return quote(filename, safe=" ._-()[]")[:512]
