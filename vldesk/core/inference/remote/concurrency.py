"""How many requests to keep in flight on a server: a quick probe to start from, AIMD after."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from PIL import Image

from vldesk.core.errors import GenerationError
from vldesk.core.generation import Conversation, GenerationSettings
from vldesk.core.images import LoadedImage
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
    that fails (429, an error) ends the probe at the level before it; a server that fails the
    first request gets :data:`DEFAULT_CONCURRENCY`.
    """
    timings: dict[int, float] = {}
    try:
        engine.answer(_probe(), _PROBE_SETTINGS)
    except GenerationError as exc:
        log.info("not probing %s: %s", engine.describe(), exc)
        return DEFAULT_CONCURRENCY
    with ThreadPoolExecutor(max(levels), thread_name_prefix="vldesk-probe") as executor:
        for level in levels:
            if cancel is not None and cancel.is_set():
                break
            started = time.monotonic()
            futures = [
                executor.submit(engine.answer, _probe(), _PROBE_SETTINGS) for _ in range(level)
            ]
            try:
                for future in futures:
                    future.result()
            except GenerationError as exc:
                log.info("probing %s stopped at %d at a time: %s", engine.describe(), level, exc)
                break
            timings[level] = time.monotonic() - started
            if len(timings) >= 2 and choose_concurrency(timings) < level:
                break  # throughput stopped growing: higher levels only cost time
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


def probe_all(engines: Sequence[RemoteEngine], alive: Sequence[bool]) -> list[int]:
    """Each answering server's probed starting limit (all probed at once); the others get the
    highest probed, or :data:`DEFAULT_CONCURRENCY`."""
    up = [engine for engine, answering in zip(engines, alive, strict=True) if answering]
    with ThreadPoolExecutor(max(1, len(up)), thread_name_prefix="vldesk-probe-all") as executor:
        probed = dict(zip(map(id, up), executor.map(probe_concurrency, up), strict=True))
    fallback = max(probed.values(), default=DEFAULT_CONCURRENCY)
    return [probed.get(id(engine), fallback) for engine in engines]


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
