"""Download catalog models from ModelScope: pinned, resumable, verified, cancellable."""

from __future__ import annotations

import contextlib
import errno
import fnmatch
import functools
import hashlib
import inspect
import logging
import os
import re
import shutil
import sys
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from vldesk.core.catalog import ModelSpec
from vldesk.core.errors import (
    DiskSpaceError,
    DownloadCancelled,
    DownloadError,
    HubUnavailableError,
    RemoteModelNotFoundError,
    VldeskError,
)
from vldesk.core.store import (
    PARTIAL_SUFFIX,
    Manifest,
    ManifestFile,
    ModelStore,
    format_bytes,
    utc_now,
)

log = logging.getLogger(__name__)

ENDPOINT_ENV = "VLDESK_MODELSCOPE_ENDPOINT"
DEFAULT_ENDPOINT = "https://www.modelscope.cn"

#: What inference needs; everything else in a repo (PyTorch pickles, code, ONNX, ...) is skipped.
ALLOW_PATTERNS = ("*.safetensors", "*.json", "*.jinja", "tokenizer*", "vocab*", "merges*")
IGNORE_PATTERNS = ("*.bin", "*.pt", "*.pth", "*.py", "*.pyc", "*.onnx", "*.gguf", "*.h5", "*.ckpt")
#: Remote file names we are willing to write: plain names, no folders, no drive letters.
_SAFE_NAME = re.compile(r"^[A-Za-z0-9_+-][A-Za-z0-9._+-]*$")
_SHA256 = re.compile(r"^[0-9a-fA-F]{64}$")

#: Free space to leave on the disk on top of the download itself.
DISK_HEADROOM = 200 * 1000**2
#: The hub client gives each file one hour by default, far too little for 4 GB on a slow line.
_FILE_TIME_BUDGET_S = 7 * 24 * 3600
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

    @property
    def fraction(self) -> float:
        return min(1.0, self.bytes_done / self.bytes_total) if self.bytes_total else 0.0


ProgressCallback = Callable[[DownloadProgress], None]


@dataclass(frozen=True)
class RemoteFile:
    """One file of the repo as the hub lists it."""

    path: str
    size: int
    sha256: str | None
    commit: str | None = None
    committed: int = 0


def hub_endpoint(endpoint: str | None = None) -> str:
    """The hub address: ``endpoint``, else ``VLDESK_MODELSCOPE_ENDPOINT``, else the default."""
    chosen = (endpoint or os.environ.get(ENDPOINT_ENV) or DEFAULT_ENDPOINT).strip().rstrip("/")
    if not chosen.lower().startswith(("http://", "https://")):
        raise DownloadError(
            f"The ModelScope address '{chosen}' is not valid: it must start with https://."
        )
    return chosen


def _wanted(name: str) -> bool:
    lowered = name.lower()
    if any(fnmatch.fnmatchcase(lowered, pattern) for pattern in IGNORE_PATTERNS):
        return False
    return any(fnmatch.fnmatchcase(lowered, pattern) for pattern in ALLOW_PATTERNS)


def select_files(entries: Iterable[Mapping[str, Any]]) -> list[RemoteFile]:
    """The files to download from a hub listing: top-level files inference needs, safely named.

    Names come from the network, so anything with a folder part, a drive or odd characters is
    dropped rather than written (inference only needs the repo's top-level files).
    """
    files: dict[str, RemoteFile] = {}
    for entry in entries:
        path = str(entry.get("Path") or entry.get("path") or entry.get("Name") or "")
        kind = entry.get("Type") or entry.get("type") or "blob"
        if kind == "tree" or not _SAFE_NAME.match(path) or not _wanted(path):
            continue
        sha = str(entry.get("Sha256") or entry.get("sha256") or "")
        try:
            size = int(entry.get("Size") or entry.get("size") or 0)
            committed = int(entry.get("CommittedDate") or 0)
        except (TypeError, ValueError):
            continue
        files[path] = RemoteFile(
            path=path,
            size=max(size, 0),
            sha256=sha.lower() if _SHA256.match(sha) else None,
            commit=str(entry.get("CommitId") or "") or None,
            committed=committed,
        )
    return sorted(files.values(), key=lambda f: (f.size, f.path))


# ----------------------------------------------------------------------------------------------
# The hub client, imported lazily
# ----------------------------------------------------------------------------------------------

_hub_lock = threading.Lock()
_hub_ready = False
_hub_log_level = logging.WARNING


def set_hub_log_level(level: int) -> None:
    """How much of the hub client's own logging reaches vldesk's log (default: warnings)."""
    global _hub_log_level
    _hub_log_level = level
    if _hub_ready:
        logging.getLogger("modelscope_hub").setLevel(level)


def _hub() -> Any:
    """Import ``modelscope_hub`` (not ``modelscope``, which drags in torch) with safe settings."""
    global _hub_ready
    with _hub_lock:
        if _hub_ready:
            import modelscope_hub

            return modelscope_hub
        # Read once at import time by the client, so it must be set before the first import.
        os.environ.setdefault("MODELSCOPE_DOWNLOAD_TOTAL_TIMEOUT", str(_FILE_TIME_BUDGET_S))
        if sys.stderr is None:
            # Windowed apps have no stderr, and the client's progress bars would crash on it.
            sys.stderr = open(os.devnull, "w", encoding="utf-8")  # noqa: SIM115
        import modelscope_hub
        from modelscope_hub import _download

        # vldesk shows its own progress; the client's tqdm bars would only clutter stderr.
        bar = getattr(_download, "tqdm", None)
        if bar is not None and not getattr(bar, "_vldesk_quiet", False):
            quiet = functools.partial(bar, disable=True)
            quiet._vldesk_quiet = True  # type: ignore[attr-defined]
            _download.tqdm = quiet
        # The client logs to its own stderr handler; route it through the app's logging instead.
        hub_logger = logging.getLogger("modelscope_hub")
        hub_logger.handlers.clear()
        hub_logger.propagate = True
        if "MODELSCOPE_LOG_LEVEL" not in os.environ:
            hub_logger.setLevel(_hub_log_level)
        _hub_ready = True
        return modelscope_hub


class _Cancelled(BaseException):
    """Raised inside the client's progress hook: a BaseException so the client does not retry."""


def _is_abort(exc: BaseException) -> bool:
    return isinstance(exc, _Cancelled) or type(exc).__name__ == "_DownloadCancelledError"


def _is_deadline(exc: BaseException) -> bool:
    return type(exc).__name__ == "_DownloadDeadlineError"


# ----------------------------------------------------------------------------------------------
# Progress accounting
# ----------------------------------------------------------------------------------------------


class _Tracker:
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
        self._sizes = {f.path: f.size for f in files}
        self._done = {f.path: _bytes_on_disk(folder, f) for f in files}
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
        partial = self.folder / (path + PARTIAL_SUFFIX)
        try:
            credit = partial.stat().st_size
        except OSError:
            credit = 0
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
            _call_progress(self._on_progress, progress, self)
        finally:
            self._emit_lock.release()


def _call_progress(
    callback: ProgressCallback | None, progress: DownloadProgress, tracker: _Tracker | None = None
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


def _bytes_on_disk(folder: Path, remote: RemoteFile) -> int:
    """What a file already has locally: all of it if complete, else its partial download."""
    with contextlib.suppress(OSError):
        if (folder / remote.path).stat().st_size == remote.size:
            return remote.size
    with contextlib.suppress(OSError):
        partial = (folder / (remote.path + PARTIAL_SUFFIX)).stat().st_size
        if partial <= remote.size:
            return partial
    return 0


def _hook_class(tracker: _Tracker, stop: threading.Event) -> type:
    """A progress-hook class for the hub client, which instantiates it once per file."""

    class _Hook:
        def __init__(self, filename: str, file_size: int) -> None:
            self.filename = filename
            tracker.start_file(filename)

        def update(self, size: int) -> None:
            # Called on the client's worker threads; raising here is how a download is stopped.
            if stop.is_set():
                raise _Cancelled
            tracker.add(self.filename, size)

        def end(self) -> None:
            pass

    return _Hook


# ----------------------------------------------------------------------------------------------
# Errors, in words for the user
# ----------------------------------------------------------------------------------------------

_KEPT = "What was already downloaded is kept: start the download again to resume."


def _status_code(exc: BaseException) -> str:
    code = getattr(exc, "status_code", None)
    return f"HTTP {code}" if code else type(exc).__name__


def _translate(
    exc: BaseException, spec: ModelSpec, endpoint: str, folder: Path, file: str | None
) -> VldeskError:
    """A user-facing error for whatever the hub client raised."""
    if isinstance(exc, VldeskError):
        return exc
    import requests
    from modelscope_hub import errors as hub_errors

    what = f"{file} of {spec.id}" if file else spec.id
    if isinstance(exc, hub_errors.NotExistError):
        if file is None:
            return RemoteModelNotFoundError(
                f"ModelScope ({endpoint}) has no model {spec.id} at revision '{spec.revision}'. "
                "Check the model id and the ModelScope address."
            )
        return RemoteModelNotFoundError(
            f"ModelScope no longer has {what} at revision '{spec.revision}'. {_KEPT}"
        )
    if isinstance(exc, (hub_errors.AuthenticationError, hub_errors.PermissionDeniedError)):
        return DownloadError(
            f"ModelScope refused access to {spec.id} ({_status_code(exc)}). The model may have "
            "become private, or a ModelScope token is needed (MODELSCOPE_API_TOKEN)."
        )
    if isinstance(exc, hub_errors.RateLimitError):
        return HubUnavailableError(
            f"ModelScope is limiting requests right now; wait a few minutes. {_KEPT}"
        )
    if isinstance(exc, hub_errors.ServerError):
        return HubUnavailableError(
            f"ModelScope is not working properly right now ({_status_code(exc)}); try again "
            f"later. {_KEPT}"
        )
    if isinstance(exc, hub_errors.FileIntegrityError):
        return DownloadError(
            f"{what} kept arriving damaged (it failed its size or SHA-256 check several times) "
            f"and was thrown away; try again later. {_KEPT}"
        )
    if isinstance(exc, (hub_errors.NetworkError, requests.RequestException, ConnectionError)):
        return HubUnavailableError(
            f"Cannot reach ModelScope at {endpoint}: check the internet connection (and proxy "
            f"settings), then try again. {_KEPT}"
        )
    if isinstance(exc, hub_errors.HubError):
        message = str(getattr(exc, "message", "") or exc).splitlines()[0][:200]
        return DownloadError(f"Downloading {what} failed: {message}. {_KEPT}")
    if isinstance(exc, OSError):
        if exc.errno in (errno.ENOSPC, getattr(errno, "EDQUOT", errno.ENOSPC)):
            return DiskSpaceError(
                f"The disk filled up while downloading to {folder}. Free some space, then start "
                "the download again to resume."
            )
        return DownloadError(
            f"Cannot write the model files to {folder}: {exc.strerror or exc}. Choose another "
            "models folder in the settings (or set VLDESK_MODELS_DIR)."
        )
    log.error("unexpected download failure", exc_info=exc)
    return DownloadError(f"Downloading {what} failed unexpectedly ({type(exc).__name__}). {_KEPT}")


# ----------------------------------------------------------------------------------------------
# The download
# ----------------------------------------------------------------------------------------------


def _list_remote(api: Any, spec: ModelSpec, cancel: threading.Event) -> list[Mapping[str, Any]]:
    """The hub's file listing, fetched on a helper thread so that cancel answers at once."""
    result: dict[str, Any] = {}

    def work() -> None:
        try:
            result["files"] = api.legacy.list_repo_files(
                repo_id=spec.id, repo_type="model", revision=spec.revision, recursive=True
            )
        except BaseException as exc:
            result["error"] = exc

    # A daemon thread: after a cancel it only finishes one read-only request and is dropped.
    worker = threading.Thread(target=work, name="vldesk-hub-listing", daemon=True)
    worker.start()
    while worker.is_alive():
        worker.join(PROGRESS_INTERVAL_S)
        if cancel.is_set():
            raise DownloadCancelled(
                f"The download of {spec.display_name} was cancelled before it started."
            )
    if "error" in result:
        raise result["error"]
    files = result.get("files")
    return [f for f in files if isinstance(f, Mapping)] if isinstance(files, list) else []


def _check_disk_space(store: ModelStore, spec: ModelSpec, needed: int) -> None:
    try:
        store.models_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise DownloadError(
            f"Cannot create the models folder {store.models_dir}: {exc.strerror or exc}. Choose "
            "another models folder in the settings (or set VLDESK_MODELS_DIR)."
        ) from None
    free = shutil.disk_usage(store.models_dir).free
    if needed > 0 and free < needed + DISK_HEADROOM:
        raise DiskSpaceError(
            f"Not enough disk space for {spec.display_name}: it needs {format_bytes(needed)} "
            f"more in {store.models_dir}, but only {format_bytes(free)} is free. Free some "
            "space, or choose another models folder in the settings (or set VLDESK_MODELS_DIR)."
        )


def _manifest_unchanged(manifest: Manifest | None, files: list[RemoteFile]) -> bool:
    if manifest is None:
        return False
    recorded = {f.path: (f.size, f.sha256) for f in manifest.files}
    return all(recorded.get(f.path) == (f.size, f.sha256) for f in files)


def _sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while block := handle.read(8 * 1024 * 1024):
            digest.update(block)
    return digest.hexdigest()


def download_model(
    spec: ModelSpec,
    store: ModelStore,
    *,
    on_progress: ProgressCallback | None = None,
    cancel: threading.Event | None = None,
    endpoint: str | None = None,
    force: bool = False,
    max_workers: int = 4,
) -> Path:
    """Download ``spec`` at its pinned revision into ``store`` and return its folder.

    Only the files inference needs are fetched (see :data:`ALLOW_PATTERNS`), straight into
    ``store.folder_for(spec)``. Interrupted files stay as ``*.incomplete`` and the next call
    resumes them with HTTP Range requests. Each file is checked against the size and SHA-256 of
    the hub's listing before it takes its final name; a damaged one is fetched again. Once all
    are in place a manifest is written, and only then does the model count as installed.

    An installed model at the same revision returns at once, without the network, unless
    ``force`` (which re-checks every file's hash and repairs what is wrong).

    ``on_progress`` is called with :class:`DownloadProgress` from worker threads, a few times a
    second. Setting ``cancel`` (from any thread) stops within a fraction of a second.

    Raises:
        DownloadCancelled: ``cancel`` was set; partial files are kept for resuming.
        DiskSpaceError: not enough free space (checked before any file is fetched).
        RemoteModelNotFoundError: the hub has no such model or revision.
        HubUnavailableError: no connection, or the hub is failing; partial files are kept.
        DownloadError: anything else, explained.
    """
    cancel = cancel if cancel is not None else threading.Event()
    folder = store.folder_for(spec)
    manifest = store.read_manifest(spec)
    if (
        not force
        and manifest is not None
        and manifest.revision == spec.revision
        and store.is_installed(spec)
    ):
        log.info("%s is already installed in %s", spec.id, folder)
        _call_progress(on_progress, _finished_progress(spec, manifest))
        return folder

    address = hub_endpoint(endpoint)
    hub = _hub()
    if cancel.is_set():
        raise DownloadCancelled(f"The download of {spec.display_name} was cancelled.")
    config = hub.HubConfig(
        endpoint=address,
        cache_dir=store.hub_cache_dir,
        config_dir=store.hub_cache_dir,
        # Public models need no login; never pick up (or write) the user's stored credentials.
        token=os.environ.get("MODELSCOPE_API_TOKEN", ""),
    )
    api = hub.HubApi(config=config)
    _call_progress(
        on_progress,
        DownloadProgress(spec.id, "listing", 0, 0, 0.0, None, None, 0, 0),
    )
    try:
        files = select_files(_list_remote(api, spec, cancel))
    except DownloadCancelled:
        raise
    except Exception as exc:
        raise _translate(exc, spec, address, folder, None) from exc
    has_weights = any(f.path.endswith(".safetensors") for f in files)
    if not has_weights or not any(f.path == "config.json" for f in files):
        raise DownloadError(
            f"ModelScope lists no config.json and .safetensors weights for {spec.id} at revision "
            f"'{spec.revision}', so vldesk cannot use it."
        )

    tracker = _Tracker(spec.id, folder, files, on_progress)
    needed = tracker.total - sum(_bytes_on_disk(folder, f) for f in files)
    _check_disk_space(store, spec, needed)
    try:
        if not _manifest_unchanged(manifest, files):
            # The files are about to change: until they all verify, the model is not installed.
            store.forget_manifest(spec)
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise _translate(exc, spec, address, folder, None) from exc

    _fetch_all(api, spec, store, folder, files, tracker, cancel, address, max_workers)

    recorded = []
    for remote in files:
        target = folder / remote.path
        size = target.stat().st_size if target.is_file() else -1
        if remote.size and size != remote.size:
            raise DownloadError(
                f"{remote.path} of {spec.id} ended up with the wrong size; start the download "
                "again to repair it."
            )
        # The client verified listed hashes; a file the hub gave none for is hashed for the record.
        sha = remote.sha256 or _sha256_of(target)
        recorded.append(ManifestFile(remote.path, size, sha))
    commits = sorted((f for f in files if f.commit), key=lambda f: f.committed)
    result = Manifest(
        model_id=spec.id,
        revision=spec.revision,
        commit=commits[-1].commit if commits else None,
        endpoint=address,
        downloaded_at=utc_now(),
        files=tuple(recorded),
    )
    store.write_manifest(spec, result)
    tracker.emit(force=True, phase="done")
    log.info("downloaded %s (%s) into %s", spec.id, format_bytes(result.total_bytes), folder)
    return folder


def _finished_progress(spec: ModelSpec, manifest: Manifest) -> DownloadProgress:
    total = manifest.total_bytes
    count = len(manifest.files)
    return DownloadProgress(spec.id, "done", total, total, 0.0, 0.0, None, count, count)


def _fetch_all(
    api: Any,
    spec: ModelSpec,
    store: ModelStore,
    folder: Path,
    files: list[RemoteFile],
    tracker: _Tracker,
    cancel: threading.Event,
    address: str,
    max_workers: int,
) -> None:
    """Fetch every file on a small thread pool; the first failure (or a cancel) stops them all."""
    downloader = api.downloader
    # The client's own stop signal interrupts stalled reads and retry pauses, which a raising
    # hook cannot reach; it is a private parameter, so fall back to the hook alone without it.
    accepts_stop = "_cancel_event" in inspect.signature(downloader.download_file).parameters
    stop = threading.Event()
    hook = _hook_class(tracker, stop)

    def fetch(remote: RemoteFile) -> None:
        kwargs: dict[str, Any] = {
            "repo_id": spec.id,
            "repo_type": "model",
            "file_path": remote.path,
            "revision": spec.revision,
            "cache_dir": store.hub_cache_dir,
            "local_dir": folder,
            "expected_sha256": remote.sha256,
            # The listing says 0 both for empty files and unknown sizes.
            "file_size": remote.size or None,
            "progress_callbacks": [hook],
        }
        if accepts_stop:
            kwargs["_cancel_event"] = stop
        while True:
            before = _bytes_on_disk(folder, remote)
            try:
                downloader.download_file(**kwargs)
                break
            except Exception as exc:
                # The client's per-file time budget ran out on a slow line: go on while it moves.
                if (
                    stop.is_set()
                    or not _is_deadline(exc)
                    or _bytes_on_disk(folder, remote) <= before
                ):
                    raise
                log.info("time budget for %s ran out; resuming it", remote.path)
        tracker.finish_file(remote.path)

    first_error: tuple[str, BaseException] | None = None
    executor = ThreadPoolExecutor(
        max_workers=max(1, min(max_workers, len(files))), thread_name_prefix="vldesk-download"
    )
    futures: dict[Future[None], RemoteFile] = {executor.submit(fetch, f): f for f in files}
    try:
        pending = set(futures)
        while pending:
            done, pending = wait(pending, timeout=PROGRESS_INTERVAL_S, return_when=FIRST_COMPLETED)
            if cancel.is_set():
                stop.set()
            for future in done:
                exc = future.exception()
                if exc is None or (stop.is_set() and _is_abort(exc)):
                    continue
                if first_error is None:
                    first_error = (futures[future].path, exc)
                    stop.set()
            tracker.emit()
    except BaseException:
        stop.set()
        raise
    finally:
        executor.shutdown(wait=True, cancel_futures=True)
    if cancel.is_set():
        kept = format_bytes(tracker.snapshot().bytes_done)
        raise DownloadCancelled(
            f"The download of {spec.display_name} was cancelled. The {kept} already downloaded "
            "are kept: start the download again to resume."
        )
    if first_error is not None:
        path, exc = first_error
        raise _translate(exc, spec, address, folder, path) from exc
