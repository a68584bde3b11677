"""The GUI thread's handle on the inference worker: its thread, requests, cancels, shutdown."""

from __future__ import annotations

import concurrent.futures
import itertools
import logging
import threading
import time
from pathlib import Path

from PySide6.QtCore import QObject, Qt, QThread, Signal, SignalInstance, Slot

from vldesk.core.batch import BatchControl, BatchOptions, BatchProgress, BatchSummary
from vldesk.core.generation import Conversation, GenerationResult, GenerationSettings
from vldesk.core.inference.engine import EngineLoader, LoadRequest, load_engine
from vldesk.gui.workers.failure import Failure
from vldesk.gui.workers.folder_batch import BatchRequest
from vldesk.gui.workers.inference import (
    EngineCall,
    GenerateRequest,
    InferenceWorker,
    ModelLoadedInfo,
)
from vldesk.gui.workers.remote import ConnectRequest
from vldesk.gui.workers.shared_engine import EngineWork
from vldesk.gui.workers.throttle import Clock

log = logging.getLogger(__name__)


class InferenceClient(QObject):
    """The GUI thread's handle on the worker: starts its thread, sends requests, cancels them.

    Requests cross as queued signals carrying plain data; cancelling sets the request's
    ``threading.Event`` directly, so it works while the worker is busy in ``generate``.
    The worker's signals are re-exported here, delivered in the GUI thread (see
    :class:`InferenceWorker` for what each carries); callers connect to these.
    """

    model_loading = Signal(str)
    model_loaded = Signal(object)
    model_failed = Signal(str)
    model_unloaded = Signal()
    text_chunk = Signal(int, str)
    token_count = Signal(int, int)
    finished = Signal(int, object)
    failed = Signal(int, object)
    batch_progress = Signal(int, object)
    batch_finished = Signal(int, object)
    batch_failed = Signal(int, object)
    read_ahead_finished = Signal(int, bool)

    _load_requested = Signal(object)
    _unload_requested = Signal()
    _generate_requested = Signal(object)
    _read_ahead_requested = Signal(object)
    _batch_requested = Signal(object)
    _connect_requested = Signal(object)
    _shutdown_requested = Signal()
    _engine_call_requested = Signal(object)

    def __init__(
        self,
        parent: QObject | None = None,
        *,
        load_engine: EngineLoader = load_engine,
        clock: Clock = time.monotonic,
    ) -> None:
        super().__init__(parent)
        self._ids = itertools.count(1)
        self._cancels: dict[int, threading.Event] = {}
        self._read_aheads: set[int] = set()
        self._batches: dict[int, BatchControl] = {}
        #: Loads asked for that have not reported back (loaded or failed) yet.
        self._loads_pending = 0
        self._shutdown_sent = False
        self._thread = QThread()
        self._thread.setObjectName("vldesk-inference")
        #: Lives in the inference thread; callers use this client's signals, not the worker's
        #: (vldesk/gui/launch.py still reads it, until it moves to them).
        self.worker = InferenceWorker(load_engine, clock)
        self.worker.moveToThread(self._thread)
        # Bookkeeping first: the app's slots, connected later, then see it up to date.
        self.model_loaded.connect(self._on_load_ended)
        self.model_failed.connect(self._on_load_ended)
        self.finished.connect(self._forget)
        self.failed.connect(self._forget)
        self.read_ahead_finished.connect(self._forget)
        self.batch_finished.connect(self._forget_batch)
        self.batch_failed.connect(self._forget_batch)
        # Passed on through slots, never signal to signal: PySide6 6.12 frees Python's
        # True or False once too often for each signal a signal emits (a crash, sooner or later).
        worker = self.worker
        worker.model_loading.connect(self._relay_model_loading)
        worker.model_loaded.connect(self._relay_model_loaded)
        worker.model_failed.connect(self._relay_model_failed)
        worker.model_unloaded.connect(self._relay_model_unloaded)
        worker.text_chunk.connect(self._relay_text_chunk)
        worker.token_count.connect(self._relay_token_count)
        worker.finished.connect(self._relay_finished)
        worker.failed.connect(self._relay_failed)
        worker.batch_progress.connect(self._relay_batch_progress)
        worker.batch_finished.connect(self._relay_batch_finished)
        worker.batch_failed.connect(self._relay_batch_failed)
        worker.read_ahead_finished.connect(self._relay_read_ahead_finished)
        self._load_requested.connect(self.worker.load_model)
        self._unload_requested.connect(self.worker.unload_model)
        self._generate_requested.connect(self.worker.generate)
        self._read_ahead_requested.connect(self.worker.read_ahead)
        self._batch_requested.connect(self.worker.run_batch)
        self._connect_requested.connect(self.worker.connect_server)
        self._shutdown_requested.connect(self.worker.shut_down)
        # Emitted from the server's thread as well: always queued to the worker's thread.
        self._engine_call_requested.connect(
            self.worker.call_engine, Qt.ConnectionType.QueuedConnection
        )
        self._thread.start()

    @property
    def worker_thread(self) -> QThread:
        return self._thread

    def load_model(self, request: LoadRequest) -> None:
        """Unload any current model and load this one (after requests already queued)."""
        self.cancel_all()
        self._loads_pending += 1
        self._load_requested.emit(request)

    def connect_server(self, request: ConnectRequest) -> None:
        """Unload any current model and answer on a server from now on (reported as a load)."""
        self.cancel_all()
        self._loads_pending += 1
        self._connect_requested.emit(request)

    @property
    def loading(self) -> bool:
        """A model load was asked for and has not reported back yet."""
        return self._loads_pending > 0

    # -- the worker's signals, passed on in this thread ---------------------------------------

    @Slot(str)
    def _relay_model_loading(self, name: str) -> None:
        self.model_loading.emit(name)

    @Slot(object)
    def _relay_model_loaded(self, info: ModelLoadedInfo) -> None:
        self.model_loaded.emit(info)

    @Slot(str)
    def _relay_model_failed(self, message: str) -> None:
        self.model_failed.emit(message)

    @Slot()
    def _relay_model_unloaded(self) -> None:
        self.model_unloaded.emit()

    @Slot(int, str)
    def _relay_text_chunk(self, request_id: int, text: str) -> None:
        self.text_chunk.emit(request_id, text)

    @Slot(int, int)
    def _relay_token_count(self, request_id: int, tokens: int) -> None:
        self.token_count.emit(request_id, tokens)

    @Slot(int, object)
    def _relay_finished(self, request_id: int, result: GenerationResult) -> None:
        self.finished.emit(request_id, result)

    @Slot(int, object)
    def _relay_failed(self, request_id: int, failure: Failure) -> None:
        self.failed.emit(request_id, failure)

    @Slot(int, object)
    def _relay_batch_progress(self, request_id: int, event: BatchProgress) -> None:
        self.batch_progress.emit(request_id, event)

    @Slot(int, object)
    def _relay_batch_finished(self, request_id: int, summary: BatchSummary) -> None:
        self.batch_finished.emit(request_id, summary)

    @Slot(int, object)
    def _relay_batch_failed(self, request_id: int, failure: Failure) -> None:
        self.batch_failed.emit(request_id, failure)

    @Slot(int, bool)
    def _relay_read_ahead_finished(self, request_id: int, done: bool) -> None:
        self.read_ahead_finished.emit(request_id, done)

    @Slot()
    def _on_load_ended(self) -> None:
        self._loads_pending = max(0, self._loads_pending - 1)

    def unload_model(self) -> None:
        self.cancel_all()
        self._unload_requested.emit()

    def generate(self, conversation: Conversation, settings: GenerationSettings) -> int:
        """Queue an answer; returns its request id (used by every signal about it)."""
        return self._queue(self._generate_requested, conversation, settings)

    def read_ahead(self, conversation: Conversation, settings: GenerationSettings) -> int:
        """Queue reading ``conversation``'s image and prompt ahead of the question (see
        :meth:`InferenceWorker.read_ahead`); returns its id for :meth:`cancel`."""
        request_id = self._queue(self._read_ahead_requested, conversation, settings)
        self._read_aheads.add(request_id)
        return request_id

    def _queue(
        self, requested: SignalInstance, conversation: Conversation, settings: GenerationSettings
    ) -> int:
        """Send a :class:`GenerateRequest` with a new id and cancel event through ``requested``."""
        request_id = next(self._ids)
        cancel = threading.Event()
        self._cancels[request_id] = cancel
        requested.emit(GenerateRequest(request_id, conversation, settings, cancel))
        return request_id

    def call_engine(self, work: EngineWork) -> concurrent.futures.Future[object]:
        """Queue ``work(engine)`` on the inference thread after the requests already queued;
        callable from any thread. After shutdown the future is cancelled at once."""
        future: concurrent.futures.Future[object] = concurrent.futures.Future()
        if self._shutdown_sent:
            future.cancel()
        else:
            self._engine_call_requested.emit(EngineCall(work, future))
        return future

    def run_batch(
        self,
        options: BatchOptions,
        control: BatchControl,
        *,
        resume: bool = False,
        retry_failed: bool = False,
        batch_size: int | None = None,
        history_db: Path | None = None,
    ) -> int:
        """Queue a folder batch with the loaded model on the worker's thread (after requests
        already queued); returns its request id. ``control`` pauses, resumes and cancels it
        from this thread. (A batch on servers runs elsewhere: see server_batch.py.)"""
        for reading in list(self._read_aheads):
            self.cancel(reading)  # the batch is queued behind it: no head start to wait for
        request_id = next(self._ids)
        self._batches[request_id] = control
        self._batch_requested.emit(
            BatchRequest(
                request_id,
                options,
                control,
                resume,
                retry_failed,
                batch_size,
                history_db,
            )
        )
        return request_id

    def cancel(self, request_id: int) -> None:
        event = self._cancels.get(request_id)
        if event is not None:
            event.set()

    def cancel_all(self) -> None:
        for event in self._cancels.values():
            event.set()

    @Slot(int)
    def _forget(self, request_id: int) -> None:
        self._cancels.pop(request_id, None)
        self._read_aheads.discard(request_id)

    @Slot(int)
    def _forget_batch(self, request_id: int) -> None:
        self._batches.pop(request_id, None)

    def shut_down(self) -> None:
        """Stop generation and batches, free the model and end the thread (safe to call twice).

        Waits for the thread to end, except while a model loads: reading weights cannot be
        interrupted, so the thread then ends by itself when the load returns (throwing the
        model away) and closing the window does not wait for it (:meth:`wait_until_stopped`
        does, once the window is gone)."""
        if not self._thread.isRunning():
            return
        self.worker.stopping.set()
        self.cancel_all()
        for control in self._batches.values():
            control.cancel()  # the job stays resumable
        if not self._shutdown_sent:
            self._shutdown_sent = True
            self._shutdown_requested.emit()
        if self.loading:
            log.info("a model is still loading: the inference thread ends when the load returns")
            return
        self.wait_until_stopped(60_000)

    def wait_until_stopped(self, timeout_ms: int | None = None) -> bool:
        """After :meth:`shut_down`: wait for the thread to end (``None``: however long a load
        still takes). False if it was still running at the timeout."""
        stopped = self._thread.wait() if timeout_ms is None else self._thread.wait(timeout_ms)
        if not stopped:
            log.error("the inference thread did not stop within %s ms", timeout_ms)
        return bool(stopped)
