"""Many clients at once: a fair queue, batches, 429 past the bound, disconnects cancel.

Bounded in count and time on 127.0.0.1; the FakeEngine's ``before_word`` hook holds the engine
still where a test needs the queue in a known state, so nothing depends on timing.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable

import httpx

from tests.helpers.fake_engine import FakeEngine
from tests.server.conftest import StartServer, data_url
from vldesk.server.config import Limits
from vldesk.server.runner import Server

#: The longest any wait in these tests may take before it counts as a hang.
HANG_S = 60


def wait_for(condition: Callable[[], bool]) -> bool:
    deadline = time.monotonic() + HANG_S
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.01)
    return True


def chat_body(prompt: str, *, stream: bool) -> dict[str, object]:
    content = [
        {"type": "text", "text": prompt},
        {"type": "image_url", "image_url": {"url": data_url()}},
    ]
    return {
        "model": "fake-model",
        "stream": stream,
        "messages": [{"role": "user", "content": content}],
    }


def streamed_text(lines: list[str]) -> str:
    import json

    text = ""
    for line in lines:
        if line.startswith("data: ") and line != "data: [DONE]":
            for choice in json.loads(line[6:])["choices"]:
                text += choice["delta"].get("content") or ""
    return text


class Gate:
    """A ``before_word`` hook that holds the first answer at its first word until opened."""

    def __init__(self) -> None:
        self.entered = threading.Event()
        self.open = threading.Event()

    def __call__(self, index: int) -> None:
        self.entered.set()
        self.open.wait(HANG_S)


async def stream_one(
    client: httpx.AsyncClient, server: Server, prompt: str, released: asyncio.Event | None = None
) -> tuple[int, str, str | None]:
    """(status, streamed text, Retry-After) for one streamed request."""
    async with client.stream(
        "POST", f"{server.url}/v1/chat/completions", json=chat_body(prompt, stream=True)
    ) as response:
        if response.status_code != 200:
            await response.aread()
            return response.status_code, "", response.headers.get("retry-after")
        if released is not None:
            await released.wait()
        lines = [line async for line in response.aiter_lines() if line]
        assert lines[-1] == "data: [DONE]"
        return 200, streamed_text(lines), None


def test_64_streamed_requests_are_all_answered_each_with_its_own_text(
    start_server: StartServer,
) -> None:
    engine = FakeEngine()
    server = start_server(engine, limits=Limits(queue=64))
    prompts = [f"question number {n} about item {n * 7}" for n in range(64)]

    async def run() -> list[tuple[int, str, str | None]]:
        limits = httpx.Limits(max_connections=80)
        async with httpx.AsyncClient(timeout=HANG_S, limits=limits) as client:
            return await asyncio.gather(*(stream_one(client, server, p) for p in prompts))

    results = asyncio.run(run())
    assert [status for status, _, _ in results] == [200] * 64
    # What each request gets alone: its own question and image, nobody else's words.
    assert [text for _, text, _ in results] == [f"{p} | image 1" for p in prompts]
    assert len(engine.threads) == 1
    assert len(engine.asked) == 64


def test_past_the_queue_bound_the_answer_is_429_and_the_rest_are_answered(
    start_server: StartServer,
) -> None:
    gate = Gate()
    engine = FakeEngine(before_word=gate)
    server = start_server(engine, limits=Limits(queue=16, retry_after_s=3))

    async def run() -> tuple[tuple[int, str, str | None], list[tuple[int, str, str | None]]]:
        limits = httpx.Limits(max_connections=80)
        async with httpx.AsyncClient(timeout=HANG_S, limits=limits) as client:
            released = asyncio.Event()
            blocker = asyncio.create_task(stream_one(client, server, "blocker", released))
            await asyncio.get_running_loop().run_in_executor(None, gate.entered.wait, HANG_S)
            # The engine is busy with the blocker: 16 of these wait, the other 48 are refused.
            tasks = [
                asyncio.create_task(stream_one(client, server, f"prompt {n}", released))
                for n in range(64)
            ]
            while sum(t.done() for t in tasks) < 48 or server.scheduler.waiting() < 16:
                await asyncio.sleep(0.01)
            gate.open.set()
            released.set()
            return await blocker, await asyncio.gather(*tasks)

    blocked, results = asyncio.run(run())
    assert blocked[:2] == (200, "blocker | image 1")
    refused = [r for r in results if r[0] == 429]
    answered = [(n, r) for n, r in enumerate(results) if r[0] == 200]
    assert len(refused) == 48
    assert {r[2] for r in refused} == {"3"}
    assert len(answered) == 16
    for n, (_, text, _) in answered:
        assert text == f"prompt {n} | image 1"
    # Healthy afterwards: the queue is empty and a new request is answered at once.
    assert server.scheduler.waiting() == 0
    reply = httpx.post(f"{server.url}/v1/chat/completions", json=chat_body("after", stream=False))
    assert reply.json()["choices"][0]["message"]["content"] == "after | image 1"


def test_requests_that_arrive_together_share_batches(start_server: StartServer) -> None:
    gate = Gate()
    engine = FakeEngine(before_word=gate, max_batch=4)
    server = start_server(engine)

    async def run() -> list[str]:
        async with httpx.AsyncClient(timeout=HANG_S) as client:
            blocker = asyncio.create_task(stream_one(client, server, "blocker"))
            await asyncio.get_running_loop().run_in_executor(None, gate.entered.wait, HANG_S)
            url = f"{server.url}/v1/chat/completions"
            tasks = [
                asyncio.create_task(client.post(url, json=chat_body(f"batch {n}", stream=False)))
                for n in range(6)
            ]
            while server.scheduler.waiting() < 6:
                await asyncio.sleep(0.01)
            gate.open.set()
            await blocker
            return [(await t).json()["choices"][0]["message"]["content"] for t in tasks]

    answers = asyncio.run(run())
    assert answers == [f"batch {n} | image 1" for n in range(6)]
    assert engine.batches == [4, 2]


def test_a_client_that_leaves_mid_stream_cancels_its_answer(start_server: StartServer) -> None:
    words_seen: list[int] = []
    cancelled_in_time: list[bool] = []
    server: Server

    def hold_after_two_words(index: int) -> None:
        if cancelled_in_time:
            return  # a later request
        words_seen.append(index)
        if index == 2:
            # The client has its first words; wait here for its departure to cancel the answer.
            job = server.scheduler.current
            assert job is not None
            cancelled_in_time.append(job.cancel.wait(HANG_S))

    long_answer = " ".join(f"w{n}" for n in range(100))
    engine = FakeEngine(answer=long_answer, before_word=hold_after_two_words)
    server = start_server(engine)
    with httpx.stream(
        "POST",
        f"{server.url}/v1/chat/completions",
        json=chat_body("long", stream=True),
        timeout=HANG_S,
    ) as response:
        for line in response.iter_lines():
            if '"content":"w1"' in line.replace(" ", ""):
                break  # leave with the answer half done
    assert wait_for(lambda: "cancelled" in server.scheduler.outcomes)
    assert cancelled_in_time == [True]
    assert words_seen == [0, 1, 2]  # not one word was generated after the client left

    # The engine is free again: the next client gets the whole answer.
    reply = httpx.post(f"{server.url}/v1/chat/completions", json=chat_body("next", stream=False))
    assert reply.json()["choices"][0]["message"]["content"] == long_answer


def test_a_client_that_leaves_before_a_whole_answer_cancels_it(start_server: StartServer) -> None:
    import json
    import socket

    cancelled_in_time: list[bool] = []
    server: Server

    def hold_at_second_word(index: int) -> None:
        if index == 1 and not cancelled_in_time:
            job = server.scheduler.current
            assert job is not None
            cancelled_in_time.append(job.cancel.wait(HANG_S))

    engine = FakeEngine(answer=" ".join(["word"] * 50), before_word=hold_at_second_word)
    server = start_server(engine)
    body = json.dumps(chat_body("whole", stream=False)).encode()
    head = (
        f"POST /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
    ).encode()
    with socket.create_connection(("127.0.0.1", server.port), timeout=HANG_S) as connection:
        connection.sendall(head + body)
        assert wait_for(lambda: server.scheduler.current is not None)
    # The connection is closed: the answer stops after the word being made.
    assert wait_for(lambda: "cancelled" in server.scheduler.outcomes)
    assert cancelled_in_time == [True]
