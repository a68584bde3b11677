"""The one module that talks to the modelscope_hub client, its private hooks included."""

from __future__ import annotations

import contextlib
import functools
import inspect
import logging
import os
import re
import sys
import threading
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

log = logging.getLogger(__name__)

#: The client versions this module was written against: ``major.minor`` of modelscope-hub. Its
#: private hooks (below) change without notice, so pyproject bounds it to ``<0.6``.
TESTED_CLIENT_SERIES = "0.5"
#: The client gives each file one hour by default, far too little for 4 GB on a slow line.
FILE_TIME_BUDGET_S = 7 * 24 * 3600
#: The client retries a file whose SHA-256 failed three times, from byte zero each time; vldesk
#: lets it try once and decides itself whether another whole download is worth it.
CLIENT_HASH_ATTEMPTS = 1

#: The suffixes and names the client gives what it is still writing (``_download.py``).
INCOMPLETE_SUFFIX = ".incomplete"
MERGE_SUFFIX = ".parallel_tmp"

ErrorKind = Literal[
    "cancelled",
    "deadline",
    "not_found",
    "auth",
    "rate_limited",
    "server",
    "network",
    "size",
    "hash",
    "hub",
    "other",
]

_ready = False
_lock = threading.Lock()
_log_level = logging.WARNING


# ----------------------------------------------------------------------------------------------
# Loading the client
# ----------------------------------------------------------------------------------------------


def load_client() -> Any:
    """Import ``modelscope_hub`` (not ``modelscope``, which drags in torch) set up for vldesk."""
    global _ready
    with _lock:
        if _ready:
            import modelscope_hub

            return modelscope_hub
        # Read once at import time by the client, so it must be set before the first import.
        os.environ.setdefault("MODELSCOPE_DOWNLOAD_TOTAL_TIMEOUT", str(FILE_TIME_BUDGET_S))
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
        if hasattr(_download, "DOWNLOAD_HASH_RETRY_TIMES"):
            _download.DOWNLOAD_HASH_RETRY_TIMES = CLIENT_HASH_ATTEMPTS
        # The client logs to its own stderr handler; route it through the app's logging instead.
        hub_logger = logging.getLogger("modelscope_hub")
        hub_logger.handlers.clear()
        hub_logger.propagate = True
        if "MODELSCOPE_LOG_LEVEL" not in os.environ:
            hub_logger.setLevel(_log_level)
        for problem in client_problems():
            log.warning("modelscope-hub: %s", problem)
        _ready = True
        return modelscope_hub


def set_log_level(level: int) -> None:
    """How much of the client's own logging reaches vldesk's log (default: warnings)."""
    global _log_level
    _log_level = level
    if _ready:
        logging.getLogger("modelscope_hub").setLevel(level)


def client_version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("modelscope-hub")
    except PackageNotFoundError:
        return "not installed"


def client_problems() -> list[str]:
    """Each private hook vldesk relies on that this client lacks or has changed; [] when fine.

    A test asserts this is empty, so an upgrade of the client that moves a hook fails loudly
    instead of silently losing cancellation, quiet progress or the partial-file bookkeeping.
    """
    problems: list[str] = []
    installed = client_version()
    if not installed.startswith(TESTED_CLIENT_SERIES + "."):
        problems.append(
            f"version {installed} is not the {TESTED_CLIENT_SERIES}.x series vldesk was tested with"
        )
    try:
        from modelscope_hub import _download, _download_control, _legacy_api, api
    except ImportError as exc:
        return [*problems, f"its private modules cannot be imported ({exc})"]

    def need(condition: bool, what: str) -> None:
        if not condition:
            problems.append(what)

    manager = getattr(_download, "DownloadManager", None)
    need(
        manager is not None
        and "_cancel_event" in inspect.signature(manager.download_file).parameters,
        "DownloadManager.download_file(_cancel_event=...) is gone: cancel waits for stalled reads",
    )
    need(hasattr(_download, "tqdm"), "_download.tqdm is gone: progress bars are not silenced")
    for name in (
        "DOWNLOAD_HASH_RETRY_TIMES",
        "DOWNLOAD_PARALLELS",
        "DOWNLOAD_PARALLEL_THRESHOLD",
        "DOWNLOAD_PART_SIZE",
    ):
        need(isinstance(getattr(_download, name, None), int), f"_download.{name} is gone")
    # The names of the partial files it writes: vldesk counts, resumes and cleans these.
    need(
        _source_has(getattr(_download, "_incomplete_path", None), f'"{INCOMPLETE_SUFFIX}"'),
        f"single-stream partial files are no longer named *{INCOMPLETE_SUFFIX}",
    )
    need(
        _source_has(
            getattr(_download, "_download_part_with_retry", None), 'f"{file_path}_{start}_{end}"'
        ),
        "parallel parts are no longer named <file>_<start>_<end>",
    )
    need(
        _source_has(getattr(_download, "_parallel_download", None), f'"{MERGE_SUFFIX}"'),
        f"parallel merges are no longer written to *{MERGE_SUFFIX}",
    )
    control = getattr(_download_control, "_DownloadControl", None)
    need(
        control is not None
        and list(inspect.signature(control.sleep).parameters) == ["self", "seconds"]
        and {"total_timeout", "cancel_event"}
        <= set(inspect.signature(control.__init__).parameters),
        "_DownloadControl(total_timeout, cancel_event).sleep(seconds) has changed",
    )
    for name in ("_DownloadCancelledError", "_DownloadDeadlineError"):
        need(hasattr(_download_control, name), f"_download_control.{name} is gone")
    legacy = getattr(_legacy_api, "LegacyClient", None)
    for method, parameters in (
        ("read_context", {"control"}),
        ("list_repo_files", {"repo_id", "repo_type", "revision", "recursive"}),
        ("list_revisions_detail", {"repo_id", "repo_type"}),
    ):
        found = getattr(legacy, method, None)
        need(
            found is not None and parameters <= set(inspect.signature(found).parameters),
            f"LegacyClient.{method}({', '.join(sorted(parameters))}) has changed",
        )
    hub_api = getattr(api, "HubApi", None)
    for prop in ("legacy", "downloader"):
        need(isinstance(getattr(hub_api, prop, None), property), f"HubApi.{prop} is gone")
    return problems


def _source_has(function: Any, text: str) -> bool:
    try:
        return function is not None and text in inspect.getsource(function)
    except (OSError, TypeError):
        return False


def retry_pause_owner() -> type:
    """The client class whose ``sleep(seconds)`` makes every retry and back-off pause.

    Listing and file retries all wait through it (vldesk always passes a control), so tests
    replace that one method to keep the client's real retry budgets without waiting.
    """
    load_client()
    from modelscope_hub import _download_control

    owner: type = _download_control._DownloadControl
    return owner


# ----------------------------------------------------------------------------------------------
# Errors
# ----------------------------------------------------------------------------------------------


def error_kind(exc: BaseException) -> ErrorKind:
    """What sort of failure a client exception is, for a message in words."""
    import requests
    from modelscope_hub import errors

    name = type(exc).__name__
    if name == "_DownloadCancelledError":
        return "cancelled"
    if name == "_DownloadDeadlineError":
        return "deadline"
    if isinstance(exc, errors.NotExistError):
        return "not_found"
    if isinstance(exc, (errors.AuthenticationError, errors.PermissionDeniedError)):
        return "auth"
    if isinstance(exc, errors.RateLimitError):
        return "rate_limited"
    if isinstance(exc, errors.ServerError):
        return "server"
    if isinstance(exc, errors.FileSizeMismatchError):
        return "size"
    if isinstance(exc, errors.FileIntegrityError):
        return "hash"
    if isinstance(exc, (errors.NetworkError, requests.RequestException, ConnectionError)):
        return "network"
    if isinstance(exc, errors.HubError):
        return "hub"
    return "other"


def status_code(exc: BaseException) -> int | None:
    code = getattr(exc, "status_code", None)
    return code if isinstance(code, int) else None


def first_line(exc: BaseException) -> str:
    message = str(getattr(exc, "message", "") or exc).strip()
    return message.splitlines()[0][:200] if message else type(exc).__name__


# ----------------------------------------------------------------------------------------------
# One ModelScope site
# ----------------------------------------------------------------------------------------------


class ProgressHook:
    """The client's per-file progress interface: ``update`` raises to stop a download."""

    def __init__(self, filename: str, file_size: int) -> None:
        self.filename = filename
        self.file_size = file_size

    def update(self, size: int) -> None:
        pass

    def end(self) -> None:
        pass


@dataclass(frozen=True)
class Revisions:
    branches: tuple[str, ...]
    tags: tuple[str, ...]


class HubSite:
    """The client bound to one ModelScope address; listing runs under a cancellable budget."""

    def __init__(self, endpoint: str, cache_dir: Path, token: str) -> None:
        hub = load_client()
        config = hub.HubConfig(
            endpoint=endpoint,
            cache_dir=cache_dir,
            config_dir=cache_dir,
            # "" means no token: never pick up (or write) the user's stored credentials.
            token=token,
        )
        self.endpoint = endpoint
        self._api = hub.HubApi(config=config)

    @contextlib.contextmanager
    def _budget(self, cancel: threading.Event) -> Iterator[None]:
        # A control makes every request of the call interruptible by ``cancel`` and routes the
        # client's retry pauses through _DownloadControl.sleep (see retry_pause_owner).
        from modelscope_hub._download_control import _DownloadControl
        from modelscope_hub.constants import REPO_TREE_LIST_TIMEOUT_SECONDS

        with (
            _DownloadControl(
                total_timeout=REPO_TREE_LIST_TIMEOUT_SECONDS, cancel_event=cancel
            ) as control,
            self._api.legacy.read_context(control),
        ):
            yield

    def list_files(
        self, repo_id: str, revision: str, cancel: threading.Event
    ) -> list[Mapping[str, Any]]:
        """Every entry of the repo at ``revision`` (folders too); [] for an unknown revision."""
        with self._budget(cancel):
            entries = self._api.legacy.list_repo_files(
                repo_id=repo_id, repo_type="model", revision=revision, recursive=True
            )
        return [e for e in entries if isinstance(e, Mapping)] if isinstance(entries, list) else []

    def revisions(self, repo_id: str, cancel: threading.Event) -> Revisions:
        with self._budget(cancel):
            branches, tags = self._api.legacy.list_revisions_detail(repo_id, "model")

        def names(items: Any) -> tuple[str, ...]:
            found = (str(i.get("Revision") or "") for i in items or [] if isinstance(i, dict))
            return tuple(name for name in found if name)

        return Revisions(names(branches), names(tags))

    def download_file(
        self,
        repo_id: str,
        path: str,
        revision: str,
        *,
        local_dir: Path,
        cache_dir: Path,
        sha256: str | None,
        size: int | None,
        hook: type[ProgressHook],
        stop: threading.Event,
    ) -> Path:
        """Fetch one file into ``local_dir`` (resuming its partial file), checked by the client."""
        downloader = self._api.downloader
        kwargs: dict[str, Any] = {
            "repo_id": repo_id,
            "repo_type": "model",
            "file_path": path,
            "revision": revision,
            "cache_dir": cache_dir,
            "local_dir": local_dir,
            "expected_sha256": sha256,
            "file_size": size,
            "progress_callbacks": [hook],
        }
        # The client's own stop signal interrupts stalled reads and retry pauses, which a raising
        # hook cannot reach; it is a private parameter, so fall back to the hook alone without it.
        if "_cancel_event" in inspect.signature(downloader.download_file).parameters:
            kwargs["_cancel_event"] = stop
        return Path(downloader.download_file(**kwargs))


# ----------------------------------------------------------------------------------------------
# Partial files
# ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Partials:
    """What the client left of one file: parts it will resume, and leftovers it never reads."""

    resumable: tuple[Path, ...]
    leftovers: tuple[Path, ...]
    #: Bytes the client will keep when it resumes (each part capped at its own length).
    resumable_bytes: int

    @property
    def all(self) -> tuple[Path, ...]:
        return self.resumable + self.leftovers


def _client_split(size: int) -> list[tuple[int, int]] | None:
    """The byte ranges the client splits ``size`` into now, or None for a single stream.

    MODELSCOPE_DOWNLOAD_PARALLEL_WORKERS (and the threshold and part size) are read by the
    client once, at import; the module values are what it actually uses.
    """
    from modelscope_hub import _download

    threshold = int(getattr(_download, "DOWNLOAD_PARALLEL_THRESHOLD", 0))
    workers = int(getattr(_download, "DOWNLOAD_PARALLELS", 1))
    part = int(getattr(_download, "DOWNLOAD_PART_SIZE", 0))
    if size <= threshold or workers <= 1 or part <= 0:
        return None
    ranges = [(start, min(start + part, size) - 1) for start in range(0, size, part)]
    return ranges


def partial_files(folder: Path, name: str, size: int) -> Partials:
    """Every partial file the client can leave for ``name`` in ``folder``, sorted out.

    A single stream writes ``name.incomplete``; with MODELSCOPE_DOWNLOAD_PARALLEL_WORKERS > 1
    a large file goes to ``name_<start>_<end>`` parts merged through ``name.parallel_tmp``.
    Which of these the next attempt resumes depends on the client's current settings, so a
    part from another split, or a file from the other mode, is a leftover nothing will read.
    """
    load_client()
    target = folder / name
    incomplete = target.with_name(target.name + INCOMPLETE_SUFFIX)
    merge = target.with_name(target.name + MERGE_SUFFIX)
    pattern = re.compile(re.escape(target.name) + r"_(\d+)_(\d+)")
    parts: dict[tuple[int, int], Path] = {}
    with contextlib.suppress(OSError):
        for candidate in target.parent.iterdir():
            found = pattern.fullmatch(candidate.name)
            if found and candidate.is_file():
                parts[(int(found.group(1)), int(found.group(2)))] = candidate
    split = _client_split(size)
    resumable: list[Path] = []
    leftovers: list[Path] = [merge] if merge.is_file() else []
    kept = 0
    if split is None:
        leftovers.extend(parts.values())
        if incomplete.is_file():
            length = _size(incomplete)
            if length <= size:
                resumable.append(incomplete)
                kept += length
            else:
                leftovers.append(incomplete)
    else:
        if incomplete.is_file():
            leftovers.append(incomplete)
        wanted = set(split)
        for (start, end), path in sorted(parts.items()):
            if (start, end) in wanted:
                resumable.append(path)
                kept += min(_size(path), end - start + 1)
            else:
                leftovers.append(path)
    return Partials(tuple(resumable), tuple(leftovers), kept)


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0


def remove_files(paths: Sequence[Path]) -> None:
    for path in paths:
        with contextlib.suppress(FileNotFoundError):
            path.unlink()
