"""Cold start of every Sightline function, in fresh processes, side by side.

    python -m bench.cold_start [--runs 15] [--seed 2000] [--build-package]

One cold start is one new Python process that imports what Lambda imports for the function
(the ``app`` module: every function is the one Chalice package) and then handles the
function's first event from ``events/``, timed from inside the process with
``time.perf_counter`` from its first line, so interpreter start-up is left out.
``bare boto3`` times ``import boto3`` the same way: the targets are ratios of it (API total
at most 2.2x, SQS and scheduled functions at most 1.8x).

The functions are discovered from the app object (routes, ``event_sources``), and each is
given the first sample event that names it (API Gateway: a resource path the app routes; SQS:
its queue in ``eventSourceARN``; schedule: its rule in ``resources``). AWS is answered
locally: moto (server mode) and dynalite start once, in this process (moto's own import
costs about 0.5 s and must never be in a measured process), provisioned by
``local.provision`` and pointed at through the environment ``local.stack`` gives
``chalice local``. Processes run one at a time, round-robin over the functions, so the
machine's noise falls on all of them alike.
"""
from __future__ import annotations

import argparse
import contextlib
import copy
import hashlib
import json
import logging
import os
import platform
import secrets
import signal
import statistics
import subprocess
import sys
import time
import zipfile
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional, Tuple

from bench.dynalite import Dynalite
from local.stack import DEMO_OFFICER, DEMO_SUPERVISOR, REGION, SENDER, LocalStack
from local.stack import parse_args as stack_args

ROOT = Path(__file__).resolve().parent.parent
EVENTS = ROOT / "events"
OUTPUT = ROOT / "var" / "bench" / "cold_start.json"
HEAVY = (
    "aws_lambda_powertools", "boto3", "botocore", "chalice", "cryptography", "email_validator",
    "geohash2", "jinja2", "jwt", "pydantic", "pynamodb",
)
BOTO3 = "bare boto3"
API_TARGET, EVENT_TARGET = 2.2, 1.8  # at most this times the median bare `import boto3`
MP4_HEAD = b"\x00\x00\x00\x20ftypisom"

# The measured process. Nothing is imported before the module under test (time and sys are
# built in), so nothing of the harness can make that import look cheaper; the harness's own
# imports come after it (json is loaded by then whatever the module). local.pump's
# LambdaContext is not used: local.pump imports boto3, which would load it before the first
# event is timed; the context is rebuilt here with the same attributes.
_CHILD = r"""
import time
started = time.perf_counter()
import sys
if sys.argv[5:]:  # --profile: the whole cold start under cProfile (its figures are then inflated)
    import cProfile
    profiler = cProfile.Profile()
    profiler.enable()
module = __import__(sys.argv[1])
imported = time.perf_counter()
import json, types
handler, function, heavy = sys.argv[2:5]
heavy = heavy.split(",")
at_import = [m for m in heavy if m in sys.modules]
result, began, finished = None, imported, imported
if handler:
    event = json.load(sys.stdin)
    context = types.SimpleNamespace(
        function_name=function, function_version="$LATEST", memory_limit_in_mb=512,
        invoked_function_arn=f"arn:aws:lambda:eu-west-2:123456789012:function:{function}",
        aws_request_id="cold-start-0000", log_group_name=f"/aws/lambda/{function}",
        log_stream_name="cold-start", get_remaining_time_in_millis=lambda: 60000,
    )
    began = time.perf_counter()
    result = getattr(module, handler)(event, context)
    finished = time.perf_counter()
if sys.argv[5:]:
    profiler.disable()
    profiler.dump_stats(sys.argv[5])
print(json.dumps({
    "import_ms": (imported - started) * 1000, "event_ms": (finished - began) * 1000,
    "total_ms": (imported - started + finished - began) * 1000,
    "heavy_at_import": at_import, "heavy_after_event": [m for m in heavy if m in sys.modules],
    "modules": len(sys.modules), "result": result,
}, default=str))
"""


class ColdStartFailed(RuntimeError):
    pass


@dataclass
class Function:
    name: str  # the Lambda function's name, as Chalice packages it
    module: str
    handler: str  # the module attribute Lambda calls ("" for bare boto3: import only)
    target: Optional[float]
    sample: Optional[Path] = None


def discover(app: Any) -> List[Function]:
    """Every function the app defines, with the first sample event in events/ that names it."""
    from chalice.app import ScheduledEventConfig, SQSEventConfig

    samples = {path: json.loads(path.read_text()) for path in sorted(EVENTS.glob("*.json"))}

    def first(matches: Callable[[Dict[str, Any]], bool]) -> Optional[Path]:
        return next((path for path, event in samples.items() if isinstance(event, dict) and matches(event)), None)

    def names_queue(queue: str) -> Callable[[Dict[str, Any]], bool]:
        return lambda e: any(str(r.get("eventSourceARN", "")).endswith(f":{queue}") for r in e.get("Records", []))

    def names_rule(name: str) -> Callable[[Dict[str, Any]], bool]:
        return lambda e: e.get("detail-type") == "Scheduled Event" and any(r.endswith(name) for r in e.get("resources", []))

    functions = [Function(BOTO3, "boto3", "", None)]
    if app.routes:
        routed = first(lambda e: e.get("requestContext", {}).get("resourcePath") in app.routes)
        functions.append(Function("api_handler", "app", "app", API_TARGET, routed))
    for source in [*app.event_sources, *app.pure_lambda_functions]:
        if isinstance(source, SQSEventConfig):
            sample = first(names_queue(source.queue))
        elif isinstance(source, ScheduledEventConfig):
            sample = first(names_rule(source.name))
        else:  # S3, SNS, plain Lambda functions...: no rule yet for which sample is theirs
            sample = None
        functions.append(Function(source.name, "app", source.handler_string.rsplit(".", 1)[1], EVENT_TARGET, sample))
    return functions


def invoke(function: Function, event: Any, env: Dict[str, str], profile: Optional[Path] = None) -> Dict[str, Any]:
    """One cold start in a fresh process; its figures, or ColdStartFailed with what it said."""
    done = subprocess.run(
        [sys.executable, "-c", _CHILD, function.module, function.handler, function.name, ",".join(HEAVY),
         *([str(profile)] if profile else [])],
        input=json.dumps(event), capture_output=True, text=True, env=env, cwd=ROOT, timeout=300,
    )
    lines = done.stdout.strip().splitlines()
    figures = json.loads(lines[-1]) if done.returncode == 0 and lines else {}
    result = figures.get("result")
    problem = ""
    if done.returncode != 0:
        problem = f"the process exited with status {done.returncode}"
    elif isinstance(result, dict) and "statusCode" in result and not 200 <= result["statusCode"] < 300:
        problem = f"HTTP {result['statusCode']}: {str(result.get('body'))[:500]}"
    elif isinstance(result, dict) and result.get("batchItemFailures"):
        problem = f"batchItemFailures: {result['batchItemFailures']}"
    if problem:
        raise ColdStartFailed(
            f"{function.name} ({function.sample.name if function.sample else 'no event'}): {problem}\n"
            f"--- its stdout ---\n{done.stdout[-3000:]}\n--- its stderr ---\n{done.stderr[-5000:]}"
        )
    return figures


class Fixtures:
    """What the sample events refer to, made once; each run's event is a copy of its sample
    pointed at them."""

    def __init__(self, aws_endpoint: str, user_pool_client_id: str):
        import boto3

        session = boto3.session.Session(region_name=REGION)
        self.s3 = session.client("s3", endpoint_url=aws_endpoint)
        self.token = session.client("cognito-idp", endpoint_url=aws_endpoint).initiate_auth(
            ClientId=user_pool_client_id,
            AuthFlow="USER_PASSWORD_AUTH",
            AuthParameters={"USERNAME": DEMO_OFFICER["username"], "PASSWORD": DEMO_OFFICER["password"]},
        )["AuthenticationResult"]["AccessToken"]
        self.request_id = ""

    def event(self, sample: Dict[str, Any]) -> Dict[str, Any]:
        event = copy.deepcopy(sample)
        if "httpMethod" in event:  # the samples carry a placeholder, not a token
            event["headers"]["Authorization"] = f"Bearer {self.token}"
            if event.get("multiValueHeaders"):
                event["multiValueHeaders"]["Authorization"] = [f"Bearer {self.token}"]
        for record in event.get("Records", []):
            body = json.loads(record["body"])
            if "request_id" in body:
                body["request_id"] = self.request_id
            for s3_record in body.get("Records", []):
                self._upload(s3_record["s3"])
            record["body"] = json.dumps(body, separators=(",", ":"))
            record["md5OfBody"] = hashlib.md5(record["body"].encode()).hexdigest()
        return event

    def _upload(self, s3: Dict[str, Any]) -> None:
        """A new object for every run: ingest is idempotent per object version, so a second
        delivery of one object would take a shorter path than a first one."""
        obj = s3["object"]
        obj["key"] = f"requests/{self.request_id}/u{secrets.token_hex(12)}/{obj['key'].rsplit('/', 1)[-1]}"
        data = MP4_HEAD + bytes(max(0, int(obj["size"]) - len(MP4_HEAD)))  # the sample names an .mp4
        put = self.s3.put_object(Bucket=s3["bucket"]["name"], Key=obj["key"], Body=data, ContentType="video/mp4")
        obj.update(size=len(data), eTag=put["ETag"].strip('"'))
        if put.get("VersionId"):  # the evidence bucket is versioned: S3 names the version
            obj["versionId"] = put["VersionId"]


def api_event(sample: Dict[str, Any], path: str, body: Any) -> Dict[str, Any]:
    """The API sample, sent to another route (a POST, as the sample is)."""
    event = copy.deepcopy(sample)
    event["resource"] = event["path"] = event["requestContext"]["resourcePath"] = path
    event["requestContext"]["path"] = f"/{event['requestContext']['stage']}{path}"
    event["body"] = json.dumps(body)
    return event


def make_data(api: Function, fixtures: Fixtures, env: Dict[str, str]) -> int:
    """Through the app's own API, in fresh processes (this process's chalicelib read its
    configuration before the officer pool existed): the registration the sample
    notification names (ada@example.org), and a footage request from the sample search for
    the workflow and ingest samples. Returns how many registrations the sample search finds."""
    sample = fixtures.event(json.loads(api.sample.read_text()))
    # The resident of events/sqs_notification_manage_link.json: pending, which is enough for a link.
    invoke(api, api_event(sample, "/registrations", {
        "name": "Ada Lovelace", "email": "ada@example.org", "phone": "0121 496 0000",
        "address": {"line1": "12 Colmore Row", "town": "Birmingham", "postcode": "B3 2BJ"},
        "location": {"lat": 52.4812, "lon": -1.8984}, "camera_count": 2,
        "cameras": [{"direction_deg": 90, "description": "Doorbell, faces the street"}],
        "retention_days": 30, "consent": True,
    }), env)
    found = json.loads(invoke(api, sample, env)["result"]["body"])["registrations"]
    if not found:
        raise ColdStartFailed("the sample search finds no registration: seed more (--seed)")
    search = json.loads(sample["body"])
    now = datetime.now(timezone.utc).replace(microsecond=0)
    created = invoke(api, api_event(sample, "/officer/requests", {
        "case_ref": search["case_ref"], "registration_ids": [found[0]["registration_id"]],
        "incident": {
            "lat": search["lat"], "lon": search["lon"], "summary": "A car was damaged outside the bank.",
            "from": (now - timedelta(hours=3)).isoformat(), "to": (now - timedelta(hours=2)).isoformat(),
        },
        "reason": "Looking for the vehicle that hit it",
    }), env)
    fixtures.request_id = json.loads(created["result"]["body"])["requests"][0]["request_id"]
    return len(found)


def measure(functions: List[Function], fixtures: Fixtures, env: Dict[str, str], runs: int) -> Dict[str, List[dict]]:
    samples = {f.name: json.loads(f.sample.read_text()) if f.sample else None for f in functions}
    figures: Dict[str, List[dict]] = {f.name: [] for f in functions}
    started = time.monotonic()
    # Round 0 is not counted: it compiles the bytecode and fills the page cache. Each round
    # starts one function further on, so no function always follows the same one.
    for round_ in range(runs + 1):
        shift = round_ % len(functions)
        for function in functions[shift:] + functions[:shift]:
            event = fixtures.event(samples[function.name]) if samples[function.name] else None
            measured = invoke(function, event, env)
            if round_:
                figures[function.name].append(measured)
        print(f"  round {round_}/{runs}{' (warm-up, not counted)' if not round_ else ''}: "
              f"{time.monotonic() - started:.0f} s", flush=True)
    return figures


def profile_one(function: Function, fixtures: Fixtures, env: Dict[str, str]) -> None:
    """Where one function's cold start goes: a warm-up, then one run under cProfile."""
    import pstats

    sample = json.loads(function.sample.read_text()) if function.sample else None
    invoke(function, fixtures.event(sample) if sample else None, env)
    path = OUTPUT.with_name(f"cold_start_{function.name}.prof")
    path.parent.mkdir(parents=True, exist_ok=True)
    invoke(function, fixtures.event(sample) if sample else None, env, profile=path)
    print(f"\n{function.name} under cProfile (figures inflated by the profiler), {path.relative_to(ROOT)}:")
    pstats.Stats(str(path)).sort_stats("cumulative").print_stats(45)


def p95(values: List[float]) -> float:
    # Interpolated between order statistics: with 15 runs, between the two slowest.
    return statistics.quantiles(values, n=20, method="inclusive")[-1] if len(values) > 1 else values[0]


def report(functions: List[Function], figures: Dict[str, List[dict]]) -> bool:
    """Print the table and the modules; True if every target is met."""
    baseline = statistics.median(f["total_ms"] for f in figures[BOTO3])
    columns = (("import ms", "import_ms"), ("first event ms", "event_ms"), ("total ms", "total_ms"))
    print(f"\n{'':<28}" + "".join(f"  {title:^15}" for title, _ in columns) + f"  {'x bare':>7}")
    header = f"{'function':<23} {'runs':>4}" + f"  {'median':>7} {'p95':>7}" * len(columns) + f"  {'boto3':>7}  target"
    print(f"{header}\n{'-' * (len(header) + 8)}")
    all_met = True
    for function in functions:
        rows = figures[function.name]
        cells = ""
        for _, key in columns:
            values = [r[key] for r in rows]
            cells += f"  {statistics.median(values):>7.0f} {p95(values):>7.0f}"
        ratio = statistics.median(r["total_ms"] for r in rows) / baseline
        verdict = ""
        if function.target:
            met = ratio <= function.target
            all_met &= met
            verdict = f"<= {function.target:.1f}x {'met' if met else 'MISSED'}"
        print(f"{function.name:<23} {len(rows):>4}{cells}  {ratio:>6.2f}x  {verdict}")
    print("\nHeavy modules loaded (by importing the module | added by the first event):")
    for function in functions:
        at_import = sorted({m for r in figures[function.name] for m in r["heavy_at_import"]})
        added = sorted({m for r in figures[function.name] for m in r["heavy_after_event"]} - set(at_import))
        modules = statistics.median(r["modules"] for r in figures[function.name])
        print(f"  {function.name:<23} {' '.join(at_import) or '-'}  |  {' '.join(added) or '-'}   ({modules:.0f} modules in all)")
    return all_met


def find_package() -> Optional[Path]:
    """The newest Lambda package a synthesis left: chalice.cdk writes it to
    infrastructure/build/chalice.out/ (whatever the CDK output folder), the CDK copies it
    into cdk.out/ as an asset."""
    found = [*ROOT.glob("infrastructure/build/chalice.out/*/deployment.zip"), *ROOT.glob("infrastructure/cdk.out/asset.*.zip")]
    return max(found, key=lambda p: p.stat().st_mtime, default=None)


def build_package() -> None:
    """Synthesise as the infrastructure tests do: cdk_app.py in a fresh interpreter, without the
    app's settings in its environment (it imports the app while packaging)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SIGHTLINE_", "POWERTOOLS_", "CDK_"))}
    env["JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION"] = "20"
    print("building the deployment package (infrastructure/cdk_app.py; minutes the first time)...", flush=True)
    subprocess.run([sys.executable, "cdk_app.py"], cwd=ROOT / "infrastructure", env=env, check=True)


def report_package() -> None:
    package = find_package()
    if package is None:
        print("\nDeployment package: none built yet. Build it with `make synth`, or run this with --build-package.")
        return
    with zipfile.ZipFile(package) as archive:
        entries = archive.infolist()
    unzipped = sum(e.file_size for e in entries)
    sources = sum(e.filename.endswith(".py") for e in entries)
    compiled = sum(e.filename.endswith(".pyc") for e in entries)
    built = datetime.fromtimestamp(package.stat().st_mtime).strftime("%Y-%m-%d %H:%M")
    print(f"\nDeployment package {package.relative_to(ROOT)} (built {built}):\n"
          f"  {package.stat().st_size / 2**20:.1f} MiB zipped, {unzipped / 2**20:.1f} MiB unzipped, "
          f"{sources} .py and {compiled} .pyc files")


def run(args: argparse.Namespace, servers: contextlib.ExitStack) -> Tuple[Dict[str, List[dict]], List[Function], List[str]]:
    """Start and provision the servers (stopped by ``servers``), make the data, measure."""
    from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # one line per emulated call
    dynalite = servers.enter_context(Dynalite())
    # No Step Functions execution (local.stack turns it on): a running state machine would send
    # messages in the background while processes are timed.
    moto = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    moto.start()
    servers.callback(moto.stop)
    stack = LocalStack(stack_args(["--aws-port", str(moto.get_host_and_port()[1]), "--dynamodb-port", str(dynalite.port)]))
    os.environ.update(stack.app_environ())  # provisioning reads the settings the functions read
    from local import provision, seed

    stack.resources = provision.provision(stack.aws_endpoint, REGION, SENDER, DEMO_OFFICER, DEMO_SUPERVISOR)
    seed.seed_registrations(args.seed)
    env = {**os.environ, **stack.app_environ()}

    import app as sightline

    functions = discover(sightline.app)
    unmeasured = [f.name for f in functions if f.name != BOTO3 and f.sample is None]
    for name in unmeasured:
        print(f"WARNING: {name} has no sample event in events/ naming it; it is not measured.", flush=True)
    functions = [f for f in functions if f.name not in unmeasured]
    api = next((f for f in functions if f.name == "api_handler"), None)
    if api is None:
        raise ColdStartFailed("no API Gateway sample event in events/: the sample data is made through the API")
    fixtures = Fixtures(stack.aws_endpoint, stack.resources["user_pool_client_id"])
    found = make_data(api, fixtures, env)
    print(f"stack ready: moto {stack.aws_endpoint}, dynalite {stack.dynamodb_endpoint}, {args.seed} registrations "
          f"seeded (the sample search finds {found}), footage request {fixtures.request_id}", flush=True)
    for function in functions[1:]:
        print(f"  {function.name:<23} events/{function.sample.name}")
    if args.profile:
        profile_one(next(f for f in functions if f.name == args.profile), fixtures, env)
    return measure(functions, fixtures, env, args.runs), functions, unmeasured


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=15, help="counted cold starts per function (default 15)")
    parser.add_argument("--seed", type=int, default=2000,
                        help="synthetic registrations around Birmingham and Coventry (default 2000: "
                             "about 270 within 2 km of the sample search)")
    parser.add_argument("--build-package", action="store_true", help="synthesise the deployment package first")
    parser.add_argument("--profile", metavar="FUNCTION", help="also print where one function's cold start goes (cProfile)")
    args = parser.parse_args(argv)
    if args.runs < 1:
        parser.error("--runs must be at least 1")

    def on_signal(signum: int, _frame: Any) -> None:
        raise KeyboardInterrupt

    # Both, explicitly: a shell starts background jobs with SIGINT ignored (as local.stack).
    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    try:
        if args.build_package:
            build_package()
        with contextlib.ExitStack() as servers:
            started = time.monotonic()
            figures, functions, unmeasured = run(args, servers)
            print(f"measured in {time.monotonic() - started:.0f} s")
    except ColdStartFailed as failure:
        print(f"\n{'!' * 78}\nCOLD START FAILED: {failure}\n{'!' * 78}\nNo figures: a failing first event makes them worthless.",
              file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("interrupted; servers stopped", file=sys.stderr)
        return 130
    print(f"\nCold starts on {platform.python_implementation()} {platform.python_version()}, "
          f"{os.cpu_count()} CPUs: {args.runs} fresh processes per function, run round-robin.")
    all_met = report(functions, figures)
    for name in unmeasured:
        print(f"WARNING: {name} was not measured: no sample event in events/ names it.")
    report_package()
    OUTPUT.parent.mkdir(parents=True, exist_ok=True)
    OUTPUT.write_text(json.dumps({"runs": args.runs, "seed": args.seed, "figures": figures}, indent=1, default=str) + "\n")
    print(f"\nEvery process's figures: {OUTPUT.relative_to(ROOT)}. Targets {'all met' if all_met else 'NOT all met'}.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
