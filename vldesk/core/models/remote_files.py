"""What a model's hub listing offers: the files vldesk downloads and the commit they are at."""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

#: What inference needs; everything else in a repo (PyTorch pickles, code, ONNX, ...) is skipped.
ALLOW_PATTERNS = ("*.safetensors", "*.json", "*.jinja", "tokenizer*", "vocab*", "merges*")


IGNORE_PATTERNS = ("*.bin", "*.pt", "*.pth", "*.py", "*.pyc", "*.onnx", "*.gguf", "*.h5", "*.ckpt")


#: Remote file names we are willing to write: plain names, no folders, no drive letters.
_SAFE_NAME = re.compile(r"^[A-Za-z0-9_+-][A-Za-z0-9._+-]*$")


_SHA256 = re.compile(r"^[0-9a-fA-F]{64}$")
_COMMIT = re.compile(r"^[0-9a-f]{40}$")


@dataclass(frozen=True)
class RemoteFile:
    """One file of the repo as the hub lists it."""

    path: str
    size: int
    sha256: str | None
    #: The last commit that changed this file (the listing's per-file ``Revision``).
    commit: str | None = None
    committed: int = 0


def _wanted(name: str) -> bool:
    lowered = name.lower()
    if any(fnmatch.fnmatchcase(lowered, pattern) for pattern in IGNORE_PATTERNS):
        return False
    return any(fnmatch.fnmatchcase(lowered, pattern) for pattern in ALLOW_PATTERNS)


def _is_folder(entry: Mapping[str, Any]) -> bool:
    return (entry.get("Type") or entry.get("type") or "blob") == "tree"


def select_files(
    entries: Iterable[Mapping[str, Any]], only: tuple[str, ...] = ()
) -> list[RemoteFile]:
    """The files to download from a hub listing: top-level files inference needs, safely named.

    Names come from the network, so anything with a folder part, a drive or odd characters is
    dropped rather than written (inference only needs the repo's top-level files). ``only``
    names the files to take instead (a GGUF variant's model file and projector).
    """
    files: dict[str, RemoteFile] = {}
    for entry in entries:
        path = str(entry.get("Path") or entry.get("path") or entry.get("Name") or "")
        if _is_folder(entry) or not _SAFE_NAME.match(path):
            continue
        if (path not in only) if only else not _wanted(path):
            continue
        sha = str(entry.get("Sha256") or entry.get("sha256") or "")
        revision = str(entry.get("Revision") or "").lower()
        try:
            size = int(entry.get("Size") or entry.get("size") or 0)
            committed = int(entry.get("CommittedDate") or 0)
        except (TypeError, ValueError):
            continue
        files[path] = RemoteFile(
            path=path,
            size=max(size, 0),
            sha256=sha.lower() if _SHA256.match(sha) else None,
            commit=revision if _COMMIT.match(revision) else None,
            committed=committed,
        )
    return sorted(files.values(), key=lambda f: (f.size, f.path))


def listing_commit(entries: Iterable[Mapping[str, Any]]) -> str | None:
    """The commit a listing shows: the newest of its files' own commits.

    The listing has no commit id of its own, only each file's last commit (``Revision``), so
    the newest of those is the commit whose tree was listed (for any commit that changed a
    file; the content of every file is the same at both either way).
    """
    newest: tuple[int, str] | None = None
    for entry in entries:
        revision = str(entry.get("Revision") or "").lower()
        if _is_folder(entry) or not _COMMIT.match(revision):
            continue
        try:
            committed = int(entry.get("CommittedDate") or 0)
        except (TypeError, ValueError):
            continue
        if newest is None or committed > newest[0]:
            newest = (committed, revision)
    return newest[1] if newest else None
