"""Officers ask owners for footage, follow their requests, and download what arrived.

Asking is audited before anything is sent; a download is audited as a disclosure before its
link is made.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Dict, List, Optional

from chalicelib.base import audit
from chalicelib.base.audit import Action
from chalicelib.base.config import Config
from chalicelib.base.errors import Conflict, NotFound, SightlineError, ValidationError
from chalicelib.base.ids import iso
from chalicelib.base.messages import Notify
from chalicelib.base.officers import Officer
from chalicelib.base.validation import is_case_ref, parse, parse_time
from chalicelib.footage import custody, evidence, objects, requests
from chalicelib.footage.requests import Incident, Timer
from chalicelib.footage.tables import ACCEPTED, QUARANTINED
from chalicelib.investigations import cases
from chalicelib.investigations.schemas import DownloadIn, FootageRequestIn
from chalicelib.registry import records

MAX_WINDOW = timedelta(hours=72)


@dataclass
class Refusal:
    registration_id: str
    error: SightlineError


@dataclass
class Asked:
    """What came of asking: the requests that stand, and the registrations refused, each why."""

    case_ref: str
    created: List[Dict[str, Any]] = field(default_factory=list)
    refused: List[Refusal] = field(default_factory=list)


def ask_for_footage(payload: Any, officer: Officer, *, config: Config, notify: Notify, timer: Timer, now: datetime) -> Asked:
    """One request per registration, in an open case the officer is on (asking again for one
    returns the request already made)."""
    data = parse(FootageRequestIn, payload)
    case = cases.workable(data.case_ref, officer)
    incident = Incident(
        lat=data.incident.lat, lon=data.incident.lon, start=parse_time(data.incident.from_),
        end=parse_time(data.incident.to), summary=data.incident.summary,
    )
    reply_by = parse_time(data.reply_by) if data.reply_by else None
    _check_window(incident, reply_by, now)
    wanted = list(dict.fromkeys(data.registration_ids))
    found = {item.registration_id: item for item in records.read_active(wanted)}
    audit.record(
        officer, Action.REQUEST_FOOTAGE, case_ref=case.case_ref, reason=data.reason, now=now,
        registration_ids=sorted(found),
        request_ids=[requests.request_id_for(case.case_ref, registration_id) for registration_id in sorted(found)],
        detail={"incident": {"lat": incident.lat, "lon": incident.lon, "from": iso(incident.start), "to": iso(incident.end)}},
    )
    asked = Asked(case.case_ref)
    for registration_id in wanted:
        registration = found.get(registration_id)
        if registration is None:
            asked.refused.append(Refusal(registration_id, NotFound("There is no active registration with this id.")))
            continue
        deadline = requests.deadline_for(registration, incident.end, reply_by, config)
        if deadline <= now:
            asked.refused.append(Refusal(registration_id, Conflict(
                f"Too late: this owner's recorder keeps footage for {requests.retention_days(registration, config)} "
                f"days, so footage of this incident has probably been overwritten (deadline {iso(deadline)}).",
            )))
            continue
        item = requests.create(
            case_ref=case.case_ref, registration=registration, officer=officer, incident=incident,
            reason=data.reason, reply_by=reply_by, deadline=deadline, now=now, config=config,
        )
        requests.send_and_start(item, notify, timer, now)
        asked.created.append(requests.officer_view(item))
    return asked


def list_for_case(case_ref: Optional[str], officer: Officer, now: datetime) -> Dict[str, Any]:
    """A case's requests, with how much evidence each has; audited with everything shown."""
    if not is_case_ref(case_ref):
        raise ValidationError("Give the case reference.", {"case_ref": "This is required."})
    case = cases.readable(case_ref, officer)
    made, evidence = cases.audited_requests(case, officer, Action.LIST_REQUESTS, now)
    return {"case_ref": case.case_ref, "requests": [requests.officer_view(item, evidence[item.request_id]) for item in made]}


def get_for_officer(request_id: str, officer: Officer, now: datetime) -> Dict[str, Any]:
    """One request of a case the officer is on, with its verified evidence; audited."""
    item = requests.get(request_id)
    cases.readable(item.case_ref, officer, "There is no such request.")
    items = requests.evidence_of(request_id)
    shown = [e for e in items if e.status == ACCEPTED]
    audit.record(
        officer, Action.VIEW_REQUEST, case_ref=item.case_ref, reason="request view", now=now,
        registration_ids=[item.registration_id], request_ids=[request_id], evidence_ids=[e.evidence_id for e in shown],
    )
    # The malware scan's verdict as last read (None until a download or an export first reads it).
    evidence = [{**requests.evidence_view(e), "scan_result": e.scan_result} for e in shown]
    return {**requests.officer_view(item, items), "evidence": evidence}


def download(evidence_id: str, payload: Any, officer: Officer, *, s3: Any, config: Config, now: datetime) -> Dict[str, Any]:
    """A short-lived link to one verified item that the malware scan found clean, written to the
    audit log as a disclosure first. The file is named by its evidence id and verified type, and
    served as an attachment: nothing the owner chose reaches the officer's file manager."""
    data = parse(DownloadIn, payload)
    item = evidence.get(evidence_id)
    request = requests.find(item.request_id)
    if item.status != ACCEPTED or request is None:
        raise NotFound("There is no such evidence.")
    cases.readable(request.case_ref, officer, "There is no such evidence.")
    evidence.require_clean(item, s3=s3, config=config, now=now)
    name = objects.download_name(item.evidence_id, item.content_type)
    audit.record(
        officer, Action.DOWNLOAD_EVIDENCE, case_ref=request.case_ref, reason=data.reason, now=now,
        registration_ids=[request.registration_id], request_ids=[item.request_id], evidence_ids=[evidence_id],
        detail={"evidence_id": evidence_id, "request_id": item.request_id, "sha256": item.sha256},
    )
    custody.record(evidence_id, custody.DOWNLOADED, at=now, actor=officer.username, now=now,
                   detail={"reason": data.reason, "link_expires_in_s": config.download_url_ttl_s})
    params = {
        "Bucket": config.evidence_bucket,
        "Key": item.key,
        "ResponseContentDisposition": f'attachment; filename="{name}"',
        "ResponseContentType": objects.download_type(item.content_type),
    }
    if item.version_id:
        params["VersionId"] = item.version_id
    url = s3.generate_presigned_url("get_object", Params=params, ExpiresIn=config.download_url_ttl_s)
    return {
        "url": url,
        "expires_in": config.download_url_ttl_s,
        "filename": name,
        "original_filename": item.filename,  # to show, never to save under
        "size": int(item.size),
        "sha256": item.sha256,
    }


def custody_log(evidence_id: str, officer: Officer, now: datetime) -> Dict[str, Any]:
    """An exhibit's chain of custody, for an officer on its case; audited."""
    item = evidence.get(evidence_id)
    request = requests.find(item.request_id)
    if request is None or (item.status == QUARANTINED and item.exhibit_ref is None):  # never shown
        raise NotFound("There is no such evidence.")
    cases.readable(request.case_ref, officer, "There is no such evidence.")
    audit.record(
        officer, Action.VIEW_CUSTODY, case_ref=request.case_ref, reason="chain of custody", now=now,
        registration_ids=[request.registration_id], request_ids=[item.request_id], evidence_ids=[evidence_id],
    )
    return {
        "evidence_id": evidence_id,
        "exhibit_ref": item.exhibit_ref,
        "case_ref": request.case_ref,
        "status": item.status,
        "sha256": item.sha256,
        "size": int(item.size),
        **custody.view(evidence_id),
    }


def _check_window(incident: Incident, reply_by: Optional[datetime], now: datetime) -> None:
    fields = {}
    if incident.end <= incident.start:
        fields["incident.to"] = "Must be after 'from'."
    elif incident.end - incident.start > MAX_WINDOW:
        fields["incident.to"] = "Ask for at most 72 hours of footage at a time."
    if incident.start > now + timedelta(minutes=5):
        fields["incident.from"] = "Must not be in the future."
    if reply_by is not None and reply_by <= now:
        fields["reply_by"] = "Must be in the future."
    if fields:
        raise ValidationError("Some of the details need correcting.", fields)

