"""Synthesise the CDK app once per test session; every infrastructure test reads that output.

Synthesis runs in a fresh interpreter, as ``make synth`` does: the app imports the Chalice
application while packaging, and must not see this session's environment or modules.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, Dict, Iterator, List, Tuple

import pytest

REPO = Path(__file__).resolve().parents[2]
INFRASTRUCTURE = REPO / "infrastructure"
STACK_FILE = "prod.template.json"

# A production-shaped deployment: custom site domain, alert email, map tiles.
CONTEXT = {
    "prefix": "sightline",
    "force_name": "Example Police",
    "site_domain": "cameras.example-police.uk",
    "site_certificate_arn": "arn:aws:acm:us-east-1:111111111111:certificate/00000000-0000-0000-0000-000000000000",
    "sender_email": "no-reply@cameras.example-police.uk",
    "alert_email": "ops@example-police.uk",
    "tile_url": "https://{s}.tile.example.org/{z}/{x}/{y}.png",
    # The force's networks: officer routes only from there (documentation ranges).
    "officer_ip_ranges": "203.0.113.0/24, 198.51.100.16/28, 2001:db8:1234::/48",
}
SITE_ORIGIN = "https://cameras.example-police.uk"


# Build settings, not the app's: kept (packaging.PYTHON_ENV, the CPython the package is compiled with).
BUILD_SETTINGS = ("SIGHTLINE_PYTHON_313",)


def clean_environment(**extra: str) -> Dict[str, str]:
    """This session's environment without the app's settings the service tests put in it."""
    env = {k: v for k, v in os.environ.items()
           if k in BUILD_SETTINGS or not k.startswith(("SIGHTLINE_", "POWERTOOLS_", "CDK_"))}
    env["JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION"] = "20"
    env.update(extra)
    return env


def synthesise(outdir: Path, context: Dict[str, Any]) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, str(INFRASTRUCTURE / "cdk_app.py")],
        cwd=INFRASTRUCTURE,
        env=clean_environment(CDK_OUTDIR=str(outdir), CDK_CONTEXT_JSON=json.dumps(context)),
        capture_output=True,
        text=True,
        timeout=600,
    )


@pytest.fixture(scope="session")
def cloud_assembly(tmp_path_factory: pytest.TempPathFactory) -> Path:
    outdir = tmp_path_factory.mktemp("cdk.out")
    started = time.monotonic()
    result = synthesise(outdir, CONTEXT)
    assert result.returncode == 0, f"synthesis failed:\n{result.stdout[-3000:]}\n{result.stderr[-6000:]}"
    print(f"synthesised in {time.monotonic() - started:.1f} s")
    return outdir


@pytest.fixture(scope="session")
def template_file(cloud_assembly: Path) -> Path:
    return cloud_assembly / STACK_FILE


@pytest.fixture(scope="session")
def cfn(template_file: Path) -> Dict[str, Any]:
    """The synthesised template as plain JSON."""
    return json.loads(template_file.read_text())


@pytest.fixture(scope="session")
def template(cfn: Dict[str, Any]):
    """The same template for ``aws_cdk.assertions``."""
    from aws_cdk.assertions import Template

    return Template.from_json(cfn)


def resources(cfn: Dict[str, Any], type_: str) -> Dict[str, Dict[str, Any]]:
    return {k: v for k, v in cfn["Resources"].items() if v["Type"] == type_}


def only(cfn: Dict[str, Any], type_: str) -> Tuple[str, Dict[str, Any]]:
    found = resources(cfn, type_)
    assert len(found) == 1, f"expected one {type_}, found {sorted(found)}"
    return next(iter(found.items()))


def refs(value: Any) -> Iterator[str]:
    """Every logical id a template value refers to (Ref, GetAtt, ${X} in Sub)."""
    if isinstance(value, dict):
        if "Ref" in value:
            yield value["Ref"]
        if "Fn::GetAtt" in value:
            yield value["Fn::GetAtt"][0]
        if "Fn::Sub" in value:
            text = value["Fn::Sub"] if isinstance(value["Fn::Sub"], str) else value["Fn::Sub"][0]
            import re

            yield from (m.split(".")[0] for m in re.findall(r"\$\{([^}!]+)\}", text))
        for v in value.values():
            yield from refs(v)
    elif isinstance(value, list):
        for v in value:
            yield from refs(v)


def statements(policy_document: Dict[str, Any]) -> List[Dict[str, Any]]:
    found = policy_document["Statement"]
    return found if isinstance(found, list) else [found]


def as_list(value: Any) -> List[Any]:
    return value if isinstance(value, list) else [value]


# Actions AWS offers no resource-level permissions for: the only ones allowed on "*".
STAR_RESOURCE_ALLOWED = {
    "xray:PutTraceSegments", "xray:PutTelemetryRecords", "xray:GetSamplingRules", "xray:GetSamplingTargets",
    # CloudWatch Logs' vended log delivery (Step Functions logging)
    "logs:CreateLogDelivery", "logs:GetLogDelivery", "logs:UpdateLogDelivery", "logs:DeleteLogDelivery",
    "logs:ListLogDeliveries", "logs:PutResourcePolicy", "logs:DescribeResourcePolicies", "logs:DescribeLogGroups",
}


def assert_least_privilege(cfn: Dict[str, Any]) -> None:
    """No wildcard action anywhere; "*" as a resource only for actions that cannot be scoped."""
    documents = [(k, p["PolicyDocument"]) for k, r in resources(cfn, "AWS::IAM::Role").items()
                 for p in r["Properties"].get("Policies", [])]
    documents += [(k, r["Properties"]["PolicyDocument"]) for k, r in resources(cfn, "AWS::IAM::Policy").items()]
    assert documents
    for logical_id, document in documents:
        for statement in statements(document):
            actions = as_list(statement["Action"])
            assert not any("*" in a for a in actions), (logical_id, actions)
            if "*" in as_list(statement["Resource"]):
                assert set(actions) <= STAR_RESOURCE_ALLOWED, (logical_id, actions)


def site_distribution(cfn: Dict[str, Any]) -> Tuple[str, Dict[str, Any]]:
    """The residents' site's distribution (the console has its own)."""
    (found,) = [(k, v) for k, v in resources(cfn, "AWS::CloudFront::Distribution").items()
                if "residents' site" in v["Properties"]["DistributionConfig"]["Comment"]]
    return found


def site_headers_policy(cfn: Dict[str, Any]) -> Tuple[str, Dict[str, Any]]:
    (found,) = [(k, v) for k, v in resources(cfn, "AWS::CloudFront::ResponseHeadersPolicy").items()
                if v["Properties"]["ResponseHeadersPolicyConfig"]["Name"].endswith("-site-security-headers")]
    return found
