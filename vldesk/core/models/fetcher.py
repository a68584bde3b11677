"""Fetching a model's files in parallel, each checked against the listing."""

from __future__ import annotations

import logging
import threading
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from pathlib import Path

from vldesk.core.errors import DownloadCancelled
from vldesk.core.models import modelscope_adapter as client
from vldesk.core.models.catalog import ModelSpec
from vldesk.core.models.download_progress import (
    PROGRESS_INTERVAL_S,
    ProgressTracker,
    bytes_on_disk,
    hook_class,
)
from vldesk.core.models.files import format_bytes
from vldesk.core.models.hub_calls import LocatedRepo, is_abort, translate_error
from vldesk.core.models.remote_files import RemoteFile
from vldesk.core.models.store import ModelStore

log = logging.getLogger(__name__)


class Fetcher:
    """Fetches the files on a small thread pool; the first failure (or a cancel) stops them all."""

    def __init__(
        self,
        located: LocatedRepo,
        spec: ModelSpec,
        store: ModelStore,
        folder: Path,
        tracker: ProgressTracker,
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
        self.hook = hook_class(tracker, self.stop)

    def fetch(self, remote: RemoteFile) -> None:
        hash_retried = False
        while True:
            before = bytes_on_disk(self.folder, remote)
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
                if kind == "deadline" and bytes_on_disk(self.folder, remote) > before:
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
                    if exc is None or (self.stop.is_set() and is_abort(exc)):
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
            raise translate_error(
                exc, self.spec, self.located.site.endpoint, self.folder, remote, revision
            ) from exc
