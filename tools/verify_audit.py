"""Check the audit log: its hash chain in DynamoDB against its locked copies in S3.

    python -m tools.verify_audit [--bucket NAME] [--details]

Reads every entry of the chain (strongly consistent Query) and the first version of every copy
under ``audit/`` (later versions are reported: nothing should overwrite a copy), then reports
broken links, tampered entries, gaps in the numbering, entries without a copy, copies that
differ from their entry. Entries whose retention has ended may be gone: the chain then starts at
the oldest remaining entry, and the summary says how many went before it. Exits 1 on any
problem, 0 otherwise. It reads the application's configuration from the environment
(``SIGHTLINE_*``: prefix, table and bucket names, endpoints of the local stack), with read
rights on the audit table and bucket (an auditor's or operator's credentials, not the API's).
"""
from __future__ import annotations

import argparse
import sys
from typing import Any, Dict, List, Optional, Sequence

from chalicelib.base import clients
from chalicelib.base.audit import CHAIN, COPY_PREFIX, AuditEntry, fields_of, verify_chain
from chalicelib.base.config import get_config


def read_entries() -> List[Dict[str, Any]]:
    """Every entry still in the table, oldest first, as hashed."""
    return [fields_of(entry) for entry in AuditEntry.query(CHAIN, consistent_read=True)]


def read_copies(s3: Any, bucket: str) -> Dict[int, List[bytes]]:
    """seq → the bytes of every version of its copy, oldest first."""
    keys: Dict[str, List[str]] = {}
    for page in s3.get_paginator("list_object_versions").paginate(Bucket=bucket, Prefix=COPY_PREFIX):
        for version in page.get("Versions", []):
            keys.setdefault(version["Key"], []).append(version["VersionId"])
    copies: Dict[int, List[bytes]] = {}
    for key, version_ids in keys.items():
        name = key[len(COPY_PREFIX):].removesuffix(".json")
        if not name.isdigit():
            continue
        # S3 lists a key's versions newest first.
        copies[int(name)] = [
            s3.get_object(Bucket=bucket, Key=key, VersionId=version_id)["Body"].read()
            for version_id in reversed(version_ids)
        ]
    return copies


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.verify_audit", description=__doc__.splitlines()[0])
    parser.add_argument("--bucket", help="the audit bucket (default: SIGHTLINE_AUDIT_BUCKET or <prefix>-audit)")
    parser.add_argument("--details", action="store_true", help="list every seq number with a problem")
    args = parser.parse_args(argv)
    bucket = args.bucket or get_config().audit_bucket
    found = verify_chain(read_entries(), read_copies(clients.client("s3"), bucket))
    for name in found.PROBLEMS:
        seqs = getattr(found, name)
        if seqs:
            shown = seqs if args.details else seqs[:20]
            more = "" if len(shown) == len(seqs) else f" … and {len(seqs) - len(shown)} more (--details)"
            print(f"{name.replace('_', ' ')}: seq {', '.join(map(str, shown))}{more}")
    print(found.summary())
    return 0 if found.ok else 1


if __name__ == "__main__":
    sys.exit(main())
