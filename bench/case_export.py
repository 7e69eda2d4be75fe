"""Case exports, measured: time, the bytes that passed through the export worker, and its memory.

    python -m bench.case_export [--gib 1] [--files 10] [--small-mib 100]

Starts moto's server (``ThreadedMotoServer``) on a free 127.0.0.1 port, for S3, SQS and
DynamoDB alike, and sets up two cases as the ingest would have left them: one of ``--gib`` GiB
in ``--files`` files, one of ``--small-mib`` MiB in one file (versioned objects in the evidence
bucket, uploaded with multipart, tagged clean as the malware scan does; evidence items with
their SHA-256, a footage request each, an export building). Then, for each case, it runs the
export worker (``chalicelib.investigations.exports.build``, what ``build_exports`` calls) in a
**subprocess** and prints what that process measured of itself:

- wall time of the build;
- the bytes it read and wrote through system calls during the build (``/proc/self/io``
  ``rchar``/``wchar``: files, pipes and sockets alike, so every HTTP request and response to
  the emulator counts), against the footage's size: the target is far below it, meaning no
  footage passed through the worker (S3 copies it: CopyObject, or UploadPartCopy parts);
- its peak resident memory (``ru_maxrss``), and whether the two cases' peaks are within 10%.

Then it checks the export: every copy's size, and ``sha256sum -c SHA256SUMS`` over the small
case's folder downloaded from the emulator (the large case's footage is not downloaded, to
keep the run to a few minutes; its copies are checked by size and its manifest by hash).

What this cannot measure: S3's own copy throughput (moto copies in its process, here the
parent), KMS re-encryption on copy, or how long GuardDuty takes to tag an object. Only AWS can
show those (docs/decisions.md, 2026-12-02 "Case exports built in S3 by server-side copies").
It is not a test and asserts nothing beyond the export being complete.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import os
import resource
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Dict, List

ROOT = Path(__file__).resolve().parent.parent
REGION = "eu-west-2"
MIB = 2**20
PART = 64 * MIB


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _environ(endpoint: str) -> Dict[str, str]:
    return {
        "AWS_ACCESS_KEY_ID": "bench", "AWS_SECRET_ACCESS_KEY": "bench", "AWS_DEFAULT_REGION": REGION,
        "AWS_REGION": REGION, "SIGHTLINE_RESOURCE_PREFIX": "bench", "SIGHTLINE_AWS_ENDPOINT_URL": endpoint,
        "SIGHTLINE_DYNAMODB_ENDPOINT_URL": endpoint, "POWERTOOLS_METRICS_DISABLED": "true",
        "POWERTOOLS_LOG_LEVEL": "WARNING",
    }


# ------------------------------------------------------------------------------- the worker


def _io() -> Dict[str, int]:
    fields = dict(line.split(": ") for line in Path("/proc/self/io").read_text().splitlines())
    return {k: int(v) for k, v in fields.items()}


def _peak_rss_kib() -> int:
    """VmHWM: this program's peak resident memory. (``ru_maxrss`` would do on a process started
    afresh, but Linux keeps it across exec, so a child of the big parent reports the parent's.)"""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


# Bytes through this process's sockets. /proc/self/io's rchar and wchar count read() and
# write() calls only: Python's sockets send() and recv(), which it does not see.
_SOCKETS = {"sent": 0, "received": 0}


def _count_sockets() -> None:
    import socket

    cls = socket.socket
    sendall, send, recv, recv_into = cls.sendall, cls.send, cls.recv, cls.recv_into

    def counted_sendall(self, data, *args):
        _SOCKETS["sent"] += memoryview(data).nbytes
        return sendall(self, data, *args)

    def counted_send(self, data, *args):
        sent = send(self, data, *args)
        _SOCKETS["sent"] += sent
        return sent

    def counted_recv(self, *args):
        data = recv(self, *args)
        _SOCKETS["received"] += len(data)
        return data

    def counted_recv_into(self, buffer, *args):
        got = recv_into(self, buffer, *args)
        _SOCKETS["received"] += got
        return got

    cls.sendall, cls.send, cls.recv, cls.recv_into = counted_sendall, counted_send, counted_recv, counted_recv_into


def worker(export_id: str) -> int:
    """Run one export's build in this process, and print what it measured of itself (JSON)."""
    from chalicelib.base import clients
    from chalicelib.base.config import get_config
    from chalicelib.base.messages import get_queue
    from chalicelib.investigations import exports

    _count_sockets()
    config = get_config()
    s3 = clients.client("s3")
    s3.list_buckets()  # the client and its first connection, outside the measured span
    import boto3.s3.inject  # noqa: F401 (what the build imports on first use, likewise)
    import s3transfer.manager  # noqa: F401

    exports._templates()  # Jinja2 and the continuity template: code, not footage

    before, sockets, wall = _io(), dict(_SOCKETS), time.perf_counter()
    outcome = exports.build(export_id, s3=s3, config=config, notify=get_queue(), queue=exports.get_export_queue(),
                            now=datetime.now(timezone.utc))
    elapsed, after = time.perf_counter() - wall, _io()
    print(json.dumps({
        "outcome": outcome, "wall_s": elapsed,
        "rchar": after["rchar"] - before["rchar"], "wchar": after["wchar"] - before["wchar"],
        "socket_received": _SOCKETS["received"] - sockets["received"], "socket_sent": _SOCKETS["sent"] - sockets["sent"],
        "process_rchar": after["rchar"], "process_wchar": after["wchar"],
        "maxrss_kib": _peak_rss_kib(),
    }))
    return 0


# ------------------------------------------------------------------------------- set-up


class _Content:
    """``size`` bytes of random-looking content, made from one random block and a counter, so
    each file (and each chunk) differs without generating a gibibyte of randomness."""

    def __init__(self, seed: int, size: int):
        self.left = size
        self.block = os.urandom(8 * MIB)
        self.seed = seed
        self.n = 0
        self.digest = hashlib.sha256()

    def read(self, n: int = -1) -> bytes:
        """Exactly ``n`` bytes (fewer only at the end): s3transfer takes a short read for the end."""
        want = self.left if n is None or n < 0 else min(n, self.left)
        pieces = []
        while want > 0:
            stamp = f"{self.seed}:{self.n}:".encode()
            piece = (stamp + self.block[len(stamp):])[:want]
            if self.n == 0:  # an MP4's first bytes, so the type check would pass as it did at ingest
                piece = (b"\x00\x00\x00\x20ftypisom" + piece[12:])[:want]
            self.n += 1
            want -= len(piece)
            pieces.append(piece)
        chunk = b"".join(pieces)
        self.left -= len(chunk)
        self.digest.update(chunk)
        return chunk


def _set_up_case(s3: Any, config: Any, case_ref: str, sizes: List[int], seed: int) -> str:
    from boto3.s3.transfer import TransferConfig

    from chalicelib.base.ids import EXPORT, evidence_id_for
    from chalicelib.footage import requests
    from chalicelib.footage.tables import EvidenceItem, FootageRequest
    from chalicelib.investigations import cases, exports
    from chalicelib.investigations.tables import CaseExport, Case

    now = datetime.now(timezone.utc)
    case_id = cases.case_id_for(case_ref)
    Case(case_id, case_ref=case_ref, category="Robbery", officer_in_charge="bench.officer", team={"bench.officer"},
         status="open", created_at=now, updated_at=now).save()
    request_id = requests.request_id_for(case_ref, f"rbench{seed}")
    FootageRequest(
        request_id, case_ref=case_ref, registration_id=f"rbench{seed}", officer="bench.officer", officer_sub="sub",
        incident_from=now, incident_to=now, summary="Benchmark incident.", lat=52.48, lon=-1.89, reason="bench",
        deadline=now, reminder_at=now, status="responded", created_at=now, updated_at=now, answered_at=now,
    ).save()
    upload = TransferConfig(multipart_threshold=PART, multipart_chunksize=PART, max_concurrency=4)
    for number, size in enumerate(sizes, start=1):
        key = f"requests/{request_id}/u{seed:08x}{number:016x}/camera-{number}.mp4"
        content = _Content(seed * 1000 + number, size)
        s3.upload_fileobj(content, config.evidence_bucket, key, ExtraArgs={"ContentType": "video/mp4"}, Config=upload)
        head = s3.head_object(Bucket=config.evidence_bucket, Key=key)
        s3.put_object_tagging(Bucket=config.evidence_bucket, Key=key, VersionId=head["VersionId"],
                              Tagging={"TagSet": [{"Key": "GuardDutyMalwareScanStatus", "Value": "NO_THREATS_FOUND"}]})
        EvidenceItem(
            evidence_id_for(config.evidence_bucket, key, head["VersionId"]), request_id=request_id, key=key,
            version_id=head["VersionId"], filename=f"camera-{number}.mp4", size=size, content_type="video/mp4",
            sha256=content.digest.hexdigest(), uploaded_at=now, status="accepted", exhibit_ref=f"BO/{number}",
            case_ref=case_ref,
        ).save()
    export_id = EXPORT.random()
    CaseExport(export_id, case_id=case_id, case_ref=case_ref, folder=exports.folder_for(case_ref),
               recipient="CPS (benchmark)", reason="benchmark", requested_by="bench.officer", requested_by_sub="sub",
               status="building", queued=True, created_at=now, updated_at=now).save()
    return export_id


def _provision(endpoint: str) -> Any:
    import boto3

    from chalicelib.base.config import get_config
    from chalicelib.tables import create_tables
    from local.provision import create_exports_bucket, create_queue_with_dlq

    config = get_config()
    create_tables()
    session = boto3.session.Session(region_name=REGION)
    s3 = session.client("s3", endpoint_url=endpoint)
    sqs = session.client("sqs", endpoint_url=endpoint)
    s3.create_bucket(Bucket=config.evidence_bucket, CreateBucketConfiguration={"LocationConstraint": REGION})
    s3.put_bucket_versioning(Bucket=config.evidence_bucket, VersioningConfiguration={"Status": "Enabled"})
    create_exports_bucket(s3, config.exports_bucket, config.export_ttl_days)
    create_queue_with_dlq(sqs, config.exports_queue)
    create_queue_with_dlq(sqs, config.notifications_queue)
    return s3


def _run_worker(export_id: str, env: Dict[str, str]) -> Dict[str, Any]:
    done = subprocess.run([sys.executable, "-m", "bench.case_export", "--worker", export_id], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=1800)
    if done.returncode != 0:
        raise SystemExit(f"the worker failed:\n{done.stdout}\n{done.stderr}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def _check(s3: Any, config: Any, export_id: str, download_to: Path = None) -> Dict[str, Any]:
    from chalicelib.investigations import exports
    from chalicelib.investigations.tables import CaseExport

    item = CaseExport.get(export_id, consistent_read=True)
    assert item.status == "ready", item.status
    for entry in item.files:
        size = s3.head_object(Bucket=config.exports_bucket, Key=exports.object_key(item, entry.path))["ContentLength"]
        assert size == int(entry.size), entry.path
    checked = None
    if download_to is not None:
        for entry in item.files:
            target = download_to / entry.path
            target.parent.mkdir(parents=True, exist_ok=True)
            s3.download_file(config.exports_bucket, exports.object_key(item, entry.path), str(target))
        done = subprocess.run(["sha256sum", "-c", "SHA256SUMS"], cwd=download_to, capture_output=True, text=True)
        checked = {"exit": done.returncode, "ok": done.stdout.count(": OK")}
    return {"files": len(item.files), "sha256sum": checked}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--gib", type=float, default=1.0)
    parser.add_argument("--files", type=int, default=10)
    parser.add_argument("--small-mib", type=float, default=100.0)
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        return worker(args.worker)

    need = (args.gib * 2**30 + args.small_mib * MIB) * 2.2  # originals and copies (moto may spool both)
    free = shutil.disk_usage(tempfile.gettempdir()).free
    print(f"disk: {free / 2**30:.0f} GiB free in {tempfile.gettempdir()}, about {need / 2**30:.1f} GiB needed")
    import logging

    from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # one line per request otherwise

    port = _free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    endpoint = f"http://127.0.0.1:{port}"
    env = {**os.environ, **_environ(endpoint)}
    os.environ.update(_environ(endpoint))
    try:
        from chalicelib.base.config import get_config

        s3 = _provision(endpoint)
        config = get_config()
        large = int(args.gib * 2**30)
        cases = {
            f"{args.gib:g} GiB in {args.files} files": [large // args.files + (1 if i < large % args.files else 0)
                                                         for i in range(args.files)],
            f"{args.small_mib:g} MiB in 1 file": [int(args.small_mib * MIB)],
        }
        results = {}
        for seed, (name, sizes) in enumerate(cases.items(), start=1):
            started = time.perf_counter()
            export_id = _set_up_case(s3, config, f"BENCH/{seed}/26", sizes, seed)
            set_up = time.perf_counter() - started
            measured = _run_worker(export_id, env)
            with tempfile.TemporaryDirectory() as folder:
                checked = _check(s3, config, export_id, Path(folder) if seed == len(cases) else None)
            footage = sum(sizes)
            through = measured["rchar"] + measured["wchar"] + measured["socket_received"] + measured["socket_sent"]
            results[name] = {**measured, "footage": footage, **checked}
            print(f"\n{name} ({footage / MIB:,.0f} MiB of footage; set up in {set_up:.0f} s)")
            print(f"  build: {measured['outcome']} in {measured['wall_s']:.2f} s wall, {checked['files']} files")
            print(f"  through the worker during the build: sockets received {measured['socket_received'] / 1024:,.0f} KiB, "
                  f"sent {measured['socket_sent'] / 1024:,.0f} KiB; files (/proc/self/io) read "
                  f"{measured['rchar'] / 1024:,.0f} KiB, wrote {measured['wchar'] / 1024:,.0f} KiB; "
                  f"in all {through / 1024:,.0f} KiB = {through / footage:.4%} of the footage")
            print(f"  whole worker process (imports included): read {measured['process_rchar'] / MIB:,.1f} MiB, "
                  f"wrote {measured['process_wchar'] / MIB:,.1f} MiB")
            print(f"  peak memory (VmHWM): {measured['maxrss_kib'] / 1024:.1f} MiB")
            if checked["sha256sum"]:
                print(f"  sha256sum -c SHA256SUMS over the downloaded folder: exit {checked['sha256sum']['exit']}, "
                      f"{checked['sha256sum']['ok']} files OK")
        (big, small) = results.values()
        ratio = big["maxrss_kib"] / small["maxrss_kib"]
        print(f"\npeak memory, large case / small case: {ratio:.3f} "
              f"({'within' if abs(ratio - 1) <= 0.10 else 'NOT within'} 10%)")
        for name, r in results.items():
            through = r["rchar"] + r["wchar"] + r["socket_received"] + r["socket_sent"]
            verdict = "none of the footage passed through" if through < r["footage"] / 100 else "FOOTAGE MAY HAVE PASSED THROUGH"
            print(f"{name}: {through / MIB:.2f} MiB through the worker for {r['footage'] / MIB:,.0f} MiB of footage "
                  f"({through / r['footage']:.3%}): {verdict}")
    finally:
        server.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
