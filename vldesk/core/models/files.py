"""File helpers for model folders: timestamps and atomic JSON (sizes and durations: core.units)."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from vldesk.core.atomic import atomic_write_text
from vldesk.core.errors import WriteError
from vldesk.core.units import format_bytes as format_bytes
from vldesk.core.units import format_duration as format_duration


def utc_now() -> str:
    return datetime.now(timezone.utc).replace(microsecond=0).isoformat()


def write_json_atomic(path: Path, data: Any) -> None:
    """Write JSON so that a crash leaves either the old file or the new one, never half of one.

    Raises:
        WriteError: the file could not be written (the old one is untouched).
    """
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise WriteError(f"Could not create the folder {path.parent}: {exc.strerror}.") from exc
    atomic_write_text(path, json.dumps(data, indent=2, ensure_ascii=False) + "\n")


def read_json(path: Path) -> Any:
    """The parsed file, or ``None`` when it is missing or unreadable."""
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError):
        return None


def free_space(folder: Path) -> int | None:
    """Free bytes on the disk ``folder`` is (or would be created) on; ``None`` if unknown."""
    place = Path(folder).expanduser().absolute()
    while not place.exists() and place != place.parent:
        place = place.parent
    try:
        return shutil.disk_usage(place).free
    except OSError:
        return None


def folder_size(path: Path) -> int:
    """Bytes used by the files under ``path`` (partial downloads included); 0 when missing."""
    total = 0
    if not path.is_dir():
        return 0
    for root, _dirs, files in os.walk(path):
        for name in files:
            with contextlib.suppress(OSError):
                total += (Path(root) / name).stat().st_size
    return total
