"""exiftool as an independent reader (and writer of "a person's" metadata) for tests."""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

ExifTool = Callable[..., Any]


def exiftool_runner() -> ExifTool:
    """``run(path, *args)``: the ``-j -G1 -a`` tags of ``path`` as a dict, or with ``-w``
    style arguments (``write=True``) the tool's own edit, in place. Skips the test without it."""
    program = shutil.which("exiftool")
    if program is None:
        pytest.skip("exiftool is not installed (Debian: libimage-exiftool-perl; .ci/run adds it)")

    def run(path: Path, *args: str, write: bool = False) -> Any:
        if write:
            subprocess.run(
                [program, "-q", "-overwrite_original", *args, str(path)],
                check=True,
                capture_output=True,
            )
            return None
        done = subprocess.run(
            [program, "-j", "-G1", "-a", "-struct", *args, str(path)],
            check=True,
            capture_output=True,
        )
        (tags,) = json.loads(done.stdout.decode("utf-8"))
        return tags

    return run
