"""The complete local Sightline: ``python -m local.stack`` (what ``make run`` starts).

- moto in server mode, in this process: SQS (with dead-letter queues), SES, Cognito, S3…
- dynalite (node) for DynamoDB: moto's DynamoDB re-sorts a table on every Query, which takes
  seconds at a real force's 20,000 registrations (see docs/decisions.md).
- ``chalice local`` for the API, in its own process.
- a static server for ``site/``, which also serves ``/config.js`` pointing at this stack.
- a pump that delivers SQS messages to the app's ``@app.on_sqs_message`` handlers as Lambda
  would (batches, partial-batch failures retried, dead-letter queue after repeated failure),
  runs the scheduled housekeeping, and writes every email SES accepted to the outbox folder.
- a local malware scanner (``local/scanner.py``) standing in for GuardDuty: it tags each new
  evidence object clean, or ``THREATS_FOUND`` if it holds the EICAR test string.

Ctrl-C (or SIGTERM) stops everything it started. ``var/local.json`` says where it all is.
"""
from __future__ import annotations

import argparse
import json
import logging
import os
import signal
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path
from typing import Dict, List, Optional

ROOT = Path(__file__).resolve().parent.parent
REGION = "eu-west-2"
PREFIX = "sightline"
SENDER = "no-reply@sightline.localhost"
DEMO_OFFICER = {"username": "demo.officer", "password": "Demo-Officer-Passw0rd!", "email": "demo.officer@police.localhost"}
DEMO_SUPERVISOR = {
    "username": "demo.supervisor", "password": "Demo-Supervisor-Passw0rd!", "email": "demo.supervisor@police.localhost",
}
DEMO_AUDITOR = {"username": "demo.auditor", "password": "Demo-Auditor-Passw0rd!", "email": "demo.auditor@police.localhost"}


def _env_port(name: str, default: int) -> int:
    return int(os.environ.get(name, default))


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--api-port", type=int, default=_env_port("SIGHTLINE_API_PORT", 8000))
    parser.add_argument("--site-port", type=int, default=_env_port("SIGHTLINE_SITE_PORT", 8080))
    parser.add_argument("--console-port", type=int, default=_env_port("SIGHTLINE_CONSOLE_PORT", 8081))
    parser.add_argument("--aws-port", type=int, default=_env_port("SIGHTLINE_AWS_PORT", 5000))
    parser.add_argument("--dynamodb-port", type=int, default=_env_port("SIGHTLINE_DYNAMODB_PORT", 5001))
    parser.add_argument(
        "--seed",
        type=int,
        default=int(os.environ.get("SIGHTLINE_SEED", "0")),
        help="seed this many synthetic active registrations around Birmingham and Coventry "
        "(SIGHTLINE_SEED=20000 make run)",
    )
    parser.add_argument("--var-dir", default=os.environ.get("SIGHTLINE_VAR_DIR", str(ROOT / "var")))
    parser.add_argument(
        "--tile-url",
        default=os.environ.get("SIGHTLINE_TILE_URL", ""),
        help="map tile URL template for the site, e.g. https://tile.example/{z}/{x}/{y}.png",
    )
    parser.add_argument(
        "--geocoder-url",
        default=os.environ.get("SIGHTLINE_GEOCODER_URL", ""),
        help="the console's address search: a URL with {query} answering Nominatim-style JSON "
        "(SIGHTLINE_GEOCODER_URL); without one the console hides the address field",
    )
    return parser.parse_args(argv)


class LocalStack:
    def __init__(self, args: argparse.Namespace):
        self.args = args
        self.host = "127.0.0.1"
        self.var_dir = Path(args.var_dir).resolve()
        self.outbox_dir = self.var_dir / "outbox"
        self.api_url = f"http://{self.host}:{args.api_port}"
        self.site_url = f"http://{self.host}:{args.site_port}"
        self.console_url = f"http://{self.host}:{args.console_port}"
        self.aws_endpoint = f"http://{self.host}:{args.aws_port}"
        self.dynamodb_endpoint = f"http://{self.host}:{args.dynamodb_port}"
        self.processes: List[subprocess.Popen] = []
        self.stopping = threading.Event()
        self.threads: List[threading.Thread] = []
        self.moto = None
        self.site = None
        self.console = None
        self.resources: Dict[str, str] = {}

    # -- environment shared by the API process and the in-process handlers -------------------
    def app_environ(self) -> Dict[str, str]:
        return {
            "AWS_ACCESS_KEY_ID": "local",
            "AWS_SECRET_ACCESS_KEY": "local",
            "AWS_DEFAULT_REGION": REGION,
            "AWS_REGION": REGION,
            "SIGHTLINE_RESOURCE_PREFIX": PREFIX,
            "SIGHTLINE_AWS_ENDPOINT_URL": self.aws_endpoint,
            "SIGHTLINE_DYNAMODB_ENDPOINT_URL": self.dynamodb_endpoint,
            "SIGHTLINE_SITE_URL": self.site_url,
            "SIGHTLINE_CONSOLE_URL": self.console_url,
            "SIGHTLINE_SENDER_EMAIL": SENDER,
            "SIGHTLINE_FORCE_NAME": os.environ.get("SIGHTLINE_FORCE_NAME", "West Midlands Police (local demo)"),
            "SIGHTLINE_USER_POOL_ID": self.resources.get("user_pool_id", ""),
            "SIGHTLINE_USER_POOL_CLIENT_ID": self.resources.get("user_pool_client_id", ""),
            "SIGHTLINE_JWKS_URL": self.resources.get("jwks_url", ""),
            "SIGHTLINE_STATE_MACHINE_ARN": self.resources.get("state_machine_arn", ""),
            "SIGHTLINE_NOTIFICATIONS_QUEUE_URL": self.resources.get("notifications_queue_url", ""),
            "SIGHTLINE_PSEUDONYM_KEY_SECRET": self.resources.get("pseudonym_key_secret", ""),
            "MOTO_PORT": str(self.args.aws_port),
            "POWERTOOLS_METRICS_DISABLED": "true",
            "POWERTOOLS_LOG_LEVEL": os.environ.get("POWERTOOLS_LOG_LEVEL", "WARNING"),
        }

    # -- lifecycle ----------------------------------------------------------------------------
    def start(self) -> None:
        self.var_dir.mkdir(parents=True, exist_ok=True)
        self.outbox_dir.mkdir(parents=True, exist_ok=True)
        (self.var_dir / "local.json").unlink(missing_ok=True)
        started = time.monotonic()
        self._start_moto()
        self._start_dynalite()
        os.environ.update(self.app_environ())
        from local import provision

        self.resources = provision.provision(self.aws_endpoint, REGION, SENDER, DEMO_OFFICER, DEMO_SUPERVISOR, DEMO_AUDITOR)
        os.environ.update(self.app_environ())
        from chalicelib.base.lazy import reset_all

        reset_all()  # provisioning read the configuration before the pool and state machine existed
        if self.args.seed:
            from local import seed

            t0 = time.monotonic()
            count = seed.seed_registrations(self.args.seed)
            _log(f"seeded {count} synthetic registrations in {time.monotonic() - t0:.1f} s")
        self._start_api()
        self._start_site()
        self._start_console()
        self._start_pump()
        self._wait_healthy()
        self._write_local_json()
        _log(f"ready in {time.monotonic() - started:.1f} s")
        _log(f"  site     {self.site_url}")
        _log(f"  console  {self.console_url} (officers)")
        _log(f"  api      {self.api_url}")
        _log(f"  aws      {self.aws_endpoint} (moto)   dynamodb {self.dynamodb_endpoint} (dynalite)")
        _log(f"  outbox   {self.outbox_dir}")
        _log(f"  officer  {DEMO_OFFICER['username']} / {DEMO_OFFICER['password']}")
        _log(f"  supervisor {DEMO_SUPERVISOR['username']} / {DEMO_SUPERVISOR['password']}")
        _log(f"  auditor  {DEMO_AUDITOR['username']} / {DEMO_AUDITOR['password']}")
        _log(f"  TOTP secret of all three (authenticator app): {self.resources['demo_totp_secret']}")
        _log("  an officer's access token: make officer-token")
        _log("Ctrl-C stops everything.")

    def stop(self) -> None:
        if self.stopping.is_set():
            return
        self.stopping.set()
        for process in reversed(self.processes):
            _terminate(process)
        for thread in self.threads:
            thread.join(timeout=5)
        for server in (self.site, self.console):
            if server is not None:
                server.shutdown()
                server.server_close()
        if self.moto is not None:
            self.moto.stop()
        (self.var_dir / "local.json").unlink(missing_ok=True)
        _log("stopped")

    # -- components ---------------------------------------------------------------------------
    def _start_moto(self) -> None:
        from moto.server import ThreadedMotoServer

        # moto checks real TOTP codes (against its one fixed secret) only with this set; it reads
        # it at every call, and its server runs in this process.
        os.environ["MOTO_COGNITO_IDP_USER_POOL_ENABLE_TOTP"] = "true"
        logging.getLogger("werkzeug").setLevel(logging.ERROR)  # one line per emulated call
        self.moto = ThreadedMotoServer(ip_address=self.host, port=self.args.aws_port, verbose=False)
        self.moto.start()
        _wait_for(f"{self.aws_endpoint}/moto-api/", "moto")
        body = json.dumps({"stepfunctions": {"execute_state_machine": True}}).encode()
        request = urllib.request.Request(
            f"{self.aws_endpoint}/moto-api/config", data=body, headers={"Content-Type": "application/json"}
        )
        urllib.request.urlopen(request, timeout=5).read()

    def _start_dynalite(self) -> None:
        cli = ROOT / "node_modules" / "dynalite" / "cli.js"
        if not cli.exists():
            raise SystemExit("dynalite is not installed: run 'make run' (it runs 'npm ci').")
        self.processes.append(
            _spawn(["node", str(cli), "--host", self.host, "--port", str(self.args.dynamodb_port)], os.environ.copy())
        )
        _wait_for(self.dynamodb_endpoint, "dynalite", ok_statuses=(200, 400))

    def _start_api(self) -> None:
        chalice = Path(sys.executable).parent / "chalice"
        env = {**os.environ, **self.app_environ()}
        self.processes.append(
            _spawn(
                [
                    str(chalice), "local", "--host", self.host, "--port", str(self.args.api_port),
                    "--stage", "local", "--no-autoreload",
                ],
                env,
                cwd=ROOT,
            )
        )

    def _start_site(self) -> None:
        from local.site_server import serve_static_app
        from infrastructure.sightline_infra.security_headers import API_PREFIX

        site_config = {
            "apiUrl": API_PREFIX,
            "tileUrl": self.args.tile_url,
            "tileAttribution": os.environ.get("SIGHTLINE_TILE_ATTRIBUTION", ""),
            "forceName": self.app_environ()["SIGHTLINE_FORCE_NAME"],
            "mapCenter": [52.4862, -1.8904],
            "mapZoom": 13,
        }
        # Presigned uploads go to moto's S3, as deployed they go to the evidence bucket.
        self.site = serve_static_app(ROOT / "site", self.host, self.args.site_port, site_config,
                                     api_url=self.api_url, connect_origins=[self.aws_endpoint],
                                     tile_url=self.args.tile_url)

    def _start_console(self) -> None:
        """The officers' console, served as the site is: its own CSP, ``/api`` on its origin.
        It signs in straight to moto's Cognito API, which answers the browser's CORS preflight
        (checked), as Cognito's does: no proxy for it."""
        from chalicelib.base.config import get_config
        from chalicelib.investigations.schemas import MAX_REGISTRATIONS_PER_CALL, MAX_RESULTS
        from infrastructure.sightline_infra.security_headers import API_PREFIX, console_content_security_policy
        from local.site_server import serve_static_app

        console_config = {
            "apiUrl": API_PREFIX,
            "cognitoEndpoint": self.resources["cognito_endpoint"],
            "userPoolClientId": self.resources["user_pool_client_id"],
            "idleMinutes": 15,
            "tileUrl": self.args.tile_url,
            "tileAttribution": os.environ.get("SIGHTLINE_TILE_ATTRIBUTION", ""),
            "geocoderUrl": self.args.geocoder_url,
            "forceName": self.app_environ()["SIGHTLINE_FORCE_NAME"],
            "timeZone": get_config().force_timezone,
            "mapCenter": [52.4862, -1.8904],
            "mapZoom": 14,
            "categories": list(get_config().case_categories),
            "maxRegistrationsPerRequest": MAX_REGISTRATIONS_PER_CALL,
            "maxResults": MAX_RESULTS,
        }
        csp = console_content_security_policy(cognito_endpoint=self.resources["cognito_endpoint"], tile_url=self.args.tile_url,
                                              geocoder_url=self.args.geocoder_url)
        self.console = serve_static_app(ROOT / "console", self.host, self.args.console_port, console_config,
                                        api_url=self.api_url, csp=csp)

    def _start_pump(self) -> None:
        from local.pump import Pump

        from local.scanner import Scanner

        pump = Pump(self.outbox_dir, self.stopping)
        session = boto3_session()
        scanner = Scanner(session.client("s3", endpoint_url=self.aws_endpoint),
                          session.client("sqs", endpoint_url=self.aws_endpoint),
                          self.resources["scan_queue_url"], self.stopping)
        for target in (pump.deliver_forever, pump.write_outbox_forever, pump.housekeeping_forever, scanner.scan_forever):
            thread = threading.Thread(target=target, daemon=True, name=target.__name__)
            thread.start()
            self.threads.append(thread)

    def _wait_healthy(self) -> None:
        _wait_for(f"{self.api_url}/health", "the API", timeout_s=60, processes=self.processes)

    def _write_local_json(self) -> None:
        data = {
            "api_url": self.api_url,
            "site_url": self.site_url,
            "console_url": self.console_url,
            "aws_endpoint": self.aws_endpoint,
            "dynamodb_endpoint": self.dynamodb_endpoint,
            "region": REGION,
            "outbox_dir": str(self.outbox_dir),
            "user_pool_id": self.resources["user_pool_id"],
            "user_pool_client_id": self.resources["user_pool_client_id"],
            "jwks_url": self.resources["jwks_url"],
            # Where the console page sends its sign-in calls (docs/officer-sign-in.md); in AWS,
            # https://cognito-idp.<region>.amazonaws.com/.
            "cognito_endpoint": self.resources["cognito_endpoint"],
            # moto's one TOTP secret: every demo user's authenticator (add it to an app, or
            # make officer-token computes the code).
            "demo_totp_secret": self.resources["demo_totp_secret"],
            "state_machine_arn": self.resources["state_machine_arn"],
            "demo_officer": {k: DEMO_OFFICER[k] for k in ("username", "password")},
            "demo_supervisor": {k: DEMO_SUPERVISOR[k] for k in ("username", "password")},
            "demo_auditor": {k: DEMO_AUDITOR[k] for k in ("username", "password")},
            "pid": os.getpid(),
        }
        path = self.var_dir / "local.json"
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(data, indent=2) + "\n")
        tmp.replace(path)


def boto3_session():
    import boto3

    return boto3.session.Session(region_name=REGION)


def _spawn(command: List[str], env: Dict[str, str], cwd: Optional[Path] = None) -> subprocess.Popen:
    """Start a child in its own process group that dies with us even if we are killed."""

    def die_with_parent() -> None:
        os.setpgrp()
        try:
            import ctypes

            ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
        except OSError:
            pass

    return subprocess.Popen(command, env=env, cwd=cwd, preexec_fn=die_with_parent)


def _terminate(process: subprocess.Popen) -> None:
    if process.poll() is not None:
        return
    try:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=5)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=5)
    except ProcessLookupError:
        pass


def _wait_for(url: str, what: str, timeout_s: float = 30, ok_statuses=(200,), processes=()) -> None:
    deadline = time.monotonic() + timeout_s
    last_error = ""
    while time.monotonic() < deadline:
        for process in processes:
            if process.poll() is not None:
                raise SystemExit(f"{what} exited with status {process.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status in ok_statuses:
                    return
        except urllib.error.HTTPError as exc:
            if exc.code in ok_statuses:
                return
            last_error = f"HTTP {exc.code}"
        except OSError as exc:
            last_error = str(exc)
        time.sleep(0.2)
    raise SystemExit(f"{what} did not become ready at {url} within {timeout_s:.0f} s ({last_error})")


def _log(message: str) -> None:
    print(f"[sightline] {message}", flush=True)


def main(argv: Optional[List[str]] = None) -> int:
    stack = LocalStack(parse_args(argv))

    def on_signal(signum, _frame):
        raise KeyboardInterrupt

    # Both, explicitly: a shell starts background jobs with SIGINT ignored.
    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    try:
        stack.start()
        while not stack.stopping.is_set():
            for process in stack.processes:
                if process.poll() is not None:
                    _log(f"a component exited ({process.args[:2]}, status {process.returncode}); stopping")
                    return 1
            time.sleep(0.5)
    except KeyboardInterrupt:
        pass
    finally:
        stack.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
