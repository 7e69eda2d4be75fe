"""The domain's shape: packages import downwards only, and functions load only what they use."""
from __future__ import annotations

import ast
import json
import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
# Heavy libraries that only some events need: importing the app must not load them.
LOADED_ON_FIRST_USE = ("jwt", "cryptography", "jinja2", "email_validator", "boto3", "pydantic")


def test_import_linter_contracts_are_kept():
    """Layers, purity of geo, and no import of the app, as written in .importlinter."""
    lint_imports = Path(sys.executable).with_name("lint-imports")
    result = subprocess.run([str(lint_imports), "--config", str(REPO / ".importlinter")], cwd=REPO,
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]


def test_no_function_imports_from_chalicelib():
    """Imports inside functions hide cycles; within the domain they are all at the top."""
    offenders = []
    for path in [REPO / "app.py", *sorted((REPO / "chalicelib").rglob("*.py"))]:
        tree = ast.parse(path.read_text(), filename=str(path))
        for function in ast.walk(tree):
            if not isinstance(function, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
                continue
            for node in ast.walk(function):
                names = []
                if isinstance(node, ast.Import):
                    names = [alias.name for alias in node.names]
                elif isinstance(node, ast.ImportFrom):
                    names = [node.module or ""]
                offenders += [f"{path.relative_to(REPO)}:{node.lineno} {n}" for n in names if n.split(".")[0] == "chalicelib"]
    assert offenders == []


def test_importing_the_app_loads_no_library_that_only_some_events_need():
    probe = f"import json, sys; import app; print(json.dumps([m for m in {LOADED_ON_FIRST_USE!r} if m in sys.modules]))"
    env = {k: v for k, v in os.environ.items() if not k.startswith("SIGHTLINE_")}
    result = subprocess.run([sys.executable, "-c", probe], cwd=REPO, env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout.strip().splitlines()[-1]) == []
