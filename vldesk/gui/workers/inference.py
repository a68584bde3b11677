"""One long-lived thread that owns the loaded model and answers requests in order."""

from __future__ import annotations

import concurrent.futures
import gc
import logging
import sys
import threading
import time
from dataclasses import dataclass, replace
from pathlib import Path

from PySide6.QtCore import QObject, Signal, Slot

from vldesk.core.errors import OutOfMemoryError, VldeskError
from vldesk.core.generation import Conversation, GenerationSettings, StopReason
from vldesk.core.inference.engine import Engine, EngineLoader, LoadRequest, load_engine
from vldesk.gui.i18n import error_text
from vldesk.gui.workers.failure import Failure, FailureKind, unexpected
from vldesk.gui.workers.folder_batch import BatchRequest, run_folder_batch
from vldesk.gui.workers.remote import ConnectRequest, connect_server
from vldesk.gui.workers.shared_engine import EngineFacts, EngineWork
from vldesk.gui.workers.throttle import Clock, StreamBatcher

log = logging.getLogger(__name__)


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
    #: The server's address where the model answers on one (Model → Connect to a Server).
    server: str | None = None
    #: The engine that runs it ("transformers", "llama.cpp", ...).
    backend: str = ""
    #: What serving the model to other programs needs to know of it (see shared_engine.py).
    facts: EngineFacts | None = None


@dataclass(frozen=True)
class GenerateRequest:
    """One answer to produce. ``cancel`` is set from the GUI thread to stop it."""

    request_id: int
    conversation: Conversation
    settings: GenerationSettings
    cancel: threading.Event


@dataclass(frozen=True)
class EngineCall:
    """Work for the loaded engine from another thread (the server): it runs in its turn, with
    the engine or ``None``, and its result or exception goes to ``future``."""

    work: EngineWork
    future: concurrent.futures.Future[object]


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
                self.model_failed.emit(error_text(exc))
            return
        except Exception as exc:
            message = unexpected(f"loading {request.name}", exc)
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
            backend=placement.backend,
            facts=EngineFacts.of(engine),
        )
        log.info("loaded %s on %s in %.1f s", info.name, info.device, info.load_seconds)
        self.model_loaded.emit(info)

    @Slot(object)
    def connect_server(self, request: ConnectRequest) -> None:
        """Answer with a model on an OpenAI-compatible server from now on (the local model is
        unloaded); reported as a load (model_loading, then model_loaded or model_failed)."""
        self._drop_engine()
        if self.stopping.is_set():
            return
        self.model_loading.emit(request.model)
        started = time.perf_counter()
        try:
            engine = connect_server(request)
        except VldeskError as exc:
            log.warning("connecting to %s failed: %s", request.endpoint.display, exc)
            if not self.stopping.is_set():
                self.model_failed.emit(error_text(exc))
            return
        except Exception as exc:
            message = unexpected(f"connecting to {request.endpoint.display}", exc)
            if not self.stopping.is_set():
                self.model_failed.emit(message)
            return
        if self.stopping.is_set():
            engine.unload()
            return
        self._engine = engine
        placement = engine.placement
        info = ModelLoadedInfo(
            name=engine.name,
            path=Path(),
            family=engine.family.value,
            device=placement.device,
            dtype=placement.dtype,
            reason=placement.reason,
            load_seconds=time.perf_counter() - started,
            memory_bytes=None,
            weights=placement.weights,
            server=request.endpoint.display,
        )
        log.info("answering with %s on %s", info.name, info.server)
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
            self.failed.emit(rid, Failure(FailureKind.OUT_OF_MEMORY, error_text(exc)))
            return
        except VldeskError as exc:
            stream.flush()
            self.failed.emit(rid, Failure.error(error_text(exc)))
            return
        except Exception as exc:
            stream.flush()
            self.failed.emit(rid, Failure.error(unexpected("answering", exc)))
            return
        stream.flush()
        self.finished.emit(rid, result)

    @Slot(object)
    def call_engine(self, call: EngineCall) -> None:
        """Run another thread's work with the engine, in queue order with the GUI's requests."""
        if not call.future.set_running_or_notify_cancel():
            return  # cancelled while it waited
        try:
            call.future.set_result(call.work(self._engine))
        except BaseException as exc:  # the caller's thread decides what an error means
            call.future.set_exception(exc)

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
        until the batch ends, is cancelled or fails. Pausing blocks here too. (A batch on
        servers runs on a thread of its own: see server_batch.py.)"""
        rid = request.request_id
        outcome = run_folder_batch(
            request, self._engine, lambda event: self.batch_progress.emit(rid, event), self._clock
        )
        if isinstance(outcome, Failure):
            self.batch_failed.emit(rid, outcome)
        else:
            self.batch_finished.emit(rid, outcome)

    @Slot()
    def shut_down(self) -> None:
        """Let go of the model, then end the thread's event loop (queued after earlier requests).

        The app is closing: the orderly unload (garbage collection, device caches) took most
        of a second per collection with torch loaded and kept the window on screen; the
        process's exit gives the memory back anyway. A server's engine closes its connections
        (quick, and nothing is left for the garbage collector to find open)."""
        engine, self._engine = self._engine, None
        if engine is not None and engine.placement.kind == "remote":
            engine.unload()
        thread = self.thread()
        if thread is not None:
            thread.quit()
