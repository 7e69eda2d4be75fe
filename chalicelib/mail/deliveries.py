"""What each queued message sends, to whom: the notifications queue's handler.

Each message is read afresh when it is delivered: a registration deleted or a request answered
meanwhile sends nothing. Link tokens are minted here, at the moment of sending.
"""
from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, Callable, Dict, Optional

from chalicelib.base import clients, tokens
from chalicelib.base.batches import each_message
from chalicelib.base.config import Config
from chalicelib.footage import evidence, requests
from chalicelib.footage.tables import ACCEPTED, OPEN, EvidenceItem, FootageRequest
from chalicelib.mail import limits
from chalicelib.mail.sending import Mailer, get_mailer
from chalicelib.registry import currency, identity, records
from chalicelib.registry.tables import ACTIVE, DELETED, NOT_RECONFIRMED, PAUSED, PENDING, Registration
from chalicelib.registry.views import owner_view


class UnknownNotification(ValueError):
    pass


def deliver(message: Dict[str, Any], *, mailer: Mailer, config: Config, now: datetime) -> None:
    """Send what one queued notification asks for (or nothing, if it no longer applies)."""
    kind = message.get("type")
    handler = _HANDLERS.get(kind)  # type: ignore[arg-type]
    if handler is None:
        raise UnknownNotification(f"unknown notification type {kind!r}")
    handler(message, mailer, config, now)


def _common(config: Config) -> Dict[str, Any]:
    return {
        "force_name": config.force_name,
        "site_url": config.site_url,
        "privacy_url": f"{config.site_url}/privacy.html",
    }


def _verify_registration(message: Dict[str, Any], mailer: Mailer, config: Config, now: datetime) -> None:
    """The address has not proven itself yet: the email carries nothing the requester typed
    (no name, no address), only the link, and counts against the address's allowance."""
    item = records.find(message["registration_id"])
    if item is None or item.status != PENDING or records.lapsed(item, now):
        return  # deleted, verified or lapsed meanwhile: nothing to confirm
    if not limits.allow(item.email, now, config):
        return
    token, _ = tokens.mint(
        tokens.VERIFY, item.registration_id, timedelta(hours=config.verification_ttl_hours), now
    )
    mailer.send(
        item.email,
        "verify_registration",
        {
            **_common(config),
            "link": f"{config.site_url}/verify.html#token={token}",
            "valid_hours": config.verification_ttl_hours,
        },
    )


def _already_registered(message: Dict[str, Any], mailer: Mailer, config: Config, now: datetime) -> None:
    item = records.find(message["registration_id"])
    if item is None or records.gone(item, now):
        return
    _send_manage_link(item, "already_registered", mailer, config, now)


def _manage_link(message: Dict[str, Any], mailer: Mailer, config: Config, now: datetime) -> None:
    # Messages queued before owners were named by their keyed hash carry the address itself.
    owner = message["owner"] if "owner" in message else identity.owner_of(message["email"])
    item = next(iter(records.owned(owner, now)), None)
    if item is None:
        return  # not registered: the resident was told "if it is registered, we sent a link"
    _send_manage_link(item, "manage_link", mailer, config, now)


def _send_manage_link(item: Registration, template: str, mailer: Mailer, config: Config, now: datetime) -> None:
    if not limits.allow(item.email, now, config):
        return
    token, _ = tokens.mint(tokens.MANAGE, item.owner, timedelta(minutes=config.manage_link_ttl_minutes), now)
    mailer.send(
        item.email,
        template,
        {
            **_common(config),
            "name": item.name,
            "registration": owner_view(item),
            "link": f"{config.site_url}/manage.html#token={token}",
            "valid_minutes": config.manage_link_ttl_minutes,
        },
    )


def _registration_deleted(message: Dict[str, Any], mailer: Mailer, config: Config, now: datetime) -> None:
    """Finish an owner's deletion: confirm it to them, pseudonymise what was asked of them, then
    remove the registration's tombstone and claim. Each step is safe to redo, and the
    confirmation is marked sent before anything is removed, so a redelivery sends it once."""
    registration_id = message["registration_id"]
    item = records.find(registration_id)
    if item is not None and item.status == DELETED and not item.deletion_notice_sent:
        # Deleted by housekeeping for want of re-confirmation: the notice says why.
        template = "reconfirm_deleted" if item.deleted_because == NOT_RECONFIRMED else "registration_deleted"
        mailer.send(
            item.email,
            template,
            {**_common(config), "name": item.name, "postcode": item.address.postcode,
             "pause_days": config.reconfirm_pause_after_days, "delete_days": config.reconfirm_delete_after_days},
        )
        item.update(actions=[Registration.deletion_notice_sent.set(True)])
    _finish_deletion(registration_id, item, now)


def finish_deletion(registration_id: str, now: datetime) -> None:
    """What remains of a deletion once the owner has been told (or could not be, and
    housekeeping gave up waiting): the requests made to them pseudonymised, then the tombstone
    and its claim removed."""
    _finish_deletion(registration_id, records.find(registration_id), now)


def _finish_deletion(registration_id: str, item: Optional[Registration], now: datetime) -> None:
    """``item``: the tombstone as just read, or None if it is gone (its removal is conditional
    on its version, so a stale copy removes nothing)."""
    requests.forget_registration(registration_id, now)
    if item is not None and item.status == DELETED:
        records.remove(item)


# --- Yearly re-confirmation (registry.currency) ---------------------------------------------


def _reconfirm_registration(message: Dict[str, Any], mailer: Mailer, config: Config, now: datetime) -> None:
    item = records.find(message["registration_id"])
    if item is None or item.status != ACTIVE or item.reconfirm_asked_at is None or item.reconfirm_paused_at:
        return  # confirmed, changed, paused or deleted meanwhile
    _send_reconfirm_link(item, "reconfirm_registration", mailer, config, now)


def _reconfirm_reminder(message: Dict[str, Any], mailer: Mailer, config: Config, now: datetime) -> None:
    item = records.find(message["registration_id"])
    if item is None or item.status != PAUSED or item.reconfirm_paused_at is None:
        return
    _send_reconfirm_link(item, "reconfirm_reminder", mailer, config, now)


def _send_reconfirm_link(item: Registration, template: str, mailer: Mailer, config: Config, now: datetime) -> None:
    """A link to the confirm page, single use and valid until the next step. Not counted
    against the address's allowance (``limits``): the force asks, and an ask held back would
    end in a deletion the owner was never warned of."""
    deadline = currency.answer_by(item, config)
    if deadline is None or deadline <= now:
        return
    token, _ = tokens.mint(tokens.RECONFIRM, item.registration_id, deadline - now, now)
    mailer.send(
        item.email,
        template,
        {
            **_common(config),
            "name": item.name,
            "registration": owner_view(item),
            "link": f"{config.site_url}/confirm.html#token={token}",
            "deadline": _when(deadline),
            "manage_url": f"{config.site_url}/manage.html",
            "pause_days": config.reconfirm_pause_after_days,
            "delete_days": config.reconfirm_delete_after_days,
        },
    )


# --- Footage requests ---------------------------------------------------------------------


def _footage_request(message: Dict[str, Any], mailer: Mailer, config: Config, now: datetime) -> None:
    _email_owner(message["request_id"], "footage_request", mailer, config, now)


def _footage_reminder(message: Dict[str, Any], mailer: Mailer, config: Config, now: datetime) -> None:
    _email_owner(message["request_id"], "footage_reminder", mailer, config, now)


def _email_owner(request_id: str, template: str, mailer: Mailer, config: Config, now: datetime) -> None:
    """A link to answer the request, valid (and reusable) until its deadline."""
    request = requests.find(request_id)
    if request is None or request.status not in OPEN or request.deadline <= now:
        return
    owner = records.find(request.registration_id)
    if owner is None or records.gone(owner, now):
        return  # the owner deleted their registration: nobody to ask
    token, _ = tokens.mint(tokens.RESPOND, request_id, request.deadline - now, now)
    mailer.send(
        owner.email,
        template,
        {
            **_common(config),
            "name": owner.name,
            "case_ref": request.case_ref,
            "window": _window(request.incident_from, request.incident_to),
            "summary": request.summary,
            "area": request.area,
            "deadline": _when(request.deadline),
            "link": f"{config.site_url}/respond.html#token={token}",
        },
    )


def _footage_received(message: Dict[str, Any], mailer: Mailer, config: Config, now: datetime) -> None:
    item = evidence.get(message["evidence_id"])
    request = requests.find(item.request_id)
    if request is not None:
        _email_officer(request, "footage_received", mailer, config, {
            "filename": item.filename, "size": int(item.size), "sha256": item.sha256,
        })


def _receipt(message: Dict[str, Any], mailer: Mailer, config: Config, now: datetime) -> None:
    """The owner's receipt: each accepted file not yet on a receipt (those the message names, or
    all of the request's), with its size, SHA-256 and exhibit reference. Marked after sending:
    a retry may send one twice, never none."""
    request = requests.find(message["request_id"])
    owner = records.find(request.registration_id) if request is not None else None
    if owner is None or records.gone(owner, now):
        return
    named = set(message.get("evidence_ids") or [])
    files = [
        item for item in requests.evidence_of(request.request_id)
        if item.status == ACCEPTED and not item.receipted and (not named or item.evidence_id in named)
    ]
    if not files:
        return
    files.sort(key=lambda item: (item.exhibit_ref is None, item.uploaded_at))
    mailer.send(owner.email, "receipt", {
        **_common(config),
        "name": owner.name,
        "case_ref": request.case_ref,
        "files": [
            {"exhibit_ref": item.exhibit_ref, "filename": item.filename, "size": int(item.size),
             "size_text": _size_text(int(item.size)), "sha256": item.sha256}
            for item in files
        ],
    })
    for item in files:
        item.update(actions=[EvidenceItem.receipted.set(True)])


def _size_text(size: int) -> str:
    """1234567 → "1.2 MB" (1 KB = 1024 bytes, as file managers show)."""
    if size < 1024:
        return f"{size} bytes"
    value, unit = float(size), "bytes"
    for unit in ("KB", "MB", "GB", "TB"):
        value /= 1024
        if value < 1024:
            break
    return f"{value:.1f} {unit}"


def _footage_complete(message: Dict[str, Any], mailer: Mailer, config: Config, now: datetime) -> None:
    _officer_notice(message, "footage_complete", mailer, config)


def _footage_declined(message: Dict[str, Any], mailer: Mailer, config: Config, now: datetime) -> None:
    _officer_notice(message, "footage_declined", mailer, config)


def _footage_expired(message: Dict[str, Any], mailer: Mailer, config: Config, now: datetime) -> None:
    _officer_notice(message, "footage_expired", mailer, config)


def _officer_notice(message: Dict[str, Any], template: str, mailer: Mailer, config: Config) -> None:
    request = requests.find(message["request_id"])
    if request is not None:
        _email_officer(request, template, mailer, config, {})


def _email_officer(request: FootageRequest, template: str, mailer: Mailer, config: Config, extra: Dict[str, Any]) -> None:
    """Officers' addresses live in Cognito only; nothing of theirs is copied into our tables."""
    address = officer_email(request.officer, config)
    if address is None:
        return
    mailer.send(
        address,
        template,
        {
            **_common(config),
            "case_ref": request.case_ref,
            "request_id": request.request_id,
            "registration_id": request.registration_id,
            "status": request.status,
            "decline_reason": request.decline_reason,
            "deadline": _when(request.deadline),
            "window": _window(request.incident_from, request.incident_to),
            **extra,
        },
    )


def _export_ready(message: Dict[str, Any], mailer: Mailer, config: Config, now: datetime) -> None:
    """A case export the officer asked for is ready: where to download it, no file links.
    The message carries what the email says (this package sits beside investigations, whose
    table holds the export, and reads none of it)."""
    address = officer_email(message["officer"], config)
    if address is None:
        return
    expires_at = message.get("expires_at")
    mailer.send(
        address,
        "export_ready",
        {
            **_common(config),
            "case_ref": message["case_ref"],
            "export_id": message["export_id"],
            "recipient": message["recipient"],
            "console_url": config.console_url,
            "expires": _when(datetime.fromisoformat(expires_at.replace("Z", "+00:00"))) if expires_at else "it expires",
        },
    )


def officer_email(username: str, config: Config) -> Optional[str]:
    cognito = clients.client("cognito-idp")
    try:
        user = cognito.admin_get_user(UserPoolId=config.user_pool_id, Username=username)
    except cognito.exceptions.UserNotFoundException:
        return None
    attributes = {a["Name"]: a["Value"] for a in user.get("UserAttributes", [])}
    return attributes.get("email")


def _when(moment: datetime) -> str:
    """A UK reader's time: '9:00pm on Friday 20 November 2026 (UTC)'."""
    hour = moment.strftime("%I").lstrip("0") or "12"
    return f"{hour}:{moment.strftime('%M')}{moment.strftime('%p').lower()} on {moment.strftime('%A')} {moment.day} {moment.strftime('%B %Y')} (UTC)"


def _window(start: datetime, end: datetime) -> str:
    return f"from {_when(start)} to {_when(end)}"


_HANDLERS: Dict[str, Callable[[Dict[str, Any], Mailer, Config, datetime], None]] = {
    "verify_registration": _verify_registration,
    "already_registered": _already_registered,
    "manage_link": _manage_link,
    "registration_deleted": _registration_deleted,
    "reconfirm_registration": _reconfirm_registration,
    "reconfirm_reminder": _reconfirm_reminder,
    "footage_request": _footage_request,
    "footage_reminder": _footage_reminder,
    "footage_received": _footage_received,
    "footage_complete": _footage_complete,
    "footage_declined": _footage_declined,
    "footage_expired": _footage_expired,
    "receipt": _receipt,
    "export_ready": _export_ready,
}




def deliver_batch(event: Dict[str, Any], config: Config, now: datetime) -> Dict[str, Any]:
    """An SQS batch of queued notifications; failed messages go back for retry on their own."""
    mailer = get_mailer()
    return each_message(event, lambda message: deliver(message, mailer=mailer, config=config, now=now))
