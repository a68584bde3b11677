"""Download models from ModelScope: pinned to one commit, resumable, verified, cancellable."""

from __future__ import annotations

import contextlib
import errno
import fnmatch
import functools
import hashlib
import json
import logging
import os
import re
import shutil
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, TypeVar
from urllib.parse import urlparse

from vldesk.core.errors import (
    DiskSpaceError,
    DownloadCancelled,
    DownloadError,
    HubUnavailableError,
    RemoteModelNotFoundError,
    VldeskError,
)
from vldesk.core.models import modelscope_adapter as client
from vldesk.core.models.catalog import (
    Family,
    ModelSpec,
    UnsupportedModel,
    check_config,
    find_model,
    spec_for_repository,
)
from vldesk.core.models.files import format_bytes, utc_now, write_json_atomic
from vldesk.core.models.manifest import Manifest, ManifestFile
from vldesk.core.models.store import ModelStore

log = logging.getLogger(__name__)

#: vldesk's own setting for the ModelScope address; then the client's standard ones.
ENDPOINT_ENV = "VLDESK_MODELSCOPE_ENDPOINT"
CLIENT_ENDPOINT_ENV = "MODELSCOPE_ENDPOINT"
CLIENT_DOMAIN_ENV = "MODELSCOPE_DOMAIN"
PREFER_AI_ENV = "MODELSCOPE_PREFER_AI_SITE"
#: The two ModelScope sites, China first; each is the other's fallback.
OFFICIAL_SITES = ("https://www.modelscope.cn", "https://www.modelscope.ai")
DEFAULT_ENDPOINT = OFFICIAL_SITES[0]

#: What inference needs; everything else in a repo (PyTorch pickles, code, ONNX, ...) is skipped.
ALLOW_PATTERNS = ("*.safetensors", "*.json", "*.jinja", "tokenizer*", "vocab*", "merges*")
IGNORE_PATTERNS = ("*.bin", "*.pt", "*.pth", "*.py", "*.pyc", "*.onnx", "*.gguf", "*.h5", "*.ckpt")
#: Remote file names we are willing to write: plain names, no folders, no drive letters.
_SAFE_NAME = re.compile(r"^[A-Za-z0-9_+-][A-Za-z0-9._+-]*$")
_SHA256 = re.compile(r"^[0-9a-fA-F]{64}$")
_COMMIT = re.compile(r"^[0-9a-f]{40}$")

#: Free space to leave on the disk on top of the download itself.
DISK_HEADROOM = 200 * 1000**2
#: Beside the model's files while they download: what each partial file is a part of, so a
#: partial left by another version of the file is never resumed into this one.
PARTIALS_NAME = ".vldesk-partials.json"
PROGRESS_INTERVAL_S = 0.1
_SPEED_WINDOW_S = 5.0

Phase = Literal["listing", "downloading", "done"]
_T = TypeVar("_T")


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


@dataclass(frozen=True)
class RemoteFile:
    """One file of the repo as the hub lists it."""

    path: str
    size: int
    sha256: str | None
    #: The last commit that changed this file (the listing's per-file ``Revision``).
    commit: str | None = None
    committed: int = 0


# ----------------------------------------------------------------------------------------------
# Where ModelScope is
# ----------------------------------------------------------------------------------------------


def _normalized(address: str, setting: str) -> str:
    chosen = address.strip().rstrip("/")
    if "://" not in chosen:
        chosen = f"https://{chosen}"  # a bare domain, as the client itself accepts
    if not chosen.lower().startswith(("http://", "https://")):
        raise DownloadError(
            f"The ModelScope address '{address.strip()}' ({setting}) is not valid: it must start "
            "with https://."
        )
    return chosen


def _official_site(address: str) -> int | None:
    host = (urlparse(address).hostname or "").lower().removeprefix("www.")
    return {"modelscope.cn": 0, "modelscope.ai": 1}.get(host)


def hub_endpoints(endpoint: str | None = None) -> tuple[str, ...]:
    """The ModelScope addresses to try, in order.

    The address is ``endpoint``, else ``VLDESK_MODELSCOPE_ENDPOINT``, else the client's own
    ``MODELSCOPE_ENDPOINT`` or ``MODELSCOPE_DOMAIN``, else modelscope.cn (modelscope.ai first
    with ``MODELSCOPE_PREFER_AI_SITE=true``). When it is one of the two ModelScope sites the
    other follows as the fallback; a mirror or a private address has none.
    """
    settings = (
        ("the endpoint given", endpoint),
        (ENDPOINT_ENV, os.environ.get(ENDPOINT_ENV)),
        (CLIENT_ENDPOINT_ENV, os.environ.get(CLIENT_ENDPOINT_ENV)),
        (CLIENT_DOMAIN_ENV, os.environ.get(CLIENT_DOMAIN_ENV)),
    )
    chosen = next(((name, value) for name, value in settings if value and value.strip()), None)
    if chosen is None:
        prefer_ai = os.environ.get(PREFER_AI_ENV, "").strip().lower() in ("1", "true", "yes", "on")
        return tuple(reversed(OFFICIAL_SITES)) if prefer_ai else OFFICIAL_SITES
    address = _normalized(chosen[1] or "", chosen[0])
    site = _official_site(address)
    return (address,) if site is None else (address, OFFICIAL_SITES[1 - site])


def hub_endpoint(endpoint: str | None = None) -> str:
    """The first ModelScope address to try (see :func:`hub_endpoints`)."""
    return hub_endpoints(endpoint)[0]


# ----------------------------------------------------------------------------------------------
# The listing
# ----------------------------------------------------------------------------------------------


def _wanted(name: str) -> bool:
    lowered = name.lower()
    if any(fnmatch.fnmatchcase(lowered, pattern) for pattern in IGNORE_PATTERNS):
        return False
    return any(fnmatch.fnmatchcase(lowered, pattern) for pattern in ALLOW_PATTERNS)


def _is_folder(entry: Mapping[str, Any]) -> bool:
    return (entry.get("Type") or entry.get("type") or "blob") == "tree"


def select_files(entries: Iterable[Mapping[str, Any]]) -> list[RemoteFile]:
    """The files to download from a hub listing: top-level files inference needs, safely named.

    Names come from the network, so anything with a folder part, a drive or odd characters is
    dropped rather than written (inference only needs the repo's top-level files).
    """
    files: dict[str, RemoteFile] = {}
    for entry in entries:
        path = str(entry.get("Path") or entry.get("path") or entry.get("Name") or "")
        if _is_folder(entry) or not _SAFE_NAME.match(path) or not _wanted(path):
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


# ----------------------------------------------------------------------------------------------
# The hub client
# ----------------------------------------------------------------------------------------------


def set_hub_log_level(level: int) -> None:
    """How much of the hub client's own logging reaches vldesk's log (default: warnings)."""
    client.set_log_level(level)


def _hub() -> Any:
    """Import and set up the hub client (tests call this before patching it)."""
    return client.load_client()


class _Cancelled(BaseException):
    """Raised inside the client's progress hook: a BaseException so the client does not retry."""


def _is_abort(exc: BaseException) -> bool:
    return isinstance(exc, _Cancelled) or client.error_kind(exc) == "cancelled"


def _cancellable(work: Callable[[], _T], cancel: threading.Event, cancelled: str) -> _T:
    """Run ``work`` on a helper thread so that ``cancel`` answers at once, even mid-connect."""
    result: dict[str, Any] = {}

    def run() -> None:
        try:
            result["value"] = work()
        except BaseException as exc:
            result["error"] = exc

    # A daemon thread: after a cancel it ends at its next check and is dropped.
    worker = threading.Thread(target=run, name="vldesk-hub-request", daemon=True)
    worker.start()
    while worker.is_alive():
        worker.join(PROGRESS_INTERVAL_S)
        if cancel.is_set():
            raise DownloadCancelled(cancelled)
    if "error" in result:
        raise result["error"]
    return result["value"]  # type: ignore[no-any-return]


# ----------------------------------------------------------------------------------------------
# Progress accounting
# ----------------------------------------------------------------------------------------------


def _bytes_on_disk(folder: Path, remote: RemoteFile) -> int:
    """What a file already has locally: all of it if complete, else what its partials keep."""
    with contextlib.suppress(OSError):
        if (folder / remote.path).stat().st_size == remote.size:
            return remote.size
    return min(client.partial_files(folder, remote.path, remote.size).resumable_bytes, remote.size)


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
        self._files = {f.path: f for f in files}
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


def _hook_class(tracker: _Tracker, stop: threading.Event) -> type[client.ProgressHook]:
    """A progress-hook class for the hub client, which instantiates it once per file."""

    class _Hook(client.ProgressHook):
        def __init__(self, filename: str, file_size: int) -> None:
            super().__init__(filename, file_size)
            tracker.start_file(filename)

        def update(self, size: int) -> None:
            # Called on the client's worker threads; raising here is how a download is stopped.
            if stop.is_set():
                raise _Cancelled
            tracker.add(self.filename, size)

    return _Hook


# ----------------------------------------------------------------------------------------------
# Errors, in words for the user
# ----------------------------------------------------------------------------------------------

_KEPT = "What was already downloaded is kept: start the download again to resume."
_NO_CONNECTION = "check the internet connection (and proxy settings), then try again"


def _site_problem(exc: BaseException) -> str:
    """A few words on why a site failed, for a message that names several sites."""
    kind = client.error_kind(exc)
    code = client.status_code(exc)
    if kind == "network":
        return "cannot be reached"
    if kind == "not_found":
        return "has no such model"
    if kind in ("server", "rate_limited"):
        return f"is not working properly (HTTP {code})" if code else "is not working properly"
    return client.first_line(exc)


def _translate(
    exc: BaseException,
    spec: ModelSpec,
    endpoint: str,
    folder: Path,
    remote: RemoteFile | None,
    revision: str | None = None,
) -> VldeskError:
    """A user-facing error for whatever the hub client raised."""
    if isinstance(exc, VldeskError):
        return exc
    kind = client.error_kind(exc)
    code = client.status_code(exc)
    what = f"{remote.path} of {spec.id}" if remote else spec.id
    if kind == "not_found":
        if remote is None:
            return RemoteModelNotFoundError(
                f"ModelScope ({endpoint}) has no model {spec.id}. Check the model id and the "
                "ModelScope address (a private model also needs MODELSCOPE_API_TOKEN)."
            )
        return RemoteModelNotFoundError(
            f"ModelScope no longer has {what} at revision '{revision or spec.revision}'. {_KEPT}"
        )
    if kind == "auth":
        return DownloadError(
            f"ModelScope refused access to {spec.id} (HTTP {code}). The model may have become "
            "private, or a ModelScope token is needed (MODELSCOPE_API_TOKEN)."
        )
    if kind == "rate_limited":
        return HubUnavailableError(
            f"ModelScope is limiting requests right now; wait a few minutes. {_KEPT}"
        )
    if kind == "server":
        return HubUnavailableError(
            f"ModelScope is not working properly right now (HTTP {code}); try again later. {_KEPT}"
        )
    if kind == "size":
        expected = f"the {remote.size:,} bytes its listing gives" if remote else "its listing"
        return DownloadError(
            f"ModelScope twice served {what} with a size other than {expected} (its copy came "
            f"empty or cut short), so it was not kept. Its copy may be broken; try again later. "
            f"{_KEPT}"
        )
    if kind == "hash":
        return DownloadError(
            f"{what} arrived damaged twice (its SHA-256 did not match ModelScope's listing), so "
            "it was not kept. It cannot be resumed part-way: ModelScope publishes one checksum "
            "per file, so the damaged bytes cannot be located. Try again later. " + _KEPT
        )
    if kind == "network":
        return HubUnavailableError(
            f"Cannot reach ModelScope at {endpoint}: {_NO_CONNECTION}. {_KEPT}"
        )
    if kind == "deadline":
        return HubUnavailableError(
            f"ModelScope at {endpoint} sent nothing more of {what} for too long; "
            f"{_NO_CONNECTION}. {_KEPT}"
        )
    if kind == "hub":
        return DownloadError(f"Downloading {what} failed: {client.first_line(exc)}. {_KEPT}")
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
# Finding the model: which site, which files, which commit
# ----------------------------------------------------------------------------------------------


@dataclass
class _Located:
    site: client.HubSite
    files: list[RemoteFile]
    #: The commit every file is fetched at; None when the listing names none.
    commit: str | None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def revision(self, spec: ModelSpec) -> str:
        with self._lock:
            return self.commit or spec.revision

    def unpin(self, refused: str, spec: ModelSpec) -> None:
        """The file endpoint answered a commit id with 404: fetch at the named revision."""
        with self._lock:
            if self.commit != refused:
                return
            self.commit = None
        # Mixing is still caught: every file must match the listing's SHA-256.
        log.warning(
            "ModelScope does not serve files by commit id; fetching %s at '%s' instead, each "
            "file checked against the listing",
            spec.id,
            spec.revision,
        )


def _locate(
    spec: ModelSpec,
    store: ModelStore,
    endpoints: tuple[str, ...],
    cancel: threading.Event,
    on_progress: ProgressCallback | None,
) -> _Located:
    """List the repo on the first site that answers; say so when it is not the first one."""
    token = os.environ.get("MODELSCOPE_API_TOKEN", "")
    failures: list[tuple[str, BaseException]] = []
    for index, endpoint in enumerate(endpoints):
        site = client.HubSite(endpoint, store.hub_cache_dir, token)
        try:
            entries = _cancellable(
                functools.partial(site.list_files, spec.id, spec.revision, cancel),
                cancel,
                f"The download of {spec.display_name} was cancelled before it started.",
            )
        except DownloadCancelled:
            raise
        except Exception as exc:
            if client.error_kind(exc) not in ("network", "server", "not_found"):
                raise _translate(exc, spec, endpoint, store.folder_for(spec), None) from exc
            failures.append((endpoint, exc))
            if index + 1 < len(endpoints):
                notice = (
                    f"ModelScope at {endpoint} {_site_problem(exc)}; trying "
                    f"{endpoints[index + 1]} instead."
                )
                log.warning("%s", notice)
                _call_progress(
                    on_progress,
                    DownloadProgress(spec.id, "listing", 0, 0, 0.0, None, None, 0, 0, notice),
                )
            continue
        if not entries:
            raise _no_revision(site, spec, cancel)
        return _Located(site, select_files(entries), listing_commit(entries))
    raise _all_sites_failed(spec, store.folder_for(spec), failures)


def _all_sites_failed(
    spec: ModelSpec, folder: Path, failures: list[tuple[str, BaseException]]
) -> VldeskError:
    endpoint, exc = failures[-1]
    if len(failures) == 1:
        return _translate(exc, spec, endpoint, folder, None)
    kinds = {client.error_kind(e) for _, e in failures}
    sites = " or ".join(endpoint for endpoint, _ in failures)
    if kinds == {"not_found"}:
        return RemoteModelNotFoundError(
            f"Neither ModelScope site ({sites}) has a model {spec.id}. Check the model id (a "
            "private model also needs MODELSCOPE_API_TOKEN)."
        )
    each = "; ".join(f"{endpoint} {_site_problem(e)}" for endpoint, e in failures)
    return HubUnavailableError(f"ModelScope cannot be used right now ({each}): {_NO_CONNECTION}.")


def _no_revision(site: client.HubSite, spec: ModelSpec, cancel: threading.Event) -> VldeskError:
    """Say why a listing came back empty: the service answers an unknown revision that way."""
    try:
        known = _cancellable(
            lambda: site.revisions(spec.id, cancel), cancel, "The download was cancelled."
        )
    except DownloadCancelled:
        raise
    except Exception:
        log.info("listing the revisions of %s failed", spec.id, exc_info=True)
        return RemoteModelNotFoundError(
            f"ModelScope ({site.endpoint}) has no revision '{spec.revision}' of {spec.id} (it "
            "lists no files there). Check the revision."
        )
    if spec.revision in known.branches or spec.revision in known.tags:
        return DownloadError(
            f"ModelScope lists no files for {spec.id} at revision '{spec.revision}', so there "
            "is nothing vldesk could use."
        )
    offered = ", ".join((*known.branches, *known.tags)) or "none"
    return RemoteModelNotFoundError(
        f"ModelScope ({site.endpoint}) has no revision '{spec.revision}' of {spec.id}; it has: "
        f"{offered}."
    )


# ----------------------------------------------------------------------------------------------
# The architecture, from config.json, before the weights
# ----------------------------------------------------------------------------------------------


def check_architecture(config: Any, model_id: str, expected: Family | None = None) -> Family:
    """The family a config.json declares, if vldesk runs it (and it is ``expected``).

    Raises:
        DownloadError: the config cannot be read, names an architecture vldesk does not run, or
            (for a catalog model) no longer names the catalog's architecture.
    """
    try:
        family = check_config(config, f"{model_id} on ModelScope")
    except UnsupportedModel as exc:
        raise DownloadError(f"{exc} Nothing else was downloaded.") from None
    if expected is not None and family is not expected:
        raise DownloadError(
            f"{model_id} on ModelScope is now a {family.value} model, not the {expected.value} "
            "model vldesk's catalog lists; nothing else was downloaded."
        )
    return family


def _read_json_file(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError):
        return None


def _complete(path: Path, remote: RemoteFile) -> bool:
    """``path`` holds exactly the file the listing describes."""
    try:
        if path.stat().st_size != remote.size:
            return False
        return remote.sha256 is None or _sha256_of(path) == remote.sha256
    except OSError:
        return False


def _fetch_config(
    located: _Located,
    spec: ModelSpec,
    store: ModelStore,
    folder: Path | None,
    cancel: threading.Event,
) -> tuple[Any, Path | None]:
    """config.json's content, fetched alone into a scratch folder unless ``folder`` has it.

    Returns the parsed config and the fetched file (to be moved into place), or None for it
    when the model folder already held the right one.
    """
    remote = next((f for f in located.files if f.path == "config.json"), None)
    if remote is None:
        raise DownloadError(
            f"ModelScope lists no config.json for {spec.id}, so vldesk cannot tell what model "
            "it is."
        )
    if folder is not None and _complete(folder / "config.json", remote):
        return _read_json_file(folder / "config.json"), None
    scratch = store.hub_cache_dir / "config-check" / spec.folder_name
    shutil.rmtree(scratch, ignore_errors=True)
    revision = located.revision(spec)
    try:
        scratch.mkdir(parents=True, exist_ok=True)
        path = _cancellable(
            lambda: located.site.download_file(
                spec.id,
                "config.json",
                revision,
                local_dir=scratch,
                cache_dir=store.hub_cache_dir,
                sha256=remote.sha256,
                size=remote.size or None,
                hook=client.ProgressHook,
                stop=cancel,
            ),
            cancel,
            f"The download of {spec.display_name} was cancelled before it started.",
        )
    except DownloadCancelled:
        raise
    except Exception as exc:
        if client.error_kind(exc) == "cancelled":
            raise DownloadCancelled(f"The download of {spec.display_name} was cancelled.") from exc
        if client.error_kind(exc) == "not_found" and revision != spec.revision:
            located.unpin(revision, spec)
            return _fetch_config(located, spec, store, folder, cancel)
        raise _translate(exc, spec, located.site.endpoint, scratch, remote, revision) from exc
    return _read_json_file(path), path


# ----------------------------------------------------------------------------------------------
# Partial files
# ----------------------------------------------------------------------------------------------


def _identity(remote: RemoteFile) -> dict[str, Any]:
    return {"size": remote.size, "sha256": remote.sha256}


def _prepare_partials(folder: Path, files: list[RemoteFile]) -> set[str]:
    """Drop partial files nothing can resume; return the files resumed from an unknown origin.

    A partial recorded for other content (the file changed on ModelScope since) would only fail
    its hash at the end, so it starts over now; one with no record (an older vldesk, a copy)
    is resumed, and its file is the one to blame if the hash fails. Then every file about to be
    fetched is recorded, before the client writes a byte of it.
    """
    recorded_data = _read_json_file(folder / PARTIALS_NAME)
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


def _clean_partials(folder: Path, files: list[RemoteFile]) -> None:
    """After a complete download nothing partial is left behind, whatever mode wrote it."""
    for remote in files:
        client.remove_files(client.partial_files(folder, remote.path, remote.size).all)
    (folder / PARTIALS_NAME).unlink(missing_ok=True)


# ----------------------------------------------------------------------------------------------
# The download
# ----------------------------------------------------------------------------------------------


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


def _check_listing(spec: ModelSpec, files: list[RemoteFile]) -> None:
    has_weights = any(f.path.endswith(".safetensors") for f in files)
    if not has_weights or not any(f.path == "config.json" for f in files):
        raise DownloadError(
            f"ModelScope lists no config.json and .safetensors weights for {spec.id} at revision "
            f"'{spec.revision}', so vldesk cannot use it."
        )


def remote_model_spec(
    model_id: str,
    store: ModelStore,
    *,
    revision: str = "master",
    endpoint: str | None = None,
    cancel: threading.Event | None = None,
) -> ModelSpec:
    """A spec for any ModelScope repo of a supported architecture, read from its config.json.

    Catalog models come back as the catalog has them. For any other id the repo is listed and
    only its config.json is fetched: the architecture must be one vldesk runs, and the spec's
    figures are estimated from the listing (parameters from the weights' size and dtype).

    Raises:
        RemoteModelNotFoundError: no such model or revision on ModelScope.
        DownloadError: not a model vldesk can run (said why), or the hub failed (in words).
    """
    known = find_model(model_id)
    if known is not None:
        return known
    cancel = cancel if cancel is not None else threading.Event()
    probe = ModelSpec(
        id=model_id.strip(),
        family=Family.QWEN3_VL,  # a placeholder: the spec returned comes from config.json
        display_name=model_id.strip().rsplit("/", 1)[-1],
        params=0,
        download_bytes=0,
        revision=revision,
        summary="Downloaded from ModelScope by its id.",
    )
    located = _locate(probe, store, hub_endpoints(endpoint), cancel, None)
    _check_listing(probe, located.files)
    config, fetched = _fetch_config(located, probe, store, None, cancel)
    check_architecture(config, probe.id)
    if fetched is not None:
        shutil.rmtree(fetched.parent, ignore_errors=True)
    return spec_for_repository(
        probe.id,
        config,
        revision=revision,
        weights_bytes=sum(f.size for f in located.files if f.path.endswith(".safetensors")),
        download_bytes=sum(f.size for f in located.files),
    )


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
    """Download ``spec`` at its revision into ``store`` and return its folder.

    The repo is listed on the first ModelScope site that answers (see :func:`hub_endpoints`),
    and every file is then fetched at the one commit that listing shows, so a push upstream
    mid-download cannot mix two versions. config.json comes first: a model whose architecture
    vldesk does not run (or no longer the catalog's) is refused before any weights come.

    Only the files inference needs are fetched (see :data:`ALLOW_PATTERNS`), straight into
    ``store.folder_for(spec)``. Interrupted files stay as partial files and the next call
    resumes them with HTTP Range requests, unless the file has changed since. Each file is
    checked against the listing's size and SHA-256 before it takes its final name. Once all
    are in place a manifest (with the commit) is written, and only then does the model count
    as installed; no partial file is left behind.

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

    endpoints = hub_endpoints(endpoint)
    _hub()
    if cancel.is_set():
        raise DownloadCancelled(f"The download of {spec.display_name} was cancelled.")
    _call_progress(
        on_progress,
        DownloadProgress(spec.id, "listing", 0, 0, 0.0, None, None, 0, 0),
    )
    located = _locate(spec, store, endpoints, cancel, on_progress)
    files = located.files
    _check_listing(spec, files)
    address = located.site.endpoint

    needed = sum(f.size for f in files) - sum(_bytes_on_disk(folder, f) for f in files)
    _check_disk_space(store, spec, needed)
    # Before anything in the folder changes: a refused model leaves an installed one as it was.
    config, fetched = _fetch_config(located, spec, store, folder, cancel)
    check_architecture(config, spec.id, spec.family)
    if not _manifest_unchanged(manifest, files):
        # The files are about to change: until they all verify, the model is not installed.
        store.forget_manifest(spec)
    try:
        folder.mkdir(parents=True, exist_ok=True)
        if fetched is not None:
            os.replace(fetched, folder / "config.json")
            shutil.rmtree(fetched.parent, ignore_errors=True)
        unknown_origin = _prepare_partials(folder, files)
    except OSError as exc:
        raise _translate(exc, spec, address, folder, None) from exc

    tracker = _Tracker(spec.id, folder, files, on_progress)
    _Fetcher(located, spec, store, folder, tracker, cancel, unknown_origin).run(files, max_workers)

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
    result = Manifest(
        model_id=spec.id,
        revision=spec.revision,
        commit=located.commit or _newest_commit(files),
        endpoint=address,
        downloaded_at=utc_now(),
        files=tuple(recorded),
    )
    store.write_manifest(spec, result)
    _clean_partials(folder, files)
    tracker.emit(force=True, phase="done")
    log.info(
        "downloaded %s at commit %s from %s (%s) into %s",
        spec.id,
        result.commit or "unknown",
        address,
        format_bytes(result.total_bytes),
        folder,
    )
    return folder


def _newest_commit(files: list[RemoteFile]) -> str | None:
    commits = sorted((f for f in files if f.commit), key=lambda f: f.committed)
    return commits[-1].commit if commits else None


def _finished_progress(spec: ModelSpec, manifest: Manifest) -> DownloadProgress:
    total = manifest.total_bytes
    count = len(manifest.files)
    return DownloadProgress(spec.id, "done", total, total, 0.0, 0.0, None, count, count)


class _Fetcher:
    """Fetches the files on a small thread pool; the first failure (or a cancel) stops them all."""

    def __init__(
        self,
        located: _Located,
        spec: ModelSpec,
        store: ModelStore,
        folder: Path,
        tracker: _Tracker,
        cancel: threading.Event,
        unknown_origin: set[str],
    ) -> None:
        self.located = located
        self.spec = spec
        self.store = store
        self.folder = folder
        self.tracker = tracker
        self.cancel = cancel
        self.unknown_origin = unknown_origin
        self.stop = threading.Event()
        self.hook = _hook_class(tracker, self.stop)

    def fetch(self, remote: RemoteFile) -> None:
        hash_retried = False
        while True:
            before = _bytes_on_disk(self.folder, remote)
            revision = self.located.revision(self.spec)
            try:
                self.located.site.download_file(
                    self.spec.id,
                    remote.path,
                    revision,
                    local_dir=self.folder,
                    cache_dir=self.store.hub_cache_dir,
                    sha256=remote.sha256,
                    # The listing says 0 both for empty files and unknown sizes.
                    size=remote.size or None,
                    hook=self.hook,
                    stop=self.stop,
                )
                break
            except Exception as exc:
                if self.stop.is_set():
                    raise
                kind = client.error_kind(exc)
                if kind == "deadline" and _bytes_on_disk(self.folder, remote) > before:
                    # The client's per-file time budget ran out on a slow line: go on while it
                    # moves.
                    log.info("time budget for %s ran out; resuming it", remote.path)
                    continue
                if kind == "not_found" and revision != self.spec.revision:
                    self.located.unpin(revision, self.spec)
                    continue
                if kind == "hash" and not hash_retried:
                    hash_retried = True
                    reason = (
                        "the partial file kept from an earlier download did not belong to it"
                        if remote.path in self.unknown_origin
                        else "the damaged bytes cannot be located, as ModelScope publishes one "
                        "SHA-256 per file"
                    )
                    log.warning(
                        "%s failed its SHA-256 check and is fetched again from the start, once: %s",
                        remote.path,
                        reason,
                    )
                    continue
                raise
        self.tracker.finish_file(remote.path)

    def run(self, files: list[RemoteFile], max_workers: int) -> None:
        first_error: tuple[RemoteFile, str, BaseException] | None = None
        executor = ThreadPoolExecutor(
            max_workers=max(1, min(max_workers, len(files))), thread_name_prefix="vldesk-download"
        )
        futures: dict[Future[None], RemoteFile] = {executor.submit(self.fetch, f): f for f in files}
        try:
            pending = set(futures)
            while pending:
                done, pending = wait(
                    pending, timeout=PROGRESS_INTERVAL_S, return_when=FIRST_COMPLETED
                )
                if self.cancel.is_set():
                    self.stop.set()
                for future in done:
                    exc = future.exception()
                    if exc is None or (self.stop.is_set() and _is_abort(exc)):
                        continue
                    if first_error is None:
                        first_error = (futures[future], self.located.revision(self.spec), exc)
                        self.stop.set()
                self.tracker.emit()
        except BaseException:
            self.stop.set()
            raise
        finally:
            executor.shutdown(wait=True, cancel_futures=True)
        if self.cancel.is_set():
            kept = format_bytes(self.tracker.snapshot().bytes_done)
            raise DownloadCancelled(
                f"The download of {self.spec.display_name} was cancelled. The {kept} already "
                "downloaded are kept: start the download again to resume."
            )
        if first_error is not None:
            remote, revision, exc = first_error
            raise _translate(
                exc, self.spec, self.located.site.endpoint, self.folder, remote, revision
            ) from exc
