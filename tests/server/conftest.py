"""A running server on 127.0.0.1 (a free port) around a FakeEngine, and images as data: URLs."""

from __future__ import annotations

import base64
import io
from collections.abc import Callable, Iterator

import pytest
from PIL import Image

from tests.helpers.fake_engine import FakeEngine
from vldesk.server.config import Limits, ServerConfig
from vldesk.server.runner import Server

KEY = "test-key-1234"

StartServer = Callable[..., Server]


def png_bytes(
    size: tuple[int, int] = (24, 16), color: tuple[int, int, int] = (200, 40, 40)
) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, color).save(buffer, format="PNG")
    return buffer.getvalue()


def data_url(data: bytes | None = None, mime: str = "image/png") -> str:
    return f"data:{mime};base64,{base64.b64encode(data or png_bytes()).decode()}"


@pytest.fixture
def start_server() -> Iterator[StartServer]:
    """``start_server(engine, limits=..., api_key=..., language=...)``; every server stops after
    the test."""
    servers: list[Server] = []

    def start(
        engine: FakeEngine | None = None,
        *,
        limits: Limits | None = None,
        api_key: str | None = None,
        language: str = "auto",
    ) -> Server:
        config = ServerConfig(
            host="127.0.0.1",
            port=0,
            api_key=api_key,
            limits=limits or Limits(),
            language=language,
        )
        server = Server(config)
        if engine is not None:
            server.scheduler.attach(engine)
        server.start()
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop()
