"""EndpointPool over several real ``vldesk serve`` servers (one killed mid-batch, one full and
answering 429) and a stand-in that answers garbage: every image answered once, in order."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.core.inference.remote.servers import (
    MODEL,
    ServerProcess,
    completion,
    garbage,
    shade_image,
    slow_engine,
    stand_in,
)
from tests.helpers.fake_engine import FakeEngine
from tests.server.conftest import StartServer
from vldesk.core.errors import GenerationError
from vldesk.core.generation import Conversation, GenerationSettings, StopReason
from vldesk.core.images import load_image
from vldesk.core.inference.remote import Endpoint, EndpointPool
from vldesk.core.inference.remote.pool import PROBE_DELAY_S
from vldesk.server.config import Limits

SETTINGS = GenerationSettings(max_new_tokens=16, max_image_tokens=16)


def conversations(folder: Path, count: int, question: str = "Which shade?") -> list[Conversation]:
    asked = []
    for shade in range(count):
        path = folder / f"{shade:02d}.png"
        shade_image(path, shade)
        asked.append(Conversation().ask(question, [load_image(path)]))
    return asked


def expected(count: int) -> list[str]:
    return [f"shade {shade}" for shade in range(count)]


_connected: list[EndpointPool] = []


def connect(*urls: str, concurrency: int = 3) -> EndpointPool:
    pool, _ = EndpointPool.connect([Endpoint.parse(u) for u in urls], concurrency=concurrency)
    _connected.append(pool)
    return pool


@pytest.fixture(autouse=True)
def _close_pools() -> Iterator[None]:
    """Every pool a test connected is closed, even when the test failed half-way."""
    yield
    while _connected:
        _connected.pop().unload()


@pytest.fixture
def process_server() -> Iterator[list[ServerProcess]]:
    started: list[ServerProcess] = []
    yield started
    for server in started:
        server.kill()


def test_a_batch_fans_out_over_servers_and_comes_back_in_order(
    start_server: StartServer, tmp_path: Path
) -> None:
    first, second = slow_engine(0.01), slow_engine(0.01)
    pool = connect(start_server(first).url, start_server(second).url, concurrency=3)
    assert pool.batch_size_for(SETTINGS) == 6
    asked = conversations(tmp_path, 12)
    results = pool.generate_batch(asked, SETTINGS)
    assert [r.text for r in results] == expected(12)
    assert first.asked
    assert second.asked
    assert len(first.asked) + len(second.asked) == 12  # each image asked once
    assert pool.placement.backend == "remote"
    pool.unload()


def test_a_server_killed_mid_batch_leaves_its_images_to_the_others(
    start_server: StartServer, process_server: list[ServerProcess], tmp_path: Path
) -> None:
    doomed = ServerProcess(delay_s=0.3)
    process_server.append(doomed)
    survivor = slow_engine(0.02)
    pool = connect(doomed.url, start_server(survivor).url, concurrency=2)
    asked = conversations(tmp_path, 10)

    def kill_once_the_batch_runs() -> None:
        deadline = time.monotonic() + 60
        while len(survivor.asked) < 2 and time.monotonic() < deadline:
            time.sleep(0.01)
        doomed.kill()

    killer = threading.Thread(target=kill_once_the_batch_runs)
    killer.start()
    results = pool.generate_batch(asked, SETTINGS)
    killer.join()
    assert [r.text for r in results] == expected(10)
    assert len(survivor.asked) >= 8  # the dead one answered at most its first two
    servers = pool.figures()["servers"]
    assert isinstance(servers, list)
    assert servers[0]["alive"] is False
    pool.unload()


def test_a_server_answering_garbage_is_taken_out_and_its_images_go_elsewhere(
    start_server: StartServer, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    good = slow_engine(0.01)
    with stand_in(garbage) as bad:
        pool = connect(bad.url, start_server(good).url, concurrency=2)
        with caplog.at_level(logging.WARNING):
            results = pool.generate_batch(conversations(tmp_path, 8), SETTINGS)
        assert bad.chats >= 1
    assert [r.text for r in results] == expected(8)
    assert len(good.asked) == 8
    assert any("out of the rotation" in r.getMessage() for r in caplog.records)
    pool.unload()


def test_a_full_server_answers_429_and_the_pool_backs_off_then_finishes(
    start_server: StartServer, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    engine = slow_engine(0.02)
    server = start_server(engine, limits=Limits(queue=1, retry_after_s=1))
    pool = connect(server.url, concurrency=4)
    with caplog.at_level(logging.INFO, logger="vldesk.core.inference.remote"):
        results = pool.generate_batch(conversations(tmp_path, 8), SETTINGS)
    assert [r.text for r in results] == expected(8)
    assert len(engine.asked) == 8  # a refused request never reached the model
    assert any("busy (429)" in r.getMessage() for r in caplog.records)
    pool.unload()


def test_a_dead_server_is_probed_back_into_the_rotation(
    start_server: StartServer, tmp_path: Path
) -> None:
    def broken_once(count: int) -> tuple[int, dict[str, str], bytes]:
        if count == 1:
            return garbage(count)
        return 200, {"Content-Type": "application/json"}, completion("shade 0")

    # Every image is shade 0: what the stand-in answers when it answers.
    same_shade = [conversations(tmp_path, 1)[0] for _ in range(6)]
    with stand_in(broken_once) as flaky:
        pool = connect(flaky.url, start_server(slow_engine(0.01)).url, concurrency=2)
        first = pool.generate_batch(same_shade, SETTINGS)
        servers = pool.figures()["servers"]
        assert isinstance(servers, list)
        assert servers[0]["alive"] is False
        time.sleep(PROBE_DELAY_S * 1.5)  # past the first probe's time
        chats = flaky.chats
        second = pool.generate_batch(same_shade, SETTINGS)
        assert flaky.chats > chats  # it answered again after the probe
    assert [r.text for r in first] == ["shade 0"] * 6
    assert [r.text for r in second] == ["shade 0"] * 6
    servers = pool.figures()["servers"]
    assert isinstance(servers, list)
    assert servers[0]["alive"] is True
    pool.unload()


def test_an_image_fails_only_after_every_server_failed_it_and_no_image_is_asked_twice(
    start_server: StartServer, tmp_path: Path
) -> None:
    poison = "Which shade? (poison)"
    # One answer at a time on each server: a server that batches answers a failed batch's
    # images again one by one, which would count here as asking twice (this is about the pool).
    engines = [
        slow_engine(0.0, max_batch=1, failures={poison: GenerationError("The prompt is too long.")})
        for _ in range(2)
    ]
    pool = connect(*(start_server(e).url for e in engines), concurrency=2)
    asked = conversations(tmp_path, 5)
    (tmp_path / "poison").mkdir()
    (bad,) = conversations(tmp_path / "poison", 1, poison)
    batch = [*asked[:2], bad, *asked[2:]]
    with pytest.raises(GenerationError, match="too long"):
        pool.generate_batch(batch, SETTINGS)
    assert sum(len(e.asked) for e in engines) == 5 + 2  # the poison image on both servers
    # The caller's one-by-one retry gets the answers the batch already had, without asking.
    texts = [pool.generate(c, SETTINGS).text for c in asked]
    assert texts == expected(5)
    with pytest.raises(GenerationError, match="too long"):
        pool.generate(bad, SETTINGS)
    assert sum(len(e.asked) for e in engines) == 7
    # Both servers stay in the rotation: they failed an answer, not themselves.
    servers = pool.figures()["servers"]
    assert isinstance(servers, list)
    assert all(s["alive"] for s in servers)
    pool.unload()


def test_no_server_answering_or_servers_disagreeing_on_the_model_are_errors(
    start_server: StartServer,
) -> None:
    with stand_in(garbage) as bad:
        url = bad.url
    with pytest.raises(GenerationError, match="No server is ready"):
        connect(url)
    one, other = start_server(FakeEngine(name=MODEL)), start_server(FakeEngine(name="other"))
    with pytest.raises(GenerationError, match="does not serve"):
        connect(one.url, other.url)


def test_a_server_still_loading_its_model_is_named_as_such_and_joins_once_loaded(
    start_server: StartServer, tmp_path: Path
) -> None:
    loading = start_server()  # vldesk serve before its model is loaded: /v1/models is empty
    with pytest.raises(GenerationError) as alone:
        connect(loading.url)
    said = str(alone.value)
    assert said.startswith(f"No server is ready: {Endpoint.parse(loading.url).display} lists ")
    assert "lists no model yet (GET /v1/models is empty): it may still be loading" in said

    ready = start_server(slow_engine(0.02))
    pool, warnings = EndpointPool.connect(
        [Endpoint.parse(loading.url), Endpoint.parse(ready.url)], concurrency=2
    )
    _connected.append(pool)
    assert len(warnings) == 1
    assert "lists no model yet" in warnings[0]
    assert warnings[0].endswith("It is left out until it answers.")
    servers = pool.figures()["servers"]
    assert isinstance(servers, list)
    assert [s["alive"] for s in servers] == [False, True]
    answers = pool.generate_batch(conversations(tmp_path, 2), SETTINGS)
    assert [r.text for r in answers] == expected(2)

    late = slow_engine(0.0)
    loading.scheduler.attach(late)
    time.sleep(PROBE_DELAY_S * 1.5)  # past the first probe's time
    pool.generate_batch(conversations(tmp_path, 6), SETTINGS)
    servers = pool.figures()["servers"]
    assert isinstance(servers, list)
    assert servers[0]["alive"] is True  # probed back once it listed its model
    assert late.asked


def test_a_streamed_answer_moves_to_another_server_when_one_answers_garbage(
    start_server: StartServer, tmp_path: Path
) -> None:
    good = slow_engine(0.0)
    with stand_in(garbage) as bad:
        pool = connect(bad.url, start_server(good).url, concurrency=1)
        assert pool.batch_size_for(SETTINGS) == 2
        (asked,) = conversations(tmp_path, 1)
        pieces: list[str] = []
        result = pool.generate(asked, SETTINGS, on_text=pieces.append)
        assert bad.chats == 1  # tried first (as much room as the other), garbage
    assert result.text == "shade 0"
    assert "".join(pieces) == "shade 0"
    assert pool.batch_size_for(SETTINGS) == 1  # the garbage server is out
    pool.unload()


def test_cancel_returns_the_batch_as_cancelled(start_server: StartServer, tmp_path: Path) -> None:
    engine = slow_engine(0.2)
    pool = connect(start_server(engine).url, concurrency=2)
    cancel = threading.Event()
    started = threading.Timer(0.3, cancel.set)
    started.start()
    results = pool.generate_batch(conversations(tmp_path, 6), SETTINGS, cancel=cancel)
    started.join()
    assert [r.stop_reason for r in results] == [StopReason.CANCELLED] * 6
    assert len(engine.asked) < 6  # the rest were never sent
    pool.unload()


def test_a_server_that_comes_back_serving_another_model_stays_out(
    start_server: StartServer, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    loading = start_server()  # left out at connect: it lists no model yet
    ready = start_server(slow_engine(0.02))
    pool, _ = EndpointPool.connect(
        [Endpoint.parse(loading.url), Endpoint.parse(ready.url)], concurrency=2
    )
    _connected.append(pool)
    other = slow_engine(0.0, name="other-model")
    loading.scheduler.attach(other)  # it lists a model now, but not the pool's
    caplog.set_level(logging.WARNING)
    asked = conversations(tmp_path, 6)
    assert pool.generate(asked[0], SETTINGS).text == "shade 0"  # probed first, on this thread
    time.sleep(PROBE_DELAY_S * 1.5)  # past the next probe's time, on the batch's path
    answers = pool.generate_batch(asked, SETTINGS)
    assert [r.text for r in answers] == expected(6)
    servers = pool.figures()["servers"]
    assert isinstance(servers, list)
    assert servers[0]["alive"] is False
    assert not other.asked
    said = [r.getMessage() for r in caplog.records if "stays out of the rotation" in r.getMessage()]
    assert len(said) == 2  # the streamed answer's probe and the batch's
    assert said[0].endswith(f"does not serve '{MODEL}'; it serves: other-model.")
