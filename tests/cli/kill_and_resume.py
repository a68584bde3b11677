"""Killing a ``vldesk batch`` process mid-job and reading its journal, for the resume tests."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from tests.helpers import PROJECT_ROOT

#: How long a batch may take to reach the point where a test kills it.
PROGRESS_TIMEOUT_S = 120


def journal_records() -> list[dict[str, Any]]:
    """The records of the one job in this test's private VLDESK_HOME."""
    journals = list((Path(os.environ["VLDESK_HOME"]) / "data" / "jobs").glob("*/journal.jsonl"))
    if not journals:
        return []
    (journal,) = journals
    lines = journal.read_bytes().split(b"\n")[:-1]  # a torn last line is not a record yet
    return [json.loads(line) for line in lines if line.strip()]


def count(kind: str) -> int:
    """How many records of ``kind`` ("applied", "result", "finished"...) the journal holds."""
    return sum(1 for r in journal_records() if r["kind"] == kind)


def start_batch(args: list[str]) -> subprocess.Popen[str]:
    """``vldesk <args>`` in a process of its own, which the test can interrupt or kill."""
    return subprocess.Popen(
        [sys.executable, "-m", "vldesk", *args],
        cwd=PROJECT_ROOT,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def wait_for_records(process: subprocess.Popen[str], kind: str, at_least: int) -> None:
    """Wait until the journal holds ``at_least`` records of ``kind``; fail if the process ends
    or stalls first."""
    deadline = time.monotonic() + PROGRESS_TIMEOUT_S
    while count(kind) < at_least:
        if process.poll() is not None:
            out, err = process.communicate()
            pytest.fail(f"vldesk batch ended early ({process.returncode}):\n{out}\n{err}")
        if time.monotonic() > deadline:
            process.kill()
            pytest.fail(f"vldesk batch made no progress ({count(kind)} {kind} records)")
        time.sleep(0.005)


def kill_9(process: subprocess.Popen[str]) -> None:
    """kill -9 the batch: it ends at once, and its job is left unfinished (to resume)."""
    process.kill()
    process.communicate(timeout=60)
    assert process.returncode == -signal.SIGKILL
    assert count("finished") == 0
