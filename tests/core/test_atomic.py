"""Atomic writes: the old file survives any failure, and no temporary file is left behind."""

from __future__ import annotations

import errno
import os
import stat
import sys
from pathlib import Path
from typing import Any

import pytest

from vldesk.core import atomic
from vldesk.core.atomic import atomic_write_bytes, atomic_write_text
from vldesk.core.errors import VldeskError, WriteError

ORIGINAL = "the user's precious notes\n第二行\n".encode()


@pytest.fixture
def target(tmp_path: Path) -> Path:
    path = tmp_path / "notes.md"
    path.write_bytes(ORIGINAL)
    return path


def leftovers(folder: Path, keep: str = "notes.md") -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name != keep)


def raise_oserror(code: int) -> Any:
    def fail(*args: Any, **kwargs: Any) -> Any:
        raise OSError(code, os.strerror(code))

    return fail


def test_writes_new_and_replaces_existing(tmp_path: Path) -> None:
    path = tmp_path / "out.txt"
    atomic_write_text(path, "héllo\n世界\n")
    assert path.read_bytes() == "héllo\n世界\n".encode()
    atomic_write_bytes(path, b"\x00\x01binary")
    assert path.read_bytes() == b"\x00\x01binary"
    assert leftovers(tmp_path, "out.txt") == []


def test_text_encoding_and_newlines(tmp_path: Path) -> None:
    path = tmp_path / "out.txt"
    atomic_write_text(path, "a\nb\n", encoding="utf-16", newline="\r\n")
    assert path.read_bytes().decode("utf-16") == "a\r\nb\r\n"


def test_empty_content(target: Path) -> None:
    atomic_write_bytes(target, b"")
    assert target.read_bytes() == b""


@pytest.mark.parametrize("failing", ["write", "fsync", "replace"])
def test_disk_full_leaves_the_original_untouched(
    target: Path, monkeypatch: pytest.MonkeyPatch, failing: str
) -> None:
    monkeypatch.setattr(os, failing, raise_oserror(errno.ENOSPC))
    with pytest.raises(WriteError) as excinfo:
        atomic_write_text(target, "new content that does not fit" * 1000)
    monkeypatch.undo()
    assert str(excinfo.value) == f"The disk is full: could not save {target}."
    assert isinstance(excinfo.value, VldeskError)
    assert target.read_bytes() == ORIGINAL
    assert leftovers(target.parent) == []


def test_partial_write_then_disk_full(target: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    real_write = os.write
    calls = []

    def write_some_then_fail(fd: int, data: Any) -> int:
        calls.append(len(data))
        if len(calls) == 1:
            return real_write(fd, bytes(data[:10]))  # a short write: the loop must continue
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "write", write_some_then_fail)
    with pytest.raises(WriteError, match="disk is full"):
        atomic_write_bytes(target, b"x" * 100)
    monkeypatch.undo()
    assert calls == [100, 90]
    assert target.read_bytes() == ORIGINAL
    assert leftovers(target.parent) == []


def test_short_writes_are_completed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    real_write = os.write
    monkeypatch.setattr(os, "write", lambda fd, data: real_write(fd, bytes(data[:7])))
    path = tmp_path / "out.bin"
    atomic_write_bytes(path, bytes(range(256)) * 3)
    monkeypatch.undo()
    assert path.read_bytes() == bytes(range(256)) * 3


def test_interrupt_cleans_up_and_propagates(target: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def interrupt(*args: Any) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(os, "fsync", interrupt)
    with pytest.raises(KeyboardInterrupt):
        atomic_write_bytes(target, b"new")
    monkeypatch.undo()
    assert target.read_bytes() == ORIGINAL
    assert leftovers(target.parent) == []


@pytest.mark.parametrize(
    ("code", "message"),
    [
        (errno.EROFS, "The disk is read-only: could not save {path}."),
        (errno.EACCES, "Permission denied: could not save {path}."),
        (errno.EIO, "Could not save {path} (Input/output error)."),
    ],
)
def test_other_failures_have_clear_messages(
    target: Path, monkeypatch: pytest.MonkeyPatch, code: int, message: str
) -> None:
    monkeypatch.setattr(os, "replace", raise_oserror(code))
    with pytest.raises(WriteError) as excinfo:
        atomic_write_bytes(target, b"new")
    monkeypatch.undo()
    assert str(excinfo.value) == message.format(path=target)
    assert target.read_bytes() == ORIGINAL
    assert leftovers(target.parent) == []


def test_missing_folder(tmp_path: Path) -> None:
    path = tmp_path / "no" / "such" / "folder" / "out.txt"
    with pytest.raises(WriteError, match=r"The folder .* does not exist: could not save"):
        atomic_write_text(path, "x")


def test_target_is_a_folder(tmp_path: Path) -> None:
    with pytest.raises(WriteError, match="is a folder"):
        atomic_write_text(tmp_path, "x")


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX permissions")
def test_read_only_folder(tmp_path: Path) -> None:
    folder = tmp_path / "locked"
    folder.mkdir()
    (folder / "notes.md").write_bytes(ORIGINAL)
    folder.chmod(0o500)
    try:
        if os.access(folder, os.W_OK):
            pytest.skip("running with privileges that can write a read-only folder (root?)")
        with pytest.raises(WriteError, match="Permission denied"):
            atomic_write_bytes(folder / "notes.md", b"new")
        assert (folder / "notes.md").read_bytes() == ORIGINAL
    finally:
        folder.chmod(0o700)


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX permissions")
def test_keeps_the_mode_of_an_existing_file(tmp_path: Path) -> None:
    existing = tmp_path / "private.txt"
    existing.write_text("old")
    existing.chmod(0o600)
    atomic_write_text(existing, "new")
    assert stat.S_IMODE(existing.stat().st_mode) == 0o600
    fresh = tmp_path / "fresh.txt"
    atomic_write_text(fresh, "new")
    assert stat.S_IMODE(fresh.stat().st_mode) == atomic.NEW_FILE_MODE


@pytest.mark.skipif(sys.platform == "win32", reason="symlinks need privileges on Windows")
def test_a_symlink_is_followed_not_replaced(tmp_path: Path) -> None:
    real = tmp_path / "real.json"
    real.write_text("old")
    link = tmp_path / "link.json"
    link.symlink_to(real)
    atomic_write_text(link, "new")
    assert link.is_symlink()
    assert real.read_text() == "new"


def test_windows_permission_error_is_retried(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # On Windows, antivirus or an indexer briefly holding the file makes os.replace fail.
    real_replace = os.replace
    failures = [PermissionError(13, "Access is denied")] * 2

    def flaky_replace(source: Any, dest: Any) -> None:
        if failures:
            raise failures.pop()
        real_replace(source, dest)

    monkeypatch.setattr(atomic, "_REPLACE_ATTEMPTS", 4)
    monkeypatch.setattr(atomic, "_REPLACE_FIRST_DELAY_S", 0.001)
    monkeypatch.setattr(os, "replace", flaky_replace)
    path = tmp_path / "out.txt"
    atomic_write_text(path, "saved")
    monkeypatch.undo()
    assert path.read_text() == "saved"
    assert failures == []


def test_permission_error_gives_up_after_the_retries(
    target: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    attempts = []

    def always_denied(source: Any, dest: Any) -> None:
        attempts.append(1)
        raise PermissionError(13, "Access is denied")

    monkeypatch.setattr(atomic, "_REPLACE_ATTEMPTS", 3)
    monkeypatch.setattr(atomic, "_REPLACE_FIRST_DELAY_S", 0.001)
    monkeypatch.setattr(os, "replace", always_denied)
    with pytest.raises(WriteError, match="Permission denied"):
        atomic_write_bytes(target, b"new")
    monkeypatch.undo()
    assert len(attempts) == 3
    assert target.read_bytes() == ORIGINAL
    assert leftovers(target.parent) == []
