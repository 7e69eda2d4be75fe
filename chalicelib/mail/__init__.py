"""Emails: the handler side of the notifications queue, above every domain.

Domains queue a small message (``base.messages``); :mod:`chalicelib.mail.deliveries` reads what
the message is about afresh, mints any link token at the moment it sends (so a token exists in
exactly one email and never sits in a queue), renders the template and sends it through SES.
"""
