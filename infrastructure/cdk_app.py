#!/usr/bin/env python3
"""Sightline's CDK app: ``make synth`` / ``make deploy`` (or ``npx cdk ...`` in this folder).

Not named app.py: Chalice imports the application as the module ``app`` while packaging,
and this file must never be mistaken for it.

Context (``-c key=value``; see sightline_infra/settings.py): prefix, region, force_name,
site_domain, site_certificate_arn, sender_email, alert_email, tile_url, log_retention_days,
apigateway_cloudwatch_role, cognito_threat_protection, api_rate_limit_per_ip,
owner_request_rate_limit_per_ip.
"""
from __future__ import annotations

import os
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
# This process imports app.py and chalicelib from the staged project (Python 3.11): their
# bytecode would land in the stage's __pycache__/ folders, and so in the Lambda package, which
# carries 3.13 bytecode only (see sightline_infra/packaging.py).
sys.dont_write_bytecode = True

from sightline_infra import packaging  # noqa: E402

# CDK feature flags, here rather than in cdk.json so that running this file directly (as the
# tests do) and through the CDK CLI build the same template.
FEATURE_FLAGS = {
    "@aws-cdk/aws-iam:minimizePolicies": True,
    "@aws-cdk/aws-s3:serverAccessLogsUseBucketPolicy": True,
    "@aws-cdk/aws-s3:createDefaultLoggingPolicy": True,
    "@aws-cdk/aws-s3:setUniqueReplicationRoleName": True,
    "@aws-cdk/aws-sns-subscriptions:restrictSqsDescryption": True,
    "@aws-cdk/core:target-partitions": ["aws"],
}


def main() -> None:
    # The staged project goes first on the path: chalicelib (for the models) and app are
    # imported from the copy Chalice packages, never from the working tree by accident.
    project = packaging.stage_project()
    sys.path.insert(0, str(project))

    import aws_cdk as cdk

    from sightline_infra.settings import Settings
    from sightline_infra.stack import SightlineStack

    outdir = os.path.abspath(os.environ.get("CDK_OUTDIR", str(HERE / "cdk.out")))
    app = cdk.App(outdir=outdir, analytics_reporting=False, context=FEATURE_FLAGS)
    settings = Settings.from_context(app.node.try_get_context, account=os.environ.get("CDK_DEFAULT_ACCOUNT"))
    # Chalice creates a boto3 session while packaging; it needs a region, never credentials.
    os.environ.setdefault("AWS_DEFAULT_REGION", settings.region)
    packaging.clean_chalice_out(packaging.BUILD)
    os.chdir(packaging.BUILD)  # chalice.cdk writes chalice.out/ into the working directory
    SightlineStack(app, settings=settings, env=cdk.Environment(account=settings.account, region=settings.region))
    app.synth()


if __name__ == "__main__":
    main()
