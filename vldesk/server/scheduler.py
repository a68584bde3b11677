"""One inference thread owns the engine; requests wait their turn in one fair queue.

Requests that are not streamed and arrive together are answered with one
:meth:`~vldesk.core.inference.engine.Engine.generate_batch` call; streamed ones are answered one
at a time so that their text can flow. Each request's events go back to its own asyncio queue.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import logging
import threading
from dataclasses import dataclass, field

from vldesk.core.errors import VldeskError
from vldesk.core.generation import Conversation, GenerationResult, GenerationSettings
from vldesk.core.inference.engine import Engine
from vldesk.server.errors import ApiError

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Text:
    """A piece of a streamed answer."""

    text: str


@dataclass(frozen=True)
class Done:
    """The answer is complete: ``text`` is cut at a stop sequence where one was met."""

    result: GenerationResult
    text: str
    hit_stop: bool


@dataclass(frozen=True)
class Failed:
    """The answer failed; ``error`` is the one to show the client."""

    error: ApiError


Event = Text | Done | Failed


@dataclass(eq=False)
class Job:
    """One request's place in the queue and its way back to the request's event loop."""

    conversation: Conversation
    settings: GenerationSettings
    stream: bool
    stops: tuple[str, ...]
    loop: asyncio.AbstractEventLoop
    events: asyncio.Queue[Event] = field(default_factory=asyncio.Queue)
    cancel: threading.Event = field(default_factory=threading.Event)
    #: The jobs answered in the same batch call, and that call's cancel event.
    batch: list[Job] = field(default_factory=list)
    batch_cancel: threading.Event | None = None

    def abandon(self) -> None:
        """The client has gone: stop its answer (a batch stops once all its clients are gone)."""
        self.cancel.set()
        if self.batch_cancel is not None and all(job.cancel.is_set() for job in self.batch):
            self.batch_cancel.set()

    def send(self, event: Event) -> None:
        """Hand ``event`` to the request's loop (from the inference thread)."""
        # A closed loop (RuntimeError) means nobody is waiting any more.
        with contextlib.suppress(RuntimeError):
            self.loop.call_soon_threadsafe(self.events.put_nowait, event)


class StopScanner:
    """Cuts streamed text at the first stop sequence, holding back what may begin one."""

    def __init__(self, stops: tuple[str, ...]) -> None:
        self.stops = stops
        self.hold = max((len(s) for s in stops), default=1) - 1
        self.text = ""
        self.sent = 0
        self.hit = False

    def feed(self, piece: str) -> str:
        """Add ``piece``; return the text that is now safe to send."""
        if self.hit:
            return ""
        self.text += piece
        cut = first_stop(self.text, self.stops)
        if cut is not None:
            self.hit = True
            self.text = self.text[:cut]
            return self._take(len(self.text))
        return self._take(max(self.sent, len(self.text) - self.hold))

    def flush(self) -> str:
        return self._take(len(self.text))

    def _take(self, end: int) -> str:
        out, self.sent = self.text[self.sent : end], max(self.sent, end)
        return out


def first_stop(text: str, stops: tuple[str, ...]) -> int | None:
    found = [index for index in (text.find(s) for s in stops) if index >= 0]
    return min(found) if found else None


class InferenceScheduler:
    """Owns the engine on one thread; ``submit`` queues a request or refuses it."""

    def __init__(self, max_queue: int, retry_after_s: int = 2) -> None:
        self.max_queue = max_queue
        self.retry_after_s = retry_after_s
        self._engine: Engine | None = None
        self._queue: collections.deque[Job] = collections.deque()
        self._ready = threading.Condition()
        self._stopping = False
        self._thread = threading.Thread(target=self._run, name="vldesk-inference", daemon=True)
        #: How each finished job ended ("end_of_text", "cancelled", ...), newest last: for tests
        #: and status lines.
        self.outcomes: collections.deque[str] = collections.deque(maxlen=256)
        self.load_error: str | None = None
        #: The job being answered alone (None between answers and during batches).
        self.current: Job | None = None
        #: The cancel event of the engine call under way (a job's own, or its batch's).
        self._call_cancel: threading.Event | None = None
        #: Jobs taken from the queue and not yet answered.
        self._answering = 0

    @property
    def engine(self) -> Engine | None:
        return self._engine

    def attach(self, engine: Engine) -> None:
        """The model has loaded: start answering."""
        with self._ready:
            self._engine = engine
            self.load_error = None
            self._ready.notify()
        if not self._thread.is_alive():
            self._thread.start()

    def detach(self, reason: str) -> None:
        """The model has gone (unloaded, or another is loading): requests get 503 and ``reason``
        until :meth:`attach`; those waiting are answered so now."""
        with self._ready:
            self._engine = None
            self.load_error = reason
            pending = list(self._queue)
            self._queue.clear()
        for job in pending:
            job.send(Failed(self._unavailable(reason)))

    def waiting(self) -> int:
        with self._ready:
            return len(self._queue)

    def in_flight(self) -> int:
        """Requests waiting or being answered now."""
        with self._ready:
            return len(self._queue) + self._answering

    def _unavailable(self, message: str) -> ApiError:
        return ApiError(503, message, headers={"Retry-After": str(self.retry_after_s)})

    def submit(
        self,
        conversation: Conversation,
        settings: GenerationSettings,
        *,
        stream: bool,
        stops: tuple[str, ...] = (),
    ) -> Job:
        """Queue a request from the running event loop; 503 while loading, 429 when full."""
        if self._engine is None or self._stopping:
            raise self._unavailable(self.load_error or "The model is loading; try again shortly.")
        job = Job(conversation, settings, stream, stops, asyncio.get_running_loop())
        with self._ready:
            if len(self._queue) >= self.max_queue:
                raise ApiError(
                    429,
                    f"The server is busy ({self.max_queue} requests are waiting); "
                    "try again shortly.",
                    code="queue_full",
                    headers={"Retry-After": str(self.retry_after_s)},
                )
            self._queue.append(job)
            self._ready.notify()
        return job

    def stop(self, timeout_s: float = 30) -> None:
        """Answer no more; the answer under way is cancelled and the engine unloaded (an engine
        that only lends the model leaves it loaded). Waits up to ``timeout_s`` for the answer to
        stop."""
        with self._ready:
            self._stopping = True
            if self._call_cancel is not None:
                self._call_cancel.set()
            pending = list(self._queue)
            self._queue.clear()
            self._ready.notify()
        for job in pending:
            job.send(Failed(ApiError(503, "The server is shutting down.")))
        if self._thread.is_alive():
            self._thread.join(timeout=timeout_s)
        if self._engine is not None:
            self._engine.unload()

    def _run(self) -> None:
        while True:
            with self._ready:
                while not (self._queue and self._engine is not None) and not self._stopping:
                    self._ready.wait()
                if self._stopping:
                    return
                jobs = [job for job in self._take_jobs() if not job.cancel.is_set()]
                self._answering = len(jobs)
            try:
                if len(jobs) == 1:
                    self.current = jobs[0]
                    self._answer_one(jobs[0])
                    self.current = None
                elif jobs:
                    self._answer_batch(jobs)
            finally:
                with self._ready:
                    self._answering = 0
                    self._call_cancel = None

    def _take_jobs(self) -> list[Job]:
        """The oldest job, and the later unstreamed ones that can share its batch call."""
        first = self._queue.popleft()
        engine = self._engine
        assert engine is not None
        if first.stream:
            return [first]
        room = min(engine.capabilities.max_batch, engine.batch_size_for(first.settings)) - 1
        mates = [job for job in self._queue if not job.stream and job.settings == first.settings][
            : max(room, 0)
        ]
        for job in mates:
            self._queue.remove(job)
        return [first, *mates]

    def _answer_one(self, job: Job) -> None:
        engine = self._engine
        assert engine is not None
        scanner = StopScanner(job.stops)
        with self._ready:
            self._call_cancel = job.cancel
            if self._stopping:
                job.cancel.set()

        def on_text(piece: str) -> None:
            out = scanner.feed(piece)
            if out and job.stream:
                job.send(Text(out))
            if scanner.hit:
                job.cancel.set()  # the rest of the answer is not wanted

        try:
            result = engine.generate(
                job.conversation,
                job.settings,
                on_text=on_text,
                cancel=job.cancel,
                reuse_cache=False,
            )
        except Exception as exc:  # every failure must reach its client
            self._fail([job], exc)
            return
        rest = scanner.flush()
        if rest and job.stream:
            job.send(Text(rest))
        text = scanner.text if (job.stream or scanner.hit) else result.text
        self._finish(job, result, text, scanner.hit)

    def _answer_batch(self, jobs: list[Job]) -> None:
        engine = self._engine
        assert engine is not None
        batch_cancel = threading.Event()
        for job in jobs:
            job.batch, job.batch_cancel = jobs, batch_cancel
        with self._ready:
            self._call_cancel = batch_cancel
            if self._stopping:
                batch_cancel.set()
        try:
            results = engine.generate_batch(
                [job.conversation for job in jobs], jobs[0].settings, cancel=batch_cancel
            )
        except Exception:
            # One request's failure must not fail the others: answer each alone instead.
            log.warning("A batch of %d failed; answering each alone", len(jobs))
            for job in jobs:
                job.batch, job.batch_cancel = [], None
                if not job.cancel.is_set():
                    self._answer_one(job)
            return
        for job, result in zip(jobs, results, strict=True):
            cut = first_stop(result.text, job.stops)
            text = result.text if cut is None else result.text[:cut]
            self._finish(job, result, text, cut is not None)

    def _finish(self, job: Job, result: GenerationResult, text: str, hit_stop: bool) -> None:
        self.outcomes.append(result.stop_reason.value)
        job.send(Done(result, text, hit_stop))

    def _fail(self, jobs: list[Job], exc: Exception) -> None:
        if isinstance(exc, ApiError):  # e.g. a lent model that was unloaded meanwhile: 503
            error = exc
        elif isinstance(exc, VldeskError):
            error = ApiError(500, str(exc), code="generation_failed")
        else:
            log.exception("An answer failed")
            error = ApiError(500, "The answer failed inside the server; see its log.")
        for job in jobs:
            self.outcomes.append("failed")
            job.send(Failed(error))
