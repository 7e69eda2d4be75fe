"""AWS clients, built on first use and kept for the life of the process (never at import).

A function creates only the clients its events use: each costs tens of milliseconds to build.
"""
from __future__ import annotations

import threading
from typing import Any, Dict

from chalicelib.base.config import get_config
from chalicelib.base.lazy import on_reset

_LOCK = threading.Lock()
_CLIENTS: Dict[str, Any] = {}


def client(service: str) -> Any:
    """A boto3 client for ``service`` at the configured region and endpoint."""
    found = _CLIENTS.get(service)
    if found is not None:
        return found
    with _LOCK:
        if service not in _CLIENTS:
            import boto3  # a heavy import, paid by the first event that needs a client
            from botocore.config import Config as BotoConfig

            config = get_config()
            options = BotoConfig(
                connect_timeout=2,
                read_timeout=10,
                retries={"max_attempts": 3},
                signature_version="s3v4" if service == "s3" else None,
                # An emulator on a bare host:port cannot serve bucket subdomains.
                s3={"addressing_style": "path"} if config.aws_endpoint_url else None,
            )
            _CLIENTS[service] = boto3.session.Session().client(
                service, region_name=config.region, endpoint_url=config.aws_endpoint_url, config=options
            )
        return _CLIENTS[service]


@on_reset
def _forget_clients() -> None:
    with _LOCK:
        _CLIENTS.clear()
