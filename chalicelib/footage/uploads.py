"""Owners upload footage straight to S3: presigned POSTs, and presigned multipart for large files.

The server chooses every key (``requests/<request id>/<upload id>/<safe file name>``), the
content type comes from an allow-list and is bound into the policy, the size is bounded by a
``content-length-range`` condition, and every URL expires within minutes. A multipart upload's
part URLs each sign their part's ``Content-Length``, and completing it checks the parts add up
to the declared size (kept in an :class:`UploadRecord`). Each upload spends the request's quota
of files and bytes first, in one conditional update. S3 (not moto) enforces the signed
conditions; the ingest handler checks size and type again either way.
"""
from __future__ import annotations

import math
from datetime import datetime, timedelta
from typing import Any, Dict, List, Optional
from urllib.parse import quote

from pynamodb.exceptions import UpdateError

from chalicelib.base.config import Config
from chalicelib.base.errors import Conflict, NotFound, PayloadTooLarge, ValidationError
from chalicelib.base.ids import UPLOAD, iso
from chalicelib.base.store import condition_failed
from chalicelib.base.validation import parse
from chalicelib.footage import evidence, objects, owners
from chalicelib.footage.schemas import UploadDoneIn, UploadIn
from chalicelib.footage.tables import OPEN, EvidenceItem, FootageRequest, UploadRecord

S3_MAX_PARTS = 10_000
S3_MIN_PART_BYTES = 5 * 1024 * 1024
SLOW_UPLOAD_BYTES_PER_S = 256 * 1024
MAX_PART_URL_TTL_S = 12 * 3600
# An upload record outlives its URLs by the day the bucket's lifecycle rule gives an
# unfinished multipart upload before aborting it.
RECORD_GRACE = timedelta(days=1)


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
    _spend_quota(item, data.size, config, now)  # nothing is written before this succeeds
    upload_id = UPLOAD.random()
    key = objects.object_key(request_id, upload_id, data.filename)
    expires_at = now + timedelta(seconds=config.upload_url_ttl_s)
    record = UploadRecord(upload_id, request_id=request_id, key=key, size=data.size, created_at=now)
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
        record.method, record.expires_at = "post", expires_at + RECORD_GRACE
    else:
        answer = _start_multipart(s3, config, record, content_type, data.filename, now)
    record.save()
    return {
        "upload_id": upload_id, "key": key, "expires_at": iso(expires_at),
        # Where the page says the file is sent, with the SHA-256 it computed while sending it.
        "complete_url_path": f"/owner/requests/{request_id}/uploads/{upload_id}/complete",
        **answer,
    }


def finish_upload(request_id: str, upload_id: str, payload: Any, *, s3: Any, config: Config, now: datetime) -> Dict[str, Any]:
    """The owner's browser has sent the file: keep the SHA-256 it computed (compared with ours
    when the file is ingested, or now if it already was) and, for a multipart upload, finish it."""
    data = parse(UploadDoneIn, payload or {})
    owners.open_for_upload(request_id, now)
    record = _find_record(request_id, upload_id, now)
    if record is None:
        raise NotFound("There is no such upload in progress.")
    if data.sha256:
        _keep_owner_hash(record, data.sha256, s3=s3, config=config, now=now)
    if record.method == "multipart":
        return complete_multipart(record, s3=s3, config=config)
    return {"status": "recorded", "key": record.key}


def _keep_owner_hash(record: UploadRecord, sha256: str, *, s3: Any, config: Config, now: datetime) -> None:
    """Kept once: a file's fingerprint cannot be changed after it was given."""
    if record.owner_sha256 and record.owner_sha256 != sha256:
        raise Conflict("This file's fingerprint was already given and differs. Upload the file again.",
                       {"sha256": "A different SHA-256 was given for this upload before."})
    if not record.owner_sha256:
        try:
            record.update(actions=[UploadRecord.owner_sha256.set(sha256)], condition=UploadRecord.owner_sha256.does_not_exist())
        except UpdateError as exc:
            if not condition_failed(exc):
                raise
            record.refresh(consistent_read=True)
            if record.owner_sha256 != sha256:
                raise Conflict("This file's fingerprint was already given and differs. Upload the file again.",
                               {"sha256": "A different SHA-256 was given for this upload before."}) from None
    # A small file's POST may have been ingested before its fingerprint arrived.
    for item in EvidenceItem.by_request.query(record.request_id, filter_condition=EvidenceItem.upload_id == record.upload_id):
        evidence.note_owner_hash(item, sha256, s3=s3, config=config, now=now)


def complete_multipart(record: UploadRecord, *, s3: Any, config: Config) -> Dict[str, Any]:
    """Finish a multipart upload once its parts are exactly the file declared; the parts are
    listed here (browsers cannot read S3's ETags)."""
    parts: List[Dict[str, Any]] = []
    try:
        for page in s3.get_paginator("list_parts").paginate(
            Bucket=config.evidence_bucket, Key=record.key, UploadId=record.s3_upload_id
        ):
            parts.extend(page.get("Parts", []))
    except s3.exceptions.NoSuchUpload:
        raise NotFound("There is no such upload in progress.") from None
    problem = parts_problem(parts, int(record.size), int(record.part_size))
    if problem:
        raise ValidationError(problem, {"parts": problem})
    s3.complete_multipart_upload(
        Bucket=config.evidence_bucket,
        Key=record.key,
        UploadId=record.s3_upload_id,
        MultipartUpload={"Parts": [{"PartNumber": p["PartNumber"], "ETag": p["ETag"]} for p in parts]},
    )
    return {"status": "uploaded", "key": record.key}


def parts_problem(parts: List[Dict[str, Any]], size: int, part_size: int) -> Optional[str]:
    """Why these parts (S3's ``list_parts`` entries) are not the declared file, or None: every
    part there, in order, each the size its URL was made for, adding up to ``size``."""
    count = math.ceil(size / part_size)
    numbers = [p["PartNumber"] for p in parts]
    if not parts:
        return "No part of this file arrived. Try uploading it again."
    if numbers != list(range(1, count + 1)):
        missing = sorted(set(range(1, count + 1)) - set(numbers))
        return f"Parts {', '.join(map(str, missing[:5])) or 'beyond the file'} did not arrive as expected. Try uploading the file again."
    # Every part there and each of its own length: together they are exactly ``size`` bytes.
    for p in parts:
        expected = part_length(p["PartNumber"], size, part_size)
        if int(p["Size"]) != expected:
            return f"Part {p['PartNumber']} is {p['Size']} bytes, not the {expected} expected. Try uploading the file again."
    return None


def part_length(number: int, size: int, part_size: int) -> int:
    """The bytes of part ``number`` (from 1) of a ``size``-byte file cut into ``part_size`` parts."""
    return min(part_size, size - (number - 1) * part_size)


def _start_multipart(s3: Any, config: Config, record: UploadRecord, content_type: str, filename: str,
                     now: datetime) -> Dict[str, Any]:
    size = int(record.size)
    part_size = max(config.multipart_part_bytes, S3_MIN_PART_BYTES, math.ceil(size / S3_MAX_PARTS))
    count = math.ceil(size / part_size)
    upload = s3.create_multipart_upload(
        Bucket=config.evidence_bucket,
        Key=record.key,
        ContentType=content_type,
        Metadata={"original-filename": _header_safe(filename)},
    )
    # Each part URL opens one part of this one upload; they must outlive the whole upload on a
    # slow home connection, so they last as long as the file needs at 256 KiB/s (12 h at most).
    ttl = min(MAX_PART_URL_TTL_S, max(config.upload_url_ttl_s, math.ceil(size / SLOW_UPLOAD_BYTES_PER_S)))
    record.method, record.part_size, record.s3_upload_id = "multipart", part_size, upload["UploadId"]
    record.expires_at = now + timedelta(seconds=ttl) + RECORD_GRACE
    parts = [
        {
            "part_number": number,
            # ContentLength is signed (X-Amz-SignedHeaders=content-length;host): S3 refuses a
            # part of any other size sent to this URL.
            "url": s3.generate_presigned_url(
                "upload_part",
                Params={
                    "Bucket": config.evidence_bucket, "Key": record.key, "UploadId": upload["UploadId"],
                    "PartNumber": number, "ContentLength": part_length(number, size, part_size),
                },
                ExpiresIn=ttl,
            ),
        }
        for number in range(1, count + 1)
    ]
    return {"method": "multipart", "part_size": part_size, "parts": parts}


def _spend_quota(item: FootageRequest, size: int, config: Config, now: datetime) -> None:
    """Count one more file of ``size`` bytes against the request, in one conditional update
    (two uploads started at once cannot both take the last of the quota), while it is open."""
    room = config.max_bytes_per_request - size
    if room < 0:
        raise _bytes_refused(config)
    try:
        item.update(
            actions=[
                FootageRequest.uploads_started.add(1),
                FootageRequest.upload_bytes.add(size),
                FootageRequest.updated_at.set(now),
            ],
            condition=(
                FootageRequest.status.is_in(*OPEN)
                & (FootageRequest.uploads_started.does_not_exist()
                   | (FootageRequest.uploads_started < config.max_files_per_request))
                & (FootageRequest.upload_bytes.does_not_exist() | (FootageRequest.upload_bytes <= room))
            ),
        )
    except UpdateError as exc:
        if not condition_failed(exc):
            raise
        owners.open_for_upload(item.request_id, now)  # closed meanwhile: say so
        item.refresh(consistent_read=True)
        if (item.uploads_started or 0) >= config.max_files_per_request:
            raise Conflict(
                f"This request already has {config.max_files_per_request} files, the most it can take. "
                "If you have more footage, tell the officer.",
                {"files": f"At most {config.max_files_per_request} files per request."},
            ) from None
        raise _bytes_refused(config) from None


def _bytes_refused(config: Config) -> PayloadTooLarge:
    most = f"{config.max_bytes_per_request / 2**30:g} GiB"
    return PayloadTooLarge(
        f"Files for this request can add up to at most {most}; this one would go over. "
        "If you have more footage, tell the officer.",
        {"size": f"At most {most} in all per request."},
    )


def _find_record(request_id: str, upload_id: str, now: datetime) -> Optional[UploadRecord]:
    if not UPLOAD.matches(upload_id):
        return None
    try:
        record = UploadRecord.get(upload_id, consistent_read=True)
    except UploadRecord.DoesNotExist:
        return None
    if record.request_id != request_id or record.expires_at <= now:  # DynamoDB deletes it only eventually
        return None
    return record


def _header_safe(filename: str) -> str:
    """S3 metadata must be ASCII: keep the name readable, percent-encoding the rest."""
    return quote(filename, safe=" ._-()[]")[:512]
