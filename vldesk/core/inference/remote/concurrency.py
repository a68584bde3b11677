"""How many requests to keep in flight on a server: a quick probe to start from, AIMD after."""

from __future__ import annotations

import functools
import logging
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TypeVar, cast

from PIL import Image

from vldesk.core.errors import GenerationError
from vldesk.core.generation import Conversation, GenerationSettings
from vldesk.core.images import LoadedImage
from vldesk.core.inference.remote.endpoint import Connection
from vldesk.core.inference.remote.engine import DEFAULT_CONCURRENCY, RemoteEngine

log = logging.getLogger(__name__)

#: The probe sends this many tiny requests at once, level after level, while throughput grows.
PROBE_LEVELS = (1, 2, 4, 8)
#: A level is worth it when it answers at least this much faster per request than the last.
MIN_GAIN = 1.3
#: Where no one said how many: the adaptive limit never goes past this.
MAX_AUTO_CONCURRENCY = 64
#: An answer this many times slower than the best seen means the server is saturated.
LATENCY_BACKOFF = 3.0
#: The probe's image: small and plain, a few visual tokens.
_PROBE_SIZE = (64, 64)
_PROBE_SETTINGS = GenerationSettings(max_new_tokens=1, max_image_tokens=16)
#: What the probe asks (tests tell its requests from a job's by it).
PROBE_PROMPT = "Reply with one word."
#: A probe request (one token about a tiny image) not answered in this long fails its level.
PROBE_TIMEOUT_S = 20.0
#: How often a waiting probe looks at its cancel event.
_CANCEL_POLL_S = 0.1

T = TypeVar("T")


def choose_concurrency(seconds_by_level: Mapping[int, float]) -> int:
    """The highest level up to which each step raised throughput by :data:`MIN_GAIN`.

    ``seconds_by_level`` is how long ``level`` requests sent together took; a server that
    batches answers 4 together nearly as fast as 1, one that does not takes 4 times as long.
    """
    best, best_rate = 1, 0.0
    for level in sorted(seconds_by_level):
        rate = level / max(seconds_by_level[level], 1e-6)
        if best_rate and rate < best_rate * MIN_GAIN:
            break
        best, best_rate = level, rate
    return best


def probe_concurrency(
    engine: RemoteEngine,
    levels: Sequence[int] = PROBE_LEVELS,
    cancel: threading.Event | None = None,
) -> int:
    """Time ``levels`` concurrent tiny requests on ``engine``'s server; the level to start at.

    One untimed request goes first (connecting, a server's first-request warm-up). A level
    that fails (429, an error, no answer in :data:`PROBE_TIMEOUT_S`) ends the probe at the
    level before it; a server that fails the first request gets :data:`DEFAULT_CONCURRENCY`,
    and so does a probe that ``cancel`` stops.
    """
    # The probe's own connection: its requests give up soon, where a job's may take minutes.
    connection = Connection(engine.connection.endpoint, read_timeout_s=PROBE_TIMEOUT_S)
    prober = RemoteEngine(connection, engine.name, engine.family)
    try:
        timings = _timed_levels(prober, levels, cancel)
    finally:
        connection.close()
    if not timings:
        return DEFAULT_CONCURRENCY
    chosen = choose_concurrency(timings)
    log.info(
        "%s: %s; starting at %d at a time",
        engine.describe(),
        ", ".join(f"{n} at once {s:.2f} s" for n, s in sorted(timings.items())),
        chosen,
    )
    return chosen


def _timed_levels(
    prober: RemoteEngine, levels: Sequence[int], cancel: threading.Event | None
) -> dict[int, float]:
    """How long each level's requests sent together took, up to the first that failed."""

    def ask() -> object:
        return prober.answer(_probe(), _PROBE_SETTINGS)

    timings: dict[int, float] = {}
    warm_up = _all_at_once([ask], cancel)
    if warm_up is None:
        return timings
    _raise_unexpected(warm_up)
    if isinstance(warm_up[0], GenerationError):
        log.info("not probing %s: %s", prober.describe(), warm_up[0])
        return timings
    for level in levels:
        started = time.monotonic()
        outcomes = _all_at_once([ask] * level, cancel)
        if outcomes is None:
            break
        _raise_unexpected(outcomes)
        failed = next((o for o in outcomes if isinstance(o, GenerationError)), None)
        if failed is not None:
            log.info("probing %s stopped at %d at a time: %s", prober.describe(), level, failed)
            break
        timings[level] = time.monotonic() - started
        if len(timings) >= 2 and choose_concurrency(timings) < level:
            break  # throughput stopped growing: higher levels only cost time
    return timings


def probe_all(
    engines: Sequence[RemoteEngine],
    alive: Sequence[bool],
    cancel: threading.Event | None = None,
) -> list[int]:
    """Each answering server's probed starting limit (all probed at once); the others get the
    highest probed, or :data:`DEFAULT_CONCURRENCY` (all of them once ``cancel`` is set)."""
    up = [engine for engine, answering in zip(engines, alive, strict=True) if answering]
    calls = [functools.partial(probe_concurrency, engine, cancel=cancel) for engine in up]
    outcomes = _all_at_once(calls, cancel)
    if outcomes is None:
        return [DEFAULT_CONCURRENCY] * len(engines)
    probed = {id(engine): outcome for engine, outcome in zip(up, outcomes, strict=True)}
    fallback = max(
        (limit for limit in probed.values() if isinstance(limit, int)), default=DEFAULT_CONCURRENCY
    )
    return [_int_or(probed.get(id(engine)), fallback) for engine in engines]


def _raise_unexpected(outcomes: Sequence[object]) -> None:
    """A failing server is a probe's answer; anything else is a bug, raised here."""
    for outcome in outcomes:
        if isinstance(outcome, Exception) and not isinstance(outcome, GenerationError):
            raise outcome


def _int_or(outcome: object, fallback: int) -> int:
    if isinstance(outcome, BaseException):
        raise outcome
    return outcome if isinstance(outcome, int) else fallback


def _all_at_once(
    calls: Sequence[Callable[[], T]], cancel: threading.Event | None
) -> list[T | Exception] | None:
    """Each call's result or exception, the calls run together on daemon threads; ``None`` as
    soon as ``cancel`` is set (or on Ctrl-C): requests still out end on their own, within
    their timeout, and never keep the process from exiting."""
    outcomes: list[T | Exception | None] = [None] * len(calls)
    finished = threading.Semaphore(0)

    def run(index: int, call: Callable[[], T]) -> None:
        try:
            outcomes[index] = call()
        except Exception as exc:  # the caller decides: a failed probe, or a bug raised there
            outcomes[index] = exc
        finally:
            finished.release()

    for index, call in enumerate(calls):
        thread = threading.Thread(target=run, args=(index, call), name="vldesk-probe", daemon=True)
        thread.start()
    for _ in calls:
        while not finished.acquire(timeout=_CANCEL_POLL_S):
            if cancel is not None and cancel.is_set():
                return None
    if cancel is not None and cancel.is_set():
        return None
    return cast("list[T | Exception]", outcomes)


def _probe() -> Conversation:
    image = Image.new("RGB", _PROBE_SIZE, (128, 128, 128))
    loaded = LoadedImage(image, "probe", _PROBE_SIZE)
    return Conversation().ask(PROBE_PROMPT, [loaded])


@dataclass
class AdaptiveLimit:
    """Additive increase, multiplicative decrease of one server's in-flight limit.

    One more after ``limit`` answers in a row that came back no slower than
    :data:`LATENCY_BACKOFF` times the best; half on a 429; three quarters on an answer slower
    than that (the server queues rather than batches).
    """

    limit: int
    ceiling: int
    successes: int = 0
    best_latency_s: float | None = field(default=None)

    def succeeded(self, latency_s: float | None = None) -> None:
        if latency_s is not None and latency_s > 0:
            best = self.best_latency_s
            self.best_latency_s = latency_s if best is None else min(best, latency_s)
            if best is not None and latency_s > LATENCY_BACKOFF * best and self.limit > 1:
                self.limit = max(1, (self.limit * 3) // 4)
                self.successes = 0
                return
        self.successes += 1
        if self.limit < self.ceiling and self.successes >= self.limit:
            self.limit += 1
            self.successes = 0

    def busy(self) -> None:
        self.limit = max(1, self.limit // 2)
        self.successes = 0
