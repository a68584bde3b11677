"""One folder batch at a time, on the local model's thread or on servers, followed from the GUI."""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from enum import Enum
from pathlib import Path

from PySide6.QtCore import QObject, Signal, Slot

from vldesk.core.batch import (
    BatchControl,
    BatchEventKind,
    BatchOptions,
    BatchProgress,
    BatchSummary,
)
from vldesk.gui.workers.failure import Failure
from vldesk.gui.workers.inference_client import InferenceClient
from vldesk.gui.workers.remote import ServerTarget
from vldesk.gui.workers.server_batch import ServerBatchWorker

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class BatchPlan:
    """What to run: the job's options and how to open it."""

    options: BatchOptions
    #: Continue the interrupted job with these options; False starts over.
    resume: bool = False
    retry_failed: bool = False
    #: Images per model call; ``None`` chooses from free memory.
    batch_size: int | None = None
    #: Run on these servers instead of the loaded model (Run on: servers).
    servers: ServerTarget | None = None


class BatchState(str, Enum):
    IDLE = "idle"
    RUNNING = "running"
    #: Pause was asked for; the runner stops after the current caption token or batch.
    PAUSING = "pausing"
    PAUSED = "paused"
    #: Cancel was asked for; the runner stops after the current token.
    CANCELLING = "cancelling"


class BatchController(QObject):
    """Sends a batch to the :class:`InferenceWorker` (which runs it with the loaded engine on its
    own thread), or one on servers to the :class:`ServerBatchWorker` (a thread of its own), and
    passes its events on. Pause, resume and cancel set the job's :class:`BatchControl`
    directly, so they act while the worker thread is busy. One batch runs at a time.

    While a batch runs on the loaded model (paused included) its worker serves nothing else:
    questions and model changes wait for it, which is why the app turns them off meanwhile
    (:attr:`holds_model`). A batch on servers leaves the local model free for them.

    Signals:
        started(BatchPlan): a batch was sent to the worker.
        progress(BatchProgress): an event of the running batch (throttled by the worker).
        finished(BatchSummary): the batch ended, complete or cancelled.
        failed(str): the batch could not start or stopped on an error; the message is for
            the user (the job is resumable).
        state_changed(BatchState): running, pausing, paused, cancelling or idle.
    """

    started = Signal(object)
    progress = Signal(object)
    finished = Signal(object)
    failed = Signal(str)
    state_changed = Signal(object)

    def __init__(
        self,
        inference: InferenceClient,
        history_db: Path | None,
        parent: QObject | None = None,
        *,
        servers: ServerBatchWorker | None = None,
    ) -> None:
        super().__init__(parent)
        self._inference = inference
        self._servers = servers if servers is not None else ServerBatchWorker(self)
        self._history_db = history_db
        self._request_id: int | None = None
        #: Whether the running batch is on servers (its signals come from :attr:`_servers`).
        self._on_servers = False
        self._control: BatchControl | None = None
        self._state = BatchState.IDLE
        #: The latest batch started, and how it ended (for "Retry failed").
        self.plan: BatchPlan | None = None
        self.summary: BatchSummary | None = None
        inference.batch_progress.connect(self._on_local_progress)
        inference.batch_finished.connect(self._on_local_finished)
        inference.batch_failed.connect(self._on_local_failed)
        self._servers.batch_progress.connect(self._on_server_progress)
        self._servers.batch_finished.connect(self._on_server_finished)
        self._servers.batch_failed.connect(self._on_server_failed)

    # -- state -------------------------------------------------------------------------------

    @property
    def state(self) -> BatchState:
        return self._state

    @property
    def running(self) -> bool:
        """True from :meth:`start` until the batch has ended (paused included)."""
        return self._state is not BatchState.IDLE

    @property
    def holds_model(self) -> bool:
        """A batch runs on the loaded model: questions and model changes must wait for it."""
        return self.running and not self._on_servers

    @property
    def can_continue(self) -> bool:
        """Whether the latest batch stopped before the end (cancelled or an error)."""
        return (
            not self.running
            and self.plan is not None
            and (self.summary is None or self.summary.cancelled)
        )

    @property
    def can_retry_failed(self) -> bool:
        return (
            not self.running
            and self.plan is not None
            and self.summary is not None
            and bool(self.summary.failures)
        )

    def _set_state(self, state: BatchState) -> None:
        if state is not self._state:
            self._state = state
            self.state_changed.emit(state)

    # -- commands ----------------------------------------------------------------------------

    def start(self, plan: BatchPlan) -> bool:
        """Queue ``plan`` on the worker; False while another batch runs."""
        if self.running:
            return False
        control = BatchControl()
        self._control = control
        self.plan = plan
        self.summary = None
        self._on_servers = plan.servers is not None
        if plan.servers is not None:
            self._request_id = self._servers.run_batch(
                plan.options,
                control,
                plan.servers,
                resume=plan.resume,
                retry_failed=plan.retry_failed,
                batch_size=plan.batch_size,
                history_db=self._history_db,
            )
        else:
            self._request_id = self._inference.run_batch(
                plan.options,
                control,
                resume=plan.resume,
                retry_failed=plan.retry_failed,
                batch_size=plan.batch_size,
                history_db=self._history_db,
            )
        log.info(
            "batch %s on %s (resume=%s, retry_failed=%s, servers=%s)",
            plan.options.job_id(),
            plan.options.folder,
            plan.resume,
            plan.retry_failed,
            self._on_servers,
        )
        self._set_state(BatchState.RUNNING)
        self.started.emit(plan)
        return True

    def retry_failed(self) -> bool:
        """Run the failed images of the latest batch again."""
        if not self.can_retry_failed or self.plan is None:
            return False
        return self.start(replace(self.plan, resume=True, retry_failed=True))

    def continue_job(self) -> bool:
        """Resume the latest batch where it stopped (after a cancel or an error)."""
        if not self.can_continue or self.plan is None:
            return False
        return self.start(replace(self.plan, resume=True, retry_failed=False))

    def pause(self) -> None:
        if self._control is not None and self._state is BatchState.RUNNING:
            self._control.pause()
            self._set_state(BatchState.PAUSING)

    def resume(self) -> None:
        if self._control is not None and self._state in (BatchState.PAUSING, BatchState.PAUSED):
            self._control.resume()
            self._set_state(BatchState.RUNNING)

    def cancel(self) -> None:
        """Stop after the current token; finished captions are kept and the job is resumable."""
        if self._control is not None and self.running:
            self._control.cancel()
            self._set_state(BatchState.CANCELLING)

    def shut_down(self) -> None:
        """The app is closing: cancel a batch on servers and wait a bounded time for it (the
        job stays resumable). A batch on the loaded model stops with the inference worker."""
        self._servers.shut_down()

    # -- worker signals ----------------------------------------------------------------------

    def _current(self, request_id: int, on_servers: bool) -> bool:
        """Whether an event is about the running batch (request ids count per worker)."""
        return request_id == self._request_id and on_servers is self._on_servers

    @Slot(int, object)
    def _on_local_progress(self, request_id: int, event: BatchProgress) -> None:
        if self._current(request_id, on_servers=False):
            self._on_progress(event)

    @Slot(int, object)
    def _on_local_finished(self, request_id: int, summary: BatchSummary) -> None:
        if self._current(request_id, on_servers=False):
            self._on_finished(summary)

    @Slot(int, object)
    def _on_local_failed(self, request_id: int, failure: Failure) -> None:
        if self._current(request_id, on_servers=False):
            self._on_failed(failure)

    @Slot(int, object)
    def _on_server_progress(self, request_id: int, event: BatchProgress) -> None:
        if self._current(request_id, on_servers=True):
            self._on_progress(event)

    @Slot(int, object)
    def _on_server_finished(self, request_id: int, summary: BatchSummary) -> None:
        if self._current(request_id, on_servers=True):
            self._on_finished(summary)

    @Slot(int, object)
    def _on_server_failed(self, request_id: int, failure: Failure) -> None:
        if self._current(request_id, on_servers=True):
            self._on_failed(failure)

    def _on_progress(self, event: BatchProgress) -> None:
        if self._control is None:
            return
        if event.kind is BatchEventKind.PAUSED and self._control.paused:
            self._set_state(BatchState.PAUSED)
        elif (
            event.kind is BatchEventKind.RESUMED
            and not self._control.paused
            and self._state is BatchState.PAUSED
        ):
            self._set_state(BatchState.RUNNING)
        self.progress.emit(event)

    def _on_finished(self, summary: BatchSummary) -> None:
        self.summary = summary
        self._end()
        self.finished.emit(summary)

    def _on_failed(self, failure: Failure) -> None:
        self._end()
        self.failed.emit(failure.message)

    def _end(self) -> None:
        self._request_id = None
        self._control = None
        self._on_servers = False
        self._set_state(BatchState.IDLE)
