"""Folder batches on servers, on a thread of their own: the local model's thread stays free."""

from __future__ import annotations

import itertools
import logging
import threading
import time
from pathlib import Path

from PySide6.QtCore import QObject, Signal, Slot

from vldesk.core.batch import BatchControl, BatchOptions
from vldesk.gui.workers.background import BackgroundRunner
from vldesk.gui.workers.failure import Failure
from vldesk.gui.workers.folder_batch import BatchRequest, run_folder_batch
from vldesk.gui.workers.remote import ServerTarget
from vldesk.gui.workers.throttle import Clock

log = logging.getLogger(__name__)


class ServerBatchWorker(QObject):
    """Runs a folder batch through an endpoint pool on a background thread.

    A batch on servers needs no local model, so it does not queue on the inference thread:
    questions, API requests and model changes go on there meanwhile. Pause, resume and cancel
    set the batch's :class:`BatchControl` directly.

    Signals (emitted from the batch's thread, delivered queued to the GUI thread; the same as
    :class:`InferenceClient`'s batch signals):
        batch_progress(int, BatchProgress): request id and a (throttled) batch event.
        batch_finished(int, BatchSummary): the batch ended: complete, or cancelled (resumable).
        batch_failed(int, Failure): the batch could not start or stopped on an error.
    """

    batch_progress = Signal(int, object)
    batch_finished = Signal(int, object)
    batch_failed = Signal(int, object)

    def __init__(self, parent: QObject | None = None, *, clock: Clock = time.monotonic) -> None:
        super().__init__(parent)
        self._clock = clock
        self._runner = BackgroundRunner("vldesk-server-batch")
        self._ids = itertools.count(1)
        self._controls: dict[int, BatchControl] = {}
        #: Set when closing stopped waiting for a batch: it ends unheard.
        self._abandoned = threading.Event()
        self.batch_finished.connect(self._forget)
        self.batch_failed.connect(self._forget)

    @property
    def busy(self) -> bool:
        """A batch's thread is still running (it may have reported its end already)."""
        return self._runner.busy

    def run_batch(
        self,
        options: BatchOptions,
        control: BatchControl,
        servers: ServerTarget,
        *,
        resume: bool = False,
        retry_failed: bool = False,
        batch_size: int | None = None,
        history_db: Path | None = None,
    ) -> int:
        """Start captioning ``options.folder`` on ``servers``; returns the request id its
        signals carry. After :meth:`shut_down` nothing starts and nothing is reported."""
        request_id = next(self._ids)
        self._controls[request_id] = control
        request = BatchRequest(
            request_id,
            options,
            control,
            resume,
            retry_failed,
            batch_size,
            history_db,
            servers=servers,
        )

        def run(_stopping: threading.Event) -> None:
            # A batch asked for while the previous one's thread still ends waits for it here.
            outcome = run_folder_batch(
                request,
                None,
                lambda event: self.batch_progress.emit(request_id, event),
                self._clock,
            )
            if self._abandoned.is_set():
                return  # the app closed without it: nobody is left to tell
            if isinstance(outcome, Failure):
                self.batch_failed.emit(request_id, outcome)
            else:
                self.batch_finished.emit(request_id, outcome)

        # Its own stop event, not the control's: a batch cancelled before its turn still
        # reports (as cancelled), so the controller sees it end.
        self._runner.start(run)
        return request_id

    @Slot(int)
    def _forget(self, request_id: int) -> None:
        self._controls.pop(request_id, None)

    def wait(self, timeout: float | None = None) -> bool:
        """Block until the batch's thread has ended, at most ``timeout`` seconds."""
        return self._runner.wait(timeout)

    def shut_down(self, timeout: float | None = None) -> bool:
        """The app is closing: cancel any batch (it stays resumable: the journal keeps every
        caption written) and wait a bounded time for it to close its job; ``True`` if it did.
        Answers still in flight are dropped; their images run again on Continue."""
        for control in self._controls.values():
            control.cancel()
        stopped = self._runner.shut_down([], timeout)
        if not stopped:
            self._abandoned.set()
        return stopped
