"""Rendering ``templates/email/`` with Jinja2 and sending through SES as one MIME message."""
from __future__ import annotations

import os
from email.message import EmailMessage
from email.utils import formataddr, make_msgid
from typing import Any, Dict, List, Optional, Tuple

from chalicelib.base import clients
from chalicelib.base.config import get_config
from chalicelib.base.lazy import Lazy

_CHALICELIB = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# The repository keeps templates at the top level; a Lambda package carries them inside
# chalicelib/ (copied at packaging time), which is looked at first.
TEMPLATE_DIRS = [
    os.path.join(_CHALICELIB, "email_templates"),
    os.path.join(os.path.dirname(_CHALICELIB), "templates", "email"),
]


class EmailRenderer:
    """Renders ``templates/email/<name>/{subject.txt, body.txt, body.html}``.

    The HTML part is autoescaped, so anything a resident typed is shown as text.
    """

    def __init__(self, template_dirs: Optional[List[str]] = None):
        import jinja2  # only the function that sends email loads it

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


def _mailer() -> Mailer:
    config = get_config()
    return Mailer(clients.client("ses"), config.sender_email, EmailRenderer(), config.force_name)


get_mailer: Lazy[Mailer] = Lazy(_mailer)
