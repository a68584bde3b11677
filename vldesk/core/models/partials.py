"""Files on disk during a download: resumable partials, completeness and checksums."""

from __future__ import annotations

import hashlib
import json
import logging
from pathlib import Path
from typing import Any

from vldesk.core.models import modelscope_adapter as client
from vldesk.core.models.files import write_json_atomic
from vldesk.core.models.remote_files import RemoteFile

log = logging.getLogger(__name__)

#: Beside the model's files while they download: what each partial file is a part of, so a
#: partial left by another version of the file is never resumed into this one.
PARTIALS_NAME = ".vldesk-partials.json"


def read_json_file(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError):
        return None


def is_complete(path: Path, remote: RemoteFile) -> bool:
    """``path`` holds exactly the file the listing describes."""
    try:
        if path.stat().st_size != remote.size:
            return False
        return remote.sha256 is None or sha256_of(path) == remote.sha256
    except OSError:
        return False


def _identity(remote: RemoteFile) -> dict[str, Any]:
    return {"size": remote.size, "sha256": remote.sha256}


def prepare_partials(folder: Path, files: list[RemoteFile]) -> set[str]:
    """Drop partial files nothing can resume; return the files resumed from an unknown origin.

    A partial recorded for other content (the file changed on ModelScope since) would only fail
    its hash at the end, so it starts over now; one with no record (an older vldesk, a copy)
    is resumed, and its file is the one to blame if the hash fails. Then every file about to be
    fetched is recorded, before the client writes a byte of it.
    """
    recorded_data = read_json_file(folder / PARTIALS_NAME)
    recorded = recorded_data.get("files", {}) if isinstance(recorded_data, dict) else {}
    unknown: set[str] = set()
    for remote in files:
        partials = client.partial_files(folder, remote.path, remote.size)
        if partials.leftovers:
            log.info(
                "removing partial files of %s the client will not resume: %s",
                remote.path,
                ", ".join(p.name for p in partials.leftovers),
            )
            client.remove_files(partials.leftovers)
        if not partials.resumable:
            continue
        before = recorded.get(remote.path) if isinstance(recorded, dict) else None
        if before is None:
            unknown.add(remote.path)
        elif before != _identity(remote):
            log.warning(
                "the partial download of %s belongs to another version of it (the model "
                "changed on ModelScope since); starting that file again",
                remote.path,
            )
            client.remove_files(partials.resumable)
    record = {"format": 1, "files": {f.path: _identity(f) for f in files}}
    write_json_atomic(folder / PARTIALS_NAME, record)
    return unknown


def clean_partials(folder: Path, files: list[RemoteFile]) -> None:
    """After a complete download nothing partial is left behind, whatever mode wrote it."""
    for remote in files:
        client.remove_files(client.partial_files(folder, remote.path, remote.size).all)
    (folder / PARTIALS_NAME).unlink(missing_ok=True)


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while block := handle.read(8 * 1024 * 1024):
            digest.update(block)
    return digest.hexdigest()
