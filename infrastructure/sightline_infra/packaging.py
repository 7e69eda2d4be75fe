"""Preparing the Chalice project for ``chalice.cdk``: a staged copy with its dependencies
built for the Lambda runtime.

Why a staged copy: Chalice packages ``app.py``, ``chalicelib/`` and ``vendor/``, but the email
templates live in ``templates/email/``. Copying them into the real
``chalicelib/email_templates/`` would leave a copy there that ``chalicelib/mail/sending.py`` prefers to
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

What is left out of ``vendor/`` (see docs/decisions.md, 2026-12-02):

* What the Lambda runtime provides (``RUNTIME_PROVIDED``): the Python runtimes include boto3
  and its dependency closure (botocore, s3transfer, jmespath, python-dateutil, six, urllib3).
  requirements.txt leaves boto3 out, but pynamodb requires botocore (and Powertools jmespath),
  so pip installs botocore and its dependencies all the same: about 62% of the zipped package,
  and a botocore that does not match the runtime's boto3. How: pip installs the requirements
  with their dependencies as before (so pip's resolver still checks that they fit together),
  then each runtime-provided distribution is removed file by file as listed in its
  ``.dist-info/RECORD``, dist-info included. Installing a computed closure with ``--no-deps``
  would need a second resolution and would lose that check for nothing.
* Distributions installed as a dependency that nothing in the package imports
  (``NEVER_IMPORTED``): docutils, which geohash2 declares but never imports (its only importer
  was botocore's documentation generator). The build fails if any remaining module imports one.
* Files no code reads at run time (``_DEAD_FILES``, ``_DEAD_DIRS``): type stubs (``*.pyi``,
  ``py.typed``) and test folders inside packages.

The built dependencies are cached under a name hashed from requirements.txt, the runtime and
everything above (``_recipe``), so changing any of it never reuses an older build.
"""
from __future__ import annotations

import fnmatch
import hashlib
import importlib.metadata
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Dict, Iterable, List, Set, Tuple

REPO = Path(__file__).resolve().parents[2]
BUILD = REPO / "infrastructure" / "build"
STAGED_PROJECT = BUILD / "chalice-project"

LAMBDA_RUNTIME = "python3.13"
LAMBDA_ARCHITECTURE = "x86_64"
# Lambda's Python 3.13 runtime is Amazon Linux 2023: glibc 2.34.
_GLIBC_MINOR_MAX = 34

# boto3 and its dependency closure: the Lambda Python runtimes include them (their versions are
# AWS's choice, see docs/decisions.md). Names as pip normalises them.
RUNTIME_PROVIDED = ("boto3", "botocore", "s3transfer", "jmespath", "python-dateutil", "six", "urllib3")
# Installed as someone's dependency, imported by nothing in the package.
NEVER_IMPORTED = ("docutils",)
# Files and folders inside the dependencies that nothing reads at run time.
_DEAD_FILES = ("*.pyi", "py.typed")
_DEAD_DIRS = ("tests",)
# Bump when the way the dependencies are built changes in a way the names above do not show.
_RECIPE_VERSION = 2

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
    """requirements.txt installed for the Lambda runtime, less what the package does not need
    (see the module's docstring), cached by its content and the recipe."""
    digest = hashlib.sha256(_recipe(requirements.read_text()).encode()).hexdigest()[:16]
    target = BUILD / f"dependencies-{LAMBDA_RUNTIME}-{digest}"
    # The marker sits next to the folder: everything inside it goes into the package.
    complete = target.with_name(target.name + ".complete")
    if complete.exists() and target.is_dir():
        return target
    complete.unlink(missing_ok=True)
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
    left_out = remove_distributions(target, RUNTIME_PROVIDED + NEVER_IMPORTED)
    _check_not_imported(
        target, [m for name in map(_canonical, NEVER_IMPORTED) if name in left_out for m in left_out[name][1]]
    )
    _remove_dead_files(target)
    _prune_empty_directories(target)
    target.with_name(target.name + ".left-out.txt").write_text(
        "Installed by pip and left out of the package (see packaging.py):\n"
        + "".join(f"{name}=={version}\n" for name, (version, _) in sorted(left_out.items()))
    )
    complete.touch()
    return target


def _recipe(requirements_text: str) -> str:
    return json.dumps(
        {
            "requirements": requirements_text,
            "runtime": LAMBDA_RUNTIME,
            "architecture": LAMBDA_ARCHITECTURE,
            "runtime_provided": sorted(RUNTIME_PROVIDED),
            "never_imported": sorted(NEVER_IMPORTED),
            "dead_files": sorted(_DEAD_FILES),
            "dead_dirs": sorted(_DEAD_DIRS),
            "recipe": _RECIPE_VERSION,
        },
        sort_keys=True,
    )


def _canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def remove_distributions(target: Path, names: Iterable[str]) -> Dict[str, Tuple[str, Set[str]]]:
    """Delete the installed distributions ``names`` (those present) from ``target``: every file
    their RECORD lists, and their dist-info folder. Returns {name: (version, top-level modules)}
    of what was removed."""
    wanted = {_canonical(n) for n in names}
    root = target.resolve()
    removed: Dict[str, Tuple[str, Set[str]]] = {}
    for dist in list(importlib.metadata.distributions(path=[str(target)])):
        name, version = _canonical(dist.metadata["Name"]), dist.version  # read before deleting
        if name not in wanted:
            continue
        if not dist.files:
            raise PackagingError(f"{name} {version} has no RECORD: cannot tell its files")
        modules: Set[str] = set()
        metadata_folders: Set[Path] = set()
        for file in dist.files:
            path = (target / file).resolve()
            if root not in path.parents:  # ../../bin/ scripts and the like
                continue
            top = path.relative_to(root).parts[0]
            if top.endswith(".dist-info"):
                metadata_folders.add(root / top)
            else:
                modules.add(top.removesuffix(".py"))
            if path.is_file():
                path.unlink()
        for folder in metadata_folders:
            shutil.rmtree(folder, ignore_errors=True)
        removed[name] = (version, modules)
    return removed


def _check_not_imported(target: Path, modules: Iterable[str]) -> None:
    """Fail the build if any module left in ``target`` imports one of ``modules``."""
    modules = sorted(set(modules))
    if not modules:
        return
    pattern = re.compile(
        rf"^\s*(?:import|from)\s+(?:{'|'.join(re.escape(m) for m in modules)})\b"
        rf"|import_module\(\s*['\"](?:{'|'.join(re.escape(m) for m in modules)})\b",
        re.MULTILINE,
    )
    for path in target.rglob("*.py"):
        match = pattern.search(path.read_text(encoding="utf-8", errors="replace"))
        if match:
            raise PackagingError(
                f"{path.relative_to(target)} imports {match.group(0).strip()!r}, which the build "
                "leaves out as never imported: take its distribution off NEVER_IMPORTED in packaging.py"
            )


def _remove_dead_files(target: Path) -> None:
    for path in sorted(target.rglob("*"), reverse=True):
        relative = path.relative_to(target)
        if path.is_dir() and not path.is_symlink():
            # Only inside a package, never a top-level distribution called "tests".
            if len(relative.parts) > 1 and path.name in _DEAD_DIRS:
                shutil.rmtree(path)
        elif any(fnmatch.fnmatch(path.name, pattern) for pattern in _DEAD_FILES):
            path.unlink()


def _prune_empty_directories(target: Path) -> None:
    for directory in sorted((p for p in target.rglob("*") if p.is_dir()), key=lambda p: len(p.parts), reverse=True):
        if not any(directory.iterdir()):
            directory.rmdir()


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
