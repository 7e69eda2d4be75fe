"""How fast the evidence ingest hashes, and whether the largest accepted file fits its time limit.

    python -m bench.ingest_hash [--gib 2] [--repeat 3]

Feeds ``--gib`` GiB through ``chalicelib.footage.evidence.sha256_of`` (the ingest's own loop:
1 MiB reads, SHA-256, first bytes kept) from an in-memory stream, ``--repeat`` times, and
prints the CPU-bound rate in MiB/s per vCPU (the best run's CPU time, so other load on this
machine does not count against it). Lambda gives a function CPU in proportion to its memory,
one vCPU at 1,769 MB, so the rate at the ingest's configured memory (``.chalice/config.json``)
is that share of the per-vCPU figure. The program then prints how long the largest file
Sightline accepts (``Config.max_multipart_bytes``) takes to hash at that rate, against the
function's timeout.

What this cannot measure: how fast one S3 GET stream delivers bytes inside Lambda (and what
reading it through botocore and TLS costs in CPU on top of the hash). Only a run on AWS proves
that; the budget below assumes a slow stream (``ASSUMED_GET_MIB_S``) read *before* hashing, not
beside it, and the slower hash of a CPU without SHA extensions (run with
``OPENSSL_ia32cap=":~0x20000000"`` to measure that here). tests/unit/test_ingest_budget.py
holds the configured limit to this budget; docs/decisions.md has the figures.
"""
from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

from chalicelib.base.config import Config
from chalicelib.footage.evidence import CHUNK_BYTES, sha256_of

ROOT = Path(__file__).resolve().parent.parent
LAMBDA_MB_PER_VCPU = 1769
MIB = 2**20
# Measured with this program on 2026-12-02 (Intel Xeon, 2 cores): 1,647 MiB/s per vCPU with
# SHA extensions, 459 without. Lambda's x86 hosts are not all of one CPU generation: the
# budget takes the slower.
MEASURED_WORST_MIB_S_PER_VCPU = 459
# One S3 GET stream: not measurable off AWS. Commonly seen figures are 50-100 MiB/s; this is
# well under them.
ASSUMED_GET_MIB_S = 40
# The whole read-and-hash must fit in this share of the timeout (the rest: cold start, slower
# streams, retries of a stalled read).
BUDGET_FRACTION = 2 / 3


class _Repeating:
    """A read-only stream of ``size`` bytes that returns one pre-made buffer: no allocation or
    copying to count against the hash."""

    def __init__(self, size: int):
        self.left = size
        self.block = os.urandom(CHUNK_BYTES)

    def read(self, n: int) -> bytes:
        if self.left <= 0:
            return b""
        take = min(n, self.left, len(self.block))
        self.left -= take
        return self.block if take == len(self.block) else self.block[:take]


def measure(size: int, repeat: int) -> dict:
    runs = []
    for _ in range(repeat):
        stream = _Repeating(size)
        wall, cpu = time.perf_counter(), time.process_time()
        _, hashed, _ = sha256_of(stream)
        runs.append({"wall_s": time.perf_counter() - wall, "cpu_s": time.process_time() - cpu})
        assert hashed == size
    best = min(runs, key=lambda run: run["cpu_s"])
    return {"runs": runs, "mib_per_s_per_vcpu": size / MIB / best["cpu_s"]}


def ingest_seconds(size: int, memory_mb: int, hash_mib_s_per_vcpu: float = MEASURED_WORST_MIB_S_PER_VCPU,
                   get_mib_s: float = ASSUMED_GET_MIB_S) -> float:
    """Seconds to read ``size`` bytes from one S3 stream and hash them, one after the other."""
    share = min(1.0, memory_mb / LAMBDA_MB_PER_VCPU)
    return size / MIB / (hash_mib_s_per_vcpu * share) + size / MIB / get_mib_s


def ingest_function() -> dict:
    stages = json.loads((ROOT / ".chalice" / "config.json").read_text())["stages"]
    return stages["prod"]["lambda_functions"]["ingest_evidence"]


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--gib", type=float, default=2.0)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args(argv)
    size = int(args.gib * 2**30)
    result = measure(size, args.repeat)
    function = ingest_function()
    memory, timeout = function["lambda_memory_size"], function["lambda_timeout"]
    share = min(1.0, memory / LAMBDA_MB_PER_VCPU)
    rate = result["mib_per_s_per_vcpu"] * share
    largest = Config().max_multipart_bytes
    hash_s = largest / MIB / rate
    print(f"hashed {args.gib:g} GiB x {args.repeat}: " + ", ".join(f"{r['cpu_s']:.2f} s CPU" for r in result["runs"]))
    print(f"SHA-256 through sha256_of: {result['mib_per_s_per_vcpu']:.0f} MiB/s per vCPU")
    print(f"ingest_evidence: {memory} MB = {share:.3f} vCPU -> {rate:.0f} MiB/s")
    print(f"largest accepted file {largest / 2**30:g} GiB: {hash_s:.0f} s of hashing, "
          f"{hash_s / timeout:.0%} of the {timeout} s timeout")
    budget = ingest_seconds(largest, memory)
    print(f"budget (hash at {MEASURED_WORST_MIB_S_PER_VCPU} MiB/s per vCPU, then GET at {ASSUMED_GET_MIB_S} MiB/s): "
          f"{budget:.0f} s = {budget / timeout:.0%} of the timeout (at most {BUDGET_FRACTION:.0%})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
