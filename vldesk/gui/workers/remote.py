"""Servers for the inference worker: what to connect to (plain data) and the calls that do it."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass

from vldesk.core.batch import BatchEventKind, BatchProgress
from vldesk.core.inference.remote import Endpoint, EndpointPool, RemoteEngine
from vldesk.core.models.catalog import Family


@dataclass(frozen=True)
class ConnectRequest:
    """Chat with ``model`` on the server at ``endpoint`` instead of a local model."""

    endpoint: Endpoint
    model: str
    family: Family | None = None


@dataclass(frozen=True)
class ServerTarget:
    """Caption a folder on these servers, through an :class:`EndpointPool`.

    ``concurrency`` ``None`` probes each server for it (then it adapts).
    """

    endpoints: tuple[Endpoint, ...]
    concurrency: int | None = None
    family: Family | None = None

    @property
    def urls(self) -> tuple[str, ...]:
        return tuple(endpoint.display for endpoint in self.endpoints)


def connect_server(request: ConnectRequest) -> RemoteEngine:
    """Raises GenerationError: the server cannot be reached, refuses the key, lacks the model."""
    return RemoteEngine.connect(request.endpoint, model=request.model, family=request.family)


def connect_pool(
    target: ServerTarget,
    model: str,
    send: Callable[[BatchProgress], None],
    cancel: threading.Event | None = None,
) -> EndpointPool:
    """The pool for ``target`` serving ``model``; servers that do not answer yet go to ``send``
    as warnings (they are probed back later). ``cancel`` (the batch's) stops the probe.

    Raises:
        GenerationError: no server answers, or they do not serve ``model``.
    """
    pool, warnings = EndpointPool.connect(
        target.endpoints,
        concurrency=target.concurrency,
        model=model,
        family=target.family,
        cancel=cancel,
    )
    for warning in warnings:
        send(BatchProgress(BatchEventKind.WARNING, 0, 0, 0, 0, 0, error=warning))
    return pool


def list_models(endpoint: Endpoint) -> list[str]:
    """``GET /v1/models`` on ``endpoint``.

    Raises:
        GenerationError: unreachable, refusing the key, or not an OpenAI server.
    """
    from vldesk.core.inference.remote.endpoint import Connection

    connection = Connection(endpoint)
    try:
        return connection.model_names()
    finally:
        connection.close()
