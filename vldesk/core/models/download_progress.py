"""Download progress: per-file byte counts from the hub client, summed into one throttled stream."""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from vldesk.core.models import modelscope_adapter as client
from vldesk.core.models.remote_files import RemoteFile

log = logging.getLogger(__name__)

PROGRESS_INTERVAL_S = 0.1


_SPEED_WINDOW_S = 5.0


Phase = Literal["listing", "downloading", "done"]


@dataclass(frozen=True)
class DownloadProgress:
    """A snapshot of a download, passed to the ``on_progress`` callback (from worker threads)."""

    model_id: str
    phase: Phase
    bytes_done: int
    bytes_total: int
    #: Bytes per second over the last few seconds; 0 while nothing arrives.
    speed: float
    #: Seconds left at the current speed; ``None`` when unknown.
    eta: float | None
    current_file: str | None
    files_done: int
    files_total: int
    #: Something the user should know now (one ModelScope site cannot be reached, say).
    notice: str | None = None

    @property
    def fraction(self) -> float:
        return min(1.0, self.bytes_done / self.bytes_total) if self.bytes_total else 0.0


ProgressCallback = Callable[[DownloadProgress], None]


class HookCancelled(BaseException):
    """Raised inside the client's progress hook: a BaseException so the client does not retry."""


def bytes_on_disk(folder: Path, remote: RemoteFile) -> int:
    """What a file already has locally: all of it if complete, else what its partials keep."""
    with contextlib.suppress(OSError):
        if (folder / remote.path).stat().st_size == remote.size:
            return remote.size
    return min(client.partial_files(folder, remote.path, remote.size).resumable_bytes, remote.size)


class ProgressTracker:
    """Adds up per-file byte counts from the client's hooks into one throttled progress stream."""

    def __init__(
        self,
        model_id: str,
        folder: Path,
        files: list[RemoteFile],
        on_progress: ProgressCallback | None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.model_id = model_id
        self.folder = folder
        self._files = {f.path: f for f in files}
        self._sizes = {f.path: f.size for f in files}
        self._done = {f.path: bytes_on_disk(folder, f) for f in files}
        self._finished: set[str] = set()
        #: Bytes a resumed file re-reports from disk before new ones arrive; not counted as speed.
        self._credit: dict[str, int] = {}
        self._transferred = 0
        self._current: str | None = None
        self._samples: deque[tuple[float, int]] = deque()
        self._on_progress = on_progress
        self._clock = clock
        self._lock = threading.Lock()
        self._emit_lock = threading.Lock()
        self._last_emit = float("-inf")
        self._callback_failed = False

    @property
    def total(self) -> int:
        return sum(self._sizes.values())

    def start_file(self, path: str) -> None:
        remote = self._files.get(path)
        credit = 0
        if remote is not None:
            credit = client.partial_files(self.folder, path, remote.size).resumable_bytes
        with self._lock:
            self._credit[path] = credit
            self._done[path] = 0
            self._current = path

    def add(self, path: str, delta: int) -> None:
        with self._lock:
            credit = self._credit.get(path, 0)
            if delta > 0 and credit > 0:
                used = min(delta, credit)
                self._credit[path] = credit - used
                self._transferred += delta - used
            elif delta < 0:
                self._credit[path] = 0  # the server ignored Range: the file starts over
            else:
                self._transferred += delta
            size = self._sizes.get(path, 0)
            done = max(0, self._done.get(path, 0) + delta)
            self._done[path] = min(done, size) if size else done
            self._current = path
        self.emit()

    def finish_file(self, path: str) -> None:
        with self._lock:
            self._done[path] = self._sizes.get(path, 0)
            self._finished.add(path)
        self.emit(force=True)

    def _speed(self, now: float) -> float:
        self._samples.append((now, self._transferred))
        # Keep one sample older than the window as the anchor for the rate.
        while len(self._samples) > 2 and now - self._samples[1][0] >= _SPEED_WINDOW_S:
            self._samples.popleft()
        start, first = self._samples[0]
        span = now - start
        return (self._transferred - first) / span if span >= 0.2 else 0.0

    def snapshot(self, phase: Phase = "downloading") -> DownloadProgress:
        with self._lock:
            return self._snapshot(self._clock(), phase)

    def _snapshot(self, now: float, phase: Phase) -> DownloadProgress:
        total = self.total
        done = total if phase == "done" else min(sum(self._done.values()), total)
        speed = self._speed(now)
        eta = (total - done) / speed if speed > 0 and phase != "done" else None
        return DownloadProgress(
            model_id=self.model_id,
            phase=phase,
            bytes_done=done,
            bytes_total=total,
            speed=speed,
            eta=0.0 if phase == "done" else eta,
            current_file=None if phase == "done" else self._current,
            files_done=len(self._sizes) if phase == "done" else len(self._finished),
            files_total=len(self._sizes),
        )

    def emit(self, *, force: bool = False, phase: Phase = "downloading") -> None:
        if self._on_progress is None:
            return
        if not force and self._clock() - self._last_emit < PROGRESS_INTERVAL_S:
            return
        # One report at a time, in order; a busy worker skips a routine report instead of waiting.
        if not self._emit_lock.acquire(blocking=force):
            return
        try:
            with self._lock:
                now = self._clock()
                self._last_emit = now
                progress = self._snapshot(now, phase)
            call_progress(self._on_progress, progress, self)
        finally:
            self._emit_lock.release()


def call_progress(
    callback: ProgressCallback | None,
    progress: DownloadProgress,
    tracker: ProgressTracker | None = None,
) -> None:
    # A broken progress display must not break (or, raised in a hook, retry) the download.
    if callback is None:
        return
    try:
        callback(progress)
    except Exception:
        if tracker is None or not tracker._callback_failed:
            log.exception("the download progress callback failed")
        if tracker is not None:
            tracker._callback_failed = True


def hook_class(tracker: ProgressTracker, stop: threading.Event) -> type[client.ProgressHook]:
    """A progress-hook class for the hub client, which instantiates it once per file."""

    class _Hook(client.ProgressHook):
        def __init__(self, filename: str, file_size: int) -> None:
            super().__init__(filename, file_size)
            tracker.start_file(filename)

        def update(self, size: int) -> None:
            # Called on the client's worker threads; raising here is how a download is stopped.
            if stop.is_set():
                raise HookCancelled
            tracker.add(self.filename, size)

    return _Hook
