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
* Parts of distributions that nothing in the package imports (``UNUSED_PARTS``): the
  Powertools features the app does not use (``event_handler`` with its Swagger UI assets,
  idempotency, parameters, ...) and cffi's own Python package (cryptography's Rust bindings
  load only cffi's ``_cffi_backend`` extension, which stays; pycparser, which only cffi's
  package imports, goes as ``NEVER_IMPORTED``). The build fails if any remaining module imports
  a left-out module (``_UNREACHED_IMPORTS`` names the one known exception and why), and
  ``stage_project`` fails if app.py or chalicelib does.
* Files no code reads at run time (``_DEAD_FILES``, ``_DEAD_DIRS``): type stubs (``*.pyi``,
  ``py.typed``) and test folders inside packages.

Bytecode (docs/decisions.md, 2026-12-02): Lambda's ``/var/task`` is read-only, so a package
without ``.pyc`` files compiles every module it imports on every cold start. The build compiles
the package with a CPython of the runtime's version (``runtime_python``: ``$SIGHTLINE_PYTHON_313``,
else ``python3.13`` on PATH, else pyenv's versions folder), hash-based and unchecked (the
files' mtimes mean nothing once Lambda has unzipped them, and nothing edits them there), with
the paths the code has in Lambda (``/var/task/...``) written into it:

* app.py, chalicelib/ and Chalice's runtime files keep their sources, their bytecode in
  ``__pycache__/*.cpython-313.pyc`` beside them. Chalice adds app.py and its own ``chalice/``
  files to the package itself and nothing else from the project's root, so their bytecode goes
  into ``vendor/``, which it copies to the package's root as is.
* Third-party code ships as bytecode only: ``compileall -b`` writes ``module.pyc`` beside each
  source, and the source is deleted. With the sources kept too, the package would be about
  11.8 MB zipped, over the 10 MiB budget (tracebacks through third-party frames lose their
  source lines, not their file and line numbers).

Without such an interpreter the build warns and ships sources only, as before, and says so in
``sightline-build.json`` at the package's root (``BUILD_RECORD``), which every build writes.

The built dependencies are cached under a name hashed from requirements.txt, the runtime, the
bytecode interpreter and everything above (``_recipe``), so changing any of it never reuses an
older build. One build runs at a time in a checkout (a lock file in ``infrastructure/build/``):
two synths building into one cache folder at once left a spoilt folder marked complete. ``vendor/`` is a folder of links to that cache, plus this build's bytecode of
app.py and Chalice's files and the build record.
"""
from __future__ import annotations

import ast
import contextlib
import fcntl
import fnmatch
import functools
import hashlib
import importlib.metadata
import importlib.util
import json
import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, Iterable, Iterator, List, Optional, Set, Tuple

REPO = Path(__file__).resolve().parents[2]
BUILD = REPO / "infrastructure" / "build"
STAGED_PROJECT = BUILD / "chalice-project"

LAMBDA_RUNTIME = "python3.13"
LAMBDA_ARCHITECTURE = "x86_64"
# Lambda's Python 3.13 runtime is Amazon Linux 2023: glibc 2.34.
_GLIBC_MINOR_MAX = 34
_RUNTIME_VERSION = LAMBDA_RUNTIME.removeprefix("python")  # "3.13"
# Where Lambda unpacks a function's package: the paths written into the bytecode (tracebacks).
LAMBDA_TASK_ROOT = "/var/task"
# Names the CPython to compile the bytecode with (otherwise: python3.13 on PATH, then pyenv's).
PYTHON_ENV = "SIGHTLINE_PYTHON_" + _RUNTIME_VERSION.replace(".", "")
# At the package's root: how it was built (with bytecode or not, and why not).
BUILD_RECORD = "sightline-build.json"

# boto3 and its dependency closure: the Lambda Python runtimes include them (their versions are
# AWS's choice, see docs/decisions.md). Names as pip normalises them.
RUNTIME_PROVIDED = ("boto3", "botocore", "s3transfer", "jmespath", "python-dateutil", "six", "urllib3")
# Installed as someone's dependency, imported by nothing in the package: docutils (geohash2's),
# pycparser (cffi's; only cffi's Python package, left out below, imports it).
NEVER_IMPORTED = ("docutils", "pycparser")
# Inside installed distributions (paths under vendor/), parts that nothing in the package
# imports. Not one of these modules was loaded by importing the app and running what every
# handler loads lazily (Jinja2, email-validator, PyJWT with cryptography, Powertools' batch
# utility, boto3), and the build checks that no remaining module imports them.
UNUSED_PARTS = (
    # Powertools features the app does not use. It uses logging, metrics and the batch utility
    # (which loads data_classes, parser and jmespath_utils); tracing loads with the package.
    "aws_lambda_powertools/event_handler",  # its resolvers and Swagger UI (0.45 MB zipped)
    "aws_lambda_powertools/utilities/auth_alpha",
    "aws_lambda_powertools/utilities/circuit_breaker",
    "aws_lambda_powertools/utilities/data_masking",
    "aws_lambda_powertools/utilities/feature_flags",
    "aws_lambda_powertools/utilities/idempotency",
    "aws_lambda_powertools/utilities/kafka",
    "aws_lambda_powertools/utilities/metadata",
    "aws_lambda_powertools/utilities/parameters",
    "aws_lambda_powertools/utilities/serialization.py",
    "aws_lambda_powertools/utilities/streaming",
    "aws_lambda_powertools/utilities/validation",
    # cffi's Python package builds and loads C bindings at run time. cryptography's Rust
    # extension loads only cffi's `_cffi_backend` extension, which stays.
    "cffi",
)
# Imports of left-out modules that stay in the package because they cannot run here:
# (importing module, left-out module) -> why.
_UNREACHED_IMPORTS = {
    ("aws_lambda_powertools.shared.functions", "aws_lambda_powertools.event_handler"): (
        "pydantic_to_dict imports event_handler.openapi.compat, for Logger(log_event=True) given a "
        "Pydantic model as the event (Lambda gives our handlers dicts) and for shared.json_encoder, "
        "which only the left-out parameters and idempotency utilities use"
    ),
}
# Files and folders inside the dependencies that nothing reads at run time.
_DEAD_FILES = ("*.pyi", "py.typed")
_DEAD_DIRS = ("tests",)
# Bump when the way the dependencies are built changes in a way the names above do not show.
# 4: builds no longer run two at a time (_BUILD_LOCK); never reuse a cache a race may have spoilt.
_RECIPE_VERSION = 4
# In BUILD: held while the dependencies are built or their cache is checked (build_dependencies).
_BUILD_LOCK = "dependencies.lock"

_IGNORE = shutil.ignore_patterns("__pycache__", "*.pyc", "email_templates", "export_templates")


class PackagingError(RuntimeError):
    pass


# ------------------------------------------------------------------------------ stage


def stage_project() -> Path:
    """Copy what Chalice packages into the stage, with the email templates inside chalicelib
    and the dependencies in vendor/ (requirements.txt left empty for Chalice), compiled for the
    Lambda runtime when a CPython of its version is found."""
    python = runtime_python()
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
    # The case export's continuity schedule (chalicelib/investigations/exports.py TEMPLATE_DIRS).
    shutil.copytree(REPO / "templates" / "exports", chalicelib / "export_templates")
    dependencies = build_dependencies(python=python)
    left_out = json.loads(_left_out_file(dependencies).read_text())
    _check_not_imported(
        STAGED_PROJECT,
        [STAGED_PROJECT / "app.py", *sorted(chalicelib.rglob("*.py"))],
        left_out["modules"],
        remedy="the build leaves it out of vendor/: take it off NEVER_IMPORTED or UNUSED_PARTS in packaging.py",
    )
    vendor = STAGED_PROJECT / "vendor"
    if vendor.is_symlink() or vendor.is_file():
        vendor.unlink()
    elif vendor.exists():
        shutil.rmtree(vendor)
    vendor.mkdir()
    for entry in sorted(dependencies.iterdir()):
        (vendor / entry.name).symlink_to(entry, target_is_directory=entry.is_dir())
    record: Dict[str, object] = {"runtime": LAMBDA_RUNTIME}
    if python is None:
        record.update(bytecode=None, why_not=_NO_BYTECODE)
    else:
        _compile_project(python, STAGED_PROJECT, vendor)
        record["bytecode"] = {
            **_bytecode_recipe(python),
            "python": python.version,
            "ours": "sources, and their bytecode in __pycache__/",
            "third_party": "bytecode only, beside where each source was",
        }
    (vendor / BUILD_RECORD).write_text(json.dumps(record, indent=2, sort_keys=True) + "\n")
    return STAGED_PROJECT


def _compile_project(python: Interpreter, project: Path, vendor: Path) -> None:
    """Bytecode of our own code, sources kept: chalicelib's beside it in the stage; app.py's and
    Chalice's runtime files' (which Chalice adds to the package itself) into vendor/, whose
    content Chalice puts at the package's root."""
    _run_python(python, ["-m", "compileall", "-q", "-j", "0", "--invalidation-mode", "unchecked-hash",
                         "-s", str(project), "-p", LAMBDA_TASK_ROOT, str(project / "chalicelib")])
    sources = {"app.py": project / "app.py"}
    # What Chalice's packager adds of itself, from where it takes it (the Chalice running here).
    for module, in_package in (("chalice", "chalice/__init__.py"), ("chalice.app", "chalice/app.py")):
        spec = importlib.util.find_spec(module)
        if spec is None or not spec.origin or not spec.origin.endswith(in_package.rsplit("/", 1)[1]):
            raise PackagingError(f"cannot find the source of {module}, which Chalice adds to the package")
        sources[in_package] = Path(spec.origin)
    jobs = []
    for in_package, source in sources.items():
        parent, name = os.path.split(in_package)
        compiled = vendor / parent / "__pycache__" / f"{name[:-3]}.{python.cache_tag}.pyc"
        if any(part.is_symlink() for part in [compiled, *compiled.parents] if vendor in part.parents):
            raise PackagingError(f"{compiled.relative_to(vendor)} would be written into the dependencies' cache")
        jobs.append([str(source), str(compiled), f"{LAMBDA_TASK_ROOT}/{in_package}"])
    _run_python(python, ["-c", _PY_COMPILE, json.dumps(jobs)])


_PY_COMPILE = """\
import json, py_compile, sys
for source, compiled, name in json.loads(sys.argv[1]):
    py_compile.compile(source, cfile=compiled, dfile=name, doraise=True,
                       invalidation_mode=py_compile.PycInvalidationMode.UNCHECKED_HASH)
"""


# ------------------------------------------------------------------------------ dependencies


def build_dependencies(requirements: Path = REPO / "requirements.txt", *, python: Optional[Interpreter]) -> Path:
    """requirements.txt installed for the Lambda runtime, less what the package does not need,
    as bytecode if ``python`` is given (see the module's docstring), cached by its content and
    the recipe.

    One build at a time per checkout (``_BUILD_LOCK``): the build works in place in the cache's
    folder, and two synths at once (two test sessions, ``make synth`` beside ``make test``) used
    to build into the same folder together. The later ``pip install --target`` then moved back
    into it whatever the first build had already left out (``cffi/``, botocore, ...: pip only
    skips what is still there), failed in ``remove_parts`` on what was gone, and left the first
    build's ``.complete`` marker on a folder that every later build reused as is."""
    digest = hashlib.sha256(_recipe(requirements.read_text(), python).encode()).hexdigest()[:16]
    target = BUILD / f"dependencies-{LAMBDA_RUNTIME}-{digest}"
    # The marker sits next to the folder: everything inside it goes into the package.
    complete = target.with_name(target.name + ".complete")
    with _exclusive(BUILD / _BUILD_LOCK):  # a build under way elsewhere finishes first; then reuse it
        if complete.exists() and target.is_dir() and _left_out_file(target).exists():
            return target
        return _build_dependencies(requirements, python, target, complete)


@contextlib.contextmanager
def _exclusive(lock: Path) -> Iterator[None]:
    """Hold an exclusive lock on the file ``lock`` (the kernel drops it if the process dies)."""
    lock.parent.mkdir(parents=True, exist_ok=True)
    with open(lock, "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _build_dependencies(requirements: Path, python: Optional[Interpreter], target: Path, complete: Path) -> Path:
    complete.unlink(missing_ok=True)
    shutil.rmtree(target, ignore_errors=True)
    wheels = BUILD / "wheels"
    _pip(["wheel", "--no-deps", "--wheel-dir", str(wheels), "-r", str(requirements)])
    _pip(
        [
            "install",
            "--no-compile",  # pip would compile for the Python running it (3.11): see compile_sourceless
            "--target", str(target),
            "--find-links", str(wheels),
            "--implementation", "cp",
            "--python-version", _RUNTIME_VERSION,
            "--abi", "cp" + _RUNTIME_VERSION.replace(".", ""),
            "--only-binary=:all:",
            *[arg for platform in _platforms() for arg in ("--platform", platform)],
            "-r", str(requirements),
        ]
    )
    shutil.rmtree(target / "bin", ignore_errors=True)  # console scripts: not used in Lambda
    left_out = remove_distributions(target, RUNTIME_PROVIDED + NEVER_IMPORTED)
    never_imported = [m for name in map(_canonical, NEVER_IMPORTED) if name in left_out for m in left_out[name][1]]
    parts = remove_parts(target, UNUSED_PARTS)
    _remove_dead_files(target)
    _prune_empty_directories(target)
    _check_not_imported(
        target,
        sorted(target.rglob("*.py")),
        never_imported + parts,
        remedy="the build leaves it out as never imported: take it off NEVER_IMPORTED or UNUSED_PARTS in packaging.py",
        allowed=_UNREACHED_IMPORTS,
    )
    if python is not None:
        compile_sourceless(python, target)
    _left_out_file(target).write_text(
        json.dumps(
            {
                "why": "installed by pip and left out of the package (see packaging.py)",
                "distributions": {name: version for name, (version, _) in sorted(left_out.items())},
                "parts": list(UNUSED_PARTS),
                # What app.py and chalicelib must not import (the runtime provides the rest).
                "modules": sorted(set(never_imported + parts)),
                "bytecode": _bytecode_recipe(python) if python else None,
            },
            indent=2,
        )
        + "\n"
    )
    complete.touch()
    return target


def _left_out_file(target: Path) -> Path:
    return target.with_name(target.name + ".left-out.json")


def _recipe(requirements_text: str, python: Optional[Interpreter]) -> str:
    return json.dumps(
        {
            "requirements": requirements_text,
            "runtime": LAMBDA_RUNTIME,
            "architecture": LAMBDA_ARCHITECTURE,
            "runtime_provided": sorted(RUNTIME_PROVIDED),
            "never_imported": sorted(NEVER_IMPORTED),
            "unused_parts": sorted(UNUSED_PARTS),
            "dead_files": sorted(_DEAD_FILES),
            "dead_dirs": sorted(_DEAD_DIRS),
            "bytecode": _bytecode_recipe(python) if python else None,
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


def remove_parts(target: Path, parts: Iterable[str]) -> List[str]:
    """Delete ``parts`` (paths under ``target``, packages or modules). Returns their module names."""
    modules = []
    for part in parts:
        path = target / part
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path)
        elif path.is_file():
            path.unlink()
        else:
            raise PackagingError(f"{part} is no longer among the dependencies: take it off UNUSED_PARTS in packaging.py")
        modules.append(part.removesuffix(".py").replace("/", "."))
    return modules


def _module_name(root: Path, path: Path) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imported_names(path: Path, module: str) -> Iterator[Tuple[int, str]]:
    """(line, dotted name) of every import in ``path``, wherever it sits (in a function, under
    ``if TYPE_CHECKING``), relative ones resolved, and ``import_module("name")``."""
    source = path.read_bytes()
    try:
        tree = ast.parse(source, filename=str(path))
    except SyntaxError:  # newer syntax than the Python that builds: read absolute imports only
        for match in re.finditer(rb"^\s*(?:import|from)\s+([\w.]+)", source, re.MULTILINE):
            yield source.count(b"\n", 0, match.start()) + 1, match.group(1).decode()
        return
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                name = ".".join([*base, *([node.module] if node.module else [])])
            else:
                name = node.module or ""
            yield node.lineno, name
            for alias in node.names:
                yield node.lineno, f"{name}.{alias.name}"
        elif (
            isinstance(node, ast.Call)
            and getattr(node.func, "attr", getattr(node.func, "id", None)) == "import_module"
            and node.args
            and isinstance(node.args[0], ast.Constant)
            and isinstance(node.args[0].value, str)
        ):
            yield node.lineno, node.args[0].value


def _check_not_imported(
    root: Path,
    paths: Iterable[Path],
    modules: Iterable[str],
    *,
    remedy: str,
    allowed: Optional[Dict[Tuple[str, str], str]] = None,
) -> None:
    """Fail the build if any of ``paths`` (modules under ``root``) imports one of ``modules``
    (or something inside one), other than the ``allowed`` (importer, module) pairs."""
    modules = sorted(set(modules))
    if not modules:
        return
    for path in paths:
        importer = _module_name(root, path)
        for line, name in _imported_names(path, importer):
            hit = next((m for m in modules if name == m or name.startswith(m + ".")), None)
            if hit and (importer, hit) not in (allowed or {}):
                raise PackagingError(f"{path.relative_to(root)}:{line} imports {name}, which {remedy}")


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


# ------------------------------------------------------------------------------ bytecode


@dataclass(frozen=True)
class Interpreter:
    """A CPython of the Lambda runtime's version, as it describes itself."""

    executable: str
    version: str  # "3.13.0"
    cache_tag: str  # "cpython-313": __pycache__/<module>.<cache_tag>.pyc
    magic: str  # importlib.util.MAGIC_NUMBER, hex: the first 4 bytes of its .pyc files


_PROBE = """\
import importlib.util, json, sys, sysconfig
print(json.dumps({
    "implementation": sys.implementation.name, "version": "%d.%d.%d" % sys.version_info[:3],
    "free_threaded": bool(sysconfig.get_config_var("Py_GIL_DISABLED")),
    "executable": sys.executable, "cache_tag": sys.implementation.cache_tag,
    "magic": importlib.util.MAGIC_NUMBER.hex(),
}))
"""

_NO_BYTECODE = (
    f"no CPython {_RUNTIME_VERSION} found (${PYTHON_ENV}, python{_RUNTIME_VERSION} on PATH, pyenv's versions folder)"
)


@functools.lru_cache(maxsize=None)
def runtime_python() -> Optional[Interpreter]:
    """The CPython to compile the package with: ``$SIGHTLINE_PYTHON_313`` (which must be one),
    else the first ``python3.13`` on PATH that runs (a pyenv shim may not), else the newest
    3.13.x in pyenv's versions folder. None, after a warning, if there is none."""
    explicit = os.environ.get(PYTHON_ENV)
    if explicit:
        found = _probe(explicit)
        if found is None:
            raise PackagingError(f"{PYTHON_ENV}={explicit} is not a CPython {_RUNTIME_VERSION} that runs")
        return found
    for candidate in _candidates():
        found = _probe(candidate)
        if found is not None:
            return found
    print(
        "\n" + "!" * 88 + "\n"
        f"WARNING: {_NO_BYTECODE}.\n"
        "The Lambda package is built WITHOUT bytecode: every cold start will compile every module\n"
        "it imports (about 0.2 s more per cold start, docs/decisions.md 2026-12-02). Install\n"
        f"a CPython {_RUNTIME_VERSION} (pyenv's is found) or set {PYTHON_ENV} to one, and build again.\n"
        + "!" * 88 + "\n",
        file=sys.stderr,
        flush=True,
    )
    return None


def _candidates() -> Iterator[str]:
    name = f"python{_RUNTIME_VERSION}"
    for directory in os.environ.get("PATH", "").split(os.pathsep):
        path = Path(directory) / name
        if directory and path.is_file() and os.access(path, os.X_OK):
            yield str(path)
    versions = Path(os.environ.get("PYENV_ROOT") or os.path.expanduser("~/.pyenv")) / "versions"
    pattern = re.compile(rf"{re.escape(_RUNTIME_VERSION)}\.(\d+)")  # not 3.13-dev, 3.13.0t
    found = [(int(m.group(1)), p) for p in versions.glob(f"{_RUNTIME_VERSION}.*") if (m := pattern.fullmatch(p.name))]
    for _, version in sorted(found, reverse=True):
        yield str(version / "bin" / name)


def _probe(executable: str) -> Optional[Interpreter]:
    try:
        result = subprocess.run([executable, "-I", "-c", _PROBE], capture_output=True, text=True, timeout=60)
        facts = json.loads(result.stdout.strip().splitlines()[-1]) if result.returncode == 0 else None
    except (OSError, subprocess.SubprocessError, ValueError, IndexError):
        return None
    if (
        not facts
        or facts["implementation"] != "cpython"
        or facts["free_threaded"]
        or facts["version"].rsplit(".", 1)[0] != _RUNTIME_VERSION
    ):
        return None
    return Interpreter(facts["executable"], facts["version"], facts["cache_tag"], facts["magic"])


def _bytecode_recipe(python: Interpreter) -> Dict[str, str]:
    """What the bytecode depends on (the patch release does not change it)."""
    return {"cache_tag": python.cache_tag, "magic": python.magic, "invalidation_mode": "unchecked-hash",
            "paths": LAMBDA_TASK_ROOT}


def compile_sourceless(python: Interpreter, target: Path) -> None:
    """Replace every module under ``target`` by its bytecode, ``module.pyc`` beside where
    ``module.py`` was (how Python imports a module without source)."""
    _run_python(python, ["-m", "compileall", "-q", "-b", "-j", "0", "--invalidation-mode", "unchecked-hash",
                         "-s", str(target), "-p", LAMBDA_TASK_ROOT, str(target)])
    for source in sorted(target.rglob("*.py")):
        if not source.with_suffix(".pyc").is_file():
            raise PackagingError(f"compileall wrote no bytecode for {source.relative_to(target)}")
        source.unlink()


def _run_python(python: Interpreter, args: List[str]) -> None:
    command = [python.executable, "-I", *args]
    result = subprocess.run(command, capture_output=True, text=True)
    if result.returncode != 0:
        raise PackagingError(f"{' '.join(command)[:500]} failed:\n{result.stdout[-5000:]}\n{result.stderr[-5000:]}")


def clean_chalice_out(workdir: Path) -> None:
    """chalice.cdk writes a new package under ``<cwd>/chalice.out/<uuid>/`` on every build."""
    os.makedirs(workdir, exist_ok=True)
    shutil.rmtree(workdir / "chalice.out", ignore_errors=True)
