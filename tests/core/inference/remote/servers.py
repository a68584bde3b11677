"""Servers for the remote engine tests, all on 127.0.0.1: ``vldesk serve`` around a FakeEngine
that names each image's shade (in this process or its own, to be killed), and stand-ins that
answer garbage or 429 first."""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from PIL import Image, ImageStat

from tests.helpers import PROJECT_ROOT
from tests.helpers.fake_engine import FakeEngine
from vldesk.core.generation import Conversation

#: The served model's name: it names the family (Qwen3-VL, patch factor 32).
MODEL = "Qwen/Qwen3-VL-2B-Instruct"
#: Grey levels this far apart survive JPEG: each image's shade is its identity.
SHADE_STEP = 8


def shade_image(path: Path, shade: int, size: tuple[int, int] = (80, 60)) -> None:
    level = shade * SHADE_STEP
    Image.new("RGB", size, (level, level, level)).save(path)


def shade_answer(conversation: Conversation) -> str:
    """``"shade N"`` for the image's grey level: the answer names which image was asked."""
    (image,) = conversation.images
    level = ImageStat.Stat(image.image.convert("L")).mean[0]
    return f"shade {round(level / SHADE_STEP)}"


def slow_engine(delay_s: float, **kwargs: object) -> FakeEngine:
    """A FakeEngine that answers shades, ``delay_s`` per word (answers overlap in time)."""
    options: dict[str, object] = {"name": MODEL, "answer": shade_answer, **kwargs}
    return FakeEngine(before_word=lambda index: time.sleep(delay_s), **options)  # type: ignore[arg-type]


class StandIn(ThreadingHTTPServer):
    """A tiny HTTP server: ``/v1/models`` lists :data:`MODEL`; ``answer(count)`` makes the
    (status, headers, body) of the ``count``-th chat request."""

    daemon_threads = True

    def __init__(self, answer: Callable[[int], tuple[int, dict[str, str], bytes]]) -> None:
        super().__init__(("127.0.0.1", 0), _StandInHandler)
        self.answer = answer
        self.chats = 0
        self.headers_seen: list[dict[str, str]] = []
        self._lock = threading.Lock()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/v1"


class _StandInHandler(BaseHTTPRequestHandler):
    server: StandIn

    def log_message(self, format: str, *args: object) -> None:
        pass

    def do_GET(self) -> None:
        self.server.headers_seen.append(dict(self.headers))
        body = json.dumps({"object": "list", "data": [{"id": MODEL, "object": "model"}]})
        self._send(200, {"Content-Type": "application/json"}, body.encode())

    def do_POST(self) -> None:
        self.server.headers_seen.append(dict(self.headers))
        self.rfile.read(int(self.headers.get("Content-Length", "0")))
        with self.server._lock:
            self.server.chats += 1
            count = self.server.chats
        self._send(*self.server.answer(count))

    def _send(self, status: int, headers: dict[str, str], body: bytes) -> None:
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


def garbage(count: int) -> tuple[int, dict[str, str], bytes]:
    """200 OK with an HTML page instead of a chat completion."""
    return 200, {"Content-Type": "text/html"}, b"<html><body>It works!</body></html>"


def completion(text: str) -> bytes:
    return json.dumps(
        {
            "choices": [
                {
                    "index": 0,
                    "message": {"role": "assistant", "content": text},
                    "finish_reason": "stop",
                }
            ],
            "usage": {"prompt_tokens": 7, "completion_tokens": 2, "total_tokens": 9},
        }
    ).encode()


def streamed(text: str) -> bytes:
    """An SSE stream of ``text`` as one chunk, then ``[DONE]``."""
    chunk = {"choices": [{"index": 0, "delta": {"content": text}, "finish_reason": "stop"}]}
    return f"data: {json.dumps(chunk)}\n\ndata: [DONE]\n\n".encode()


@contextmanager
def stand_in(answer: Callable[[int], tuple[int, dict[str, str], bytes]]) -> Iterator[StandIn]:
    server = StandIn(answer)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()


class ServerProcess:
    """``vldesk serve``'s server around a slow shade FakeEngine, in a process of its own."""

    def __init__(self, delay_s: float, api_key: str | None = None) -> None:
        command = [sys.executable, "-m", "tests.core.inference.remote.servers", str(delay_s)]
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        if api_key:
            env["SERVE_KEY"] = api_key
        self.process = subprocess.Popen(
            command, cwd=PROJECT_ROOT, env=env, stdout=subprocess.PIPE, text=True
        )
        assert self.process.stdout is not None
        line = self.process.stdout.readline()
        if not line.startswith("port "):
            self.process.kill()
            raise RuntimeError(f"the server process did not start: {line!r}")
        self.url = f"http://127.0.0.1:{int(line.split()[1])}/v1"

    def kill(self) -> None:
        self.process.kill()
        self.process.wait(timeout=30)


def _serve(delay_s: float) -> None:
    from vldesk.server.config import ServerConfig
    from vldesk.server.runner import Server

    server = Server(ServerConfig(port=0, api_key=os.environ.get("SERVE_KEY")))
    server.scheduler.attach(slow_engine(delay_s))
    sys.stdout.write(f"port {server.port}\n")
    sys.stdout.flush()
    server.run()


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("delay", type=float)
    _serve(parser.parse_args().delay)
