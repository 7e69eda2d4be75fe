"""Preparing the Chalice project for ``chalice.cdk``: a staged copy with its dependencies
built for the Lambda runtime.

Why a staged copy: Chalice packages ``app.py``, ``chalicelib/`` and ``vendor/``, but the email
templates live in ``templates/email/``. Copying them into the real
``chalicelib/email_templates/`` would leave a copy there that ``notifications.py`` prefers to
the real templates, so a developer's tests would silently render a stale copy after editing a
template. The build therefore stages the project under ``infrastructure/build/`` (ignored by
git) and adds the templates to the staged ``chalicelib/`` only.

Why we build the dependencies, not Chalice: the functions run on Python 3.13 (3.11's Lambda
runtime was deprecated on 2026-06-30) but our machines package with Python 3.11, and
Chalice fetches wheels for the Python that runs it: it cannot cross-build binary packages for
another Python version (it asks pip for cp313 wheels without ``--python-version``, finds
none, warns and carries on without them). pip itself can: ``pip install --target`` with
``--platform``/``--python-version``/``--abi`` installs the manylinux cp313 wheels into
``vendor/``, which Chalice copies into the package as is. The few pure-Python packages
published only as source (geohash2) are first built into wheels here.
"""
from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import List

REPO = Path(__file__).resolve().parents[2]
BUILD = REPO / "infrastructure" / "build"
STAGED_PROJECT = BUILD / "chalice-project"

LAMBDA_RUNTIME = "python3.13"
LAMBDA_ARCHITECTURE = "x86_64"
# Lambda's Python 3.13 runtime is Amazon Linux 2023: glibc 2.34.
_GLIBC_MINOR_MAX = 34

_IGNORE = shutil.ignore_patterns("__pycache__", "*.pyc", "email_templates")


class PackagingError(RuntimeError):
    pass


def stage_project() -> Path:
    """Copy what Chalice packages into the stage, with the email templates inside chalicelib
    and the dependencies in vendor/ (requirements.txt left empty for Chalice)."""
    STAGED_PROJECT.mkdir(parents=True, exist_ok=True)
    (STAGED_PROJECT / ".chalice").mkdir(exist_ok=True)
    shutil.copy2(REPO / "app.py", STAGED_PROJECT / "app.py")
    shutil.copy2(REPO / ".chalice" / "config.json", STAGED_PROJECT / ".chalice" / "config.json")
    (STAGED_PROJECT / "requirements.txt").write_text(
        "# Empty on purpose: the build installs requirements.txt into vendor/ for the Lambda runtime.\n"
    )
    chalicelib = STAGED_PROJECT / "chalicelib"
    shutil.rmtree(chalicelib, ignore_errors=True)
    shutil.copytree(REPO / "chalicelib", chalicelib, ignore=_IGNORE)
    shutil.copytree(REPO / "templates" / "email", chalicelib / "email_templates")
    vendor = STAGED_PROJECT / "vendor"
    if vendor.is_symlink() or vendor.exists():
        vendor.unlink() if vendor.is_symlink() else shutil.rmtree(vendor)
    vendor.symlink_to(build_dependencies(), target_is_directory=True)
    return STAGED_PROJECT


def build_dependencies(requirements: Path = REPO / "requirements.txt") -> Path:
    """requirements.txt installed for the Lambda runtime, cached by its content."""
    digest = hashlib.sha256(
        (requirements.read_text() + LAMBDA_RUNTIME + LAMBDA_ARCHITECTURE).encode()
    ).hexdigest()[:16]
    target = BUILD / f"dependencies-{LAMBDA_RUNTIME}-{digest}"
    if (target / ".complete").exists():
        return target
    shutil.rmtree(target, ignore_errors=True)
    wheels = BUILD / "wheels"
    _pip(["wheel", "--no-deps", "--wheel-dir", str(wheels), "-r", str(requirements)])
    version = LAMBDA_RUNTIME.removeprefix("python")
    _pip(
        [
            "install",
            "--no-compile",  # .pyc files for 3.11 would be dead weight on 3.13
            "--target", str(target),
            "--find-links", str(wheels),
            "--implementation", "cp",
            "--python-version", version,
            "--abi", "cp" + version.replace(".", ""),
            "--only-binary=:all:",
            *[arg for platform in _platforms() for arg in ("--platform", platform)],
            "-r", str(requirements),
        ]
    )
    shutil.rmtree(target / "bin", ignore_errors=True)  # console scripts: not used in Lambda
    (target / ".complete").touch()
    return target


def _platforms() -> List[str]:
    return [f"manylinux_2_{minor}_{LAMBDA_ARCHITECTURE}" for minor in range(17, _GLIBC_MINOR_MAX + 1)] + [
        f"manylinux2014_{LAMBDA_ARCHITECTURE}"
    ]


def _pip(args: List[str]) -> None:
    command = [sys.executable, "-m", "pip", "--disable-pip-version-check", "--quiet", *args]
    result = subprocess.run(command, capture_output=True, text=True)
    if result.returncode != 0:
        raise PackagingError(f"{' '.join(command)} failed:\n{result.stdout}\n{result.stderr}")


def clean_chalice_out(workdir: Path) -> None:
    """chalice.cdk writes a new package under ``<cwd>/chalice.out/<uuid>/`` on every build."""
    os.makedirs(workdir, exist_ok=True)
    shutil.rmtree(workdir / "chalice.out", ignore_errors=True)
