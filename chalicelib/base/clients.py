"""AWS clients: one botocore session per process, one client per service, each built on first
use (never at import) and shared by every thread and every table.

A cold start pays for each client it builds (botocore loads the service's model) and for each
session (endpoints and partitions), so a function builds only the clients its events use, all
from one session; PynamoDB's tables use the DynamoDB client built here (``store.Table``) instead
of one session and client per table and per thread. botocore alone (not boto3) is enough:
presigned POSTs, paginators and modelled exceptions are botocore's.
"""
from __future__ import annotations

import threading
from typing import Any, Dict

from chalicelib.base.config import get_config
from chalicelib.base.lazy import on_reset

_LOCK = threading.Lock()
_CLIENTS: Dict[str, Any] = {}
# Enough connections for every read the thread pool makes at once (pools.MAX_WORKERS).
MAX_POOL_CONNECTIONS = 16


def client(service: str) -> Any:
    """A botocore client for ``service`` at the configured region and endpoint."""
    found = _CLIENTS.get(service)
    if found is not None:
        return found
    with _LOCK:  # botocore sessions are not thread-safe: build every client under one lock
        if service not in _CLIENTS:
            _CLIENTS[service] = _build(service)
        return _CLIENTS[service]


def _build(service: str) -> Any:
    import botocore.session  # the SDK: loaded by the first event that calls AWS
    from botocore.config import Config as BotoConfig

    config = get_config()
    if service == "dynamodb":
        # API Gateway gives a request 29 s; a DynamoDB call must give up well before that.
        options = BotoConfig(
            connect_timeout=config.dynamodb_connect_timeout_s,
            read_timeout=config.dynamodb_read_timeout_s,
            retries={"total_max_attempts": 1 + config.dynamodb_max_retries, "mode": "standard"},
            max_pool_connections=MAX_POOL_CONNECTIONS,
            parameter_validation=False,  # PynamoDB builds the requests; as PynamoDB's own client
        )
        endpoint = config.dynamodb_endpoint_url
    else:
        options = BotoConfig(
            connect_timeout=2,
            read_timeout=10,
            retries={"max_attempts": 3},
            signature_version="s3v4" if service == "s3" else None,
            # An emulator on a bare host:port cannot serve bucket subdomains.
            s3={"addressing_style": "path"} if config.aws_endpoint_url else None,
        )
        endpoint = config.aws_endpoint_url
    if "session" not in _CLIENTS:
        _CLIENTS["session"] = botocore.session.get_session()
    return _CLIENTS["session"].create_client(service, region_name=config.region, endpoint_url=endpoint, config=options)


@on_reset
def _forget_clients() -> None:
    with _LOCK:
        _CLIENTS.clear()
