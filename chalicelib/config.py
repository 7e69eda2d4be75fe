"""Sightline's configuration: one typed object, read from the environment once.

Every name a deployment differs by (tables, queues, URLs, endpoints) comes from here; domain
code receives the object and never reads ``os.environ`` itself.
"""
from __future__ import annotations

import dataclasses
import os
from typing import Mapping, Optional, Tuple

_DEFAULT_PREFIX = "sightline"


@dataclasses.dataclass(frozen=True)
class Config:
    region: str
    site_url: str
    sender_email: str
    registrations_table: str
    geo_index_table: str
    tokens_table: str
    audit_table: str
    searches_table: str
    notifications_queue: str
    user_pool_id: str = ""
    user_pool_client_id: str = ""
    # Where the pool's signing keys are; AWS's own address unless set (moto serves them locally).
    jwks_url_override: str = ""
    # Endpoints are set only off AWS (the local stack); in Lambda they stay None.
    aws_endpoint_url: Optional[str] = None
    dynamodb_endpoint_url: Optional[str] = None
    force_name: str = "Your local police force"
    postcode_format: str = "uk"
    verification_ttl_hours: int = 72
    manage_link_ttl_minutes: int = 30
    owner_session_ttl_minutes: int = 30
    # Footage requests and evidence.
    requests_table: str = "sightline-requests"
    evidence_table: str = "sightline-evidence"
    evidence_bucket: str = "sightline-evidence"
    ingest_queue: str = "sightline-ingest"
    workflow_queue: str = "sightline-workflow"
    state_machine_arn: str = ""
    default_retention_days: int = 7
    request_safety_margin_hours: int = 12
    reminder_fraction: float = 0.5
    max_upload_bytes: int = 5 * 2**30
    max_multipart_bytes: int = 50 * 2**30
    multipart_threshold_bytes: int = 100 * 2**20
    multipart_part_bytes: int = 64 * 2**20
    upload_url_ttl_s: int = 900
    download_url_ttl_s: int = 300
    allowed_content_types: Tuple[str, ...] = (
        "video/mp4",
        "video/quicktime",
        "video/x-msvideo",
        "video/avi",  # what Windows calls .avi
        "video/x-matroska",
        "video/webm",
        "video/mp2t",
        "video/mpeg",
        "video/3gpp",
        "video/x-ms-asf",
        "video/x-ms-wmv",
        "image/jpeg",
        "image/png",
        "application/octet-stream",  # what DVRs' own export formats (.dav, .264, …) arrive as
    )
    # API Gateway gives a request 29 s; a DynamoDB call must give up well before that.
    dynamodb_connect_timeout_s: float = 2.0
    dynamodb_read_timeout_s: float = 5.0
    dynamodb_max_retries: int = 2

    @property
    def user_pool_issuer(self) -> str:
        # Cognito (and moto, which copies it) names the AWS host in `iss`, wherever keys are served.
        return f"https://cognito-idp.{self.region}.amazonaws.com/{self.user_pool_id}"

    @property
    def jwks_url(self) -> str:
        return self.jwks_url_override or f"{self.user_pool_issuer}/.well-known/jwks.json"

    @property
    def site_origin(self) -> str:
        scheme, _, rest = self.site_url.partition("://")
        return f"{scheme}://{rest.split('/', 1)[0]}"

    @classmethod
    def from_environ(cls, environ: Mapping[str, str] = os.environ) -> "Config":
        prefix = environ.get("SIGHTLINE_RESOURCE_PREFIX", _DEFAULT_PREFIX)

        def get(name: str, default: str) -> str:
            return environ.get(name) or default

        return cls(
            region=get("AWS_REGION", get("AWS_DEFAULT_REGION", "eu-west-2")),
            site_url=get("SIGHTLINE_SITE_URL", "http://127.0.0.1:8080").rstrip("/"),
            sender_email=get("SIGHTLINE_SENDER_EMAIL", "no-reply@sightline.localhost"),
            registrations_table=get("SIGHTLINE_REGISTRATIONS_TABLE", f"{prefix}-registrations"),
            geo_index_table=get("SIGHTLINE_GEO_INDEX_TABLE", f"{prefix}-geo-index"),
            tokens_table=get("SIGHTLINE_TOKENS_TABLE", f"{prefix}-tokens"),
            audit_table=get("SIGHTLINE_AUDIT_TABLE", f"{prefix}-audit"),
            searches_table=get("SIGHTLINE_SEARCHES_TABLE", f"{prefix}-searches"),
            user_pool_id=get("SIGHTLINE_USER_POOL_ID", ""),
            user_pool_client_id=get("SIGHTLINE_USER_POOL_CLIENT_ID", ""),
            jwks_url_override=get("SIGHTLINE_JWKS_URL", ""),
            requests_table=get("SIGHTLINE_REQUESTS_TABLE", f"{prefix}-requests"),
            evidence_table=get("SIGHTLINE_EVIDENCE_TABLE", f"{prefix}-evidence"),
            evidence_bucket=get("SIGHTLINE_EVIDENCE_BUCKET", f"{prefix}-evidence"),
            ingest_queue=get("SIGHTLINE_INGEST_QUEUE", f"{prefix}-ingest"),
            workflow_queue=get("SIGHTLINE_WORKFLOW_QUEUE", f"{prefix}-workflow"),
            state_machine_arn=get("SIGHTLINE_STATE_MACHINE_ARN", ""),
            default_retention_days=int(get("SIGHTLINE_DEFAULT_RETENTION_DAYS", "7")),
            request_safety_margin_hours=int(get("SIGHTLINE_REQUEST_SAFETY_MARGIN_HOURS", "12")),
            reminder_fraction=float(get("SIGHTLINE_REMINDER_FRACTION", "0.5")),
            max_upload_bytes=int(get("SIGHTLINE_MAX_UPLOAD_BYTES", str(5 * 2**30))),
            max_multipart_bytes=int(get("SIGHTLINE_MAX_MULTIPART_BYTES", str(50 * 2**30))),
            multipart_threshold_bytes=int(get("SIGHTLINE_MULTIPART_THRESHOLD_BYTES", str(100 * 2**20))),
            notifications_queue=get("SIGHTLINE_NOTIFICATIONS_QUEUE", f"{prefix}-notifications"),
            aws_endpoint_url=environ.get("SIGHTLINE_AWS_ENDPOINT_URL") or None,
            dynamodb_endpoint_url=(
                environ.get("SIGHTLINE_DYNAMODB_ENDPOINT_URL")
                or environ.get("SIGHTLINE_AWS_ENDPOINT_URL")
                or None
            ),
            force_name=get("SIGHTLINE_FORCE_NAME", "Your local police force"),
            postcode_format=get("SIGHTLINE_POSTCODE_FORMAT", "uk"),
            verification_ttl_hours=int(get("SIGHTLINE_VERIFICATION_TTL_HOURS", "72")),
            manage_link_ttl_minutes=int(get("SIGHTLINE_MANAGE_LINK_TTL_MINUTES", "30")),
            owner_session_ttl_minutes=int(get("SIGHTLINE_OWNER_SESSION_TTL_MINUTES", "30")),
        )


_CONFIG: Optional[Config] = None


def get_config() -> Config:
    global _CONFIG
    if _CONFIG is None:
        _CONFIG = Config.from_environ()
    return _CONFIG


def reset_config() -> None:
    """Forget the cached configuration (tests change the environment between cases)."""
    global _CONFIG
    _CONFIG = None
