"""Several OpenAI-compatible servers as one engine: N requests in flight on each, failures
retried elsewhere, dead servers out of rotation until a probe brings them back."""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Hashable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from vldesk.core.errors import GenerationError
from vldesk.core.generation import Conversation, GenerationResult, GenerationSettings, StopReason
from vldesk.core.inference.engine import (
    Engine,
    EngineCapabilities,
    Placement,
    TextCallback,
    TokenCallback,
)
from vldesk.core.inference.remote.concurrency import (
    MAX_AUTO_CONCURRENCY,
    AdaptiveLimit,
    probe_all,
)
from vldesk.core.inference.remote.endpoint import (
    AnswerFailedError,
    Connection,
    Endpoint,
    EndpointError,
    ServerBusyError,
)
from vldesk.core.inference.remote.engine import (
    BUSY_RETRIES,
    DEFAULT_FAMILY,
    RemoteEngine,
    served_model,
)
from vldesk.core.inference.remote.wire import MalformedReplyError, family_from_model_name
from vldesk.core.inference.sampling import Sampling
from vldesk.core.models.catalog import Family

log = logging.getLogger(__name__)

#: A dead server is probed again after this long, doubling up to the cap while it stays dead.
PROBE_DELAY_S = 1.0
MAX_PROBE_DELAY_S = 30.0
#: How often the dispatcher wakes without news: to probe, to end a back-off, to see a cancel.
TICK_S = 0.05


def _served_models(connection: Connection) -> list[str]:
    """The models ``GET /v1/models`` lists; a server that lists none is not ready: it answers
    while it still loads its model (``vldesk serve``, a router whose backends are starting).

    Raises:
        EndpointError: the server did not answer, or lists no model yet.
    """
    names = connection.model_names()
    if not names:
        raise EndpointError(
            f"{connection.endpoint.display} lists no model yet (GET /v1/models is empty): "
            "it may still be loading its model."
        )
    return names


@dataclass(eq=False)
class _Server:
    """One endpoint's engine and its place in the rotation (changed on the dispatching thread;
    ``in_flight`` under the pool's lock)."""

    engine: RemoteEngine
    adaptive: AdaptiveLimit
    alive: bool = True
    in_flight: int = 0
    busy_until: float = 0.0
    next_probe: float = 0.0
    probe_delay: float = PROBE_DELAY_S
    probing: bool = False
    last_error: str = ""

    @property
    def display(self) -> str:
        return self.engine.connection.endpoint.display

    @property
    def limit(self) -> int:
        return self.adaptive.limit

    @property
    def ceiling(self) -> int:
        return self.adaptive.ceiling


@dataclass(eq=False)
class _Task:
    index: int
    conversation: Conversation
    failed_on: set[int] = field(default_factory=set)
    busy_count: int = 0
    last_error: str = ""


class EndpointPool:
    """Implements the Engine protocol over several servers that serve the same model.

    :meth:`generate_batch` sends every conversation as its own request, at most ``limit`` in
    flight per server, and returns the answers in input order. Each server's limit adapts
    (:class:`AdaptiveLimit`): a 429 backs it off (its Retry-After) and halves it, an answer far
    slower than the best lowers it, and it rises by one after as many quick answers; a server
    that fails (unreachable, 5xx, garbage) leaves the rotation and is probed back with
    ``GET /v1/models``. An image fails only once every server has failed it or is out of the
    rotation; the batch then raises, and the answers it did get are kept for the caller's
    one-by-one retry (:meth:`generate`) so that no image is asked twice.
    """

    def __init__(
        self,
        engines: Sequence[RemoteEngine],
        alive: Sequence[bool],
        concurrency: int | Sequence[int],
        *,
        ceiling: int | None = None,
    ):
        """``concurrency``: each server's starting limit (one for all, or one per server);
        ``ceiling``: the most it may rise to (default: the starting limit)."""
        if not engines:
            raise ValueError("an endpoint pool needs at least one endpoint")
        starts = [concurrency] * len(engines) if isinstance(concurrency, int) else concurrency
        self._servers = [
            _Server(engine, AdaptiveLimit(start, max(start, ceiling or start)), alive=up)
            for engine, up, start in zip(engines, alive, starts, strict=True)
        ]
        self._lock = threading.Lock()
        self._executor: ThreadPoolExecutor | None = None
        self._kept: dict[Hashable, GenerationResult | GenerationError] = {}

    @classmethod
    def connect(
        cls,
        endpoints: Sequence[Endpoint],
        *,
        concurrency: int | None = None,
        model: str | None = None,
        family: Family | None = None,
        cancel: threading.Event | None = None,
    ) -> tuple[EndpointPool, list[str]]:
        """Ask each server for its models; returns the pool and warnings (servers that did
        not answer start out of the rotation). Without ``concurrency``, each answering server
        is probed for its starting limit (:func:`probe_concurrency`), which then adapts up to
        :data:`MAX_AUTO_CONCURRENCY`; with it, the limit adapts up to ``concurrency``. Setting
        ``cancel`` ends the probe at once (the servers then start at the default).

        Raises:
            GenerationError: no server answers, or they serve different models.
        """
        connections = [Connection(endpoint) for endpoint in endpoints]
        listed: list[list[str] | None] = []
        warnings: list[str] = []
        for connection in connections:
            try:
                listed.append(_served_models(connection))
            except GenerationError as exc:
                listed.append(None)
                warnings.append(f"{exc} It is left out until it answers.")
        answering = [(c, names) for c, names in zip(connections, listed, strict=True) if names]
        if not answering:
            for connection in connections:
                connection.close()
            raise GenerationError("No server is ready: " + " ".join(warnings))
        first, names = answering[0]
        try:
            name = served_model(names, model, first.endpoint.display)
            for connection, others in answering[1:]:
                served_model(others, name, connection.endpoint.display)
        except GenerationError:
            for connection in connections:
                connection.close()
            raise
        chosen = family or family_from_model_name(name) or DEFAULT_FAMILY
        engines = [RemoteEngine(connection, name, chosen) for connection in connections]
        alive = [names is not None for names in listed]
        if concurrency is not None:
            return cls(engines, alive, concurrency), warnings
        starts = probe_all(engines, alive, cancel)
        return cls(engines, alive, starts, ceiling=MAX_AUTO_CONCURRENCY), warnings

    # -- what it is ---------------------------------------------------------------------------

    @property
    def _first(self) -> RemoteEngine:
        return self._servers[0].engine

    @property
    def name(self) -> str:
        return self._first.name

    @property
    def family(self) -> Family:
        return self._first.family

    @property
    def placement(self) -> Placement:
        where = ", ".join(server.display for server in self._servers)
        return Placement("remote", where, "remote", "", reason="OpenAI-compatible servers")

    @property
    def capabilities(self) -> EngineCapabilities:
        return EngineCapabilities(
            continues_conversation=False,
            max_batch=sum(server.ceiling for server in self._servers),
            patch_factor=self._first.capabilities.patch_factor,
        )

    @property
    def recommended_sampling(self) -> Sampling:
        return self._first.recommended_sampling

    def describe(self) -> str:
        count = len(self._servers)
        servers = "1 server" if count == 1 else f"{count} servers"
        return f"{self.name} on {servers} ({self.placement.device})"

    def sampling_figures(self, settings: GenerationSettings) -> dict[str, object]:
        return self._first.sampling_figures(settings)

    def batch_size_for(self, settings: GenerationSettings) -> int:
        return max(1, sum(server.limit for server in self._servers if server.alive))

    def figures(self) -> Mapping[str, object]:
        return {
            "name": self.name,
            "backend": "remote",
            "family": self.family.value,
            "servers": [
                {"url": s.display, "alive": s.alive, "limit": s.limit} for s in self._servers
            ],
        }

    # -- answering ----------------------------------------------------------------------------

    def generate(
        self,
        conversation: Conversation,
        settings: GenerationSettings | None = None,
        *,
        on_text: TextCallback | None = None,
        on_token: TokenCallback | None = None,
        cancel: threading.Event | None = None,
        reuse_cache: bool = True,
    ) -> GenerationResult:
        """Stream the answer from one server; another takes over where that one fails."""
        kept = self._kept.pop(_key(conversation), None)
        if isinstance(kept, GenerationError):
            raise kept
        if kept is not None:
            if on_text is not None and kept.text:
                on_text(kept.text)
            return kept
        settings = settings or GenerationSettings()
        tried: set[int] = set()
        last = "no server is in the rotation"
        while True:
            self._probe_now(tried)
            choice = self._pick(tried, now=time.monotonic(), ignore_busy=True)
            if choice is None:
                raise GenerationError(f"Every server failed this image; the last said: {last}")
            server = self._servers[choice]
            try:
                result = server.engine.generate(
                    conversation, settings, on_text=on_text, on_token=on_token, cancel=cancel
                )
            except GenerationError as exc:
                tried.add(choice)
                last = str(exc)
                if _server_failed(exc):
                    self._take_out(server, last)
                continue
            return result

    def generate_batch(
        self,
        conversations: Sequence[Conversation],
        settings: GenerationSettings | None = None,
        *,
        cancel: threading.Event | None = None,
    ) -> list[GenerationResult]:
        settings = settings or GenerationSettings()
        results: list[GenerationResult | GenerationError | None] = [None] * len(conversations)
        waiting = [_Task(i, c) for i, c in enumerate(conversations)]
        news: queue.Queue[tuple[_Server, _Task | None, GenerationResult | Exception | None]] = (
            queue.Queue()
        )
        executor = self._pool_executor()
        pending = 0
        while waiting or pending:
            if cancel is not None and cancel.is_set():
                # Answers still in flight finish on their own; their news goes nowhere.
                return [_cancelled(r) for r in results]
            now = time.monotonic()
            self._start_probes(executor, news, now)
            for task in list(waiting):
                if self._hopeless(task):
                    results[task.index] = GenerationError(
                        f"Every server failed this image; the last said: {task.last_error}"
                    )
                    waiting.remove(task)
                    continue
                choice = self._pick(task.failed_on, now=now)
                if choice is None:
                    continue
                server = self._servers[choice]
                with self._lock:
                    server.in_flight += 1
                waiting.remove(task)
                pending += 1
                executor.submit(self._ask, server, task, settings, news)
            try:
                answered, asked, outcome = news.get(timeout=TICK_S)
            except queue.Empty:
                continue
            if asked is None:
                self._probed(answered, outcome)
                continue
            pending -= 1
            if isinstance(outcome, GenerationResult):
                results[asked.index] = outcome
                self._succeeded(answered, outcome.stats.total_s)
            else:
                assert outcome is not None
                self._failed(answered, asked, outcome)
                waiting.insert(0, asked)  # elsewhere, or failed for good at the next turn
        return self._settle(conversations, results)

    def unload(self) -> None:
        if self._executor is not None:
            self._executor.shutdown(wait=False, cancel_futures=True)
            self._executor = None
        for server in self._servers:
            server.engine.unload()

    # -- inside -------------------------------------------------------------------------------

    def _pool_executor(self) -> ThreadPoolExecutor:
        if self._executor is None:
            workers = sum(s.ceiling for s in self._servers) + len(self._servers)
            self._executor = ThreadPoolExecutor(workers, thread_name_prefix="vldesk-remote")
        return self._executor

    def _ask(
        self,
        server: _Server,
        task: _Task,
        settings: GenerationSettings,
        news: queue.Queue[tuple[_Server, _Task | None, GenerationResult | Exception | None]],
    ) -> None:
        try:
            outcome: GenerationResult | Exception = server.engine.answer(
                task.conversation, settings
            )
        except Exception as exc:  # any failure: reported to the dispatcher
            outcome = exc
        finally:
            with self._lock:
                server.in_flight -= 1
        news.put((server, task, outcome))

    def _pick(self, exclude: set[int], *, now: float, ignore_busy: bool = False) -> int | None:
        """The server with the most room that is alive, not backing off, and not excluded."""
        best, room = None, 0
        for index, server in enumerate(self._servers):
            if index in exclude or not server.alive:
                continue
            if not ignore_busy and server.busy_until > now:
                continue
            free = server.limit - server.in_flight if not ignore_busy else server.limit
            if free > room:
                best, room = index, free
        return best

    def _hopeless(self, task: _Task) -> bool:
        """Every server failed this task or is out of the rotation."""
        return all(
            index in task.failed_on or not server.alive
            for index, server in enumerate(self._servers)
        )

    def _failed(self, server: _Server, task: _Task, error: Exception) -> None:
        """Record ``error`` from ``server``: a 429 backs it off, a failure takes it out."""
        index = self._servers.index(server)
        task.last_error = str(error) or type(error).__name__
        if isinstance(error, ServerBusyError):
            server.busy_until = time.monotonic() + error.retry_after_s
            server.adaptive.busy()
            task.busy_count += 1
            log.warning("%s; %d at a time from now on", error, server.limit)
            if task.busy_count <= BUSY_RETRIES * len(self._servers):
                return
        elif _server_failed(error):
            self._take_out(server, task.last_error)
        task.failed_on.add(index)

    def _succeeded(self, server: _Server, latency_s: float) -> None:
        server.probe_delay = PROBE_DELAY_S
        server.adaptive.succeeded(latency_s)

    def _take_out(self, server: _Server, why: str) -> None:
        server.last_error = why
        if not server.alive:
            return  # another answer in flight found it dead first
        log.warning("%s is out of the rotation: %s", server.display, why)
        server.alive = False
        # Each time it falls out without an answer in between, it waits twice as long.
        server.next_probe = time.monotonic() + server.probe_delay
        server.probe_delay = min(server.probe_delay * 2, MAX_PROBE_DELAY_S)

    def _start_probes(
        self,
        executor: ThreadPoolExecutor,
        news: queue.Queue[tuple[_Server, _Task | None, GenerationResult | Exception | None]],
        now: float,
    ) -> None:
        for server in self._servers:
            if server.alive or server.probing or now < server.next_probe:
                continue
            server.probing = True

            def probe(server: _Server = server) -> None:
                try:
                    self._serves_again(server)
                except Exception as exc:  # still dead (or loading), whatever the reason
                    news.put((server, None, exc))
                else:
                    news.put((server, None, None))

            executor.submit(probe)

    def _probe_now(self, exclude: set[int]) -> None:
        """Probe the dead servers that are due, on this thread (the streaming path)."""
        now = time.monotonic()
        for index, server in enumerate(self._servers):
            if index in exclude or server.alive or now < server.next_probe:
                continue
            try:
                self._serves_again(server)
            except Exception as exc:  # still dead (or loading, or another model)
                self._probed(server, exc)
            else:
                self._probed(server, None)

    def _serves_again(self, server: _Server) -> None:
        """Probe a server out of the rotation: it must answer, list a model, and serve this
        pool's model, as at :meth:`connect` (vLLM would refuse every request for another model;
        llama-server would silently answer with its own).

        Raises:
            GenerationError: it is still down, loading, or serves another model.
        """
        names = _served_models(server.engine.connection)
        try:
            served_model(names, self.name, server.display)
        except GenerationError as exc:
            log.warning("%s stays out of the rotation: %s", server.display, exc)
            raise

    def _probed(self, server: _Server, error: GenerationResult | Exception | None) -> None:
        server.probing = False
        if error is None:
            log.warning("%s is back in the rotation", server.display)
            server.alive = True
            # The probe delay stays up until an answer: no quick flapping.
            server.adaptive.successes = 0
            return
        server.next_probe = time.monotonic() + server.probe_delay
        server.probe_delay = min(server.probe_delay * 2, MAX_PROBE_DELAY_S)

    def _settle(
        self,
        conversations: Sequence[Conversation],
        results: list[GenerationResult | GenerationError | None],
    ) -> list[GenerationResult]:
        failures = [r for r in results if isinstance(r, GenerationError)]
        if not failures:
            return [r for r in results if isinstance(r, GenerationResult)]
        # The caller retries a failed batch one by one: hand it what this batch already has.
        for conversation, result in zip(conversations, results, strict=True):
            if result is not None:
                self._kept[_key(conversation)] = result
        raise GenerationError(str(failures[0]))


def _server_failed(error: Exception) -> bool:
    """The server, not the request, is at fault (another server may answer it)."""
    if isinstance(error, (ServerBusyError, AnswerFailedError)):
        return False
    if isinstance(error, (EndpointError, MalformedReplyError)):
        return True
    return not isinstance(error, GenerationError)  # an unexpected error: blame the server


def _cancelled(result: GenerationResult | GenerationError | None) -> GenerationResult:
    if isinstance(result, GenerationResult):
        return GenerationResult(result.text, StopReason.CANCELLED, result.stats, result.extra)
    from vldesk.core.generation import GenerationStats

    stats = GenerationStats(0, 0, 0, 0.0, 0.0, 0.0, device="remote", dtype="")
    return GenerationResult("", StopReason.CANCELLED, stats)


def _key(conversation: Conversation) -> Hashable:
    """What identifies a conversation across the batch and the one-by-one retry of it."""
    return (
        conversation.system,
        tuple(
            (turn.role, turn.text, tuple((i.source, i.size) for i in turn.images))
            for turn in conversation.turns
        ),
    )


def _implements_the_protocol(engine: EndpointPool) -> Engine:
    """mypy checks here that EndpointPool satisfies the Engine protocol."""
    return engine
