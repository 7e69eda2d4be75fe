"""Case exports for the force's evidence system: a case's footage, unaltered, with what proves it.

An officer on the case asks for an export and names who it is for (``request_export``: audited
first, then recorded, then queued). The ``build_exports`` worker (:func:`build_batch`) builds it
in the exports bucket, apart from the evidence bucket's ingest path, under
``exports/<export_id>/<folder>/``:

- ``exhibits/<exhibit ref>_<evidence id>.<ext>``: each accepted item the malware scan found
  clean, copied by S3 itself from the exact object version (``CopySource`` with ``VersionId``;
  CopyObject or UploadPartCopy through boto3's managed copy), so footage never passes through
  the function and a 50 GiB file is no harder than a small one;
- ``continuity/<exhibit>.html``: a printable continuity schedule per exhibit (OFFICIAL-SENSITIVE);
- ``manifest.json``: the case, every exhibit (hashes, sizes, times, the owner's statement with
  the clock offset, the custody log), what was withheld and why, the unused material, and the
  SHA-256 of the schedules;
- ``SHA256SUMS``, written last, which ``sha256sum -c`` checks over the downloaded folder.

One file at a time: a copy already in place (by size) is not made again, and when the
invocation's time runs short the build re-queues itself and stops, so a case of many large
files spans several invocations and a retried message redoes only what is left. Items not yet
scanned make the build wait (re-queued with a delay) for up to :data:`SCAN_WAIT`, then are
listed as withheld. Once ready: an ``exported`` custody event per exhibit (once per export),
then the officer's email. The links (:func:`links`) are audited as a disclosure of every
exhibit, and refused once the export has expired.
"""
from __future__ import annotations

import hashlib
import json
import logging
import math
import os
import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Callable, Dict, List, Optional, Tuple

from botocore.exceptions import BotoCoreError, ClientError
from pynamodb.exceptions import UpdateError

from chalicelib.base import audit, clients
from chalicelib.base.audit import Action
from chalicelib.base.batches import each_message
from chalicelib.base.config import Config, get_config
from chalicelib.base.errors import Conflict, Gone, NotFound
from chalicelib.base.ids import EXPORT, iso, iso_micro
from chalicelib.base.lazy import Lazy
from chalicelib.base.messages import Notify
from chalicelib.base.officers import Officer
from chalicelib.base.store import condition_failed
from chalicelib.base.validation import parse
from chalicelib.footage import custody, evidence, objects, requests
from chalicelib.footage.tables import (
    ACCEPTED,
    DECLINED,
    DELETED,
    EXPIRED as REQUEST_EXPIRED,
    QUARANTINED,
    RESPONDED,
    SCAN_CLEAN,
    EvidenceItem,
    FootageRequest,
)
from chalicelib.investigations import cases
from chalicelib.investigations.schemas import ExportIn, ExportLinksIn
from chalicelib.investigations.tables import (
    BUILDING,
    EXPIRED,
    FAILED,
    READY,
    Case,
    CaseExport,
    ExportFileAttribute,
)

_LOG = logging.getLogger(__name__)

NOT_YOURS = "There is no such export of yours."
PREFIX = "exports/"
MANIFEST = "manifest.json"
SUMS = "SHA256SUMS"
MARKING = "OFFICIAL-SENSITIVE"
# Stop and re-queue when less than this is left of the invocation: a copy of one part of a
# large file, the small files and the custody events fit in it with room to spare.
TIME_MARGIN_S = 120.0
# A continuation's message waits this long (a breath, not a wait).
CONTINUE_DELAY_S = 2
# Items still waiting for the malware scan: the build looks again after this long …
SCAN_RECHECK_DELAY_S = 300
# … for at most this long after the export was asked for; then they are listed as withheld.
SCAN_WAIT = timedelta(hours=1)
# A building export whose first message was never sent is re-queued by housekeeping after this.
REQUEUE_AFTER = timedelta(minutes=10)
# A build that made no progress for this long (its message in the dead-letter queue) has failed;
# a healthy one moves on every copy, and waits for the malware scan an hour at most.
STALLED_AFTER = timedelta(hours=6)
# S3 allows 10,000 parts per upload and at most 5 GiB per part; our parts are at least 64 MiB,
# and larger for files above 625 GiB, so any file within S3's 5 TiB limit fits.
MAX_PARTS = 10_000
MIN_PART_BYTES = 64 * 2**20
MAX_PART_BYTES = 5 * 2**30
COPY_THRESHOLD_BYTES = 64 * 2**20


# ------------------------------------------------------------------------------- the queue


class ExportQueue:
    """Sends ``{"export_id"}`` to the exports queue (optionally delayed). The SQS client and the
    queue's URL are found on the first message."""

    def __init__(self, queue_name: str):
        self._queue_name = queue_name
        self._url: Optional[str] = None

    def __call__(self, message: Dict[str, Any], delay_s: int = 0) -> None:
        if self._url is None:
            self._url = clients.client("sqs").get_queue_url(QueueName=self._queue_name)["QueueUrl"]
        clients.client("sqs").send_message(QueueUrl=self._url, MessageBody=json.dumps(message), DelaySeconds=delay_s)


Enqueue = Callable[..., None]
get_export_queue: Lazy[ExportQueue] = Lazy(lambda: ExportQueue(get_config().exports_queue))


# ------------------------------------------------------------------------------- the API


def request_export(
    case_id: str, payload: Any, officer: Officer, *, queue: Enqueue, config: Config, now: datetime
) -> Dict[str, Any]:
    """Ask for an export of a case the officer is on (open or closed): audited before anything
    else, then recorded (``queued`` False), then queued (``queued`` True). A failure after the
    record leaves an export that housekeeping queues (:func:`requeue_unsent`)."""
    data = parse(ExportIn, payload)
    case = cases.by_id(case_id, officer)
    export_id = EXPORT.random()
    made = requests.for_case(case.case_ref)
    audit.record(
        officer, Action.EXPORT_CASE, case_ref=case.case_ref, reason=data.reason, now=now,
        registration_ids=sorted({r.registration_id for r in made}), request_ids=[r.request_id for r in made],
        detail={"export_id": export_id, "recipient": data.recipient},
    )
    item = CaseExport(
        export_id, case_id=case.case_id, case_ref=case.case_ref, folder=folder_for(case.case_ref),
        recipient=data.recipient, reason=data.reason, requested_by=officer.username, requested_by_sub=officer.sub,
        status=BUILDING, queued=False, created_at=now, updated_at=now,
        # Until it is ready: long enough for any build, then DynamoDB forgets a build that never finished.
        expires_at=now + timedelta(days=config.export_ttl_days + 1),
    )
    item.save(condition=CaseExport.export_id.does_not_exist())
    try:
        _queue(item, queue)
    except (BotoCoreError, ClientError):
        # Recorded but not queued: housekeeping queues it (requeue_unsent), so it is built late, not lost.
        _LOG.warning("export %s recorded but not queued; housekeeping will queue it", export_id, exc_info=True)
    return view(item, now)


def list_for_case(case_id: str, officer: Officer, now: datetime) -> Dict[str, Any]:
    case = cases.by_id(case_id, officer)
    found = sorted(CaseExport.by_case.query(case.case_id), key=lambda e: e.created_at, reverse=True)
    return {"case_ref": case.case_ref, "exports": [view(item, now) for item in found]}


def get_for_officer(export_id: str, officer: Officer, now: datetime) -> Dict[str, Any]:
    return view(_mine(export_id, officer), now)


def links(export_id: str, payload: Any, officer: Officer, *, s3: Any, config: Config, now: datetime) -> Dict[str, Any]:
    """Short-lived links to every file of a ready export, written to the audit log first as a
    disclosure of every exhibit in it. 409 while building (or failed), 410 once expired."""
    data = parse(ExportLinksIn, payload)
    item = _mine(export_id, officer)
    status = effective_status(item, now)
    if status == EXPIRED:
        raise Gone("This export has expired: ask for a new one.", {"export_id": "Expired."})
    if status != READY:
        raise Conflict(f"This export is {status}, not ready to download.", {"export_id": f"Status {status}."})
    made = [requests.find(request_id) for request_id in item.request_ids or []]
    audit.record(
        officer, Action.DOWNLOAD_EXPORT, case_ref=item.case_ref, reason=data.reason, now=now,
        registration_ids=sorted({r.registration_id for r in made if r is not None}),
        request_ids=list(item.request_ids or []), evidence_ids=list(item.evidence_ids or []),
        detail={"export_id": item.export_id, "recipient": item.recipient},
    )
    for evidence_id in item.evidence_ids or []:  # each exhibit's copy, in every exhibit's custody log
        custody.record(evidence_id, custody.DOWNLOADED, at=now, actor=officer.username, now=now,
                       detail={"reason": data.reason, "export_id": item.export_id, "recipient": item.recipient,
                               "link_expires_in_s": config.download_url_ttl_s})
    files = []
    for entry in item.files:
        params = {
            "Bucket": config.exports_bucket,
            "Key": object_key(item, entry.path),
            "ResponseContentDisposition": f'attachment; filename="{_attachment_name(entry.path)}"',
        }
        url = s3.generate_presigned_url("get_object", Params=params, ExpiresIn=config.download_url_ttl_s)
        files.append({"path": entry.path, "size": int(entry.size), "url": url})
    return {"expires_in": config.download_url_ttl_s, "folder": item.folder, "files": files}


def view(item: CaseExport, now: datetime) -> Dict[str, Any]:
    return {
        "export_id": item.export_id,
        "case_id": item.case_id,
        "case_ref": item.case_ref,
        "recipient": item.recipient,
        "requested_by": item.requested_by,
        "status": effective_status(item, now),
        "created_at": iso(item.created_at),
        "ready_at": iso(item.ready_at) if item.ready_at else None,
        "expires_at": iso(item.expires_at) if item.expires_at and item.status == READY else None,
        "folder": item.folder,
        "files": [_file_view(f) for f in item.files] if item.status == READY else [],
        "withheld": [_plain(w) for w in item.withheld or []] if item.status == READY else [],
        "problem": item.problem,
    }


def effective_status(item: CaseExport, now: datetime) -> str:
    if item.status == READY and item.expires_at is not None and item.expires_at <= now:
        return EXPIRED
    return item.status


def requeue_unsent(now: datetime, queue: Enqueue, older_than: timedelta = REQUEUE_AFTER) -> int:
    """Housekeeping's backstop: queue every building export whose first message was never sent."""
    waiting = CaseExport.scan(
        (CaseExport.status == BUILDING) & (CaseExport.queued == False) & (CaseExport.created_at < now - older_than)  # noqa: E712
    )
    requeued = 0
    for item in waiting:
        _queue(item, queue)
        requeued += 1
    return requeued


def fail_stalled(now: datetime, older_than: timedelta = STALLED_AFTER) -> int:
    """Housekeeping: a build that has made no progress for ``older_than`` (its message went to the
    dead-letter queue) is marked failed, so the officer is not left waiting on it."""
    stalled = CaseExport.scan(
        (CaseExport.status == BUILDING) & (CaseExport.queued == True) & (CaseExport.updated_at < now - older_than)  # noqa: E712
    )
    failed = 0
    for item in stalled:
        try:
            item.update(
                actions=[CaseExport.status.set(FAILED), CaseExport.updated_at.set(now),
                         CaseExport.problem.set("The export could not be built. Ask for a new one; if it fails "
                                                "again, tell the system's operators.")],
                condition=(CaseExport.status == BUILDING) & (CaseExport.updated_at < now - older_than),
            )
            failed += 1
        except UpdateError as exc:
            if not condition_failed(exc):
                raise
    return failed


# ------------------------------------------------------------------------------- the worker


@dataclass
class Exhibit:
    item: EvidenceItem
    request: FootageRequest

    @property
    def stem(self) -> str:
        ref = self.item.exhibit_ref
        return f"{safe_name(ref.replace('/', '-'))}_{self.item.evidence_id}" if ref else self.item.evidence_id

    @property
    def path(self) -> str:
        return f"exhibits/{self.stem}.{objects.EXTENSIONS.get(self.item.content_type, objects.OPAQUE[0])}"

    @property
    def schedule_path(self) -> str:
        return f"continuity/{self.stem}.html"


@dataclass
class Plan:
    exhibits: List[Exhibit] = field(default_factory=list)
    withheld: List[Dict[str, Any]] = field(default_factory=list)
    waiting: List[Exhibit] = field(default_factory=list)
    unused: List[FootageRequest] = field(default_factory=list)


def build_batch(
    event: Dict[str, Any], *, s3: Any, config: Config, notify: Notify, queue: Enqueue, now: datetime,
    time_left: Callable[[], float] = lambda: math.inf,
) -> Dict[str, Any]:
    """An SQS batch of ``{"export_id"}`` messages; a failed one goes back for retry on its own."""
    return each_message(event, lambda message: build(
        message["export_id"], s3=s3, config=config, notify=notify, queue=queue, now=now, time_left=time_left,
    ))


def build(
    export_id: str, *, s3: Any, config: Config, notify: Notify, queue: Enqueue, now: datetime,
    time_left: Callable[[], float] = lambda: math.inf,
) -> str:
    """Do what is left of one export's build; what became of it (``ready``, ``continued``,
    ``waiting``, or the status it already had)."""
    try:
        item = CaseExport.get(export_id, consistent_read=True)
    except CaseExport.DoesNotExist:
        return "missing"
    if item.status == READY:
        _tell_officer(item, notify)  # a crash may have come between ready and the email
        return READY
    if item.status != BUILDING:
        return item.status
    actions = [] if item.queued else [CaseExport.queued.set(True)]
    if item.generated_at is None:
        actions.append(CaseExport.generated_at.set(iso_micro(now)))
    if actions:
        item.update(actions=actions)
    try:
        case = Case.get(item.case_id, consistent_read=True)
    except Case.DoesNotExist:
        item.update(actions=[CaseExport.status.set(FAILED), CaseExport.problem.set("The case no longer exists."),
                             CaseExport.updated_at.set(now)])
        return FAILED

    plan = _plan(case, item, s3=s3, config=config, now=now)
    done = {f.path: f for f in item.files}
    for exhibit in plan.exhibits:
        if exhibit.path in done:
            continue
        _copy(exhibit, item, s3=s3, config=config)
        done[exhibit.path] = ExportFileAttribute(path=exhibit.path, size=int(exhibit.item.size), sha256=exhibit.item.sha256)
        item.update(actions=[CaseExport.files.set(list(done.values())), CaseExport.updated_at.set(now)])
        if time_left() < TIME_MARGIN_S:
            queue({"export_id": export_id}, delay_s=CONTINUE_DELAY_S)
            return "continued"
    if plan.waiting:
        queue({"export_id": export_id}, delay_s=SCAN_RECHECK_DELAY_S)
        item.update(actions=[CaseExport.updated_at.set(now)])
        return "waiting"

    files = [_file_entry(exhibit.path, int(exhibit.item.size), exhibit.item.sha256) for exhibit in plan.exhibits]
    schedules = []
    for exhibit in plan.exhibits:
        body = render_schedule(exhibit, case, item)
        schedules.append(_put(s3, config, item, exhibit.schedule_path, body, "text/html; charset=utf-8"))
    manifest = _manifest(item, case, plan, schedules)
    written = _put(s3, config, item, MANIFEST, manifest, "application/json")
    files += schedules + [written]
    sums = "".join(f"{f['sha256']}  {f['path']}\n" for f in files).encode("utf-8")
    files.append(_put(s3, config, item, SUMS, sums, "text/plain; charset=utf-8"))

    for exhibit in plan.exhibits:
        custody.record(
            exhibit.item.evidence_id, custody.EXPORTED, at=now, actor=item.requested_by, now=now,
            detail={"export_id": item.export_id, "recipient": item.recipient}, once=f"exported:{item.export_id}",
        )
    try:
        item.update(
            actions=[
                CaseExport.status.set(READY),
                CaseExport.files.set([ExportFileAttribute(**f) for f in files]),
                CaseExport.withheld.set(plan.withheld),
                CaseExport.evidence_ids.set([e.item.evidence_id for e in plan.exhibits]),
                CaseExport.request_ids.set(sorted({e.request.request_id for e in plan.exhibits})),
                CaseExport.ready_at.set(now),
                CaseExport.expires_at.set(now + timedelta(days=config.export_ttl_days)),
                CaseExport.updated_at.set(now),
                CaseExport.officer_told.set(False),
            ],
            condition=CaseExport.status == BUILDING,
        )
    except UpdateError as exc:
        if not condition_failed(exc):
            raise
        item.refresh(consistent_read=True)  # a concurrent delivery finished it first
    _tell_officer(item, notify)
    return READY


def render_schedule(exhibit: Exhibit, case: Case, export: CaseExport) -> bytes:
    """The exhibit's continuity schedule: self-contained HTML (inline CSS), autoescaped."""
    context = {
        "marking": MARKING,
        "case": case,
        "export": export,
        "exhibit": _exhibit_fields(exhibit),
        "statement": _statement(exhibit.request),
        "producer": _producer(exhibit.request),
        "clock": clock_in_words(_statement(exhibit.request)),
        "custody": _custody(exhibit, export),
        "descriptions": custody.DESCRIPTIONS,
    }
    return _templates().get_template("continuity.html").render(context).encode("utf-8")


def clock_in_words(statement: Optional[Dict[str, Any]]) -> str:
    """The recorder's clock against true time, as a sentence for the schedule."""
    if not statement:
        return "No statement has been recorded, so the recorder's clock was not checked."
    clock = statement.get("clock") or {}
    if not clock.get("checked"):
        reason = clock.get("reason")
        return "The owner could not check the recorder's clock" + (f": {reason}" if reason else ".")
    offset = clock.get("offset_seconds")
    if offset is None:
        return "The owner checked the recorder's clock, but no offset was recorded."
    offset = float(offset)
    when = clock.get("observed_at")
    measured = ""
    if when:
        margin = clock.get("uncertainty_ms")
        measured = f" when checked at {when}" + (f" (to within {int(margin)} ms)" if margin is not None else "")
    if abs(offset) < 1:
        return f"The recorder's clock showed the true time to within a second{measured}."
    amount = _duration_words(abs(offset))
    if offset > 0:
        return (f"The recorder's clock was {amount} fast (ahead of the true time){measured}. "
                f"To get the true time, subtract {amount} from the times it shows.")
    return (f"The recorder's clock was {amount} slow (behind the true time){measured}. "
            f"To get the true time, add {amount} to the times it shows.")


# ------------------------------------------------------------------------------- names


def folder_for(case_ref: str) -> str:
    """The export's top folder: the case reference, safe as a folder name (``20/777/26`` → ``20-777-26``)."""
    return safe_name(case_ref.replace("/", "-")) or "case"


def safe_name(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "-", text).strip(".-")[:100]


def object_key(item: CaseExport, path: str) -> str:
    return f"{PREFIX}{item.export_id}/{item.folder}/{path}"


def part_bytes(size: int) -> int:
    """The part size that keeps ``size`` within S3's 10,000 parts (a 50 GiB file: 64 MiB parts, 800)."""
    return min(MAX_PART_BYTES, max(MIN_PART_BYTES, math.ceil(size / MAX_PARTS)))


def transfer_config(size: int) -> Any:
    from boto3.s3.transfer import TransferConfig  # boto3 (in Lambda's runtime): only the worker loads it

    return TransferConfig(
        multipart_threshold=COPY_THRESHOLD_BYTES, multipart_chunksize=part_bytes(size), max_concurrency=8,
    )


def managed_copy(s3: Any, source: Dict[str, str], bucket: str, key: str, **kwargs: Any) -> None:
    """boto3's managed ``s3.copy``: CopyObject below the threshold, else CreateMultipartUpload,
    UploadPartCopy per part (in parallel) and CompleteMultipartUpload; S3 moves every byte.
    Our clients are botocore's (``base.clients``), which lack boto3's injected method: it is
    called as the function it is."""
    from boto3.s3.inject import copy

    copy(s3, source, bucket, key, **kwargs)


# ---------------------------------------------------------------------------------------------


def _mine(export_id: str, officer: Officer) -> CaseExport:
    item = None
    if EXPORT.matches(export_id):
        try:
            item = CaseExport.get(export_id, consistent_read=True)
        except CaseExport.DoesNotExist:
            item = None
    if item is None:
        raise NotFound(NOT_YOURS)
    try:
        case = Case.get(item.case_id, consistent_read=True)
    except Case.DoesNotExist:
        raise NotFound(NOT_YOURS) from None
    if not cases.is_on(case, officer):
        raise NotFound(NOT_YOURS)
    return item


def _queue(item: CaseExport, queue: Enqueue) -> None:
    queue({"export_id": item.export_id})
    item.update(actions=[CaseExport.queued.set(True)])


def _tell_officer(item: CaseExport, notify: Notify) -> None:
    """Queue the requesting officer's email once (twice at worst after a crash, never not).
    The message carries what the email says: the mail package cannot read investigations' tables."""
    if item.officer_told is not False:
        return
    notify({
        "type": "export_ready", "export_id": item.export_id, "officer": item.requested_by,
        "case_ref": item.case_ref, "case_id": item.case_id, "recipient": item.recipient,
        "expires_at": iso(item.expires_at) if item.expires_at else None,
    })
    item.update(actions=[CaseExport.officer_told.set(True)])


def _plan(case: Case, export: CaseExport, *, s3: Any, config: Config, now: datetime) -> Plan:
    """What goes in: each accepted, scanned-clean item of the case's requests (by exhibit
    reference, then time); what is withheld, or still waiting for the scan; the unused material."""
    plan = Plan()
    waited_enough = now - export.created_at >= SCAN_WAIT
    for request in requests.for_case(case.case_ref):
        items = requests.evidence_of(request.request_id)
        accepted = [e for e in items if e.status == ACCEPTED]
        if request.status in (DECLINED, REQUEST_EXPIRED) or (request.status == RESPONDED and not accepted):
            plan.unused.append(request)
        for item in items:
            if item.status == QUARANTINED and (item.scan_result or "").startswith("threat"):
                plan.withheld.append(_withheld(item, "The malware scan found a threat in this file."))
            elif item.status == DELETED:
                plan.withheld.append(_withheld(item, "The file was deleted at the end of its retention."))
            if item.status != ACCEPTED:
                continue
            exhibit = Exhibit(item, request)
            verdict = _scan(item, s3=s3, config=config, now=now)
            if verdict is None:
                plan.exhibits.append(exhibit)
            elif verdict == "pending" and not waited_enough:
                plan.waiting.append(exhibit)
            elif verdict == "pending":
                plan.withheld.append(_withheld(item, f"The malware scan had not checked this file "
                                                     f"{int(SCAN_WAIT.total_seconds() // 60)} minutes after the export was asked for."))
            else:
                plan.withheld.append(_withheld(item, verdict))
    plan.exhibits.sort(key=lambda e: (_ref_order(e.item.exhibit_ref), e.item.uploaded_at, e.item.evidence_id))
    plan.withheld.sort(key=lambda w: w["evidence_id"])
    return plan


def _scan(item: EvidenceItem, *, s3: Any, config: Config, now: datetime) -> Optional[str]:
    """None if the malware scan found the item's object clean (``evidence.require_clean``, which
    records the verdict); ``"pending"`` if not scanned yet; otherwise why it is withheld."""
    if item.scan_result == SCAN_CLEAN:
        return None
    args = {"Bucket": config.evidence_bucket, "Key": item.key, **({"VersionId": item.version_id} if item.version_id else {})}
    tags = {t["Key"]: t["Value"] for t in s3.get_object_tagging(**args).get("TagSet", [])}
    verdict = tags.get(evidence.SCAN_TAG)
    if verdict is None:
        return "pending"
    try:
        evidence.require_clean(item, s3=s3, config=config, now=now)
    except Conflict as refused:
        return refused.message
    return None


def _withheld(item: EvidenceItem, reason: str) -> Dict[str, Any]:
    shown = {"evidence_id": item.evidence_id, "request_id": item.request_id, "exhibit_ref": item.exhibit_ref,
             "original_filename": item.filename, "reason": reason}
    return {k: v for k, v in shown.items() if v is not None}


def _copy(exhibit: Exhibit, export: CaseExport, *, s3: Any, config: Config) -> None:
    """Copy the exhibit's exact object version into the export (by S3, bit for bit), unless a
    copy of the right size is already there; then check the copy's size."""
    key = object_key(export, exhibit.path)
    size = int(exhibit.item.size)
    if _size_of(s3, config.exports_bucket, key) != size:
        source = {"Bucket": config.evidence_bucket, "Key": exhibit.item.key}
        if exhibit.item.version_id:
            source["VersionId"] = exhibit.item.version_id
        managed_copy(
            s3, source, config.exports_bucket, key,
            # Nothing of the owner's (their file name in the metadata, the scanner's tags) travels.
            ExtraArgs={"ContentType": objects.download_type(exhibit.item.content_type),
                       "MetadataDirective": "REPLACE", "TaggingDirective": "REPLACE"},
            Config=transfer_config(size),
        )
        copied = _size_of(s3, config.exports_bucket, key)
        if copied != size:
            raise RuntimeError(f"the copy of {exhibit.item.evidence_id} is {copied} bytes, not {size}")


def _size_of(s3: Any, bucket: str, key: str) -> Optional[int]:
    try:
        return int(s3.head_object(Bucket=bucket, Key=key)["ContentLength"])
    except s3.exceptions.ClientError as exc:
        if exc.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
            return None
        raise


def _put(s3: Any, config: Config, export: CaseExport, path: str, body: bytes, content_type: str) -> Dict[str, Any]:
    s3.put_object(Bucket=config.exports_bucket, Key=object_key(export, path), Body=body, ContentType=content_type)
    return _file_entry(path, len(body), hashlib.sha256(body).hexdigest())


def _file_entry(path: str, size: int, sha256: str) -> Dict[str, Any]:
    return {"path": path, "size": size, "sha256": sha256}


def _file_view(entry: ExportFileAttribute) -> Dict[str, Any]:
    return _file_entry(entry.path, int(entry.size), entry.sha256)


def _manifest(export: CaseExport, case: Case, plan: Plan, schedules: List[Dict[str, Any]]) -> bytes:
    body = {
        "export_id": export.export_id,
        "generated_at": export.generated_at,
        "recipient": export.recipient,
        "requested_by": export.requested_by,
        "reason": export.reason,
        "folder": export.folder,
        "case": {
            "case_ref": case.case_ref,
            "category": case.category,
            "officer_in_charge": case.officer_in_charge,
            "status": case.status,
        },
        "exhibits": [
            {
                **_exhibit_fields(exhibit),
                "statement": _statement(exhibit.request),
                "clock": clock_in_words(_statement(exhibit.request)),
                "custody": _custody(exhibit, export),
            }
            for exhibit in plan.exhibits
        ],
        "withheld": plan.withheld,
        "unused_material": [_unused(request) for request in plan.unused],
        # The schedules' hashes; the exhibits' are above, and SHA256SUMS covers this file too.
        "files": schedules,
        "hash_algorithm": "SHA-256",
    }
    return (json.dumps(_plain(body), indent=2, sort_keys=False, ensure_ascii=False) + "\n").encode("utf-8")


def _exhibit_fields(exhibit: Exhibit) -> Dict[str, Any]:
    item = exhibit.item
    return {
        "exhibit_ref": item.exhibit_ref,
        "evidence_id": item.evidence_id,
        "request_id": item.request_id,
        "path": exhibit.path,
        "continuity_schedule": exhibit.schedule_path,
        "original_filename": item.filename,
        "size": int(item.size),
        "sha256": item.sha256,
        "owner_sha256": item.owner_sha256,
        "hash_check": item.hash_check,
        "content_type": item.content_type,
        "uploaded_at": iso(item.uploaded_at),
        "scan_result": item.scan_result,
        "object_version": item.version_id,
        "incident": {"from": iso(exhibit.request.incident_from), "to": iso(exhibit.request.incident_to)},
    }


def _custody(exhibit: Exhibit, export: CaseExport) -> Dict[str, Any]:
    """The exhibit's custody log as it stood when this export's build began (``generated_at``):
    later events, its own ``exported`` event among them, are left out, so a retried or repeated
    build writes the same files."""
    cut = _parse_time(export.generated_at)
    # Events are appended in order, so those recorded by then are a prefix of the chain.
    logged = [e for e in custody.events(exhibit.item.evidence_id) if _parse_time(e.recorded_at) <= cut]
    checked = custody.verify(logged)
    return {
        "chain": {"intact": checked.intact, "events": checked.events, "problem": checked.problem},
        "events": [custody.view_event(item) for item in logged],
    }


def _parse_time(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def _statement(request: FootageRequest) -> Optional[Dict[str, Any]]:
    statement = request.statement
    if statement is None:
        return None
    return _plain(statement.as_dict() if hasattr(statement, "as_dict") else dict(statement))


def _producer(request: FootageRequest) -> Dict[str, Any]:
    statement = _statement(request) or {}
    return {
        "name": statement.get("name"),
        "operator": statement.get("operator"),
        "operator_name": statement.get("operator_name"),
        "system": statement.get("system"),
        "source": statement.get("source"),
        "source_note": statement.get("source_note"),
        "gaps_or_edits": statement.get("gaps_or_edits"),
        "gaps_note": statement.get("gaps_note"),
        "witness_statement": statement.get("witness_statement"),
        "saved_at": statement.get("saved_at"),
    }


def _unused(request: FootageRequest) -> Dict[str, Any]:
    shown: Dict[str, Any] = {
        "request_id": request.request_id,
        "registration_id": request.registration_id,
        "status": request.status,
        "answered_at": iso(request.answered_at) if request.answered_at else None,
        "incident": {"from": iso(request.incident_from), "to": iso(request.incident_to)},
    }
    if request.status == RESPONDED:
        shown["answer"] = "nothing recorded"
    if request.owner_deleted_at is not None:
        shown["owner_deleted_at"] = iso(request.owner_deleted_at)  # their own words are gone
    elif request.decline_reason:
        shown["decline_reason"] = request.decline_reason
    return shown


def _ref_order(ref: Optional[str]) -> Tuple:
    if not ref:
        return (1, "", 0)
    stem, _, number = ref.rpartition("/")
    return (0, stem, int(number)) if number.isdigit() else (0, ref, 0)


def _plain(value: Any) -> Any:
    """DynamoDB's values (Decimal, MapAttribute, sets) as JSON's."""
    from decimal import Decimal

    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if hasattr(value, "as_dict"):
        return _plain(value.as_dict())
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set)):
        return [_plain(v) for v in value]
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def _attachment_name(path: str) -> str:
    """The browser's file name for a file of the export: its path with '/' as '_', safe characters only."""
    return safe_name(path.replace("/", "_")) or "file"


def _duration_words(seconds: float) -> str:
    total = int(round(seconds))
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    parts = []
    if hours:
        parts.append(f"{hours} hour{'s' if hours != 1 else ''}")
    if minutes:
        parts.append(f"{minutes} minute{'s' if minutes != 1 else ''}")
    if secs or not parts:
        parts.append(f"{secs} second{'s' if secs != 1 else ''}")
    return " ".join(parts) if len(parts) == 1 else ", ".join(parts[:-1]) + " and " + parts[-1]


_CHALICELIB = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# The repository keeps the templates at the top level; a Lambda package carries them inside
# chalicelib/ (copied when it is staged, as the email templates are), which is looked at first.
TEMPLATE_DIRS = [
    os.path.join(_CHALICELIB, "export_templates"),
    os.path.join(os.path.dirname(_CHALICELIB), "templates", "exports"),
]


def _environment() -> Any:
    import jinja2  # only the export worker renders schedules

    loader = jinja2.FileSystemLoader([d for d in TEMPLATE_DIRS if os.path.isdir(d)])
    return jinja2.Environment(loader=loader, autoescape=True, undefined=jinja2.StrictUndefined)


_templates: Lazy[Any] = Lazy(_environment)
