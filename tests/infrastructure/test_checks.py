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

from .conftest import INFRASTRUCTURE, REPO, clean_environment, resources

sys.path.insert(0, str(INFRASTRUCTURE))

from sightline_infra import packaging  # noqa: E402

CHECKOV = REPO / ".venv-tools" / "bin" / "checkov"
# Lambda's unzipped limit is 250 MB; stay well below it.
PACKAGE_BUDGET_BYTES = 120 * 1024 * 1024
# Zipped: what every deployment uploads, and what every cold start fetches. The runtime's boto3
# and its dependencies are left out of the package (docs/decisions.md, 2026-12-02).
PACKAGE_ZIPPED_BUDGET_BYTES = 10 * 1024 * 1024
# Provided by the Lambda runtime (packaging.RUNTIME_PROVIDED), or imported by nothing (docutils,
# pycparser: packaging.NEVER_IMPORTED): distribution name -> top-level module.
LEFT_OUT = {"boto3": "boto3", "botocore": "botocore", "s3transfer": "s3transfer", "jmespath": "jmespath",
            "python_dateutil": "dateutil", "six": "six", "urllib3": "urllib3", "docutils": "docutils",
            "pycparser": "pycparser"}


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
    top_level = {re.sub(r"\.pyc?$", "", n.split("/", 1)[0]) for n in names}  # a module may be bytecode only
    assert not top_level & set(LEFT_OUT.values())
    assert not {n.split("-", 1)[0].lower() for n in top_level if n.endswith(".dist-info")} & set(LEFT_OUT)
    for part in packaging.UNUSED_PARTS:
        module = part.removesuffix(".py")
        assert not [n for n in names if n.startswith(module + "/") or n in (part, module + ".pyc")], part
    # cryptography's Rust extension imports cffi's extension module (not cffi's Python package).
    assert [n for n in names if re.fullmatch(r"_cffi_backend\..*\.so", n)]
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
    # The case export's continuity schedule (chalicelib/investigations/exports.py TEMPLATE_DIRS).
    assert "chalicelib/export_templates/continuity.html" in names
    top_level = {n.split("/", 1)[0] for n in names}
    assert {"pynamodb", "pydantic", "pydantic_core", "jinja2", "geohash2", "aws_lambda_powertools",
            "email_validator", "jwt", "cryptography"} <= top_level
    extensions = [n for n in names if n.endswith(".so")]
    assert extensions
    for name in extensions:
        assert re.search(rf"cpython-{version}-x86_64-linux-gnu\.so$|abi3\.so$|^[^.]+\.so$", name), name
    assert not [n for n in names if "cpython-311" in n], "built for the wrong Python"


def test_package_has_bytecode_for_the_runtime_for_every_module(package: Path):
    """Lambda's /var/task is read-only: a module without bytecode is compiled on every cold
    start. Ours keep their sources, with the bytecode in __pycache__/; third-party code ships as
    bytecode only (docs/decisions.md, 2026-12-02)."""
    with zipfile.ZipFile(package) as archive:
        names = set(archive.namelist())
        record = json.loads(archive.read(packaging.BUILD_RECORD))
        if record["bytecode"] is None:
            pytest.skip(f"the package was built without bytecode, as the build warned: {record['why_not']}")
        headers = {n: archive.read(n)[:16] for n in names if n.endswith(".pyc")}
    python = packaging.runtime_python()
    assert python is not None, "the build found a CPython 3.13 to compile with; this session finds none"
    # The runtime's magic number as the interpreter itself reports it, not as the build recorded it.
    reported = subprocess.run(
        [python.executable, "-I", "-c", "import importlib.util; print(importlib.util.MAGIC_NUMBER.hex())"],
        capture_output=True, text=True, check=True,
    ).stdout.strip()
    assert reported == record["bytecode"]["magic"]
    version = packaging.LAMBDA_RUNTIME.removeprefix("python").replace(".", "")
    assert record["bytecode"]["cache_tag"] == python.cache_tag == f"cpython-{version}"

    def cached(source: str) -> str:  # importlib.util.cache_from_source, for the runtime's tag
        folder, _, file = source.rpartition("/")
        return "/".join(filter(None, [folder, "__pycache__", f"{file[:-3]}.{python.cache_tag}.pyc"]))

    sources = {n for n in names if n.endswith(".py")}
    assert sorted(s for s in sources if cached(s) not in names) == [], "sources without bytecode"
    beside_sources = {n for n in headers if n.startswith("__pycache__/") or "/__pycache__/" in n}
    assert beside_sources == {cached(s) for s in sources}, "bytecode in __pycache__/ of a source not shipped"
    assert {s.split("/", 1)[0] for s in sources} == {"app.py", "chalice", "chalicelib"}, "third-party sources"
    without_source = set(headers) - beside_sources
    assert {"typing_extensions.pyc", "pydantic/main.pyc", "pynamodb/models.pyc", "jinja2/__init__.pyc",
            "aws_lambda_powertools/logging/logger.pyc"} <= without_source
    assert {n: h[:4].hex() for n, h in headers.items() if h[:4] != bytes.fromhex(reported)} == {}
    # Flags: hash-based (bit 0), never checked against the source (bit 1 clear).
    assert {int.from_bytes(h[4:8], "little") for h in headers.values()} == {0b01}
    print(f"bytecode for CPython {record['bytecode']['python']} (magic {reported}): {len(beside_sources)} beside "
          f"their sources, {len(without_source)} third-party modules as bytecode only")


def test_build_refuses_code_that_imports_what_it_leaves_out(tmp_path: Path):
    """The app's tests run where every dependency is installed whole: only the build can tell that
    chalicelib imports a module the package leaves out (packaging.UNUSED_PARTS)."""
    (tmp_path / "chalicelib" / "mail").mkdir(parents=True)
    ok = tmp_path / "chalicelib" / "mail" / "ok.py"
    ok.write_text("from aws_lambda_powertools.utilities.batch import BatchProcessor\nfrom . import sending\n")
    lazy = tmp_path / "chalicelib" / "mail" / "lazy.py"
    lazy.write_text("def f():\n    from ..events import api\n")
    left_out = ["aws_lambda_powertools.event_handler", "chalicelib.events"]
    packaging._check_not_imported(tmp_path, [ok], left_out, remedy="is left out")
    with pytest.raises(packaging.PackagingError, match=r"chalicelib/mail/lazy.py:2 imports chalicelib.events"):
        packaging._check_not_imported(tmp_path, [lazy], left_out, remedy="is left out")
    lazy.write_text("import importlib\nimportlib.import_module('aws_lambda_powertools.event_handler.api_gateway')\n")
    with pytest.raises(packaging.PackagingError, match=r"lazy.py:2 imports aws_lambda_powertools.event_handler"):
        packaging._check_not_imported(tmp_path, [lazy], left_out, remedy="is left out")
    packaging._check_not_imported(tmp_path, [lazy], left_out, remedy="is left out",
                                  allowed={("chalicelib.mail.lazy", "aws_lambda_powertools.event_handler"): "why"})


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
    assert not (REPO / "chalicelib" / "export_templates").exists()
