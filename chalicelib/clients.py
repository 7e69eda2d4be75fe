"""AWS clients and model bindings, built lazily and once per process (never at import).

Tests and the local stack call :func:`reset` after changing the configuration.
"""
from __future__ import annotations

import threading
from typing import Any, Dict

from chalicelib.config import get_config

_LOCK = threading.Lock()
_CLIENTS: Dict[str, Any] = {}
_BOUND = False


def client(service: str) -> Any:
    """A boto3 client for ``service`` at the configured region and endpoint."""
    found = _CLIENTS.get(service)
    if found is not None:
        return found
    with _LOCK:
        if service not in _CLIENTS:
            import boto3  # deferred: keeps boto3 off the import path of every function
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


def bind() -> None:
    """Bind the PynamoDB models to the configured tables once."""
    global _BOUND
    if _BOUND:
        return
    with _LOCK:
        if not _BOUND:
            from chalicelib.models import bind_models

            bind_models(get_config())
            _BOUND = True


def reset() -> None:
    global _BOUND
    with _LOCK:
        _CLIENTS.clear()
        _BOUND = False
