"""Print an access token for the local stack's demo officer (``make officer-token``): the
password, then the TOTP code computed from the demo secret (local/officer_sign_in.py).

    curl -H "Authorization: Bearer $(make -s officer-token)" http://127.0.0.1:8000/officer/...
"""
from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

import boto3

from local.officer_sign_in import SignInRefused, sign_in, totp_code

ROOT = Path(__file__).resolve().parent.parent


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--var-dir", default=os.environ.get("SIGHTLINE_VAR_DIR", str(ROOT / "var")))
    who = parser.add_mutually_exclusive_group()
    who.add_argument("--supervisor", action="store_true", help="the demo supervisor instead of the demo officer")
    who.add_argument("--auditor", action="store_true", help="the demo auditor (reads the audit log only)")
    parser.add_argument("--username", help="default: the demo officer")
    parser.add_argument("--password")
    parser.add_argument("--totp-secret", help="default: the demo users' secret (moto has one for everyone)")
    args = parser.parse_args(argv)
    path = Path(args.var_dir) / "local.json"
    if not path.exists():
        print(f"{path} not found: start the local stack with 'make run' first.", file=sys.stderr)
        return 1
    local = json.loads(path.read_text())
    cognito = boto3.session.Session().client(
        "cognito-idp",
        region_name=local["region"],
        endpoint_url=local["aws_endpoint"],
        aws_access_key_id="local",
        aws_secret_access_key="local",
    )
    demo = local["demo_supervisor" if args.supervisor else "demo_auditor" if args.auditor else "demo_officer"]
    secret = args.totp_secret or local["demo_totp_secret"]
    try:
        result = sign_in(
            cognito,
            local["user_pool_client_id"],
            args.username or demo["username"],
            args.password or demo["password"],
            code=lambda: totp_code(secret),
        )
    except SignInRefused as refused:
        print(f"sign-in refused: {refused}", file=sys.stderr)
        return 1
    print(result["AccessToken"])
    return 0


if __name__ == "__main__":
    sys.exit(main())
