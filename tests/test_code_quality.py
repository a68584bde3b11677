"""Lint, format, type and architecture checks run as part of the test suite."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def _tool(name: str) -> str:
    found = shutil.which(name, path=str(Path(sys.executable).parent)) or shutil.which(name)
    if found is None:
        pytest.fail(f"{name} is not installed: install the test extras (pip install -e '.[test]')")
    return found


def _run(*command: str) -> None:
    result = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, f"{' '.join(command)} failed:\n{result.stdout}\n{result.stderr}"


def test_ruff_lint() -> None:
    _run(_tool("ruff"), "check", "vldesk", "tests", "benchmarks")


def test_ruff_format() -> None:
    _run(_tool("ruff"), "format", "--check", "vldesk", "tests", "benchmarks")


def test_core_never_imports_qt() -> None:
    _run(_tool("lint-imports"), "--no-cache")


def test_mypy_strict() -> None:
    _run(_tool("mypy"))


def test_heavy_libraries_are_not_imported_by_the_cli_or_core_modules() -> None:
    # The window must appear before torch loads: importing the app's modules must stay light.
    code = (
        "import sys, vldesk.__main__, vldesk.cli, vldesk.core.images,"
        " vldesk.core.inference.transformers_engine;"
        "heavy = [m for m in ('torch', 'transformers', 'modelscope') if m in sys.modules];"
        "print(heavy); sys.exit(1 if heavy else 0)"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
