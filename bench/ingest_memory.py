"""Peak memory of the evidence ingest while it hashes a large object (default 1 GiB).

    python -m bench.ingest_memory [--gib 1]

Starts moto in server mode on a free loopback port, uploads an object of pseudo-random bytes
with a multipart upload (never holding it whole in memory), then hashes it in a fresh Python
process exactly as the ingest handler does (``get_object`` streamed through
``chalicelib.footage.evidence.sha256_of``) and prints that process's peak resident memory before and
after hashing, the throughput, and whether the digest matches the one computed on upload.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BUCKET = "bench-evidence"
KEY = "requests/qbenchbenchbenchbenchbench/u000000000000000000000000/night.dav"
PART = 64 * 2**20

_CHILD = r"""
import json, os, sys, time
import boto3
from chalicelib.footage.evidence import sha256_of

def peak_mib():
    # VmHWM: this process's own peak RSS (ru_maxrss would carry the forking parent's over exec).
    for line in open("/proc/self/status"):
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024

s3 = boto3.client("s3", endpoint_url=os.environ["BENCH_ENDPOINT"], region_name="eu-west-2",
                  aws_access_key_id="bench", aws_secret_access_key="bench")
s3.head_bucket(Bucket=os.environ["BENCH_BUCKET"])
before = peak_mib()
started = time.monotonic()
body = s3.get_object(Bucket=os.environ["BENCH_BUCKET"], Key=os.environ["BENCH_KEY"])["Body"]
digest, size, head = sha256_of(body)
elapsed = time.monotonic() - started
print(json.dumps({"sha256": digest, "size": size, "seconds": elapsed,
                  "peak_rss_before_mib": before, "peak_rss_after_mib": peak_mib()}))
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def upload(s3, size: int) -> str:
    """Multipart upload of ``size`` deterministic pseudo-random bytes; returns their SHA-256."""
    s3.create_bucket(Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": "eu-west-2"})
    upload_id = s3.create_multipart_upload(Bucket=BUCKET, Key=KEY)["UploadId"]
    digest = hashlib.sha256()
    block = hashlib.sha512(b"sightline").digest() * (2**20 // 64)  # 1 MiB
    parts, sent, number = [], 0, 1
    while sent < size:
        length = min(PART, size - sent)
        chunk = bytearray()
        while len(chunk) < length:
            chunk += block[: length - len(chunk)]
            block = hashlib.sha512(block[:64]).digest() * (2**20 // 64)
        digest.update(chunk)
        etag = s3.upload_part(Bucket=BUCKET, Key=KEY, UploadId=upload_id, PartNumber=number, Body=bytes(chunk))["ETag"]
        parts.append({"PartNumber": number, "ETag": etag})
        sent += length
        number += 1
    s3.complete_multipart_upload(Bucket=BUCKET, Key=KEY, UploadId=upload_id, MultipartUpload={"Parts": parts})
    return digest.hexdigest()


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--gib", type=float, default=1.0)
    args = parser.parse_args(argv)
    size = int(args.gib * 2**30)

    import logging

    import boto3
    from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.ERROR)

    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    try:
        endpoint = f"http://127.0.0.1:{port}"
        s3 = boto3.client("s3", endpoint_url=endpoint, region_name="eu-west-2",
                          aws_access_key_id="bench", aws_secret_access_key="bench")
        started = time.monotonic()
        expected = upload(s3, size)
        print(f"uploaded {size / 2**30:.2f} GiB to moto in {time.monotonic() - started:.1f} s")
        env = {**os.environ, "BENCH_ENDPOINT": endpoint, "BENCH_BUCKET": BUCKET, "BENCH_KEY": KEY,
               "PYTHONPATH": str(ROOT)}
        out = subprocess.run([sys.executable, "-c", _CHILD], env=env, capture_output=True, text=True, check=True)
        result = json.loads(out.stdout.strip().splitlines()[-1])
    finally:
        server.stop()
    result["matches"] = result["sha256"] == expected
    result["gib"] = size / 2**30
    print(f"hashed {result['size']:,} bytes in {result['seconds']:.1f} s "
          f"({result['size'] / 2**20 / result['seconds']:.0f} MiB/s); SHA-256 matches: {result['matches']}")
    print(f"ingest process peak RSS: {result['peak_rss_before_mib']:.0f} MiB before hashing, "
          f"{result['peak_rss_after_mib']:.0f} MiB after (growth {result['peak_rss_after_mib'] - result['peak_rss_before_mib']:.0f} MiB)")
    out_dir = ROOT / "var" / "bench"
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "ingest_memory.json").write_text(json.dumps(result, indent=2) + "\n")
    return 0 if result["matches"] else 1


if __name__ == "__main__":
    sys.exit(main())
