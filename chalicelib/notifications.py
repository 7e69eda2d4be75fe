"""Emails to residents: queued by the API, rendered and sent by an SQS handler.

The API only queues a small message (never a token): the handler mints any link token when
it sends, so a token exists in exactly one email. Queuing gives retries and a dead-letter
queue to every email, and keeps SES latency and failures off the resident's request.
"""
from __future__ import annotations

import json
import os
from datetime import datetime, timedelta
from email.message import EmailMessage
from email.utils import formataddr, make_msgid
from typing import Any, Callable, Dict, Optional, Tuple

import jinja2

from chalicelib import registrations, tokens
from chalicelib.config import Config
from chalicelib.models import Registration

_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# The repository keeps templates at the top level; a Lambda package carries them inside
# chalicelib/ (copied at packaging time), which is looked at first.
TEMPLATE_DIRS = [
    os.path.join(_ROOT, "chalicelib", "email_templates"),
    os.path.join(_ROOT, "templates", "email"),
]


class UnknownNotification(ValueError):
    pass


class NotificationQueue:
    """Queues a notification for the SQS handler."""

    def __init__(self, sqs: Any, queue_url: str):
        self._sqs = sqs
        self._queue_url = queue_url

    def __call__(self, message: Dict[str, Any]) -> None:
        self._sqs.send_message(QueueUrl=self._queue_url, MessageBody=json.dumps(message))


class EmailRenderer:
    """Renders ``templates/email/<name>/{subject.txt, body.txt, body.html}``.

    The HTML part is autoescaped, so anything a resident typed is shown as text.
    """

    def __init__(self, template_dirs: Optional[list] = None):
        loader = jinja2.FileSystemLoader([d for d in (template_dirs or TEMPLATE_DIRS) if os.path.isdir(d)])
        self._html = jinja2.Environment(loader=loader, autoescape=True, undefined=jinja2.StrictUndefined)
        self._text = jinja2.Environment(loader=loader, autoescape=False, undefined=jinja2.StrictUndefined)

    def render(self, name: str, context: Dict[str, Any]) -> Tuple[str, str, str]:
        subject = self._text.get_template(f"{name}/subject.txt").render(context)
        subject = " ".join(subject.split())  # one line: no header injection
        text = self._text.get_template(f"{name}/body.txt").render(context)
        html = self._html.get_template(f"{name}/body.html").render(context)
        return subject, text, html


class Mailer:
    """Sends a rendered email as one MIME message (text and HTML parts) through SES."""

    def __init__(self, ses: Any, sender: str, renderer: EmailRenderer, sender_name: str = "Sightline"):
        self._ses = ses
        self._sender = sender
        self._sender_name = sender_name
        self._renderer = renderer

    def send(self, to: str, template: str, context: Dict[str, Any]) -> str:
        subject, text, html = self._renderer.render(template, context)
        message = EmailMessage()
        message["Subject"] = subject
        message["From"] = formataddr((self._sender_name, self._sender))
        message["To"] = to
        message["Message-ID"] = make_msgid(domain=self._sender.rpartition("@")[2] or None)
        message.set_content(text)
        message.add_alternative(html, subtype="html")
        response = self._ses.send_raw_email(
            Source=self._sender, Destinations=[to], RawMessage={"Data": message.as_bytes()}
        )
        return response["MessageId"]


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
    item = _registration(message["registration_id"])
    if item is None or item.status != registrations.PENDING:
        return  # deleted or verified meanwhile: nothing to confirm
    token, expires_at = tokens.mint(
        tokens.VERIFY, item.registration_id, timedelta(hours=config.verification_ttl_hours), now
    )
    mailer.send(
        item.email,
        "verify_registration",
        {
            **_common(config),
            "name": item.name,
            "registration": registrations.owner_view(item),
            "link": f"{config.site_url}/verify.html#token={token}",
            "valid_hours": config.verification_ttl_hours,
        },
    )


def _already_registered(message: Dict[str, Any], mailer: Mailer, config: Config, now: datetime) -> None:
    item = _registration(message["registration_id"])
    if item is None:
        return
    _send_manage_link(item, "already_registered", mailer, config, now)


def _manage_link(message: Dict[str, Any], mailer: Mailer, config: Config, now: datetime) -> None:
    item = registrations.owner_has_registrations(message["email"], now)
    if item is None:
        return  # not registered: the resident was told "if it is registered, we sent a link"
    _send_manage_link(item, "manage_link", mailer, config, now)


def _send_manage_link(item: Registration, template: str, mailer: Mailer, config: Config, now: datetime) -> None:
    token, _ = tokens.mint(
        tokens.MANAGE, item.owner_email, timedelta(minutes=config.manage_link_ttl_minutes), now
    )
    mailer.send(
        item.email,
        template,
        {
            **_common(config),
            "name": item.name,
            "registration": registrations.owner_view(item),
            "link": f"{config.site_url}/manage.html#token={token}",
            "valid_minutes": config.manage_link_ttl_minutes,
        },
    )


def _registration_deleted(message: Dict[str, Any], mailer: Mailer, config: Config, now: datetime) -> None:
    mailer.send(
        message["email"],
        "registration_deleted",
        {**_common(config), "name": message["name"], "postcode": message["postcode"]},
    )


def _registration(registration_id: str) -> Optional[Registration]:
    try:
        return Registration.get(registration_id, consistent_read=True)
    except Registration.DoesNotExist:
        return None


# --- Footage requests ---------------------------------------------------------------------


def _footage_request(message: Dict[str, Any], mailer: Mailer, config: Config, now: datetime) -> None:
    _email_owner(message["request_id"], "footage_request", mailer, config, now)


def _footage_reminder(message: Dict[str, Any], mailer: Mailer, config: Config, now: datetime) -> None:
    _email_owner(message["request_id"], "footage_reminder", mailer, config, now)


def _email_owner(request_id: str, template: str, mailer: Mailer, config: Config, now: datetime) -> None:
    """A link to answer the request, valid (and reusable) until its deadline."""
    from chalicelib import footage_requests

    request = footage_requests.find(request_id)
    if request is None or request.status not in footage_requests.OPEN or request.deadline <= now:
        return
    owner = _registration(request.registration_id)
    if owner is None:
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
    from chalicelib import evidence, footage_requests

    item = evidence.get(message["evidence_id"])
    request = footage_requests.find(item.request_id)
    if request is not None:
        _email_officer(request, "footage_received", mailer, config, {
            "filename": item.filename, "size": int(item.size), "sha256": item.sha256,
        })


def _footage_complete(message: Dict[str, Any], mailer: Mailer, config: Config, now: datetime) -> None:
    _officer_notice(message, "footage_complete", mailer, config)


def _footage_declined(message: Dict[str, Any], mailer: Mailer, config: Config, now: datetime) -> None:
    _officer_notice(message, "footage_declined", mailer, config)


def _footage_expired(message: Dict[str, Any], mailer: Mailer, config: Config, now: datetime) -> None:
    _officer_notice(message, "footage_expired", mailer, config)


def _officer_notice(message: Dict[str, Any], template: str, mailer: Mailer, config: Config) -> None:
    from chalicelib import footage_requests

    request = footage_requests.find(message["request_id"])
    if request is not None:
        _email_officer(request, template, mailer, config, {})


def _email_officer(request: Any, template: str, mailer: Mailer, config: Config, extra: Dict[str, Any]) -> None:
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


def officer_email(username: str, config: Config) -> Optional[str]:
    from chalicelib import clients

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
    "footage_request": _footage_request,
    "footage_reminder": _footage_reminder,
    "footage_received": _footage_received,
    "footage_complete": _footage_complete,
    "footage_declined": _footage_declined,
    "footage_expired": _footage_expired,
}


# ---------------------------------------------------------------------------------------------
# Lazily built collaborators (once per process, never at import).

_QUEUE: Optional[NotificationQueue] = None
_MAILER: Optional[Mailer] = None


def get_queue() -> NotificationQueue:
    global _QUEUE
    if _QUEUE is None:
        from chalicelib import clients
        from chalicelib.config import get_config

        sqs = clients.client("sqs")
        url = sqs.get_queue_url(QueueName=get_config().notifications_queue)["QueueUrl"]
        _QUEUE = NotificationQueue(sqs, url)
    return _QUEUE


def get_mailer() -> Mailer:
    global _MAILER
    if _MAILER is None:
        from chalicelib import clients
        from chalicelib.config import get_config

        config = get_config()
        _MAILER = Mailer(clients.client("ses"), config.sender_email, EmailRenderer(), config.force_name)
    return _MAILER


def reset() -> None:
    global _QUEUE, _MAILER
    _QUEUE = None
    _MAILER = None


def deliver_batch(event: Dict[str, Any], config: Config, now: datetime) -> Dict[str, Any]:
    """Deliver an SQS batch; failed records are reported back so only they are retried
    (the event source mapping must have ReportBatchItemFailures on)."""
    from aws_lambda_powertools.utilities.batch import (
        BatchProcessor,
        EventType,
        process_partial_response,
    )

    mailer = get_mailer()

    def record_handler(record: Any) -> None:
        deliver(json.loads(record.body), mailer=mailer, config=config, now=now)

    return process_partial_response(
        event=event, record_handler=record_handler, processor=BatchProcessor(EventType.SQS)
    )
