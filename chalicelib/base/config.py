"""Sightline's configuration: one typed object, read from the environment once.

Every setting is declared once, with its environment variable and its default, by
:func:`setting`; :meth:`Config.from_environ` reads them all. Tables are named by the suffix their
model declares (``registrations``): ``SIGHTLINE_REGISTRATIONS_TABLE`` if set, otherwise
``<prefix>-registrations``; the CDK app sets the same variables (``infrastructure``), so a new
model needs no new setting. Domain code receives the object and never reads ``os.environ``.
"""
from __future__ import annotations

import dataclasses
import os
from typing import Any, Callable, Mapping, Optional, Tuple

from chalicelib.base.lazy import Lazy

DEFAULT_PREFIX = "sightline"


def setting(env: str, default: Any, parse: Callable[[str], Any] = str) -> Any:
    """A field read from ``env`` (blank counts as unset), parsed by ``parse``."""
    return dataclasses.field(default=default, metadata={"env": env, "parse": parse})


def _prefixed(suffix: str) -> Callable[["Config"], str]:
    return lambda config: f"{config.prefix}-{suffix}"


def _optional(value: str) -> Optional[str]:
    return value or None


def _content_types(value: str) -> Tuple[str, ...]:
    return tuple(part.strip().lower() for part in value.split(",") if part.strip())


@dataclasses.dataclass(frozen=True)
class Config:
    prefix: str = setting("SIGHTLINE_RESOURCE_PREFIX", DEFAULT_PREFIX)
    region: str = setting("AWS_REGION", "eu-west-2")
    site_url: str = setting("SIGHTLINE_SITE_URL", "http://127.0.0.1:8080", lambda v: v.rstrip("/"))
    sender_email: str = setting("SIGHTLINE_SENDER_EMAIL", "no-reply@sightline.localhost")
    force_name: str = setting("SIGHTLINE_FORCE_NAME", "Your local police force")
    postcode_format: str = setting("SIGHTLINE_POSTCODE_FORMAT", "uk")
    # Queues and the evidence bucket: "<prefix>-<name>" unless set (callables are defaults
    # computed from the prefix).
    notifications_queue: str = setting("SIGHTLINE_NOTIFICATIONS_QUEUE", _prefixed("notifications"))
    # Its URL, when the deployment knows it (saves each cold start a GetQueueUrl call).
    notifications_queue_url: str = setting("SIGHTLINE_NOTIFICATIONS_QUEUE_URL", "")
    ingest_queue: str = setting("SIGHTLINE_INGEST_QUEUE", _prefixed("ingest"))
    workflow_queue: str = setting("SIGHTLINE_WORKFLOW_QUEUE", _prefixed("workflow"))
    evidence_bucket: str = setting("SIGHTLINE_EVIDENCE_BUCKET", _prefixed("evidence"))
    state_machine_arn: str = setting("SIGHTLINE_STATE_MACHINE_ARN", "")
    # The audit log: its copy under Object Lock, and how long entries (and copies) are kept.
    audit_bucket: str = setting("SIGHTLINE_AUDIT_BUCKET", _prefixed("audit"))
    audit_retention_days: int = setting("SIGHTLINE_AUDIT_RETENTION_DAYS", 2192, int)
    # Officers' Cognito pool.
    user_pool_id: str = setting("SIGHTLINE_USER_POOL_ID", "")
    user_pool_client_id: str = setting("SIGHTLINE_USER_POOL_CLIENT_ID", "")
    # Where the pool's signing keys are; AWS's own address unless set (moto serves them locally).
    jwks_url_override: str = setting("SIGHTLINE_JWKS_URL", "")
    # Endpoints are set only off AWS (the local stack); in Lambda they stay None.
    aws_endpoint_url: Optional[str] = setting("SIGHTLINE_AWS_ENDPOINT_URL", None, _optional)
    dynamodb_endpoint_url: Optional[str] = setting("SIGHTLINE_DYNAMODB_ENDPOINT_URL", None, _optional)
    # Residents' links and sessions.
    verification_ttl_hours: int = setting("SIGHTLINE_VERIFICATION_TTL_HOURS", 72, int)
    manage_link_ttl_minutes: int = setting("SIGHTLINE_MANAGE_LINK_TTL_MINUTES", 30, int)
    owner_session_ttl_minutes: int = setting("SIGHTLINE_OWNER_SESSION_TTL_MINUTES", 30, int)
    # Emails anyone can trigger without signing in (verification, already registered, manage
    # link), per recipient: counted under a keyed hash of the address (base.pseudonyms).
    public_emails_per_hour: int = setting("SIGHTLINE_PUBLIC_EMAILS_PER_HOUR", 3, int)
    public_emails_per_day: int = setting("SIGHTLINE_PUBLIC_EMAILS_PER_DAY", 10, int)
    # The key of those hashes: the key itself (tests, the local stack) or the Secrets Manager
    # secret that holds it (AWS).
    pseudonym_key: str = setting("SIGHTLINE_PSEUDONYM_KEY", "")
    pseudonym_key_secret: str = setting("SIGHTLINE_PSEUDONYM_KEY_SECRET", "")
    # How long a deleted registration waits, as a tombstone with nothing officers can find, for
    # its confirmation email before housekeeping asks again.
    deletion_retry_minutes: int = setting("SIGHTLINE_DELETION_RETRY_MINUTES", 15, int)
    # Cases: the force's reference format (a typo must not create a case) and offence groups.
    case_ref_pattern: str = setting("SIGHTLINE_CASE_REF_PATTERN", r"^[A-Za-z0-9][A-Za-z0-9 /._:-]*$")
    case_categories: Tuple[str, ...] = setting(
        "SIGHTLINE_CASE_CATEGORIES",
        (  # the Home Office's main offence groups, and two kinds of incident that are not crimes
            "Violence against the person",
            "Sexual offences",
            "Robbery",
            "Theft offences",
            "Criminal damage and arson",
            "Drug offences",
            "Possession of weapons offences",
            "Public order offences",
            "Miscellaneous crimes against society",
            "Missing person",
            "Road traffic collision",
        ),
        lambda value: tuple(part.strip() for part in value.split(";") if part.strip()),
    )
    # Footage requests and evidence.
    default_retention_days: int = setting("SIGHTLINE_DEFAULT_RETENTION_DAYS", 7, int)
    # Officers' search filter "towards the incident": a camera counts when its direction is within
    # this many degrees either side of the bearing from the camera to the incident point.
    towards_within_deg: int = setting("SIGHTLINE_TOWARDS_WITHIN_DEG", 45, int)
    request_safety_margin_hours: int = setting("SIGHTLINE_REQUEST_SAFETY_MARGIN_HOURS", 12, int)
    reminder_fraction: float = setting("SIGHTLINE_REMINDER_FRACTION", 0.5, float)
    max_upload_bytes: int = setting("SIGHTLINE_MAX_UPLOAD_BYTES", 5 * 2**30, int)
    # The largest file: the ingest must stream and hash it well inside its 15 minutes
    # (docs/decisions.md, 2026-12-02, python -m bench.ingest_hash).
    max_multipart_bytes: int = setting("SIGHTLINE_MAX_MULTIPART_BYTES", 16 * 2**30, int)
    multipart_threshold_bytes: int = setting("SIGHTLINE_MULTIPART_THRESHOLD_BYTES", 100 * 2**20, int)
    multipart_part_bytes: int = setting("SIGHTLINE_MULTIPART_PART_BYTES", 64 * 2**20, int)
    upload_url_ttl_s: int = setting("SIGHTLINE_UPLOAD_URL_TTL_S", 900, int)
    download_url_ttl_s: int = setting("SIGHTLINE_DOWNLOAD_URL_TTL_S", 300, int)
    # Each request's quota: files started, and the bytes they declared (retries count too).
    max_files_per_request: int = setting("SIGHTLINE_MAX_FILES_PER_REQUEST", 50, int)
    max_bytes_per_request: int = setting("SIGHTLINE_MAX_BYTES_PER_REQUEST", 64 * 2**30, int)
    allowed_content_types: Tuple[str, ...] = setting(
        "SIGHTLINE_ALLOWED_CONTENT_TYPES",
        (
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
        ),
        _content_types,
    )
    # Evidence fit for court (issue 12). Exhibit references: ``{initials}`` (of the person who
    # made the owner's statement) and ``{number}`` (counted per initials within the case).
    exhibit_pattern: str = setting("SIGHTLINE_EXHIBIT_PATTERN", "{initials}/{number}")
    # Owners read their recorder's clock as wall-clock time here.
    force_timezone: str = setting("SIGHTLINE_FORCE_TIMEZONE", "Europe/London")
    # Evidence is kept while its case is open and this many days after it closes (unless a
    # supervisor holds the case); then housekeeping deletes it.
    evidence_retention_days: int = setting("SIGHTLINE_EVIDENCE_RETENTION_DAYS", 2192, int)
    # Case exports for the force's evidence system: where they are built, and for how long kept.
    exports_bucket: str = setting("SIGHTLINE_EXPORTS_BUCKET", _prefixed("exports"))
    exports_queue: str = setting("SIGHTLINE_EXPORTS_QUEUE", _prefixed("exports"))
    export_ttl_days: int = setting("SIGHTLINE_EXPORT_TTL_DAYS", 14, int)
    # The officers' console, for links in officers' emails (none when unknown).
    console_url: str = setting("SIGHTLINE_CONSOLE_URL", "", lambda v: v.rstrip("/"))
    # The registry stays current (issue 13): an owner is asked to re-confirm this many days
    # after they last confirmed; unanswered, the registration is paused after the second period
    # and deleted after the third (counted from the pause).
    reconfirm_after_days: int = setting("SIGHTLINE_RECONFIRM_AFTER_DAYS", 365, int)
    reconfirm_pause_after_days: int = setting("SIGHTLINE_RECONFIRM_PAUSE_AFTER_DAYS", 30, int)
    reconfirm_delete_after_days: int = setting("SIGHTLINE_RECONFIRM_DELETE_AFTER_DAYS", 90, int)
    # Steps taken per hourly run: a registry that joined on one day comes due on one day, and
    # its emails (and its owners' visits) are spread over hours instead of one run's minutes.
    reconfirm_steps_per_run: int = setting("SIGHTLINE_RECONFIRM_STEPS_PER_RUN", 1000, int)
    # API Gateway gives a request 29 s; a DynamoDB call must give up well before that.
    dynamodb_connect_timeout_s: float = setting("SIGHTLINE_DYNAMODB_CONNECT_TIMEOUT_S", 2.0, float)
    dynamodb_read_timeout_s: float = setting("SIGHTLINE_DYNAMODB_READ_TIMEOUT_S", 5.0, float)
    dynamodb_max_retries: int = setting("SIGHTLINE_DYNAMODB_MAX_RETRIES", 2, int)
    # Explicit table names (SIGHTLINE_<SUFFIX>_TABLE), by suffix; see table_name().
    table_names: Mapping[str, str] = dataclasses.field(default_factory=dict)

    def table_name(self, suffix: str) -> str:
        return self.table_names.get(suffix) or f"{self.prefix}-{suffix}"

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
        values: dict = {}
        computed: dict = {}
        for field in dataclasses.fields(cls):
            env = field.metadata.get("env")
            if env is None:
                continue
            raw = environ.get(env) or (environ.get("AWS_DEFAULT_REGION") if env == "AWS_REGION" else None)
            if env == "SIGHTLINE_DYNAMODB_ENDPOINT_URL" and not raw:
                raw = environ.get("SIGHTLINE_AWS_ENDPOINT_URL")  # one emulator for everything
            if raw:
                values[field.name] = field.metadata["parse"](raw)
            elif callable(field.default):
                computed[field.name] = field.default
        values["table_names"] = {
            name[len("SIGHTLINE_"):-len("_TABLE")].lower().replace("_", "-"): value
            for name, value in environ.items()
            if name.startswith("SIGHTLINE_") and name.endswith("_TABLE") and value
        }
        config = cls(**values)
        return dataclasses.replace(config, **{name: make(config) for name, make in computed.items()})


get_config: Lazy[Config] = Lazy(Config.from_environ)
