"""Write files all-or-nothing: a crash, a full disk or a failed write never leaves half a file."""

from __future__ import annotations

import contextlib
import errno
import os
import sys
import tempfile
import time
from pathlib import Path

from vldesk.core.errors import WriteError
from vldesk.core.messages import core_text

#: New files get this mode (the temporary file starts private: 0600); existing files keep theirs.
NEW_FILE_MODE = 0o644
#: os.replace on Windows fails while antivirus or an indexer holds the target open: retry a bit.
_REPLACE_ATTEMPTS = 6 if os.name == "nt" else 1
_REPLACE_FIRST_DELAY_S = 0.05


def atomic_write_text(
    path: str | os.PathLike[str], text: str, encoding: str = "utf-8", *, newline: str = "\n"
) -> None:
    """Replace ``path`` with ``text`` atomically; ``"\\n"`` becomes ``newline`` when written.

    Raises:
        WriteError: the file could not be written; the previous file (if any) is untouched.
    """
    if newline != "\n":
        text = text.replace("\n", newline)
    atomic_write_bytes(path, text.encode(encoding))


def atomic_write_bytes(path: str | os.PathLike[str], data: bytes) -> None:
    """Replace ``path`` with ``data``: temp file in the same folder, fsync, then ``os.replace``.

    Readers see either the old file or the new one, never a mix; after a failure the old file is
    byte-identical and no temporary file is left behind. A symlink is followed, not replaced.

    Raises:
        WriteError: with a one-sentence reason (disk full, permission denied, ...).
    """
    target = Path(os.path.realpath(path))
    shown = Path(path)
    if target.is_dir():
        raise WriteError(
            core_text("Files", "{path} is a folder: could not save a file there.", path=str(shown))
        )
    directory = target.parent
    try:
        fd, temp_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=directory)
    except OSError as exc:
        raise WriteError(_describe(exc, shown)) from exc
    try:
        try:
            _write_all(fd, data)
            os.fsync(fd)
            _copy_mode(target, fd)
        finally:
            os.close(fd)
        _replace(temp_name, target)
    except BaseException as exc:
        with contextlib.suppress(OSError):
            os.unlink(temp_name)
        if isinstance(exc, OSError):
            raise WriteError(_describe(exc, shown)) from exc
        raise
    _fsync_directory(directory)


def _write_all(fd: int, data: bytes) -> None:
    # os.write may write less than asked (signals, some filesystems): loop until done.
    view = memoryview(data)
    while view:
        written = os.write(fd, view)
        view = view[written:]


def _copy_mode(target: Path, fd: int) -> None:
    if not hasattr(os, "fchmod"):  # Windows: permission bits barely apply
        return
    try:
        mode = target.stat().st_mode & 0o7777
    except FileNotFoundError:
        mode = NEW_FILE_MODE
    # FAT/exFAT and some network shares refuse chmod; the content matters more than the mode.
    with contextlib.suppress(OSError):
        os.fchmod(fd, mode)


def _replace(source: str, target: Path) -> None:
    delay = _REPLACE_FIRST_DELAY_S
    for attempt in range(_REPLACE_ATTEMPTS):
        try:
            os.replace(source, target)
            return
        except PermissionError:
            if attempt == _REPLACE_ATTEMPTS - 1:
                raise
            time.sleep(delay)
            delay *= 2


def _fsync_directory(directory: Path) -> None:
    """Make the rename itself durable (POSIX); not possible, nor needed, on Windows."""
    if sys.platform == "win32":
        return
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass  # some filesystems (network, FUSE) refuse: the data itself is already synced
    finally:
        os.close(fd)


def _describe(exc: OSError, path: Path) -> str:
    """One sentence for the person: what went wrong, and that ``path`` was not saved."""
    code = exc.errno
    shown = str(path)
    if code == errno.ENOSPC:
        return core_text("Files", "The disk is full: could not save {path}.", path=shown)
    if code == getattr(errno, "EDQUOT", None):
        return core_text("Files", "The disk quota is exceeded: could not save {path}.", path=shown)
    if code == errno.EROFS:
        return core_text("Files", "The disk is read-only: could not save {path}.", path=shown)
    if isinstance(exc, PermissionError) or code in (errno.EACCES, errno.EPERM):
        return core_text("Files", "Permission denied: could not save {path}.", path=shown)
    if isinstance(exc, FileNotFoundError):
        return core_text(
            "Files",
            "The folder {folder} does not exist: could not save {path}.",
            folder=str(path.parent),
            path=shown,
        )
    if code == errno.ENAMETOOLONG:
        return core_text("Files", "The file name is too long: could not save {path}.", path=shown)
    detail = exc.strerror or str(exc) or type(exc).__name__
    return core_text("Files", "Could not save {path} ({reason}).", path=shown, reason=detail)
