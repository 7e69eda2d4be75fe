"""Sightline's API and event handlers. Each parses, calls one domain function, returns."""
from __future__ import annotations

import functools
import importlib
import threading
import warnings
from datetime import datetime, timezone
from types import ModuleType
from typing import Any, Callable, Optional

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.metrics import MetricUnit
from chalice import Chalice, ConvertToMiddleware, CORSConfig, Rate, Response

from chalicelib.base import clients
from chalicelib.base.config import get_config
from chalicelib.base.errors import SightlineError
from chalicelib.base.ids import iso_ms
from chalicelib.base.lazy import Lazy
from chalicelib.base.messages import get_queue
from chalicelib.base.officers import AUDITOR, OFFICER, SUPERVISOR, Officer, get_authenticator
from chalicelib.base.readiness import Readiness


class _OnFirstUse:
    """A domain module, imported when a handler first uses one of its names.

    Chalice keeps every handler in this one module and Lambda imports all of it for each
    function, so an import statement here would load the residents' and officers' modules
    (their pydantic schemas, the officers' JWT checks) into the queue handlers, whose events
    never use them: about half of their cold start. Each name below is bound at import as an
    import statement would bind it; its module runs on first use (docs/decisions.md, "Cold
    starts"). Inside ``chalicelib`` every import is a plain one at the top of its module.
    """

    def __init__(self, name: str):
        self._name = name
        self._module: Optional[ModuleType] = None
        self._lock = threading.Lock()

    def __getattr__(self, attribute: str) -> Any:
        if self._module is None:
            with self._lock:
                if self._module is None:
                    self._module = importlib.import_module(self._name)
        return getattr(self._module, attribute)


web = _OnFirstUse("chalicelib.web")
tables = _OnFirstUse("chalicelib.tables")
housekeeping = _OnFirstUse("chalicelib.housekeeping")
registrations = _OnFirstUse("chalicelib.registry.registrations")
registry_owners = _OnFirstUse("chalicelib.registry.owners")
owners = _OnFirstUse("chalicelib.footage.owners")
uploads = _OnFirstUse("chalicelib.footage.uploads")
evidence = _OnFirstUse("chalicelib.footage.evidence")
workflow = _OnFirstUse("chalicelib.footage.workflow")
searches = _OnFirstUse("chalicelib.investigations.searches")
cases = _OnFirstUse("chalicelib.investigations.cases")
footage = _OnFirstUse("chalicelib.investigations.footage")
audit_log = _OnFirstUse("chalicelib.investigations.audit_log")
retention = _OnFirstUse("chalicelib.investigations.retention")
exports = _OnFirstUse("chalicelib.investigations.exports")
deliveries = _OnFirstUse("chalicelib.mail.deliveries")

# Most requests publish no metric; Powertools warns about each one, which is only noise.
warnings.filterwarnings("ignore", message="No application metrics to publish")

# Read once at import for what Chalice needs when it packages the app (queue names, CORS);
# handlers call get_config(), which is the same cached object.
config = get_config()
logger = Logger(service="sightline")
metrics = Metrics(namespace="Sightline", service="sightline")

app = Chalice(app_name="sightline")
app.api.cors = CORSConfig(
    allow_origin=config.site_origin,
    allow_headers=["Authorization", "Content-Type"],
    # The console reads the audit export's file name from a cross-origin fetch.
    expose_headers=["Content-Disposition"],
    max_age=600,
)
app.register_middleware(
    ConvertToMiddleware(
        logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
    ),
    "http",
)
app.register_middleware(ConvertToMiddleware(metrics.log_metrics), "all")


@app.middleware("http")
def _uniform_errors(event: Any, get_response: Callable) -> Response:
    """Chalice answers some requests itself (unlisted content type, wrong method, a crash);
    give those answers the same JSON shape as ours."""
    response = get_response(event)
    body = web.normalise_chalice_error(response.body)
    if body is not None:
        response.body = body
    return response


def route(path: str, **kwargs: Any) -> Callable:
    """``app.route`` whose handler's domain errors become JSON error answers (the one place)."""

    def register(view: Callable) -> Callable:
        @functools.wraps(view)
        def handled(**params: Any) -> Any:
            try:
                return view(**params)
            except SightlineError as err:
                status, body = web.http_error(err)
                headers = {"WWW-Authenticate": "Bearer"} if status == 401 else {}
                return Response(body=body, status_code=status, headers=headers)

        app.route(path, **kwargs)(handled)
        return handled

    return register


@route("/health", methods=["GET"])
def health() -> dict:
    return {"status": "ok"} if readiness().ready() else Response(
        body={"error": {"code": "unavailable", "message": "Not ready yet."}}, status_code=503
    )


@route("/time", methods=["GET"])
def server_time() -> Response:
    """The API's clock, for the owner's clock check (never cached)."""
    return Response(body={"now": iso_ms(_now())}, headers={"Cache-Control": "no-store"})


@route("/registrations", methods=["POST"])
def create_registration() -> Response:
    registrations.register(_body(), config=get_config(), notify=get_queue(), now=_now())
    metrics.add_metric(name="RegistrationSubmitted", unit=MetricUnit.Count, value=1)
    return Response(body={"status": "pending_verification"}, status_code=202)


@route("/registrations/verify", methods=["POST"])
def verify_registration() -> dict:
    return registrations.verify(_body(), now=_now())


@route("/owner/links", methods=["POST"])
def request_owner_link() -> Response:
    registry_owners.request_manage_link(_body(), notify=get_queue())
    return Response(body={"status": "sent_if_registered"}, status_code=202)


@route("/owner/sessions", methods=["POST"])
def open_owner_session() -> dict:
    return owners.open_session(_body(), config=get_config(), now=_now())


@route("/owner/sessions", methods=["DELETE"])
def close_owner_session() -> Response:
    registry_owners.close_session(_session(), _now())
    return Response(body="", status_code=204)


@route("/owner/registrations", methods=["GET"])
def list_owner_registrations() -> dict:
    now = _now()
    return {"registrations": registrations.list_for_owner(_owner(now), now)}


@route("/owner/registrations/{registration_id}", methods=["GET"])
def get_owner_registration(registration_id: str) -> dict:
    now = _now()
    return registrations.get_for_owner(_owner(now), registration_id, now)


@route("/owner/registrations/{registration_id}", methods=["PATCH"])
def update_owner_registration(registration_id: str) -> dict:
    now = _now()
    owner = _owner(now)
    return registrations.update_for_owner(owner, registration_id, _body(), config=get_config(), now=now)


@route("/owner/registrations/{registration_id}", methods=["DELETE"])
def delete_owner_registration(registration_id: str) -> dict:
    now = _now()
    owner = _owner(now)
    registrations.delete_for_owner(owner, registration_id, notify=get_queue(), now=now)
    return {"status": "deleted"}


@route("/owner/export", methods=["GET"])
def export_owner_data() -> Response:
    now = _now()
    return Response(
        body=owners.export(_owner(now), now, get_config()),
        headers={"Content-Disposition": 'attachment; filename="sightline-my-data.json"'},
    )


@route("/officer/searches", methods=["POST"])
def create_search() -> dict:
    return searches.run_search(_body(), _officer(OFFICER, SUPERVISOR), config=get_config(), now=_now())


@route("/officer/searches/{search_id}", methods=["GET"])
def get_search(search_id: str) -> dict:
    return searches.get_search(search_id, _query(), _officer(OFFICER, SUPERVISOR), config=get_config(), now=_now())


@route("/officer/audit", methods=["GET"])
def read_audit_log() -> dict:
    reader = _officer(SUPERVISOR, AUDITOR)
    return audit_log.search_log(_query(), reader, _now())


@route("/officer/audit/export", methods=["GET"])
def export_audit_log() -> Response:
    exported = audit_log.export_log(_query(), _officer(SUPERVISOR, AUDITOR), _now())
    return Response(body=exported.text, headers={
        "Content-Type": "text/csv; charset=utf-8",
        "Content-Disposition": f'attachment; filename="{exported.filename}"',
        "Cache-Control": "no-store",
    })


# --- Cases ------------------------------------------------------------------------------------


@route("/officer/cases", methods=["POST"])
def open_case() -> Response:
    opened = cases.open_case(_body(), _officer(OFFICER, SUPERVISOR), config=get_config(), now=_now())
    return Response(body=opened, status_code=201)


@route("/officer/cases", methods=["GET"])
def list_my_cases() -> dict:
    return cases.mine(_officer(OFFICER, SUPERVISOR), get_config(), _now())


@route("/officer/cases/{case_id}", methods=["GET"])
def get_case(case_id: str) -> dict:
    return cases.detail(case_id, _officer(OFFICER, SUPERVISOR), get_config(), _now())


@route("/officer/cases/{case_id}", methods=["PATCH"])
def change_case(case_id: str) -> dict:
    return cases.change(case_id, _body(), _officer(OFFICER, SUPERVISOR), config=get_config(), now=_now())


@route("/officer/cases/{case_id}/team", methods=["POST"])
def add_team_member(case_id: str) -> dict:
    return cases.add_member(case_id, _body(), _officer(OFFICER, SUPERVISOR), config=get_config(), now=_now())


@route("/officer/cases/{case_id}/team/{username}", methods=["DELETE"])
def remove_team_member(case_id: str, username: str) -> dict:
    return cases.remove_member(case_id, username, _officer(OFFICER, SUPERVISOR), config=get_config(), now=_now())


# --- Footage requests -----------------------------------------------------------------------


@route("/officer/requests", methods=["POST"])
def create_footage_requests() -> Response:
    asked = footage.ask_for_footage(
        _body(), _officer(OFFICER, SUPERVISOR), config=get_config(), notify=get_queue(), timer=workflow.get_workflow(), now=_now()
    )
    status, body = web.asked_answer(asked)
    return Response(body=body, status_code=status)


@route("/officer/requests", methods=["GET"])
def list_footage_requests() -> dict:
    return footage.list_for_case(_query().get("case_ref"), _officer(OFFICER, SUPERVISOR), _now())


@route("/officer/requests/{request_id}", methods=["GET"])
def get_footage_request(request_id: str) -> dict:
    return footage.get_for_officer(request_id, _officer(OFFICER, SUPERVISOR), _now())


@route("/officer/evidence/{evidence_id}/downloads", methods=["POST"])
def download_evidence(evidence_id: str) -> dict:
    officer = _officer(OFFICER, SUPERVISOR)
    return footage.download(evidence_id, _body(), officer, s3=clients.client("s3"), config=get_config(), now=_now())


@route("/officer/evidence/{evidence_id}/custody", methods=["GET"])
def get_custody_log(evidence_id: str) -> dict:
    return footage.custody_log(evidence_id, _officer(OFFICER, SUPERVISOR), _now())


# --- Case exports -----------------------------------------------------------------------------


@route("/officer/cases/{case_id}/exports", methods=["POST"])
def request_case_export(case_id: str) -> Response:
    officer = _officer(OFFICER, SUPERVISOR)
    made = exports.request_export(case_id, _body(), officer, queue=exports.get_export_queue(), config=get_config(), now=_now())
    return Response(body=made, status_code=202)


@route("/officer/cases/{case_id}/exports", methods=["GET"])
def list_case_exports(case_id: str) -> dict:
    return exports.list_for_case(case_id, _officer(OFFICER, SUPERVISOR), _now())


@route("/officer/exports/{export_id}", methods=["GET"])
def get_case_export(export_id: str) -> dict:
    return exports.get_for_officer(export_id, _officer(OFFICER, SUPERVISOR), _now())


@route("/officer/exports/{export_id}/links", methods=["POST"])
def link_case_export(export_id: str) -> dict:
    officer = _officer(OFFICER, SUPERVISOR)
    return exports.links(export_id, _body(), officer, s3=clients.client("s3"), config=get_config(), now=_now())


@route("/owner/requests/{request_id}", methods=["GET"])
def get_owner_request(request_id: str) -> dict:
    now = _now()
    return owners.request_page(_request(request_id, now), get_config(), now)


@route("/owner/requests/{request_id}/statement", methods=["PUT"])
def save_owner_statement(request_id: str) -> dict:
    now = _now()
    return owners.save_statement(_request(request_id, now), _body(), config=get_config(), now=now)


@route("/owner/requests/{request_id}/uploads", methods=["POST"])
def start_owner_upload(request_id: str) -> Response:
    now = _now()
    started = uploads.start_upload(_request(request_id, now), _body(), s3=clients.client("s3"), config=get_config(), now=now)
    return Response(body=started, status_code=201)


@route("/owner/requests/{request_id}/uploads/{upload_id}/complete", methods=["POST"])
def complete_owner_upload(request_id: str, upload_id: str) -> dict:
    now = _now()
    return uploads.finish_upload(_request(request_id, now), upload_id, _body(), s3=clients.client("s3"), config=get_config(), now=now)


@route("/owner/requests/{request_id}/complete", methods=["POST"])
def complete_owner_request(request_id: str) -> dict:
    now = _now()
    return owners.complete(_request(request_id, now), _body(), notify=get_queue(), timer=workflow.get_workflow(), now=now)


@route("/owner/requests/{request_id}/decline", methods=["POST"])
def decline_owner_request(request_id: str) -> dict:
    now = _now()
    return owners.decline(_request(request_id, now), _body(), notify=get_queue(), timer=workflow.get_workflow(), now=now)


# --- The registry stays current ---------------------------------------------------------------


# The confirm page's view of the registration: a POST carrying the link's token (tokens travel
# in the URL fragment, never a query string), and it changes nothing.
@route("/owner/confirmations/preview", methods=["POST"])
def preview_confirmation() -> dict:
    return registrations.preview_confirmation(_body(), config=get_config(), now=_now())


@route("/owner/confirmations", methods=["POST"])
def confirm_registration() -> dict:
    return registrations.confirm(_body(), now=_now())


# One object per invocation: hashing a large one can take most of the function's time.
@app.on_sqs_message(queue=config.ingest_queue, batch_size=1, name="ingest_evidence")
def ingest_evidence(event: Any) -> dict:
    return evidence.ingest_batch(event.to_dict(), s3=clients.client("s3"), config=get_config(), notify=get_queue(), now=_now())


# One export per invocation; a long build continues in a later one (its own message, re-sent).
@app.on_sqs_message(queue=config.exports_queue, batch_size=1, name="build_exports")
def build_exports(event: Any) -> dict:
    return exports.build_batch(
        event.to_dict(), s3=clients.client("s3"), config=get_config(), notify=get_queue(),
        queue=exports.get_export_queue(), now=_now(), time_left=_time_left(event.context),
    )


@app.on_sqs_message(queue=config.workflow_queue, batch_size=10, name="workflow_events")
def workflow_events(event: Any) -> dict:
    return workflow.handle_batch(event.to_dict(), workflow=workflow.get_workflow(), notify=get_queue(), now=_now())


@app.on_sqs_message(queue=config.notifications_queue, batch_size=10, name="deliver_notifications")
def deliver_notifications(event: Any) -> dict:
    return deliveries.deliver_batch(event.to_dict(), get_config(), _now())


@app.schedule(Rate(1, unit=Rate.HOURS), name="housekeeping")
def run_housekeeping(event: Any) -> dict:
    purged = housekeeping.run(_now(), get_queue(), get_config())
    logger.info("housekeeping done", extra=purged)
    return purged


# Its own function: the only role that may lift a legal hold or delete an evidence version.
@app.schedule(Rate(1, unit=Rate.DAYS), name="evidence_retention")
def run_evidence_retention(event: Any) -> dict:
    swept = retention.sweep(_now(), get_config())
    logger.info("evidence retention done", extra=swept)
    return swept


# ---------------------------------------------------------------------------------------------


def _now() -> datetime:
    return datetime.now(timezone.utc)


def _time_left(context: Any) -> Callable[[], float]:
    """Seconds left of the invocation (Lambda's context), or forever without one."""
    remaining = getattr(context, "get_remaining_time_in_millis", None)
    return (lambda: remaining() / 1000) if remaining else (lambda: float("inf"))


def _body() -> Any:
    request = app.current_request
    return web.json_body(request.raw_body, request.headers.get("content-type"))


def _authorization() -> str:
    return app.current_request.headers.get("authorization", "")


def _session() -> str:
    return web.bearer(_authorization(), web.OWNER_SIGN_IN)


def _officer(*groups: str) -> Officer:
    return get_authenticator().officer(web.bearer(_authorization(), web.OFFICER_SIGN_IN)).require(*groups)


def _query() -> dict:
    return dict(app.current_request.query_params or {})


def _request(request_id: str, now: datetime) -> str:
    return owners.request_for(_session(), request_id, now)


def _owner(now: datetime) -> str:
    return registry_owners.owner_for(_session(), now)


def _everything_exists() -> bool:
    try:
        if not all(model.exists() for model in tables.ALL_MODELS):
            return False
        get_queue().find_url()
        return True
    except Exception:  # any failure means "not ready", which is all /health reports
        logger.warning("health check failed", exc_info=True)
        return False


# The deep check runs at most once per container per few minutes (chalicelib/base/readiness.py).
readiness: Lazy[Readiness] = Lazy(lambda: Readiness(_everything_exists))
