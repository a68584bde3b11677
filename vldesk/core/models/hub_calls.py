"""Talking to ModelScope: find a model on the first site that answers; its errors in plain words."""

from __future__ import annotations

import errno
import functools
import logging
import os
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from vldesk.core.errors import (
    DiskSpaceError,
    DownloadCancelled,
    DownloadError,
    HubUnavailableError,
    RemoteModelNotFoundError,
    VldeskError,
)
from vldesk.core.messages import core_text
from vldesk.core.models import modelscope_adapter as client
from vldesk.core.models.catalog import ModelSpec
from vldesk.core.models.download_progress import (
    PROGRESS_INTERVAL_S,
    DownloadProgress,
    HookCancelled,
    ProgressCallback,
    call_progress,
)
from vldesk.core.models.remote_files import RemoteFile, listing_commit, select_files
from vldesk.core.models.store import ModelStore

log = logging.getLogger(__name__)

_T = TypeVar("_T")


def is_abort(exc: BaseException) -> bool:
    return isinstance(exc, HookCancelled) or client.error_kind(exc) == "cancelled"


def cancellable(work: Callable[[], _T], cancel: threading.Event, cancelled: str) -> _T:
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


_KEPT = core_text(
    "Downloads", "What was already downloaded is kept: start the download again to resume."
)


_NO_CONNECTION = core_text(
    "Downloads", "check the internet connection (and proxy settings), then try again"
)


def _site_problem(exc: BaseException) -> str:
    """A few words on why a site failed, for a message that names several sites."""
    kind = client.error_kind(exc)
    code = client.status_code(exc)
    if kind == "network":
        return core_text("Downloads", "cannot be reached")
    if kind == "not_found":
        return core_text("Downloads", "has no such model")
    if kind in ("server", "rate_limited"):
        if code:
            return core_text("Downloads", "is not working properly (HTTP {code})", code=code)
        return core_text("Downloads", "is not working properly")
    return client.first_line(exc)


def translate_error(
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
                core_text(
                    "Downloads",
                    "ModelScope ({endpoint}) has no model {model}. Check the model id and the "
                    "ModelScope address (a private model also needs MODELSCOPE_API_TOKEN).",
                    endpoint=endpoint,
                    model=spec.id,
                )
            )
        return RemoteModelNotFoundError(
            f"ModelScope no longer has {what} at revision '{revision or spec.revision}'. {_KEPT}"
        )
    if kind == "auth":
        return DownloadError(
            core_text(
                "Downloads",
                "ModelScope refused access to {model} (HTTP {code}). The model may have become "
                "private, or a ModelScope token is needed (MODELSCOPE_API_TOKEN).",
                model=spec.id,
                code=code,
            )
        )
    if kind == "rate_limited":
        return HubUnavailableError(
            core_text(
                "Downloads",
                "ModelScope is limiting requests right now; wait a few minutes. {kept}",
                kept=_KEPT,
            )
        )
    if kind == "server":
        return HubUnavailableError(
            core_text(
                "Downloads",
                "ModelScope is not working properly right now (HTTP {code}); try again later. "
                "{kept}",
                code=code,
                kept=_KEPT,
            )
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
            core_text(
                "Downloads",
                "Cannot reach ModelScope at {endpoint}: {advice}. {kept}",
                endpoint=endpoint,
                advice=_NO_CONNECTION,
                kept=_KEPT,
            )
        )
    if kind == "deadline":
        return HubUnavailableError(
            core_text(
                "Downloads",
                "ModelScope at {endpoint} sent nothing more of {what} for too long; "
                "{advice}. {kept}",
                endpoint=endpoint,
                what=what,
                advice=_NO_CONNECTION,
                kept=_KEPT,
            )
        )
    if kind == "hub":
        return DownloadError(f"Downloading {what} failed: {client.first_line(exc)}. {_KEPT}")
    if isinstance(exc, OSError):
        if exc.errno in (errno.ENOSPC, getattr(errno, "EDQUOT", errno.ENOSPC)):
            return DiskSpaceError(
                core_text(
                    "Downloads",
                    "The disk filled up while downloading to {folder}. Free some space, then "
                    "start the download again to resume.",
                    folder=str(folder),
                )
            )
        return DownloadError(
            core_text(
                "Downloads",
                "Cannot write the model files to {folder}: {reason}. Choose another models "
                "folder in the settings (or set VLDESK_MODELS_DIR).",
                folder=str(folder),
                reason=exc.strerror or str(exc),
            )
        )
    log.error("unexpected download failure", exc_info=exc)
    return DownloadError(f"Downloading {what} failed unexpectedly ({type(exc).__name__}). {_KEPT}")


@dataclass
class LocatedRepo:
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


def locate(
    spec: ModelSpec,
    store: ModelStore,
    endpoints: tuple[str, ...],
    cancel: threading.Event,
    on_progress: ProgressCallback | None,
) -> LocatedRepo:
    """List the repo on the first site that answers; say so when it is not the first one."""
    token = os.environ.get("MODELSCOPE_API_TOKEN", "")
    failures: list[tuple[str, BaseException]] = []
    for index, endpoint in enumerate(endpoints):
        site = client.HubSite(endpoint, store.hub_cache_dir, token)
        try:
            entries = cancellable(
                functools.partial(site.list_files, spec.id, spec.revision, cancel),
                cancel,
                f"The download of {spec.display_name} was cancelled before it started.",
            )
        except DownloadCancelled:
            raise
        except Exception as exc:
            if client.error_kind(exc) not in ("network", "server", "not_found"):
                raise translate_error(exc, spec, endpoint, store.folder_for(spec), None) from exc
            failures.append((endpoint, exc))
            if index + 1 < len(endpoints):
                notice = core_text(
                    "Downloads",
                    "ModelScope at {site} {problem}; trying {other} instead.",
                    site=endpoint,
                    problem=_site_problem(exc),
                    other=endpoints[index + 1],
                )
                log.warning("%s", notice)
                call_progress(
                    on_progress,
                    DownloadProgress(spec.ref, "listing", 0, 0, 0.0, None, None, 0, 0, notice),
                )
            continue
        if not entries:
            raise _no_revision(site, spec, cancel)
        return LocatedRepo(site, select_files(entries, spec.gguf_files), listing_commit(entries))
    raise _all_sites_failed(spec, store.folder_for(spec), failures)


def _all_sites_failed(
    spec: ModelSpec, folder: Path, failures: list[tuple[str, BaseException]]
) -> VldeskError:
    endpoint, exc = failures[-1]
    if len(failures) == 1:
        return translate_error(exc, spec, endpoint, folder, None)
    kinds = {client.error_kind(e) for _, e in failures}
    sites = " or ".join(endpoint for endpoint, _ in failures)
    if kinds == {"not_found"}:
        return RemoteModelNotFoundError(
            core_text(
                "Downloads",
                "Neither ModelScope site ({sites}) has a model {model}. Check the model id (a "
                "private model also needs MODELSCOPE_API_TOKEN).",
                sites=sites,
                model=spec.id,
            )
        )
    each = "; ".join(f"{endpoint} {_site_problem(e)}" for endpoint, e in failures)
    return HubUnavailableError(
        core_text(
            "Downloads",
            "ModelScope cannot be used right now ({sites}): {advice}.",
            sites=each,
            advice=_NO_CONNECTION,
        )
    )


def _no_revision(site: client.HubSite, spec: ModelSpec, cancel: threading.Event) -> VldeskError:
    """Say why a listing came back empty: the service answers an unknown revision that way."""
    try:
        known = cancellable(
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
