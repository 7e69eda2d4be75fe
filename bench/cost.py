"""What a force pays AWS each month for Sightline: measured per operation, priced for London.

    .venv/bin/python -m bench.cost                      # a force the size of West Midlands Police (~3 min)
    .venv/bin/python -m bench.cost --grown 100000       # quicker: the second size at 100,000, not 250,000
    .venv/bin/python -m bench.cost --help               # the workload options

Starts a private local stack on free 127.0.0.1 ports (moto server in this process, dynalite in
node), provisions it with ``local.provision`` and seeds it with ``local.seed``, and drives the
app in-process through Chalice's test client as residents, officers and AWS would: HTTP
requests to the API, SQS batches to the queue handlers, the hourly schedule. Each operation is
measured warm: every Lambda invocation's duration, the DynamoDB capacity units it consumed (as
DynamoDB reports them, through ``ReturnConsumedCapacity``), the AWS calls it made, its log
output and what it left stored. Searches and housekeeping are measured at two table sizes and
projected linearly. The operations are then multiplied by the force's workload (the options)
and priced with ``bench/prices_eu_west_2.json``. See ``bench/README.md``.
"""
from __future__ import annotations

import argparse
import contextlib
import dataclasses
import email
import email.policy
import hashlib
import importlib
import io
import json
import logging
import multiprocessing
import os
import re
import statistics
import tempfile
import textwrap
import threading
import time
import urllib.request
from collections import Counter
from concurrent.futures import ProcessPoolExecutor
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Callable, Dict, Iterator, List, Optional, Sequence, Tuple
from urllib.parse import urlsplit

from bench import dynalite

ROOT = Path(__file__).resolve().parent.parent
PRICES_FILE = ROOT / "bench" / "prices_eu_west_2.json"
CHALICE_CONFIG = ROOT / ".chalice" / "config.json"
HOST = "127.0.0.1"
WIDTH = 118  # of the printed report

DAYS_PER_MONTH = 365 / 12
HOURS_PER_MONTH = 24 * DAYS_PER_MONTH
# The registry sizes the growth table shows (the question: what if the registry grows).
GROWTH = (25_000, 250_000, 2_500_000)
# Central Birmingham, the densest part of local.seed's synthetic West Midlands.
DENSE_CENTRE = (52.4862, -1.8904)
# Officers' searches: half within 500 m (a street), half within 2 km (a neighbourhood).
SEARCH_MIX = {500: 0.5, 2000: 0.5}

# --- What happens outside the app, assumed (the app never sees it, so it cannot be measured) ---
# CORS preflights: the site is on another origin than the API, so the browser asks API Gateway
# (a mock integration: no Lambda) once per URL it calls; Chalice's max_age keeps the answer 10
# minutes. Officers use an API client, not a browser: none.
PREFLIGHTS = {"registration": 2, "manage": 4, "footage_answered": 4}
# respond.js polls the request every 2 s until the server has checked an upload; the harness
# measures one poll, an owner's page makes about this many more.
EXTRA_POLLS_PER_UPLOAD = 2
# Pages residents open on the CloudFront site, per operation (sizes read from site/).
PAGES = {"registration": ("index.html", "verify.html"), "manage": ("manage.html",), "footage_answered": ("respond.html",)}
# Lambda writes START, END and REPORT lines (with the X-Ray trace id) for every invocation.
PLATFORM_LOG_BYTES = 400
# One line of the API's JSON access log (infrastructure/sightline_infra/api.py, _ACCESS_LOG_FORMAT).
ACCESS_LOG_BYTES = 350
# One Step Functions history event, logged at level ALL without execution data.
WORKFLOW_LOG_BYTES = 350
# Lambda's SQS pollers: each event source mapping keeps 5 long polls (20 s) going: 3 receives a
# minute each, messages or not.
IDLE_POLLERS_PER_QUEUE = 5
# Services using the data key (DynamoDB per table, SQS per queue and principal, CloudWatch Logs,
# S3 with a bucket key) re-fetch data keys every few minutes to an hour while in use.
BACKGROUND_KMS_REQUESTS = 100_000
# What an item occupies beyond its attributes, in a table and in each index ("Item sizes").
DYNAMODB_ITEM_OVERHEAD = 100
# How long items of each table live. The tables not named here (requests, evidence, cases) are
# never deleted by the stack: they live --kept-days.
AUDIT_RETENTION_DAYS = 2192  # the default of SIGHTLINE_AUDIT_RETENTION_DAYS (chalicelib/base/config.py)
TABLE_LIFETIME_DAYS = {
    "tokens": 3,  # links and sessions expire within hours (verification links in 72 h); housekeeping purges them
    "searches": 90,  # SavedSearch's TTL (chalicelib/investigations/searches.py, SAVED_SEARCH_DAYS)
    "audit": AUDIT_RETENTION_DAYS,  # entries and their index by registration expire (TTL) after it
    "audit-registrations": AUDIT_RETENTION_DAYS,
}
# Held per registration, not per operation: stored for as long as the registration stands.
REGISTRY_TABLES = ("registrations", "geo-index")

# Resources the stack defines (infrastructure/sightline_infra/), counted from the code.
STACK = {
    "kms_key_month": 1,  # the data key; the site and access-log buckets use SSE-S3
    "waf_web_acl": 1,
    "waf_rule": 5,  # 2 per-IP rate rules + 3 AWS managed rule groups (api.py)
    # 2 per function (errors, throttles) x 5, 2 per queue (DLQ, backlog) x 3, 2 on the API,
    # 3 on the state machine, 2 on SES reputation (monitoring.py, queues.py, mail.py)
    "cloudwatch_alarm": 23,
    "cloudwatch_dashboard": 1,
    "cloudwatch_metric": 1,  # RegistrationSubmitted (app.py), with the service dimension
}
# S3 bills every request by its class; these are the GET class, DELETEs are free, the rest PUT.
S3_GET_CLASS = re.compile(r"^(Get|Head|Select)")
S3_FREE = re.compile(r"^Delete")
LOGS_RETENTION_MONTHS = 12  # log_retention_days default: 365


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description="Estimate a force's monthly AWS bill for Sightline (eu-west-2).",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    add = parser.add_argument
    add("--registrations", type=int, default=25_000, help="registrations in the registry (seeded and measured at this size)")
    add("--searches-per-day", type=float, default=300, help="officers' searches a day (half 500 m, half 2 km)")
    add("--requests-per-day", type=float, default=100, help="footage requests a day (one owner each)")
    add("--upload-gb-per-day", type=float, default=3, help="footage owners upload a day, GB")
    add("--officers", type=int, default=500, help="officers signing in each month (Cognito monthly active users)")
    add("--answered-share", type=float, default=0.5, help="share of footage requests owners answer with footage; the rest expire")
    add("--kept-days", type=int, default=365,
        help="how long evidence, footage requests and cases are kept (the stack deletes none of them)")
    add("--downloads-per-file", type=float, default=1, help="times officers download each uploaded file")
    add("--signups-per-registration-year", type=float, default=0.2,
        help="new registrations a year, as a share of the registry (turnover and growth)")
    add("--manage-sessions-per-registration-year", type=float, default=1, help="owners' manage sessions a year, per registration")
    add("--grown", type=int, default=250_000,
        help="second registry size at which searches and housekeeping are measured (100000 saves about 80 s)")
    add("--repeat", type=int, default=3, help="measured runs of each operation (the median is kept)")
    args = parser.parse_args(argv)
    if args.grown <= args.registrations:
        parser.error("--grown must be larger than --registrations")
    if not 0 < args.answered_share <= 1:
        parser.error("--answered-share must be in (0, 1]")
    return args


# =============================================================================================
# Measuring
# =============================================================================================


class Meter:
    """What the app asks of AWS while switched on: every call by service and operation, and
    the DynamoDB capacity units each one consumed.

    Installed as botocore built-in handlers, so every client any library creates afterwards
    (PynamoDB's and boto3's alike) reports to it, and chalicelib needs no hook of its own.
    """

    # Operations that accept ReturnConsumedCapacity, by the kind of units they consume.
    READS = {"GetItem", "BatchGetItem", "Query", "Scan", "TransactGetItems"}
    WRITES = {"PutItem", "UpdateItem", "DeleteItem", "BatchWriteItem", "TransactWriteItems"}

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._on = False
        self.calls: Counter = Counter()
        self.rru = 0.0
        self.wru = 0.0
        # Global secondary indexes per table. dynalite reports a write's units for the table
        # only; DynamoDB also charges each index the item is written to.
        self.indexes: Dict[str, int] = {}

    def install(self) -> None:
        from botocore import handlers

        handlers.BUILTIN_HANDLERS.extend(
            [("before-parameter-build.dynamodb", self._ask_for_capacity), ("after-call", self._count)]
        )

    def start(self) -> None:
        with self._lock:
            self.calls, self.rru, self.wru, self._on = Counter(), 0.0, 0.0, True

    def stop(self) -> Tuple[Counter, float, float]:
        with self._lock:
            self._on = False
            return self.calls, self.rru, self.wru

    def _ask_for_capacity(self, params: Dict[str, Any], model: Any, **_: Any) -> None:
        # PynamoDB asks for TOTAL already; a plain boto3 client would not.
        if model.name in self.READS | self.WRITES:
            params.setdefault("ReturnConsumedCapacity", "TOTAL")

    def _count(self, http_response: Any, parsed: Dict[str, Any], model: Any, **_: Any) -> None:
        if not self._on:
            return
        # moto runs Step Functions in this process and makes the state machine's SQS calls
        # from it, to localhost: those are Step Functions', not the app's.
        if urlsplit(http_response.url).hostname == "localhost":
            return
        service, operation = model.service_model.service_name, model.name
        with self._lock:
            self.calls[(service, operation)] += 1
            if service == "dynamodb":
                self._add_capacity(operation, parsed)

    def _add_capacity(self, operation: str, parsed: Dict[str, Any]) -> None:
        consumed = parsed.get("ConsumedCapacity") or []
        if isinstance(consumed, dict):
            consumed = [consumed]
        if not consumed and parsed.get("Error", {}).get("Code") == "ConditionalCheckFailedException":
            self.wru += 1  # DynamoDB charges a write whose condition failed; dynalite reports none
        for entry in consumed:
            units = float(entry.get("CapacityUnits", 0))
            if operation in self.READS:
                self.rru += units
            elif operation in self.WRITES:
                # Every index of ours projects ALL attributes and is keyed on attributes every
                # item has (checked at start-up for the projection), so a successful write
                # writes each index once more, with the same size.
                self.wru += units * (1 + self.indexes.get(entry.get("TableName", ""), 0))


class LogSink(io.TextIOBase):
    """Counts the bytes the app writes to its log (what CloudWatch Logs would ingest)."""

    def __init__(self) -> None:
        self.bytes = 0

    def write(self, text: str) -> int:
        self.bytes += len(text.encode())
        return len(text)


@dataclasses.dataclass
class Invocation:
    function: str
    label: str
    seconds: float
    rru: float
    wru: float
    calls: Counter
    log_bytes: int


@dataclasses.dataclass
class Operation:
    """One run of one operation: what it invoked, and what happened around the app."""

    name: str
    invocations: List[Invocation] = dataclasses.field(default_factory=list)
    # Messages handed to each function from its queue, and in how many batches.
    messages: Counter = dataclasses.field(default_factory=Counter)
    batches: int = 0
    # What the browser did straight to S3 (presigned POST and GET).
    browser_s3_puts: int = 0
    browser_s3_gets: int = 0
    # The footage request's state machine execution: state transitions and history events.
    transitions: int = 0
    workflow_events: int = 0
    # DynamoDB storage this operation leaves behind, times how long it stays: GB-months.
    storage_gb_month: float = 0.0
    # Assumed usage (what the app cannot see), by usage key.
    assumed: Counter = dataclasses.field(default_factory=Counter)


def _child_environ(environ: Dict[str, str]) -> None:
    os.environ.update(environ)


def _provision() -> Dict[str, str]:
    from local import provision
    from local.stack import DEMO_OFFICER, DEMO_SUPERVISOR, REGION, SENDER

    return provision.provision(os.environ["SIGHTLINE_AWS_ENDPOINT_URL"], REGION, SENDER, DEMO_OFFICER, DEMO_SUPERVISOR)


def _seed(count: int) -> int:
    from local.seed import seed_registrations

    return seed_registrations(count)


class Stack:
    """A private local Sightline, with the app loaded in this process and metered.

    Provisioning and seeding run in a child process: the app reads its configuration once,
    and the configuration needs what provisioning creates (the Cognito pool, the state
    machine), so this process must not import chalicelib before they exist.
    """

    def __init__(self, registrations: int, kept_days: int) -> None:
        self.registrations = registrations
        self.kept_days = kept_days
        self.meter = Meter()
        self.log = LogSink()
        self.op: Optional[Operation] = None
        self._exit = contextlib.ExitStack()

    # -- lifecycle ----------------------------------------------------------------------------

    def __enter__(self) -> "Stack":
        try:
            self._start()
        except BaseException:
            self._exit.close()
            raise
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._exit.close()

    def _start(self) -> None:
        from local.stack import DEMO_OFFICER, REGION, LocalStack
        from local.stack import parse_args as stack_args

        self.meter.install()  # before anything creates a botocore session
        self.region = REGION
        engine = self._exit.enter_context(dynalite.Dynalite(HOST))
        aws_port = dynalite.free_port(HOST)
        self._start_moto(aws_port)
        local = LocalStack(
            stack_args(["--aws-port", str(aws_port), "--dynamodb-port", str(engine.port),
                        "--var-dir", self._exit.enter_context(tempfile.TemporaryDirectory())])
        )

        def environ() -> Dict[str, str]:
            # The local stack's own environment (local/stack.py) on our ports, with the deployed
            # functions' log level and metrics on, so that log volumes are the deployed ones.
            return {**local.app_environ(), "POWERTOOLS_LOG_LEVEL": "INFO", "POWERTOOLS_METRICS_DISABLED": "false"}

        self.seeder = self._exit.enter_context(
            ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn"),
                                initializer=_child_environ, initargs=(environ(),))
        )
        local.resources = self.resources = self.seeder.submit(_provision).result()
        self.seeder.submit(_seed, self.registrations).result()
        os.environ.update(environ())

        import boto3
        from chalice.test import Client

        session = boto3.session.Session(region_name=REGION)
        aws = local.aws_endpoint
        self.sqs = session.client("sqs", endpoint_url=aws)
        self.sfn = session.client("stepfunctions", endpoint_url=aws)
        self.dynamodb = session.client("dynamodb", endpoint_url=local.dynamodb_endpoint)
        self.tables = self._describe_tables()
        self.meter.indexes = {name: len(t.get("GlobalSecondaryIndexes", [])) for name, t in self.tables.items()}

        self.app_module = importlib.import_module("app")
        from local.pump import Pump

        self.pump = Pump(Path(self._exit.enter_context(tempfile.TemporaryDirectory())), threading.Event(), sqs=self.sqs)
        self.client = Client(self.app_module.app, stage_name="prod", project_dir=str(ROOT))
        self._route_logs()
        self.queues = self._queues()
        token = session.client("cognito-idp", endpoint_url=aws).initiate_auth(
            ClientId=self.resources["user_pool_client_id"],
            AuthFlow="USER_PASSWORD_AUTH",
            AuthParameters={"USERNAME": DEMO_OFFICER["username"], "PASSWORD": DEMO_OFFICER["password"]},
        )
        self.officer_token = token["AuthenticationResult"]["AccessToken"]
        self.drain()  # S3's test event on the ingest queue

    def _start_moto(self, port: int) -> None:
        """moto in server mode in this process (as local/stack.py runs it): sent emails are
        read from its SES backend, and it executes the state machine."""
        from moto.server import ThreadedMotoServer

        logging.getLogger("werkzeug").setLevel(logging.ERROR)
        server = ThreadedMotoServer(ip_address=HOST, port=port, verbose=False)
        server.start()
        self._exit.callback(server.stop)
        endpoint = f"http://{HOST}:{port}"
        body = json.dumps({"stepfunctions": {"execute_state_machine": True}}).encode()
        request = urllib.request.Request(f"{endpoint}/moto-api/config", data=body, headers={"Content-Type": "application/json"})
        urllib.request.urlopen(request, timeout=10).read()

    def _describe_tables(self) -> Dict[str, Dict[str, Any]]:
        tables = {}
        for name in self.dynamodb.list_tables()["TableNames"]:
            table = self.dynamodb.describe_table(TableName=name)["Table"]
            for index in table.get("GlobalSecondaryIndexes", []):
                if index["Projection"]["ProjectionType"] != "ALL":
                    raise SystemExit(f"{name}/{index['IndexName']} does not project ALL: Meter's index write units need revisiting")
            tables[name] = table
        return tables

    def _route_logs(self) -> None:
        """The app's logger writes to the sink (stdout is redirected to it during invocations)."""
        service = json.loads(CHALICE_CONFIG.read_text())["environment_variables"]["POWERTOOLS_SERVICE_NAME"]
        streams = [h for h in logging.getLogger(service).handlers if isinstance(h, logging.StreamHandler)]
        if not streams:
            raise RuntimeError(f"the app's logger {service!r} has no stream handler: its log volume cannot be measured")
        for handler in streams:
            handler.setStream(self.log)

    def _queues(self) -> Dict[str, Dict[str, Any]]:
        from chalice.app import SQSEventConfig
        from local.pump import ACCOUNT

        queues = {}
        for source in self.app_module.app.event_sources:
            if isinstance(source, SQSEventConfig):
                queues[source.name] = {
                    "name": source.queue,
                    "url": self.sqs.get_queue_url(QueueName=source.queue)["QueueUrl"],
                    "arn": f"arn:aws:sqs:{self.region}:{ACCOUNT}:{source.queue}",
                    "batch_size": source.batch_size,
                    "handler": getattr(self.app_module, source.handler_string.rsplit(".", 1)[1]),
                }
        return queues

    def seed(self, count: int) -> None:
        self.seeder.submit(_seed, count).result()
        self.registrations = count

    # -- operations -------------------------------------------------------------------------

    @contextlib.contextmanager
    def operation(self, name: str) -> Iterator[Operation]:
        self.op = Operation(name)
        before = self._stored()
        try:
            yield self.op
        finally:
            self.drain()
            # Never below nothing: what housekeeping purges was counted, with its lifetime,
            # by the operation that created it.
            self.op.storage_gb_month = max(0.0, self._storage_gb_month(before, self._stored()))
            self.op = None

    def _invoke(self, function: str, label: str, call: Callable[[], Any]) -> Any:
        self.log.bytes = 0
        self.meter.start()
        started = time.perf_counter()
        try:
            with contextlib.redirect_stdout(self.log):
                return call()
        finally:
            seconds = time.perf_counter() - started
            calls, rru, wru = self.meter.stop()
            if self.op is not None:
                self.op.invocations.append(Invocation(function, label, seconds, rru, wru, calls, self.log.bytes))

    def api(self, method: str, path: str, body: Any = None, token: str = "", label: str = "") -> Any:
        headers = {"Content-Type": "application/json"} if body is not None else {}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        payload = json.dumps(body).encode() if body is not None else b""
        response = self._invoke(
            "api_handler", label or f"{method} {path}",
            lambda: self.client.http.request(method, path, headers=headers, body=payload),
        )
        if response.status_code >= 300:
            raise RuntimeError(f"{method} {path} answered {response.status_code}: {response.body[:500]!r}")
        return json.loads(response.body) if response.body else None

    def deliver(self, function: str, wait_s: float = 0.0) -> int:
        """Hand what waits on ``function``'s queue to it, batch by batch, as Lambda's poller
        would; wait up to ``wait_s`` for a first message. Returns the messages delivered."""
        queue = self.queues[function]
        delivered = 0
        deadline = time.monotonic() + wait_s
        while True:
            messages = self.sqs.receive_message(
                QueueUrl=queue["url"], MaxNumberOfMessages=min(10, queue["batch_size"]),
                AttributeNames=["All"], MessageAttributeNames=["All"],
            ).get("Messages", [])
            if not messages:
                if delivered or time.monotonic() >= deadline:
                    return delivered
                time.sleep(0.05)
                continue
            answers: List[Any] = []

            def handler(event: Any, context: Any) -> Any:
                label = f"{len(messages)} message{'s' * (len(messages) > 1)} from {queue['name']}"
                answers.append(self._invoke(function, label, lambda: queue["handler"](event, context)))
                return answers[-1]

            # The local stack's pump settles the batch (deletes what succeeded) as Lambda does.
            self.pump.deliver_batch(handler, function, queue["url"], queue["arn"], messages)
            if not answers or (answers[0] or {}).get("batchItemFailures"):
                raise RuntimeError(f"{function} failed a batch: {answers!r} (a traceback may be above)")
            delivered += len(messages)
            if self.op is not None:
                self.op.messages[function] += len(messages)
                self.op.batches += 1

    def drain(self) -> None:
        """Deliver every queue until all are empty (one handler's work may queue another's)."""
        while sum(self.deliver(function) for function in self.queues):
            pass

    def housekeeping(self) -> Any:
        from chalice.app import ScheduledEventConfig
        from local.pump import LambdaContext, scheduled_event

        [source] = [s for s in self.app_module.app.event_sources if isinstance(s, ScheduledEventConfig)]
        handler = getattr(self.app_module, source.handler_string.rsplit(".", 1)[1])
        return self._invoke(source.name, "the hourly schedule", lambda: handler(scheduled_event(self.region), LambdaContext(source.name)))

    def link(self, to: str, page: str) -> str:
        """The token of the newest link to ``page`` emailed to ``to``."""
        from local.pump import sent_emails

        for raw in reversed(sent_emails()):
            message = email.message_from_bytes(raw, policy=email.policy.default)
            if message["To"] != to:
                continue
            match = re.search(rf"/{re.escape(page)}#token=([A-Za-z0-9_-]+)", message.get_body(("plain",)).get_content())
            if match:
                return match.group(1)
        raise RuntimeError(f"no email to {to} with a link to {page}")

    def execution(self, request_id: str) -> Dict[str, Any]:
        arn = self.resources["state_machine_arn"].replace(":stateMachine:", ":execution:") + f":{request_id}"
        return self.sfn.describe_execution(executionArn=arn)

    def count_workflow(self, request_id: str, timeout_s: float = 20) -> None:
        """Wait for the request's execution to end; count its state transitions."""
        deadline = time.monotonic() + timeout_s
        while self.execution(request_id)["status"] == "RUNNING":
            if time.monotonic() > deadline:
                raise RuntimeError(f"the execution of {request_id} did not end within {timeout_s:.0f} s")
            self.drain()
            time.sleep(0.1)
        arn = self.execution(request_id)["executionArn"]
        events = self.sfn.get_execution_history(executionArn=arn, maxResults=1000)["events"]
        assert self.op is not None
        # Step Functions bills a transition for each state entered.
        self.op.transitions += sum(1 for e in events if e["type"].endswith("StateEntered"))
        self.op.workflow_events += len(events)

    # -- what operations leave stored ---------------------------------------------------------

    def _stored(self) -> Dict[str, Tuple[int, int]]:
        """(items, bytes) of every table but the registry's (too big to scan each time; a
        registration's own storage is measured once, see ``bytes_per_registration``)."""
        stored = {}
        for name in self.tables:
            if _suffix(name) in REGISTRY_TABLES:
                continue
            items = bytes_ = 0
            for page in self.dynamodb.get_paginator("scan").paginate(TableName=name):
                items += len(page["Items"])
                bytes_ += sum(item_bytes(item) for item in page["Items"])
            stored[name] = (items, bytes_)
        return stored

    def _storage_gb_month(self, before: Dict[str, Tuple[int, int]], after: Dict[str, Tuple[int, int]]) -> float:
        total = 0.0
        for name, (items, bytes_) in after.items():
            items -= before[name][0]
            bytes_ -= before[name][1]
            billed = (bytes_ + DYNAMODB_ITEM_OVERHEAD * items) * (1 + self.meter.indexes[name])
            total += billed / 1e9 * TABLE_LIFETIME_DAYS.get(_suffix(name), self.kept_days) / DAYS_PER_MONTH
        return total

    def bytes_per_registration(self, registration_id: str) -> int:
        """A registration as the API makes it, in its table and index, with its geo index entry."""
        by_suffix = {_suffix(name): name for name in self.tables}
        table = by_suffix["registrations"]
        key = self.tables[table]["KeySchema"][0]["AttributeName"]
        item = self.dynamodb.get_item(TableName=table, Key={key: {"S": registration_id}})["Item"]
        total = (item_bytes(item) + DYNAMODB_ITEM_OVERHEAD) * (1 + self.meter.indexes[table])
        geo = by_suffix["geo-index"]
        entries = self.dynamodb.scan(TableName=geo, Limit=100)["Items"]
        entry = statistics.mean(item_bytes(e) for e in entries)
        return round(total + (entry + DYNAMODB_ITEM_OVERHEAD) * (1 + self.meter.indexes[geo]))


def _suffix(table: str) -> str:
    prefix = os.environ.get("SIGHTLINE_RESOURCE_PREFIX", "sightline") + "-"
    return table[len(prefix):] if table.startswith(prefix) else table


def item_bytes(item: Dict[str, Any]) -> int:
    """An item's size as DynamoDB counts it: attribute names plus values."""
    return sum(len(name.encode()) + _value_bytes(value) for name, value in item.items())


def _value_bytes(value: Dict[str, Any]) -> int:
    (kind, content), = value.items()
    if kind == "S":
        return len(content.encode())
    if kind == "N":  # about one byte per two significant digits, plus one
        digits = len(content.lstrip("-").replace(".", "").strip("0")) or 1
        return (digits + 1) // 2 + 1
    if kind == "B":
        return len(content)
    if kind in ("BOOL", "NULL"):
        return 1
    if kind == "L":
        return 3 + sum(1 + _value_bytes(v) for v in content)
    if kind == "M":
        return 3 + sum(1 + len(k.encode()) + _value_bytes(v) for k, v in content.items())
    return sum(len(str(v).encode()) for v in content)  # SS, NS, BS


# --- The operations: each drives the app as a resident, an officer or AWS would ---------------


def register(stack: Stack, n: int) -> Tuple[Operation, str, str]:
    """A resident registers on the site, gets the verification email and follows its link."""
    address = f"resident{n}@example.org"
    body = {
        "name": f"Cost Bench Resident {n}", "email": address, "phone": "0121 496 0000",
        "address": {"line1": f"{n} Colmore Row", "town": "Birmingham", "postcode": "B3 2BJ"},
        "location": {"lat": DENSE_CENTRE[0] + n * 1e-5, "lon": DENSE_CENTRE[1]},
        "camera_count": 2,
        "cameras": [{"direction_deg": 90, "description": "Doorbell, faces the street"},
                    {"direction_deg": 270, "description": "Back garden and the alley"}],
        "retention_days": 30, "consent": True,
    }
    with stack.operation("registration") as op:
        stack.api("POST", "/registrations", body)
        stack.deliver("deliver_notifications", wait_s=5)
        verified = stack.api("POST", "/registrations/verify", {"token": stack.link(address, "verify.html")})
        _browse(op, "registration")
    return op, verified["registration_id"], address


def manage(stack: Stack, address: str, registration_id: str, n: int) -> Operation:
    """An owner asks for a manage link, opens a session, reads and edits their registration."""
    with stack.operation("manage") as op:
        stack.api("POST", "/owner/links", {"email": address})
        stack.deliver("deliver_notifications", wait_s=5)
        session = stack.api("POST", "/owner/sessions", {"token": stack.link(address, "manage.html")})["session"]
        stack.api("GET", "/owner/registrations", token=session)
        stack.api("PATCH", f"/owner/registrations/{registration_id}", {"retention_days": 14 + n % 10}, token=session,
                  label="PATCH /owner/registrations/{id}")
        stack.api("DELETE", "/owner/sessions", token=session)
        _browse(op, "manage")
    return op


def search(stack: Stack, radius_m: int, n: int) -> Operation:
    """An officer searches around a point in the densest part of the registry."""
    lat, lon = DENSE_CENTRE
    body = {"lat": lat, "lon": lon, "radius_m": radius_m, "case_ref": f"20/{700000 + n}/26",
            "reason": "Burglary on Colmore Row", "category": "Theft offences", "incident_time": _iso(_now() - timedelta(hours=5))}
    with stack.operation(f"search_{radius_m}m") as op:
        stack.api("POST", "/officer/searches", body, token=stack.officer_token)
    return op


MP4_HEADER = b"\x00\x00\x00\x20ftypisom\x00\x00\x02\x00isomiso2avc1mp41"


def footage_request(stack: Stack, registration_id: str, address: str, n: int, size: int = 64 * 1024) -> Operation:
    """An officer asks an owner for footage; the owner opens the emailed link, uploads a file
    (straight to S3) and says they are done; the officer is told and downloads it."""
    import requests

    with stack.operation("footage_answered") as op:
        request_id = _ask(stack, registration_id, n)
        stack.deliver("workflow_events", wait_s=10)  # the state machine's first wait, with its task token
        opened = stack.api("POST", "/owner/sessions", {"token": stack.link(address, "respond.html")})
        session, path = opened["session"], f"/owner/requests/{request_id}"
        stack.api("GET", path, token=session, label="GET /owner/requests/{id}")
        target = stack.api("POST", f"{path}/uploads", {"filename": "front-door.mp4", "content_type": "video/mp4", "size": size},
                           token=session, label="POST /owner/requests/{id}/uploads")
        content = MP4_HEADER + bytes(size - len(MP4_HEADER))
        answer = requests.post(target["url"], data=target["fields"], files={"file": ("front-door.mp4", content, "video/mp4")}, timeout=30)
        answer.raise_for_status()
        op.browser_s3_puts += 1
        stack.api("POST", f"{path}/uploads/{target['upload_id']}/complete", {"sha256": hashlib.sha256(content).hexdigest()},
                  token=session, label="POST /owner/requests/{id}/uploads/{upload_id}/complete")
        stack.api("GET", "/time", label="GET /time")
        stack.api("PUT", f"{path}/statement", _statement(), token=session, label="PUT /owner/requests/{id}/statement")
        stack.deliver("ingest_evidence", wait_s=10)
        stack.api("GET", path, token=session, label="GET /owner/requests/{id}")
        op.assumed["apigateway_request"] += EXTRA_POLLS_PER_UPLOAD
        stack.api("POST", f"{path}/complete", {}, token=session, label="POST /owner/requests/{id}/complete")
        officer = stack.api("GET", f"/officer/requests/{request_id}", token=stack.officer_token, label="GET /officer/requests/{id}")
        [evidence] = officer["evidence"]
        link = stack.api("POST", f"/officer/evidence/{evidence['evidence_id']}/downloads", {"reason": "Reviewing the footage"},
                         token=stack.officer_token, label="POST /officer/evidence/{id}/downloads")
        requests.get(link["url"], timeout=30).raise_for_status()
        op.browser_s3_gets += 1
        stack.count_workflow(request_id)
        _browse(op, "footage_answered")
    return op


def _statement() -> dict:
    """An owner's statement whose recorder clock reads 18 seconds fast."""
    from zoneinfo import ZoneInfo

    observed = _now().replace(microsecond=0)
    shown = (observed + timedelta(seconds=18)).astimezone(ZoneInfo("Europe/London"))
    return {
        "name": "Jane Smith", "operator": "me", "system": "Hikvision DS-7604NI", "cameras": [1],
        "source": "recorder_export", "gaps_or_edits": False, "witness_statement": "yes", "declaration": True,
        "clock": {"checked": True, "recorder_shows": shown.strftime("%Y-%m-%dT%H:%M:%S"),
                  "observed_at": _iso(observed), "uncertainty_ms": 50},
    }


def unanswered_request(stack: Stack, registration_id: str, n: int) -> Operation:
    """An officer asks; the owner never answers: a reminder half-way, then the request expires
    and the officer is told. The deadline is seconds away so that the timer runs out here."""
    with stack.operation("footage_unanswered") as op:
        request_id = _ask(stack, registration_id, n, reply_by=_now() + timedelta(seconds=6))
        stack.count_workflow(request_id, timeout_s=40)
    return op


def _ask(stack: Stack, registration_id: str, n: int, reply_by: Optional[datetime] = None) -> str:
    now = _now()
    body = {
        "case_ref": f"20/{800000 + n}/26", "registration_ids": [registration_id],
        "incident": {"lat": DENSE_CENTRE[0], "lon": DENSE_CENTRE[1], "from": _iso(now - timedelta(hours=3)),
                     "to": _iso(now - timedelta(hours=2)), "summary": "A car was damaged outside the bank on Colmore Row."},
        "reason": "Looking for the vehicle that hit it",
    }
    if reply_by:
        body["reply_by"] = _iso(reply_by)
    # The case the request is made in (a search usually opens it; counted with the request here).
    try:
        stack.api("POST", "/officer/cases", {"case_ref": body["case_ref"], "category": "Criminal damage and arson"},
                  token=stack.officer_token)
    except RuntimeError as already:  # a run before opened it
        if "answered 409" not in str(already):
            raise
    [created] = stack.api("POST", "/officer/requests", body, token=stack.officer_token)["requests"]
    stack.deliver("deliver_notifications", wait_s=5)  # the owner's email
    return created["request_id"]


def housekeeping(stack: Stack) -> Operation:
    """The hourly scheduled run."""
    with stack.operation("housekeeping") as op:
        stack.housekeeping()
    return op


def ingest_seconds_per_gb(stack: Stack, registration_id: str, address: str, n: int) -> float:
    """How much longer ingest takes per GB: a 16 MiB file against the small one."""
    size = 16 * 2**20
    big = footage_request(stack, registration_id, address, n, size=size)
    small = footage_request(stack, registration_id, address, n + 1)
    seconds = [next(i.seconds for i in op.invocations if i.function == "ingest_evidence") for op in (big, small)]
    return max(0.0, seconds[0] - seconds[1]) / (size - 64 * 1024) * 1e9


def _browse(op: Operation, name: str) -> None:
    """The site's pages the operation opens (CloudFront) and their CORS preflights (assumed)."""
    for page in PAGES[name]:
        files = _page_files(page)
        op.assumed["cloudfront_request"] += len(files)
        op.assumed["cloudfront_gb"] += sum(f.stat().st_size for f in files) / 1e9
    op.assumed["apigateway_request"] += PREFLIGHTS[name]


def _page_files(page: str) -> List[Path]:
    """A page and the scripts and styles it loads from site/ (uncompressed: an upper bound)."""
    site = ROOT / "site"
    html = (site / page).read_text()
    refs = re.findall(r'(?:src|href)="([^"#:]+\.(?:js|css))"', html)
    return [site / page] + [site / ref for ref in refs if (site / ref).exists()]


def _now() -> datetime:
    return datetime.now(timezone.utc)


def _iso(moment: datetime) -> str:
    return moment.isoformat(timespec="seconds").replace("+00:00", "Z")


# =============================================================================================
# Usage: what one operation uses of each priced thing
# =============================================================================================


def usage_of(op: Operation, memory_mb: Dict[str, int]) -> Counter:
    """Measured quantities by usage key (the price keys), plus the operation's assumptions."""
    usage: Counter = Counter()
    calls: Counter = Counter()
    log_bytes = 0
    for call in op.invocations:
        usage["lambda_request"] += 1
        usage["lambda_ms"] += call.seconds * 1000  # not priced: shown in the operations table
        usage["lambda_gb_second"] += call.seconds * memory_mb[call.function] / 1024
        usage["dynamodb_rru"] += call.rru
        usage["dynamodb_wru"] += call.wru
        calls.update(call.calls)
        log_bytes += call.log_bytes + PLATFORM_LOG_BYTES
    api = sum(1 for call in op.invocations if call.function == "api_handler")
    usage["apigateway_request"] += api
    # SQS: the app's own calls; each message S3 or Step Functions sent; Lambda's poller
    # receiving and deleting each batch it hands over.
    usage["sqs_request"] += sum(n for (service, _), n in calls.items() if service == "sqs")
    usage["sqs_request"] += op.messages["ingest_evidence"] + op.messages["workflow_events"] + 2 * op.batches
    usage["ses_email"] += sum(n for (service, name), n in calls.items() if service == "ses" and name.startswith("Send"))
    for (service, name), n in calls.items():
        if service == "s3" and not S3_FREE.match(name):
            usage["s3_get_request" if S3_GET_CLASS.match(name) else "s3_put_request"] += n
    usage["s3_put_request"] += op.browser_s3_puts
    usage["s3_get_request"] += op.browser_s3_gets
    usage["sfn_transition"] += op.transitions
    usage["dynamodb_storage_gb_month"] += op.storage_gb_month
    log_bytes += ACCESS_LOG_BYTES * api + WORKFLOW_LOG_BYTES * op.workflow_events
    usage["cloudwatch_logs_gb"] += log_bytes / 1e9
    # X-Ray samples the first request each second and 5% after: at a few a minute, all of them.
    usage["xray_trace"] += len(op.invocations)
    usage.update(op.assumed)
    # Every request to the API passes the web ACL, preflights and polls included.
    usage["waf_request"] = usage["apigateway_request"]
    usage["cloudwatch_logs_storage_gb_month"] = usage["cloudwatch_logs_gb"] * LOGS_RETENTION_MONTHS
    return usage


def median_usage(runs: Sequence[Counter]) -> Counter:
    keys = set().union(*runs)
    return Counter({key: statistics.median(run[key] for run in runs) for key in keys})


def fitted(small: Counter, large: Counter, n_small: int, n_large: int, n: int) -> Counter:
    """Usage at ``n`` registrations, on the line through two measured sizes (never below 0)."""
    share = (n - n_small) / (n_large - n_small)
    return Counter({k: max(0.0, small[k] + (large[k] - small[k]) * share) for k in set(small) | set(large)})


# =============================================================================================
# The bill
# =============================================================================================

# Where each line's quantity comes from (the "basis" column). "measured": per-operation
# quantities measured on the local stack, times the workload in the options.
MEASURED = "measured"
STACK_COUNT = "the stack's resources"


@dataclasses.dataclass(frozen=True)
class Line:
    """One line of the bill. Its quantity is the month's total of the usage key named like its
    price, unless ``quantity`` derives it otherwise. A new service is one more Line (and its
    price in the prices file)."""

    service: str
    item: str
    price: str
    basis: str
    quantity: Optional[Callable[["Month"], float]] = None

    def monthly(self, month: "Month") -> float:
        return self.quantity(month) if self.quantity else month.total(self.price)


BILL: Tuple[Line, ...] = (
    Line("DynamoDB", "read request units", "dynamodb_rru", MEASURED),
    Line("DynamoDB", "write request units (tables and indexes)", "dynamodb_wru", MEASURED),
    Line("DynamoDB", "storage, GB-month", "dynamodb_storage_gb_month", "measured sizes, lifetimes assumed"),
    Line("DynamoDB", "point-in-time recovery, GB-month", "dynamodb_pitr_gb_month", "as storage (PITR is on)",
         lambda m: m.total("dynamodb_storage_gb_month")),
    Line("Lambda", "duration, GB-s (x86)", "lambda_gb_second", "measured (this machine)"),
    Line("Lambda", "invocations", "lambda_request", MEASURED),
    Line("API Gateway", "REST requests", "apigateway_request", "measured + preflights, polls"),
    Line("WAF", "web ACL", "waf_web_acl", STACK_COUNT),
    Line("WAF", "rules and managed rule groups", "waf_rule", STACK_COUNT),
    Line("WAF", "requests", "waf_request", "as API Gateway"),
    Line("S3", "evidence storage, GB-month", "s3_storage_gb_month", "assumed (uploads x days kept)"),
    Line("S3", "PUT/POST/LIST requests", "s3_put_request", MEASURED),
    Line("S3", "GET/HEAD requests", "s3_get_request", MEASURED),
    Line("Data transfer", "footage downloaded by officers, GB", "transfer_out_gb", "assumed (uploads x downloads)"),
    Line("SQS", "requests", "sqs_request", "measured + idle polling"),
    Line("SES", "emails", "ses_email", MEASURED),
    Line("Step Functions", "state transitions", "sfn_transition", MEASURED),
    Line("Cognito", "Plus plan, officers active in the month", "cognito_plus_mau", "assumed (--officers)"),
    Line("KMS", "data key", "kms_key_month", STACK_COUNT),
    Line("KMS", "requests by services using the key", "kms_request", "assumed"),
    Line("CloudWatch", "log ingestion, GB", "cloudwatch_logs_gb", "measured + platform, access lines"),
    Line("CloudWatch", "log storage (365 days), GB-month", "cloudwatch_logs_storage_gb_month", "as ingestion x 12"),
    Line("CloudWatch", "alarms", "cloudwatch_alarm", STACK_COUNT),
    Line("CloudWatch", "dashboard", "cloudwatch_dashboard", STACK_COUNT),
    Line("CloudWatch", "custom metrics", "cloudwatch_metric", STACK_COUNT),
    Line("X-Ray", "traces", "xray_trace", "one per invocation"),
    Line("CloudFront", "residents' site, GB", "cloudfront_gb", "site/ sizes, visits assumed"),
    Line("CloudFront", "residents' site, requests", "cloudfront_request", "site/ files, visits assumed"),
)


@dataclasses.dataclass
class Month:
    """A month of work: how many of each operation, and what each uses."""

    usage: Dict[str, Counter]
    counts: Dict[str, float]

    def total(self, key: str) -> float:
        return sum(count * self.usage[op][key] for op, count in self.counts.items())


def load_prices() -> Dict[str, Dict[str, Any]]:
    prices = json.loads(PRICES_FILE.read_text())["prices"]
    missing = {line.price for line in BILL} - set(prices)
    if missing:
        raise SystemExit(f"{PRICES_FILE.name} has no price for {sorted(missing)}")
    return prices


def cost(month: Month, prices: Dict[str, Dict[str, Any]], line: Line) -> float:
    price = prices[line.price]
    return line.monthly(month) * price["usd"] / price["per"]


def bill_total(month: Month, prices: Dict[str, Dict[str, Any]]) -> float:
    return sum(cost(month, prices, line) for line in BILL)


@dataclasses.dataclass
class Measured:
    """Everything measured on the local stack."""

    runs: Dict[str, List[Operation]]  # each operation's measured runs, at the registry's size
    grown_runs: Dict[str, List[Operation]]  # searches and housekeeping on the grown registry
    sizes: Tuple[int, int]  # the two registry sizes
    memory_mb: Dict[str, int]  # each function's memory (.chalice/config.json, prod)
    registration_bytes: int  # one registration's storage, its index entries included
    ingest_s_per_gb: float  # what hashing a larger file adds to ingest's duration
    queues: int  # SQS event source mappings
    seconds: float  # how long measuring took

    def __post_init__(self) -> None:
        self.usage = {op: median_usage([usage_of(r, self.memory_mb) for r in runs]) for op, runs in self.runs.items()}
        self.grown = {op: median_usage([usage_of(r, self.memory_mb) for r in runs]) for op, runs in self.grown_runs.items()}


SIZED = ("search_500m", "search_2000m", "housekeeping")


def month_for(measured: Measured, args: argparse.Namespace, registrations: int) -> Month:
    """The force's month at ``registrations``: the measured operations times the workload."""
    small, large = measured.sizes
    usage = dict(measured.usage)
    for op in SIZED:
        usage[op] = fitted(measured.usage[op], measured.grown[op], small, large, registrations)
    answered = args.requests_per_day * args.answered_share * DAYS_PER_MONTH
    # The footage itself, shared among the answered requests: stored, hashed, downloaded.
    gb = args.upload_gb_per_day * DAYS_PER_MONTH / answered
    usage["footage_answered"] = usage["footage_answered"] + Counter({
        "s3_upload_gb": gb,
        "s3_storage_gb_month": gb * args.kept_days / DAYS_PER_MONTH,
        "transfer_out_gb": gb * args.downloads_per_file,
        "s3_get_request": args.downloads_per_file - 1,  # the measured run downloads the file once
        "lambda_gb_second": gb * measured.ingest_s_per_gb * measured.memory_mb["ingest_evidence"] / 1024,
    })
    gb_stored = measured.registration_bytes / 1e9
    usage["registration_held"] = Counter({"dynamodb_storage_gb_month": gb_stored})
    usage["stack"] = Counter({
        **STACK,
        "cognito_plus_mau": args.officers,
        "kms_request": BACKGROUND_KMS_REQUESTS,
        "sqs_request": measured.queues * IDLE_POLLERS_PER_QUEUE * 3 * 60 * HOURS_PER_MONTH,
    })
    searches = args.searches_per_day * DAYS_PER_MONTH
    counts = {
        "registration": registrations * args.signups_per_registration_year / 12,
        "manage": registrations * args.manage_sessions_per_registration_year / 12,
        "search_500m": searches * SEARCH_MIX[500],
        "search_2000m": searches * SEARCH_MIX[2000],
        "footage_answered": answered,
        "footage_unanswered": args.requests_per_day * (1 - args.answered_share) * DAYS_PER_MONTH,
        "housekeeping": HOURS_PER_MONTH,
        "registration_held": registrations,
        "stack": 1,
    }
    return Month(usage, counts)


def unit_costs(month: Month, prices: Dict[str, Dict[str, Any]], args: argparse.Namespace, registrations: int) -> Dict[str, float]:
    """What one more of each costs: the bill of that work alone (no stack-wide charges)."""

    def of(counts: Dict[str, float]) -> float:
        return bill_total(Month(month.usage, counts), prices)

    share = args.answered_share
    yearly = {
        "registration_held": 12.0,
        "registration": args.signups_per_registration_year,
        "manage": args.manage_sessions_per_registration_year,
        "housekeeping": 12 * HOURS_PER_MONTH / registrations,  # the hourly scan reads every registration
    }
    return {
        "search": sum(of({f"search_{r}m": 1}) * w for r, w in SEARCH_MIX.items()),
        "search_500m": of({"search_500m": 1}),
        "search_2000m": of({"search_2000m": 1}),
        "footage_request": share * of({"footage_answered": 1}) + (1 - share) * of({"footage_unanswered": 1}),
        "footage_answered": of({"footage_answered": 1}),
        "footage_unanswered": of({"footage_unanswered": 1}),
        "registration_year": of(yearly),
    }


# =============================================================================================
# Running and printing
# =============================================================================================


def measure(args: argparse.Namespace) -> Measured:
    started = time.monotonic()
    memory_mb = {name: spec["lambda_memory_size"]
                 for name, spec in json.loads(CHALICE_CONFIG.read_text())["stages"]["prod"]["lambda_functions"].items()}
    runs: Dict[str, List[Operation]] = {}
    grown: Dict[str, List[Operation]] = {}

    def keep(op: Operation, into: Dict[str, List[Operation]] = runs) -> None:
        into.setdefault(op.name, []).append(op)

    _log(f"starting a private local stack, seeding {args.registrations:,} registrations")
    with Stack(args.registrations, args.kept_days) as stack:
        _log(f"ready in {time.monotonic() - started:.0f} s; a warm-up run, then {args.repeat} measured runs of each operation")
        # One unmeasured run of everything first: imports, clients, the officers' key set.
        _, owner_id, owner = register(stack, 0)
        manage(stack, owner, owner_id, 0)
        for radius in SEARCH_MIX:
            search(stack, radius, 0)
        footage_request(stack, owner_id, owner, 0)
        housekeeping(stack)
        for n in range(1, args.repeat + 1):
            keep(register(stack, n)[0])
            keep(manage(stack, owner, owner_id, n))
            for radius in SEARCH_MIX:
                keep(search(stack, radius, n))
            keep(footage_request(stack, owner_id, owner, 100 + n))
            keep(housekeeping(stack))
        _log("a footage request nobody answers (its deadline is seconds away)")
        keep(unanswered_request(stack, owner_id, 200))
        ingest = ingest_seconds_per_gb(stack, owner_id, owner, 300)
        registration_bytes = stack.bytes_per_registration(owner_id)
        _log(f"growing the registry to {args.grown:,} registrations (the same towns, denser)")
        t0 = time.monotonic()
        stack.seed(args.grown)
        _log(f"seeded in {time.monotonic() - t0:.0f} s; measuring searches and housekeeping again")
        for n in range(1, args.repeat + 1):
            for radius in SEARCH_MIX:
                keep(search(stack, radius, 400 + n), grown)
        keep(housekeeping(stack), grown)
        queues = len(stack.queues)
    return Measured(runs, grown, (args.registrations, args.grown), memory_mb, registration_bytes, ingest, queues,
                    time.monotonic() - started)


def _log(message: str) -> None:
    print(f"[cost] {message}", flush=True)


def main(argv: Optional[Sequence[str]] = None) -> None:
    args = parse_args(argv)
    prices = load_prices()
    measured = measure(args)
    print(render(measured, args, prices))


OPERATIONS = {
    "registration": "registration: sign up, verification email, verify",
    "manage": "owner's manage session: link email, session, read, edit, sign out",
    "search_500m": "officer's search, 500 m",
    "search_2000m": "officer's search, 2 km",
    "footage_answered": "footage request answered: ask, emails, workflow, upload, ingest, complete, download",
    "footage_unanswered": "footage request unanswered: ask, email, reminder, expiry, officer told",
    "housekeeping": "hourly housekeeping run",
}


def render(measured: Measured, args: argparse.Namespace, prices: Dict[str, Dict[str, Any]]) -> str:
    month = month_for(measured, args, args.registrations)
    units = unit_costs(month, prices, args, args.registrations)
    answered_gb = args.upload_gb_per_day / (args.requests_per_day * args.answered_share)
    out: List[str] = [
        "Sightline: what a force pays AWS a month, eu-west-2 (London), USD list prices, no free tiers",
        "",
        "The force (assumed: the options, see --help)",
        f"  {args.registrations:,} registrations; {args.registrations * args.signups_per_registration_year:,.0f} new ones a "
        f"year; {args.manage_sessions_per_registration_year:g} owner's manage session per registration a year",
        f"  {args.searches_per_day:g} officers' searches a day, "
        + ", ".join(f"{w:.0%} within {r:,} m" for r, w in SEARCH_MIX.items()) + " of a point in the densest area",
        f"  {args.requests_per_day:g} footage requests a day, {args.answered_share:.0%} answered with footage, the rest expire",
        f"  {args.upload_gb_per_day:g} GB of footage uploaded a day ({answered_gb * 1000:.0f} MB per answered request), "
        f"each file downloaded {args.downloads_per_file:g}x by officers",
        f"  evidence, footage requests and cases kept {args.kept_days} days (the stack deletes none of them); "
        f"audit entries {AUDIT_RETENTION_DAYS} days",
        f"  {args.officers:,} officers signing in each month",
        "",
        _operations_table(measured, prices),
        "",
        _bill_table(month, prices),
        "",
        "3. Unit costs: what that work alone costs, without the stack's fixed charges",
        *_unit("a search", units["search"],
               f"{_usd(units['search'] * 1000)} per 1,000; 500 m {_usd(units['search_500m'])}, "
               f"2 km {_usd(units['search_2000m'])}"),
        *_unit("a footage request", units["footage_request"],
               f"answered, with its {answered_gb * 1000:.0f} MB of footage stored {args.kept_days} days and downloaded: "
               f"{_usd(units['footage_answered'])}; unanswered: {_usd(units['footage_unanswered'])}"),
        *_unit("a registration-year", units["registration_year"],
               f"a year of its storage, {args.signups_per_registration_year:g} of a sign-up, "
               f"{args.manage_sessions_per_registration_year:g} manage session, its share of 8,760 hourly housekeeping runs"),
        *_unit("fully loaded", 12 * bill_total(month, prices) / args.registrations,
               "per registration-year: the whole annual bill over the registrations"),
        "",
        _growth_table(measured, args, prices),
        "",
        _assumptions(measured, args),
        "",
        _prices_note(prices),
        f"Measured in {measured.seconds:.0f} s.",
    ]
    return "\n".join(out)


def _operations_table(measured: Measured, prices: Dict[str, Dict[str, Any]]) -> str:
    small, large = measured.sizes
    lines = [
        f"1. Each operation, measured on the local stack (warm, median of {len(measured.runs['registration'])} runs)",
        "   Lambda ms: summed durations on this machine; RRU/WRU: DynamoDB read/write request units (indexes included);",
        "   API: requests the app answered + assumed (CORS preflights, the owner's page polling); MB-mo: DynamoDB",
        "   storage the operation leaves, times how long it stays; $ each: its own cost, footage volume excluded.",
        "   Below each operation: each invocation (median duration), its units and the AWS calls it made.",
        f"   {'operation':<48} {'calls':>5} {'ms':>6} {'RRU':>7} {'WRU':>6} {'API':>5} {'SQS':>4} {'mails':>5} "
        f"{'S3':>3} {'trans':>5} {'MB-mo':>6} {'$ each':>10}",
    ]
    rows = [(op, f"@{small:,}", measured.usage[op], measured.runs[op]) for op in OPERATIONS]
    rows += [(op, f"@{large:,}", measured.grown[op], measured.grown_runs[op]) for op in SIZED]
    for op, size, usage, runs in rows:
        assumed = runs[0].assumed["apigateway_request"]
        bare = dict(usage)
        bare.pop("s3_upload_gb", None)
        each = bill_total(Month({op: Counter(bare)}, {op: 1}), prices)
        name = OPERATIONS[op] + (f" {size}" if op in SIZED else "")
        for i, chunk in enumerate(textwrap.wrap(name, 48)):
            if i:
                lines.append(f"   {chunk}")
                continue
            lines.append(
                f"   {chunk:<48} {usage['lambda_request']:>5.0f} {usage['lambda_ms']:>6.0f} "
                f"{usage['dynamodb_rru']:>7.1f} {usage['dynamodb_wru']:>6.1f} "
                f"{usage['apigateway_request'] - assumed:>2.0f}+{assumed:<2.0f} {usage['sqs_request']:>4.0f} "
                f"{usage['ses_email']:>5.0f} {usage['s3_put_request'] + usage['s3_get_request']:>3.0f} "
                f"{usage['sfn_transition']:>5.0f} {usage['dynamodb_storage_gb_month'] * 1000:>6.2f} {_usd(each):>10}"
            )
        if size == f"@{small:,}":
            for call in _median_invocations(runs):
                head = (f"      {call.function:<22} {call.label:<38} {call.seconds * 1000:>5.0f} ms  "
                        f"RRU {call.rru:>6.1f}  WRU {call.wru:>4.1f}")
                calls = _calls(call.calls)
                if len(head) + 2 + len(calls) <= WIDTH:
                    lines.append(f"{head}  {calls}")
                else:
                    lines += [head, *_paragraph(calls, " " * 9)]
    lines += _paragraph(
        f"Ingest of larger files: +{measured.ingest_s_per_gb:.1f} s per GB hashed (measured with a 16 MiB file). "
        f"A registration holds {measured.registration_bytes:,} bytes of DynamoDB storage (its item, its entry in the "
        "owner index and its geo index entry, with DynamoDB's per-item overhead).", "   ")
    return "\n".join(lines)


def _median_invocations(runs: Sequence[Operation]) -> List[Invocation]:
    """Each invocation's median over the runs (they make the same calls in the same order)."""
    shapes = {tuple(c.label for c in run.invocations) for run in runs}
    if len(shapes) > 1:
        return runs[0].invocations
    return [
        Invocation(calls[0].function, calls[0].label, statistics.median(c.seconds for c in calls),
                   statistics.median(c.rru for c in calls), statistics.median(c.wru for c in calls), calls[0].calls,
                   int(statistics.median(c.log_bytes for c in calls)))
        for calls in zip(*(run.invocations for run in runs))
    ]


def _calls(calls: Counter) -> str:
    return ", ".join(f"{operation}{'' if n == 1 else f' x{n}'}" for (_, operation), n in sorted(calls.items()))


def _bill_table(month: Month, prices: Dict[str, Dict[str, Any]]) -> str:
    lines = [
        "2. The monthly bill",
        f"   {'service':<15} {'item':<42} {'quantity':>14} {'unit price':>14} {'$ a month':>10}  basis",
    ]
    by_service: Counter = Counter()
    for line in BILL:
        price = prices[line.price]
        usd = cost(month, prices, line)
        by_service[line.service] += usd
        lines.append(
            f"   {line.service:<15} {line.item:<42} {_quantity(line.monthly(month)):>14} "
            f"{_unit_price(price):>14} {usd:>10.2f}  {line.basis}"
        )
    total = sum(by_service.values())
    lines.append(f"   {'':<15} {'total':<42} {'':>14} {'':>14} {total:>10.2f}  (${total * 12:,.0f} a year)")
    lines += _paragraph("By service: " + ", ".join(f"{service} {usd:.2f}" for service, usd in by_service.most_common()), "   ")
    return "\n".join(lines)


def _growth_table(measured: Measured, args: argparse.Namespace, prices: Dict[str, Dict[str, Any]]) -> str:
    small, large = measured.sizes

    def kind(n: int) -> str:
        if n in (small, large):
            return "measured"
        return "interpolated" if small < n < large else "extrapolated"

    rows: Dict[str, List[str]] = {
        "search 500 m, read units": [],
        "search 2 km, read units": [],
        "housekeeping run, read units": [],
        "monthly bill": [],
        "a search": [],
        "a footage request": [],
        "a registration-year": [],
        "fully loaded, per registration-year": [],
    }
    for n in GROWTH:
        month = month_for(measured, args, n)
        units = unit_costs(month, prices, args, n)
        total = bill_total(month, prices)
        rows["search 500 m, read units"].append(f"{month.usage['search_500m']['dynamodb_rru']:,.0f}")
        rows["search 2 km, read units"].append(f"{month.usage['search_2000m']['dynamodb_rru']:,.0f}")
        rows["housekeeping run, read units"].append(f"{month.usage['housekeeping']['dynamodb_rru']:,.0f}")
        rows["monthly bill"].append(f"${total:,.2f}")
        rows["a search"].append(_usd(units["search"]))
        rows["a footage request"].append(_usd(units["footage_request"]))
        rows["a registration-year"].append(_usd(units["registration_year"]))
        rows["fully loaded, per registration-year"].append(_usd(12 * total / n))
    lines = [
        f"4. As the registry grows: the same {args.searches_per_day:g} searches and {args.requests_per_day:g} footage "
        "requests a day; sign-ups and manage sessions grow with it",
        f"   {'':<38}" + "".join(f"{n:>16,}" for n in GROWTH),
        f"   {'':<38}" + "".join(f"{kind(n):>16}" for n in GROWTH),
    ]
    lines += [f"   {name:<38}" + "".join(f"{v:>16}" for v in values) for name, values in rows.items()]
    lines += _paragraph(
        f"Searches and housekeeping were measured at {small:,} and {large:,} registrations (the same towns, denser) "
        "and are projected on the line through the two, i.e. linearly in density. A search returns the nearest 500: "
        "the registrations it reads stop growing with density while its index reads do not, so the projection of "
        "searches is an upper bound.", "   ")
    return "\n".join(lines)


def _assumptions(measured: Measured, args: argparse.Namespace) -> str:
    small, large = measured.sizes
    measured_text = (
        "Measured here, by driving the app in-process (chalice.test.Client for the API, the queue handlers fed from "
        f"the local queues, the schedule) on dynalite and moto seeded with {small:,}, then {large:,}, registrations: "
        "every Lambda invocation and its duration; the DynamoDB units dynalite reports (ReturnConsumedCapacity), "
        "plus one more write per index for each successful write (dynalite counts the table only; every index of "
        "ours projects ALL); the app's calls to SQS, SES, S3 and Step Functions; the state machine's transitions; "
        "the app's log output; what each operation leaves stored in DynamoDB; the site's file sizes. Lambda "
        "durations are this machine's, warm: a 512 MB function has about a third of a vCPU, so CPU-bound work "
        "(the search's distance maths, hashing) runs slower in AWS, and cold starts are not counted."
    )
    assumed = [
        "the force's workload (above), and one file per answered request",
        "CORS preflights: " + ", ".join(f"{op.replace('_', ' ')} {n}" for op, n in PREFLIGHTS.items())
        + f"; {EXTRA_POLLS_PER_UPLOAD} more polls of the owner's page per upload than the one measured",
        "pages opened: " + ", ".join(f"{op.replace('_', ' ')} {' + '.join(pages)}" for op, pages in PAGES.items())
        + ", each with its scripts and styles, uncompressed and not cached",
        f"logs: {PLATFORM_LOG_BYTES} B of Lambda platform lines per invocation, {ACCESS_LOG_BYTES} B of access log per "
        f"API request, {WORKFLOW_LOG_BYTES} B per state machine event; stored at the size ingested (an upper bound)",
        "X-Ray keeps every invocation (its default sampling keeps the first request each second, then 5%)",
        f"Lambda's SQS pollers: {IDLE_POLLERS_PER_QUEUE} per queue on {measured.queues} queues, 3 long polls a minute "
        "each, idle or not, and a receive and a delete per batch delivered",
        f"{BACKGROUND_KMS_REQUESTS:,} KMS requests a month from services re-fetching data keys",
        f"DynamoDB items live: tokens {TABLE_LIFETIME_DAYS['tokens']} days, saved searches "
        f"{TABLE_LIFETIME_DAYS['searches']} days (their TTL), audit entries {AUDIT_RETENTION_DAYS} days (their "
        f"retention), requests, evidence and cases {args.kept_days} days",
    ]
    excluded = (
        "Not included: free tiers, VAT, support plans, the force's DNS, AWS Config, CloudTrail or GuardDuty if the "
        "force's landing zone adds them, storage of S3 access logs, the CDK bootstrap's assets."
    )
    lines = ["5. Measured and assumed", *_paragraph(measured_text, "   "), "   Assumed:"]
    for item in assumed:
        lines += _paragraph(item, "   - ", "     ")
    lines += _paragraph(excluded, "   ")
    return "\n".join(lines)


def _paragraph(text: str, indent: str, subsequent: Optional[str] = None) -> List[str]:
    return textwrap.wrap(text, WIDTH, initial_indent=indent, subsequent_indent=subsequent or indent)


def _prices_note(prices: Dict[str, Dict[str, Any]]) -> str:
    used = {line.price for line in BILL}
    verified = sum(1 for key in used if prices[key].get("verified"))
    dates = sorted({prices[key]["recorded"] for key in used})
    return "\n".join(_paragraph(
        f"Prices: {PRICES_FILE.relative_to(ROOT)}, {len(used)} prices recorded {', '.join(dates)}, {verified} of them "
        "verified against their source page (they were written offline). Check them before quoting these figures.", ""))


def _unit(what: str, usd: float, detail: str) -> List[str]:
    head = f"   {what:<22}{_usd(usd):>11}  "
    return textwrap.wrap(f"({detail})", WIDTH, initial_indent=head, subsequent_indent=" " * len(head))


def _usd(value: float) -> str:
    if value >= 100:
        return f"${value:,.0f}"
    if value >= 0.1:
        return f"${value:.2f}"
    return f"${value:.3g}"


def _quantity(value: float) -> str:
    return f"{value:,.0f}" if value >= 100 else f"{value:,.3g}"


def _unit_price(price: Dict[str, Any]) -> str:
    per = {1: "", 1000: "/1k", 10000: "/10k", 1000000: "/1M"}.get(price["per"], f"/{price['per']:,}")
    return f"${price['usd']:.10f}".rstrip("0").rstrip(".") + per


if __name__ == "__main__":
    main()
