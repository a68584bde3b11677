"""The concurrency probe against servers that batch and servers that queue, and the AIMD limit."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

from tests.core.inference.remote.servers import completion, slow_engine, stand_in
from tests.server.conftest import StartServer
from vldesk.core.inference.remote import Endpoint, EndpointPool, RemoteEngine
from vldesk.core.inference.remote.concurrency import (
    MAX_AUTO_CONCURRENCY,
    AdaptiveLimit,
    choose_concurrency,
    probe_concurrency,
)
from vldesk.core.inference.remote.engine import DEFAULT_CONCURRENCY

#: A stand-in request takes this long; a queueing server takes it once per request waiting.
REQUEST_S = 0.5


@contextmanager
def timed_server(*, queues: bool) -> Iterator[str]:
    """A server whose every answer takes :data:`REQUEST_S`: all at once (it batches), or one
    after another (``queues``: a single slot)."""
    slot = threading.Lock()

    def answer(count: int) -> tuple[int, dict[str, str], bytes]:
        if queues:
            with slot:
                time.sleep(REQUEST_S)
        else:
            time.sleep(REQUEST_S)
        return 200, {"Content-Type": "application/json"}, completion("ok")

    with stand_in(answer) as server:
        yield server.url


def engine_for(url: str) -> RemoteEngine:
    return RemoteEngine.connect(Endpoint.parse(url))


def test_the_choice_follows_throughput() -> None:
    # Batching: 4 at once as fast as 1, 8 a little slower: 8.
    assert choose_concurrency({1: 1.0, 2: 1.0, 4: 1.05, 8: 1.4}) == 8
    # Queueing: 2 at once takes twice as long: 1.
    assert choose_concurrency({1: 1.0, 2: 2.0, 4: 4.0}) == 1
    # Batching up to 4, then saturated.
    assert choose_concurrency({1: 1.0, 2: 1.1, 4: 1.3, 8: 2.6}) == 4


def test_a_batching_server_is_probed_higher_than_a_queueing_one() -> None:
    with timed_server(queues=False) as batching, timed_server(queues=True) as queueing:
        # 2 at once are twice the throughput of 1 on the first (8 at once 8 times, on an idle
        # machine); the same on the second.
        assert probe_concurrency(engine_for(batching)) >= 2
        assert probe_concurrency(engine_for(queueing)) == 1


def test_a_real_vldesk_serve_is_probed_and_the_pool_starts_there(
    start_server: StartServer,
) -> None:
    engine = slow_engine(0.01)
    server = start_server(engine)
    pool, warnings = EndpointPool.connect([Endpoint.parse(server.url)])
    assert warnings == []
    (limit,) = [entry["limit"] for entry in pool.figures()["servers"]]  # type: ignore[attr-defined]
    assert 1 <= limit <= 8
    assert engine.asked  # the probe's tiny requests reached the model
    assert all(c.images[0].size[0] <= 64 for c in engine.asked)
    assert pool.capabilities.max_batch == MAX_AUTO_CONCURRENCY
    pool.unload()


def test_a_server_failing_the_probe_starts_at_the_default() -> None:
    def refuse(count: int) -> tuple[int, dict[str, str], bytes]:
        return 500, {"Content-Type": "application/json"}, b'{"error": {"message": "no"}}'

    with stand_in(refuse) as server:
        assert probe_concurrency(engine_for(server.url)) == DEFAULT_CONCURRENCY


def test_the_limit_adds_one_and_halves_on_busy() -> None:
    limit = AdaptiveLimit(4, ceiling=6)
    for _ in range(4):
        limit.succeeded(1.0)
    assert limit.limit == 5
    for _ in range(20):
        limit.succeeded(1.0)
    assert limit.limit == 6  # never past the ceiling
    limit.busy()
    assert limit.limit == 3
    limit.busy()
    limit.busy()
    limit.busy()
    assert limit.limit == 1  # never below one


def test_an_answer_much_slower_than_the_best_lowers_the_limit() -> None:
    limit = AdaptiveLimit(8, ceiling=16)
    limit.succeeded(1.0)
    limit.succeeded(1.2)
    assert limit.limit == 8
    limit.succeeded(5.0)  # the server queues now
    assert limit.limit == 6
