"""cfn-lint and checkov on the synthesised template, and the Lambda deployment package."""
from __future__ import annotations

import ast
import json
import re
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from .conftest import REPO, clean_environment, resources

CHECKOV = REPO / ".venv-tools" / "bin" / "checkov"
# Lambda's unzipped limit is 250 MB; stay well below it.
PACKAGE_BUDGET_BYTES = 120 * 1024 * 1024
# Zipped: what every deployment uploads, and what every cold start fetches. The runtime's boto3
# and its dependencies are left out of the package (docs/decisions.md, 2026-12-02).
PACKAGE_ZIPPED_BUDGET_BYTES = 10 * 1024 * 1024
# Provided by the Lambda runtime (packaging.RUNTIME_PROVIDED), or imported by nothing (docutils):
# distribution name -> top-level module.
LEFT_OUT = {"boto3": "boto3", "botocore": "botocore", "s3transfer": "s3transfer", "jmespath": "jmespath",
            "python_dateutil": "dateutil", "six": "six", "urllib3": "urllib3", "docutils": "docutils"}


def test_cfn_lint_finds_no_errors(template_file: Path):
    result = subprocess.run(
        [sys.executable, "-m", "cfnlint", "--format", "json", str(template_file)],
        capture_output=True, text=True, env=clean_environment(),
    )
    findings = json.loads(result.stdout or "[]")
    levels = {}
    for finding in findings:
        levels[finding["Level"]] = levels.get(finding["Level"], 0) + 1
    print(f"cfn-lint: {levels or 'no findings'}")
    assert [f for f in findings if f["Level"] == "Error"] == [], json.dumps(findings, indent=1)[:5000]
    assert [f for f in findings if f["Level"] == "Warning"] == [], json.dumps(findings, indent=1)[:5000]


@pytest.fixture(scope="module")
def checkov_report(template_file: Path) -> dict:
    assert CHECKOV.exists(), "checkov is installed by `make deps` into .venv-tools/"
    result = subprocess.run(
        [str(CHECKOV), "--file", str(template_file), "--framework", "cloudformation", "--output", "json",
         "--skip-download"],
        capture_output=True, text=True, env=clean_environment(), timeout=300,
    )
    report = json.loads(result.stdout)
    return report[0] if isinstance(report, list) else report


def test_checkov_has_no_failed_checks(checkov_report):
    summary = checkov_report["summary"]
    print(f"checkov: {summary['passed']} passed, {summary['failed']} failed, {summary['skipped']} skipped")
    failed = [(c["check_id"], c["resource"], c["check_name"]) for c in checkov_report["results"]["failed_checks"]]
    assert failed == []
    assert summary["passed"] > 50


def test_every_checkov_suppression_has_a_reason_and_is_used(cfn, checkov_report):
    skipped = checkov_report["results"]["skipped_checks"]
    for check in skipped:
        assert len(check["check_result"].get("suppress_comment", "")) > 20, check["check_id"]
    declared = {(logical_id, skip["id"])
                for logical_id, resource in cfn["Resources"].items()
                for skip in resource.get("Metadata", {}).get("checkov", {}).get("skip", [])}
    used = {(c["resource"].split(".", 1)[1], c["check_id"]) for c in skipped}
    assert declared == used, "suppressions that match no finding are stale: remove them"


# ------------------------------------------------------------------------------ package


@pytest.fixture(scope="module")
def package(cfn, cloud_assembly: Path) -> Path:
    keys = {f["Properties"]["CodeUri"]["Key"] for f in resources(cfn, "AWS::Serverless::Function").values()}
    assert len(keys) == 1, "every function runs the one Chalice package"
    return cloud_assembly / f"asset.{keys.pop()}"


def test_package_size_is_measured_and_within_budget(package: Path):
    zipped = package.stat().st_size
    with zipfile.ZipFile(package) as archive:
        unzipped = sum(i.file_size for i in archive.infolist())
    print(f"deployment package: {zipped} bytes zipped, {unzipped} bytes unzipped")
    assert zipped <= PACKAGE_ZIPPED_BUDGET_BYTES, (
        f"deployment package is {zipped} bytes zipped ({unzipped} unzipped), over the "
        f"{PACKAGE_ZIPPED_BUDGET_BYTES} bytes budget"
    )
    assert unzipped < PACKAGE_BUDGET_BYTES


def test_package_leaves_out_what_the_runtime_provides_and_dead_files(package: Path):
    with zipfile.ZipFile(package) as archive:
        names = archive.namelist()
    top_level = {n.split("/", 1)[0].removesuffix(".py") for n in names}
    assert not top_level & set(LEFT_OUT.values())
    assert not {n.split("-", 1)[0].lower() for n in top_level if n.endswith(".dist-info")} & set(LEFT_OUT)
    assert not [n for n in names if n.endswith((".pyi", "/py.typed")) or "/tests/" in n]
    assert ".complete" not in names, "the build's cache marker belongs outside vendor/"


def test_package_has_the_app_templates_and_dependencies_for_the_runtime(cfn, package: Path):
    runtime = {f["Properties"]["Runtime"] for f in resources(cfn, "AWS::Serverless::Function").values()}
    (version,) = {r.removeprefix("python").replace(".", "") for r in runtime}
    with zipfile.ZipFile(package) as archive:
        names = set(archive.namelist())
    assert {"app.py", "chalicelib/__init__.py", "chalicelib/tables.py", "chalicelib/base/store.py"} <= names
    templates = {p.relative_to(REPO / "templates" / "email").as_posix()
                 for p in (REPO / "templates" / "email").rglob("*") if p.is_file()}
    assert {f"chalicelib/email_templates/{t}" for t in templates} <= names
    top_level = {n.split("/", 1)[0] for n in names}
    assert {"pynamodb", "pydantic", "pydantic_core", "jinja2", "geohash2", "aws_lambda_powertools",
            "email_validator", "jwt", "cryptography"} <= top_level
    extensions = [n for n in names if n.endswith(".so")]
    assert extensions
    for name in extensions:
        assert re.search(rf"cpython-{version}-x86_64-linux-gnu\.so$|abi3\.so$|^[^.]+\.so$", name), name
    assert not [n for n in names if "cpython-311" in n], "built for the wrong Python"


REMOVED_FROM_STDLIB = {  # by Python 3.13 (PEP 594, distutils, imp)
    "aifc", "audioop", "cgi", "cgitb", "chunk", "crypt", "imghdr", "mailcap", "msilib", "nis", "nntplib",
    "ossaudiodev", "pipes", "sndhdr", "spwd", "sunau", "telnetlib", "uu", "xdrlib", "distutils", "imp",
    "asynchat", "asyncore", "smtpd", "lib2to3",
}


def test_app_code_imports_nothing_the_lambda_runtime_lacks():
    """Tests run on Python 3.11, Lambda on 3.13: catch modules 3.13 no longer has."""
    for path in [REPO / "app.py", *sorted((REPO / "chalicelib").rglob("*.py"))]:
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names = [node.module]
            for name in names:
                assert name.split(".")[0] not in REMOVED_FROM_STDLIB, f"{path.name} imports {name}"


def test_build_leaves_the_working_tree_alone():
    assert not (REPO / "chalicelib" / "email_templates").exists()
