"""Runs the application under uvicorn, in the foreground (the CLI) or on a thread (tests, app)."""

from __future__ import annotations

import logging
import socket
import threading

import uvicorn

from vldesk.server.app import create_app
from vldesk.server.config import ServerConfig
from vldesk.server.scheduler import InferenceScheduler


class Server:
    """One server: its socket is bound on creation, so the port is known (0 picks a free one)."""

    def __init__(self, config: ServerConfig, scheduler: InferenceScheduler | None = None) -> None:
        self.config = config
        self.scheduler = scheduler or InferenceScheduler(
            config.limits.queue, config.limits.retry_after_s
        )
        family = socket.AF_INET6 if ":" in config.host else socket.AF_INET
        self.socket = socket.socket(family, socket.SOCK_STREAM)
        try:
            self.socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            self.socket.bind((config.host.strip("[]"), config.port))
        except OSError:
            self.socket.close()  # the address is taken or wrong: nothing is left open
            raise
        self.port: int = self.socket.getsockname()[1]
        # Listen at once: a client that comes before uvicorn has started waits instead of being
        # refused (the address is printed before the server runs).
        self.socket.listen(128)
        uvicorn_config = uvicorn.Config(
            create_app(config, self.scheduler),
            log_level=logging.WARNING,
            # uvicorn's access log would show request lines only, but keep it quiet anyway.
            access_log=False,
            server_header=False,
            timeout_graceful_shutdown=5,
        )
        self._uvicorn = uvicorn.Server(uvicorn_config)
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        host = f"[{self.config.host}]" if ":" in self.config.host else self.config.host
        return f"http://{host}:{self.port}"

    def run(self) -> None:
        """Serve until interrupted (Ctrl+C), then unload the model."""
        try:
            self._uvicorn.run(sockets=[self.socket])
        finally:
            self.scheduler.stop()

    def start(self) -> None:
        """Serve on a background thread; returns once the server accepts connections."""
        self._thread = threading.Thread(
            target=self._uvicorn.run, kwargs={"sockets": [self.socket]}, daemon=True
        )
        self._thread.start()
        while not self._uvicorn.started:
            if not self._thread.is_alive():
                raise RuntimeError("the server failed to start")
            self._thread.join(timeout=0.05)

    def stop(self, timeout_s: float = 30) -> None:
        """Stop serving: waiting requests get 503 at once, the answer under way is cancelled,
        then uvicorn closes its connections; each step waits at most ``timeout_s``."""
        self._uvicorn.should_exit = True
        self.scheduler.stop(timeout_s)
        if self._thread is not None:
            self._thread.join(timeout=timeout_s)
        self.socket.close()

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()
