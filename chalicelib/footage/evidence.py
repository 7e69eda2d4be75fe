"""Evidence: what owners uploaded, verified on arrival.

S3 ObjectCreated → SQS → :func:`ingest_record`: the object is streamed (constant memory) to
compute its SHA-256 and checked again for size and type (by its first bytes: presigned POST
conditions are enforced by S3 but not by the local emulator, and a content type is only a
claim). Each object version becomes one evidence item whose id is derived from the object,
so a redelivered event finds the item it made and only finishes what was left undone.
Objects that fail the checks are quarantined: recorded, tagged, never shown to officers; so
are objects that arrive for a request already closed, or that are not the size their upload
declared. GuardDuty Malware Protection for S3 scans each object too and tags it with its
verdict: :func:`require_clean` releases an item only once its object is tagged clean (and
quarantines it if a threat was found). Officers' downloads are ``investigations.footage``'s.
"""
from __future__ import annotations

import hashlib
from datetime import datetime
from typing import Any, Dict, List, Optional, Tuple
from urllib.parse import unquote, unquote_plus

from pynamodb.exceptions import UpdateError

from chalicelib.base.batches import each_message
from chalicelib.base.config import Config
from chalicelib.base.errors import Conflict, NotFound
from chalicelib.base.ids import EVIDENCE, evidence_id_for
from chalicelib.base.messages import Notify
from chalicelib.base.store import condition_failed, put_once
from chalicelib.base.validation import parse_time
from chalicelib.footage import custody, exhibits, objects, requests, statements
from chalicelib.footage.tables import (
    ACCEPTED,
    HASH_MATCHED,
    HASH_MISMATCH,
    DECLINED,
    OPEN,
    QUARANTINED,
    RESPONDED,
    SCAN_CLEAN,
    EvidenceItem,
    FootageRequest,
    UploadRecord,
)

CHUNK_BYTES = 1024 * 1024
HEAD_BYTES = 64

QUARANTINE_TAG = "sightline-quarantine"
HASH_PROBLEM = (
    "The file that arrived is not exactly the file your browser sent (their SHA-256 fingerprints "
    "differ): it may have been damaged on the way. Please upload it again."
)
# The tag GuardDuty Malware Protection for S3 puts on each object it scanned, and its values.
SCAN_TAG = "GuardDutyMalwareScanStatus"
NO_THREATS_FOUND = "NO_THREATS_FOUND"
THREATS_FOUND = "THREATS_FOUND"
# UNSUPPORTED (e.g. above the scanner's size limit, password-protected), ACCESS_DENIED, FAILED:
# never scanned, so never released (docs/decisions.md).

# First bytes of what owners may send, by declared type. DVR exports declared as
# application/octet-stream are proprietary containers; those are refused only when their first
# bytes say they are something dangerous instead.
_VIDEO_ISO = (b"ftyp",)  # MP4 / MOV / 3GP: "ftyp" at offset 4
_SIGNATURES = {
    "video/mp4": lambda head: head[4:8] in _VIDEO_ISO,
    "video/quicktime": lambda head: head[4:8] in (b"ftyp", b"moov", b"mdat", b"wide", b"free", b"skip"),
    "video/x-msvideo": lambda head: head[:4] == b"RIFF" and head[8:12] == b"AVI ",
    "video/avi": lambda head: head[:4] == b"RIFF" and head[8:12] == b"AVI ",
    "video/3gpp": lambda head: head[4:8] in _VIDEO_ISO,
    "video/mpeg": lambda head: head[:3] == b"\x00\x00\x01" or head[:1] == b"\x47",
    "video/x-ms-asf": lambda head: head[:4] == b"\x30\x26\xb2\x75",
    "video/x-ms-wmv": lambda head: head[:4] == b"\x30\x26\xb2\x75",
    "video/x-matroska": lambda head: head[:4] == b"\x1a\x45\xdf\xa3",
    "video/webm": lambda head: head[:4] == b"\x1a\x45\xdf\xa3",
    "video/mp2t": lambda head: head[:1] == b"\x47",
    "image/jpeg": lambda head: head[:3] == b"\xff\xd8\xff",
    "image/png": lambda head: head[:8] == b"\x89PNG\r\n\x1a\n",
}
_DANGEROUS = (
    b"MZ",  # Windows executables
    b"\x7fELF",
    b"#!",
    b"%PDF",
    b"PK\x03\x04",  # zip archives (and office documents)
    b"<!doctype",
    b"<html",
    b"<script",
    b"<?xml",
    b"<svg",
)


def ingest_batch(event: Dict[str, Any], *, s3: Any, config: Config, notify: Notify, now: datetime) -> Dict[str, Any]:
    """An SQS batch of S3 notifications; a failed one goes back for retry on its own."""
    return each_message(event, lambda message: ingest_notification(message, s3=s3, config=config, notify=notify, now=now))


def ingest_notification(message: Dict[str, Any], *, s3: Any, config: Config, notify: Notify, now: datetime) -> None:
    """One S3 notification (an SQS message's body): each created object, ingested."""
    for s3_record in message.get("Records", []):  # s3:TestEvent has none
        if str(s3_record.get("eventName", "")).startswith("ObjectCreated"):
            ingest_record(s3_record, s3=s3, config=config, notify=notify, now=now)


def ingest_record(record: Dict[str, Any], *, s3: Any, config: Config, notify: Notify, now: datetime) -> EvidenceItem:
    bucket = record["s3"]["bucket"]["name"]
    key = unquote_plus(record["s3"]["object"]["key"])
    version = record["s3"]["object"].get("versionId") or record["s3"]["object"].get("eTag") or "unversioned"
    evidence_id = evidence_id_for(bucket, key, version)
    try:
        item = EvidenceItem.get(evidence_id, consistent_read=True)
    except EvidenceItem.DoesNotExist:
        item = _verify_and_record(evidence_id, bucket, key, record, s3=s3, config=config, now=now)
    # Holds and tags are idempotent: setting them again repairs a crash right after the record;
    # so are the custody events (each recorded once) and the exhibit reference.
    _mark_object(s3, _object_args(bucket, key, record), item.status)
    _log_arrival(item, _created_at(record, now), now)
    if item.status == ACCEPTED:
        request = requests.mark_uploading(item.request_id, now)
        statement = statements.view(request.statement) if request is not None else None
        if statement:
            exhibits.assign(item, statement.get("name"), config=config, now=now)
        if not item.officer_notified:
            notify({"type": "footage_received", "evidence_id": evidence_id})
            item.update(actions=[EvidenceItem.officer_notified.set(True)])
        if request is not None and request.status == RESPONDED and not item.receipted:
            # The owner finished before this file was checked: its receipt follows on its own.
            notify({"type": "receipt", "request_id": item.request_id, "evidence_ids": [evidence_id]})
    return item


def note_owner_hash(item: EvidenceItem, owner_sha256: str, *, s3: Any, config: Config, now: datetime) -> EvidenceItem:
    """The owner's browser's SHA-256 of a file that was ingested before it arrived: compared
    now; a mismatch quarantines the file (its object stays, tagged, for review)."""
    if item.owner_sha256:
        return item
    matched = owner_sha256 == item.sha256
    actions = [EvidenceItem.owner_sha256.set(owner_sha256), EvidenceItem.hash_check.set(HASH_MATCHED if matched else HASH_MISMATCH)]
    if not matched and item.status == ACCEPTED:
        actions += [EvidenceItem.status.set(QUARANTINED), EvidenceItem.problem.set(HASH_PROBLEM)]
    try:
        item.update(actions=actions, condition=EvidenceItem.owner_sha256.does_not_exist())
    except UpdateError as exc:
        if not condition_failed(exc):
            raise
        item.refresh(consistent_read=True)  # compared meanwhile (the same hash: the upload's record keeps one)
        return item
    if not matched:
        _mark_object(s3, _item_args(config, item), QUARANTINED)
    _log_owner_hash(item, now)
    if not matched:
        custody.record(item.evidence_id, custody.QUARANTINED, at=now, actor=custody.SIGHTLINE, now=now,
                       detail={"problem": HASH_PROBLEM}, once="quarantined")
    return item


def get(evidence_id: str) -> EvidenceItem:
    """The item, or NotFound (without a read for an id of the wrong shape)."""
    missing = NotFound("There is no such evidence.")
    if not EVIDENCE.matches(evidence_id):
        raise missing
    try:
        return EvidenceItem.get(evidence_id)
    except EvidenceItem.DoesNotExist:
        raise missing from None


def require_clean(item: EvidenceItem, *, s3: Any, config: Config, now: datetime) -> None:
    """Return if the item's object was scanned clean; otherwise refuse (Conflict, saying why).

    The scanner's verdict is read from the object's tag and a clean one is kept on the item, so
    later downloads cost no S3 call. A threat quarantines the item for good.
    """
    if item.scan_result == SCAN_CLEAN:
        return
    verdict = _tags(s3, _item_args(config, item)).get(SCAN_TAG)
    if verdict in (NO_THREATS_FOUND, THREATS_FOUND):
        custody.record(item.evidence_id, custody.SCANNED, at=now, actor=custody.MALWARE_SCAN, now=now,
                       detail={"result": verdict}, once="scanned")
    if verdict == NO_THREATS_FOUND:
        item.update(actions=[EvidenceItem.scan_result.set(SCAN_CLEAN)])
        return
    if verdict == THREATS_FOUND:
        item.update(
            actions=[
                EvidenceItem.status.set(QUARANTINED),
                EvidenceItem.problem.set("The malware scan found a threat in this file."),
                EvidenceItem.scan_result.set(THREATS_FOUND.lower()),
            ],
            condition=EvidenceItem.status == ACCEPTED,
        )
        custody.record(item.evidence_id, custody.QUARANTINED, at=now, actor=custody.SIGHTLINE, now=now,
                       detail={"problem": "The malware scan found a threat in this file."}, once="quarantined")
        raise Conflict("The malware scan found a threat in this file: it will not be released.",
                       {"evidence_id": "Quarantined by the malware scan."})
    if verdict is None:
        raise Conflict("This file is still being scanned for malware. Try again in a few minutes.",
                       {"evidence_id": "Not scanned yet."})
    raise Conflict(f"The malware scan could not check this file ({verdict}), so it is not released.",
                   {"evidence_id": f"Scan result {verdict}."})


def sha256_of(body: Any) -> Tuple[str, int, bytes]:
    """(hex SHA-256, size, first bytes) of a stream, read in fixed chunks: constant memory."""
    digest = hashlib.sha256()
    size = 0
    head = b""
    for chunk in iter(lambda: body.read(CHUNK_BYTES), b""):
        if len(head) < HEAD_BYTES:
            head += chunk[: HEAD_BYTES - len(head)]
        digest.update(chunk)
        size += len(chunk)
    return digest.hexdigest(), size, head


def type_problem(content_type: str, head: bytes, config: Config) -> Optional[str]:
    """Why these first bytes do not fit the declared type, or None."""
    if content_type not in config.allowed_content_types:
        return f"Files of type {content_type!r} cannot be accepted."
    lowered = head[:16].lower()
    if any(lowered.startswith(sig.lower()) for sig in _DANGEROUS):
        return "This file is not a video or a photo."
    check = _SIGNATURES.get(content_type)
    if check is not None and not check(head):
        return "This file's contents do not match its type; it may be damaged or renamed."
    return None


# ---------------------------------------------------------------------------------------------


def _verify_and_record(evidence_id, bucket, key, record, *, s3, config, now) -> EvidenceItem:
    parts = objects.parse_key(key)
    obj = s3.get_object(**_object_args(bucket, key, record))
    # S3's events name the version; where one does not (the local emulator), the version read.
    version_id = record["s3"]["object"].get("versionId") or obj.get("VersionId")
    content_type = (obj.get("ContentType") or "application/octet-stream").split(";", 1)[0].strip().lower()
    digest, size, head = sha256_of(obj["Body"])
    filename = unquote((obj.get("Metadata") or {}).get("original-filename") or parts.get("filename") or key.rsplit("/", 1)[-1])
    request = requests.find(parts["request_id"]) if parts else None
    upload = _upload_of(parts)
    declared = int(upload.size) if upload is not None else None
    owner_sha256 = upload.owner_sha256 if upload is not None else None
    problem = None
    if request is None:
        problem = "This file does not belong to any request."
    elif _created_at(record, now) > _closed_at(request):
        problem = "This file arrived after the request was closed."
    elif declared is not None and size != declared:
        problem = f"This file is {size} bytes, not the {declared} declared when its upload started."
    elif size == 0:
        problem = "This file is empty."
    elif size > config.max_multipart_bytes:
        problem = "This file is larger than Sightline accepts."
    else:
        problem = type_problem(content_type, head, config)
    if problem is None and owner_sha256 and owner_sha256 != digest:
        problem = HASH_PROBLEM
    status = QUARANTINED if problem else ACCEPTED
    item = EvidenceItem(
        evidence_id,
        request_id=parts.get("request_id", "unknown"),
        key=key,
        version_id=version_id,
        filename=filename[:255],
        size=size,
        content_type=content_type,
        sha256=digest,
        uploaded_at=now,
        status=status,
        problem=problem,
        officer_notified=False,
        upload_id=parts.get("upload_id"),
        case_ref=request.case_ref if request is not None else None,
        owner_sha256=owner_sha256,
        hash_check=(HASH_MATCHED if owner_sha256 == digest else HASH_MISMATCH) if owner_sha256 else None,
    )
    put_once(item, EvidenceItem.evidence_id)  # a concurrent delivery may have won
    return item


def _created_at(record: Dict[str, Any], now: datetime) -> datetime:
    """When S3 created the object (the event's time; a multipart upload's is its completion)."""
    try:
        return parse_time(record["eventTime"])
    except (KeyError, TypeError, ValueError):
        return now


def _closed_at(request: FootageRequest) -> datetime:
    """When the request stopped taking files: its answer, or else its deadline."""
    if request.status in (RESPONDED, DECLINED) and request.answered_at is not None:
        return request.answered_at
    if request.status not in OPEN:
        return min(request.deadline, request.updated_at)
    return request.deadline


def _upload_of(parts: Dict[str, str]) -> Optional[UploadRecord]:
    """The upload this object's key names, if its record is still kept (what the owner
    declared: the size, and the SHA-256 their browser computed)."""
    if not parts:
        return None
    try:
        return UploadRecord.get(parts["upload_id"], consistent_read=True)
    except UploadRecord.DoesNotExist:
        return None


def _log_arrival(item: EvidenceItem, finished_at: datetime, now: datetime) -> None:
    """The custody log's first events, each recorded once (a redelivered event repeats none)."""
    upload = _upload_of({"upload_id": item.upload_id}) if item.upload_id else None
    if upload is not None:
        custody.record(item.evidence_id, custody.UPLOAD_STARTED, at=upload.created_at, actor=custody.OWNER, now=now,
                       detail={"upload_id": item.upload_id, "declared_size": int(upload.size), "method": upload.method},
                       once="upload_started")
    custody.record(item.evidence_id, custody.UPLOAD_FINISHED, at=finished_at, actor=custody.OWNER, now=now,
                   detail={"key": item.key, "version_id": item.version_id}, once="upload_finished")
    custody.record(item.evidence_id, custody.HASHED, at=item.uploaded_at, actor=custody.SIGHTLINE, now=now,
                   detail={"sha256": item.sha256, "size": int(item.size)}, once="hashed")
    if item.status == ACCEPTED or item.problem == HASH_PROBLEM:
        custody.record(item.evidence_id, custody.TYPE_VERIFIED, at=item.uploaded_at, actor=custody.SIGHTLINE, now=now,
                       detail={"content_type": item.content_type}, once="type_verified")
    if item.owner_sha256:
        _log_owner_hash(item, now)
    if item.status == ACCEPTED:
        custody.record(item.evidence_id, custody.ACCEPTED, at=item.uploaded_at, actor=custody.SIGHTLINE, now=now,
                       detail={"legal_hold": "ON"}, once="accepted")
    else:
        custody.record(item.evidence_id, custody.QUARANTINED, at=item.uploaded_at, actor=custody.SIGHTLINE, now=now,
                       detail={"problem": item.problem}, once="quarantined")


def _log_owner_hash(item: EvidenceItem, now: datetime) -> None:
    matched = item.hash_check == HASH_MATCHED
    custody.record(
        item.evidence_id, custody.OWNER_HASH_MATCHED if matched else custody.OWNER_HASH_MISMATCH,
        at=now, actor=custody.SIGHTLINE, now=now,
        detail={"owner_sha256": item.owner_sha256, "sha256": item.sha256}, once="owner_hash",
    )


def _item_args(config: Config, item: EvidenceItem) -> Dict[str, str]:
    return {"Bucket": config.evidence_bucket, "Key": item.key, **({"VersionId": item.version_id} if item.version_id else {})}


def _tags(s3: Any, args: Dict[str, str]) -> Dict[str, str]:
    return {tag["Key"]: tag["Value"] for tag in s3.get_object_tagging(**args).get("TagSet", [])}


def _object_args(bucket: str, key: str, record: Dict[str, Any]) -> Dict[str, str]:
    version_id = record["s3"]["object"].get("versionId")
    return {"Bucket": bucket, "Key": key, **({"VersionId": version_id} if version_id else {})}


def _mark_object(s3: Any, get_args: Dict[str, str], status: str) -> None:
    """Hold verified footage against deletion; tag quarantined objects for review."""
    if status == ACCEPTED:
        try:
            s3.put_object_legal_hold(**get_args, LegalHold={"Status": "ON"})
        except s3.exceptions.ClientError as exc:
            if exc.response.get("Error", {}).get("Code") not in ("InvalidRequest", "NotImplemented"):
                raise  # a bucket without Object Lock (some local set-ups) has no legal holds
    else:
        # PutObjectTagging replaces the whole set: keep the scanner's verdict beside ours.
        tags = {**_tags(s3, get_args), QUARANTINE_TAG: "true"}
        tag_set: List[Dict[str, str]] = [{"Key": k, "Value": v} for k, v in tags.items()]
        s3.put_object_tagging(**get_args, Tagging={"TagSet": tag_set})
