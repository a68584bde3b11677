"""One long-lived thread that owns the loaded model and answers requests in order."""

from __future__ import annotations

import gc
import itertools
import logging
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from enum import Enum
from pathlib import Path

from PySide6.QtCore import QObject, QThread, Signal, SignalInstance, Slot

from vldesk.core.batch import (
    BatchControl,
    BatchEventKind,
    BatchJob,
    BatchOptions,
    BatchProgress,
    BatchRunner,
)
from vldesk.core.errors import OutOfMemoryError, VldeskError
from vldesk.core.generation import Conversation, GenerationSettings, StopReason
from vldesk.core.history import HistoryStore
from vldesk.core.inference.engine import Engine, EngineLoader, LoadRequest, load_engine

log = logging.getLogger(__name__)

#: Streamed text is gathered and sent to the GUI thread at most this often.
CHUNK_INTERVAL_S = 0.03

#: Seconds from an arbitrary start; :func:`time.monotonic` outside tests.
Clock = Callable[[], float]


@dataclass(frozen=True)
class ModelLoadedInfo:
    """What was loaded and where; shown in the status bar."""

    name: str
    path: Path
    family: str
    device: str
    dtype: str
    reason: str
    load_seconds: float
    memory_bytes: int | None
    #: How the weights are held: "full", or "int8"/"int4" where asked for and available.
    weights: str = "full"
    #: The GPU's total memory when the model is on one (for the model manager's estimates).
    device_total_bytes: int | None = None


class FailureKind(str, Enum):
    """Why a request produced no result: the app offers different ways on for each."""

    #: The device ran out of memory: a smaller image budget or the CPU may work.
    OUT_OF_MEMORY = "out_of_memory"
    #: Stopped before it started (a batch cancelled while queued).
    CANCELLED = "cancelled"
    ERROR = "error"


@dataclass(frozen=True)
class Failure:
    """A request that failed: its kind, and the message for the user."""

    kind: FailureKind
    message: str

    @classmethod
    def error(cls, message: str) -> Failure:
        return cls(FailureKind.ERROR, message)


@dataclass(frozen=True)
class GenerateRequest:
    """One answer to produce. ``cancel`` is set from the GUI thread to stop it."""

    request_id: int
    conversation: Conversation
    settings: GenerationSettings
    cancel: threading.Event


@dataclass(frozen=True)
class BatchRequest:
    """Caption a folder with the loaded model. ``control`` pauses, resumes and cancels it from
    the GUI thread (its events are thread-safe)."""

    request_id: int
    options: BatchOptions
    control: BatchControl
    #: Continue the earlier job with these options; False starts afresh (forgetting it).
    resume: bool = False
    retry_failed: bool = False
    #: Images per model call; ``None`` chooses from free memory.
    batch_size: int | None = None
    #: The history database the captions are saved to (opened on the worker's thread).
    history_db: Path | None = None


#: Batch events that only move figures forward: the latest one stands for those before it.
_COALESCED = frozenset(
    {
        BatchEventKind.CAPTION_TEXT,
        BatchEventKind.IMAGE_DONE,
        BatchEventKind.IMAGE_SKIPPED,
        BatchEventKind.CHECKPOINT,
    }
)


class ProgressThrottle:
    """Passes batch events on at most every :data:`CHUNK_INTERVAL_S`, except the ones that
    matter each time (failures, warnings, pauses, the start and end of a batch), which go at
    once after the latest held-back event. A folder of many skipped images or a fast stream of
    caption text then never floods the GUI thread."""

    def __init__(
        self, send: Callable[[BatchProgress], None], clock: Clock = time.monotonic
    ) -> None:
        self._send = send
        self._clock = clock
        self._held: BatchProgress | None = None
        self._last: float | None = None

    def __call__(self, event: BatchProgress) -> None:
        now = self._clock()
        recent = self._last is not None and now - self._last < CHUNK_INTERVAL_S
        if event.kind in _COALESCED and recent:
            self._held = event
            return
        if event.kind not in _COALESCED:
            self.flush()
        self._held = None
        self._last = now
        self._send(event)

    def flush(self) -> None:
        if self._held is not None:
            held, self._held = self._held, None
            self._last = self._clock()
            self._send(held)


class StreamBatcher:
    """Gathers an answer's streamed text and token count and sends them on at most every
    :data:`CHUNK_INTERVAL_S` (a token at a time would flood the GUI thread); :meth:`flush`
    sends what is left."""

    def __init__(
        self,
        send_text: Callable[[str], None],
        send_count: Callable[[int], None],
        clock: Clock = time.monotonic,
    ) -> None:
        self._send_text = send_text
        self._send_count = send_count
        self._clock = clock
        self._pending: list[str] = []
        self._tokens = 0
        self._last = clock()

    def add_text(self, text: str) -> None:
        self._pending.append(text)
        self._flush_if_due()

    def set_tokens(self, count: int) -> None:
        # Also flushes when the streamer holds text back (it waits for a word to end), so the
        # token count keeps moving.
        self._tokens = count
        self._flush_if_due()

    def _flush_if_due(self) -> None:
        if self._clock() - self._last >= CHUNK_INTERVAL_S:
            self.flush()

    def flush(self) -> None:
        if self._pending:
            self._send_text("".join(self._pending))
            self._pending.clear()
        self._send_count(self._tokens)
        self._last = self._clock()


def memory_in_use(device: str) -> int | None:
    """Bytes the model's device holds now: CUDA allocations, else this process's resident set."""
    if device.startswith("cuda") and "torch" in sys.modules:
        import torch

        return int(torch.cuda.memory_allocated())
    try:
        with open("/proc/self/statm", encoding="ascii") as handle:
            pages = int(handle.read().split()[1])
        import resource

        return pages * resource.getpagesize()
    except (OSError, ValueError, IndexError, ImportError):
        pass
    try:
        import resource
    except ImportError:  # Windows without /proc: no cheap figure
        return None
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return int(peak if sys.platform == "darwin" else peak * 1024)


def device_total_memory(device: str) -> int | None:
    """A CUDA device's total memory; ``None`` for the CPU and other devices."""
    if not device.startswith("cuda") or "torch" not in sys.modules:
        return None
    import torch

    try:
        return int(torch.cuda.get_device_properties(torch.device(device)).total_memory)
    except (RuntimeError, AssertionError, ValueError):
        return None


def _unexpected(what: str, exc: BaseException) -> str:
    """A short message for an unexpected error; the traceback goes to the log."""
    log.error("unexpected error while %s", what, exc_info=exc)
    return f"Unexpected error while {what}: {type(exc).__name__}: {exc}. Details are in the log."


class InferenceWorker(QObject):
    """Lives in the inference thread; every slot runs there, one request at a time.

    Signals:
        model_loading(str): a model name; loading has started.
        model_loaded(ModelLoadedInfo): the model is ready.
        model_failed(str): loading failed; the message is for the user.
        model_unloaded(): the model was unloaded and its memory released.
        text_chunk(int, str): request id and newly streamed text (batched).
        token_count(int, int): request id and tokens generated so far.
        finished(int, GenerationResult): the answer is complete (or was stopped).
        failed(int, Failure): generation failed (out of memory, or another error).
        batch_progress(int, BatchProgress): request id and a (throttled) batch event.
        batch_finished(int, BatchSummary): the batch ended: complete, or cancelled (resumable).
        batch_failed(int, Failure): the batch could not start (cancelled while queued, or an
            error) or stopped on an error; the job is resumable.
        read_ahead_finished(int, bool): request id, and whether the image was read (not stopped,
            no error): the next question about it continues from what was read.
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

    def __init__(
        self, load_engine: EngineLoader = load_engine, clock: Clock = time.monotonic
    ) -> None:
        super().__init__()
        self._engine: Engine | None = None
        self._load_engine = load_engine
        self._clock = clock
        #: Set from the GUI thread when the app closes: a load still running is thrown away.
        self.stopping = threading.Event()

    @Slot(object)
    def load_model(self, request: LoadRequest) -> None:
        self._drop_engine()
        if self.stopping.is_set():
            return  # asked for before the app closed: nobody is left to use it
        self.model_loading.emit(request.name)
        started = time.perf_counter()
        try:
            engine = self._load_engine(request)
        except VldeskError as exc:
            log.warning("loading %s failed: %s", request.model_dir, exc)
            if not self.stopping.is_set():
                self.model_failed.emit(str(exc))
            return
        except Exception as exc:
            message = _unexpected(f"loading {request.name}", exc)
            if not self.stopping.is_set():
                self.model_failed.emit(message)
            return
        if self.stopping.is_set():  # the app closed while the weights were read
            engine.unload()
            log.info("%s finished loading after the app closed: unloaded", request.name)
            return
        self._engine = engine
        placement = engine.placement
        info = ModelLoadedInfo(
            name=engine.name,
            path=Path(request.model_dir),
            family=engine.family.value,
            device=placement.device,
            dtype=placement.dtype,
            reason=placement.reason,
            load_seconds=time.perf_counter() - started,
            memory_bytes=memory_in_use(placement.device),
            weights=placement.weights,
            device_total_bytes=device_total_memory(placement.device),
        )
        log.info("loaded %s on %s in %.1f s", info.name, info.device, info.load_seconds)
        self.model_loaded.emit(info)

    @Slot()
    def unload_model(self) -> None:
        if self._drop_engine():
            self.model_unloaded.emit()

    def _drop_engine(self) -> bool:
        if self._engine is None:
            return False
        engine, self._engine = self._engine, None
        engine.unload()
        del engine
        gc.collect()
        return True

    @Slot(object)
    def generate(self, request: GenerateRequest) -> None:
        rid = request.request_id
        if self._engine is None:
            self.failed.emit(rid, Failure.error("No model is loaded yet."))
            return
        stream = StreamBatcher(
            lambda text: self.text_chunk.emit(rid, text),
            lambda tokens: self.token_count.emit(rid, tokens),
            self._clock,
        )
        try:
            result = self._engine.generate(
                request.conversation,
                request.settings,
                on_text=stream.add_text,
                on_token=stream.set_tokens,
                cancel=request.cancel,
            )
        except OutOfMemoryError as exc:
            stream.flush()
            self.failed.emit(rid, Failure(FailureKind.OUT_OF_MEMORY, str(exc)))
            return
        except VldeskError as exc:
            stream.flush()
            self.failed.emit(rid, Failure.error(str(exc)))
            return
        except Exception as exc:
            stream.flush()
            self.failed.emit(rid, Failure.error(_unexpected("answering", exc)))
            return
        stream.flush()
        self.finished.emit(rid, result)

    @Slot(object)
    def read_ahead(self, request: GenerateRequest) -> None:
        """Read an image and the prompt before the question is sent (one token, shown nowhere):
        the engine keeps the cache, and the question continues from it. Failures only log."""
        rid = request.request_id
        done = False
        if self._engine is not None and not request.cancel.is_set():
            settings = replace(request.settings, max_new_tokens=1, ignore_eos=True)
            try:
                result = self._engine.generate(
                    request.conversation, settings, cancel=request.cancel
                )
                done = result.stop_reason is not StopReason.CANCELLED
            except Exception as exc:  # only a head start was lost: the question reads it again
                log.info("reading ahead failed: %s", exc)
        self.read_ahead_finished.emit(rid, done)

    @Slot(object)
    def run_batch(self, request: BatchRequest) -> None:
        """Caption a folder with the loaded model; blocks this thread (and so other requests)
        until the batch ends, is cancelled or fails. Pausing blocks here too."""
        rid = request.request_id
        if self._engine is None:
            self.batch_failed.emit(rid, Failure.error("No model is loaded yet."))
            return
        if request.control.cancelled:
            failure = Failure(FailureKind.CANCELLED, "The batch was cancelled before it started.")
            self.batch_failed.emit(rid, failure)
            return
        try:
            job = (
                BatchJob.resume(request.options)
                if request.resume
                else BatchJob.create(request.options)
            )
        except VldeskError as exc:
            self.batch_failed.emit(rid, Failure.error(str(exc)))
            return
        except Exception as exc:
            self.batch_failed.emit(rid, Failure.error(_unexpected("opening the batch job", exc)))
            return
        throttle = ProgressThrottle(lambda event: self.batch_progress.emit(rid, event), self._clock)
        history = self._open_history(request.history_db, throttle)
        try:
            runner = BatchRunner(
                self._engine,
                job,
                control=request.control,
                on_progress=throttle,
                history=history,
                batch_size=request.batch_size,
            )
            summary = runner.run(retry_failed=request.retry_failed)
        except VldeskError as exc:
            throttle.flush()
            log.warning("batch %s stopped: %s", job.job_id, exc)
            self.batch_failed.emit(rid, Failure.error(str(exc)))
            return
        except Exception as exc:
            throttle.flush()
            self.batch_failed.emit(rid, Failure.error(_unexpected("describing the folder", exc)))
            return
        finally:
            job.close()
            if history is not None:
                history.close()
        throttle.flush()
        self.batch_finished.emit(rid, summary)

    @staticmethod
    def _open_history(
        path: Path | None, send: Callable[[BatchProgress], None]
    ) -> HistoryStore | None:
        """This thread's own store on the app's history database (a connection per thread)."""
        if path is None:
            return None
        try:
            return HistoryStore(path)
        except VldeskError as exc:
            log.warning("batch captions will not go to history: %s", exc)
            message = f"Captions are not saved to the history: {exc}"
            send(BatchProgress(BatchEventKind.WARNING, 0, 0, 0, 0, 0, error=message))
            return None

    @Slot()
    def shut_down(self) -> None:
        """Free the model, then end the thread's event loop (queued after earlier requests)."""
        self._drop_engine()
        thread = self.thread()
        if thread is not None:
            thread.quit()


#: The worker's signals that :class:`InferenceClient` passes on to the GUI thread.
_RE_EXPORTED = (
    "model_loading",
    "model_loaded",
    "model_failed",
    "model_unloaded",
    "text_chunk",
    "token_count",
    "finished",
    "failed",
    "batch_progress",
    "batch_finished",
    "batch_failed",
    "read_ahead_finished",
)


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
    _shutdown_requested = Signal()

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
        for name in _RE_EXPORTED:
            getattr(self.worker, name).connect(getattr(self, name))
        self._load_requested.connect(self.worker.load_model)
        self._unload_requested.connect(self.worker.unload_model)
        self._generate_requested.connect(self.worker.generate)
        self._read_ahead_requested.connect(self.worker.read_ahead)
        self._batch_requested.connect(self.worker.run_batch)
        self._shutdown_requested.connect(self.worker.shut_down)
        self._thread.start()

    @property
    def worker_thread(self) -> QThread:
        return self._thread

    def load_model(self, request: LoadRequest) -> None:
        """Unload any current model and load this one (after requests already queued)."""
        self.cancel_all()
        self._loads_pending += 1
        self._load_requested.emit(request)

    @property
    def loading(self) -> bool:
        """A model load was asked for and has not reported back yet."""
        return self._loads_pending > 0

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
        """Queue a folder batch on the worker's thread (after requests already queued); returns
        its request id. ``control`` pauses, resumes and cancels it from this thread."""
        for reading in list(self._read_aheads):
            self.cancel(reading)  # the batch is queued behind it: no head start to wait for
        request_id = next(self._ids)
        self._batches[request_id] = control
        self._batch_requested.emit(
            BatchRequest(request_id, options, control, resume, retry_failed, batch_size, history_db)
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
