"""The app's loaded model lent to the server: an Engine whose calls run on the inference thread."""

from __future__ import annotations

import concurrent.futures
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

from vldesk.core.generation import (
    Conversation,
    GenerationResult,
    GenerationSettings,
    GenerationStats,
    StopReason,
)
from vldesk.core.inference.engine import (
    Engine,
    EngineCapabilities,
    Placement,
    TextCallback,
    TokenCallback,
)
from vldesk.core.inference.sampling import Sampling
from vldesk.core.models.catalog import Family
from vldesk.server.errors import ApiError

T = TypeVar("T")

#: Work for the engine the worker holds (``None`` when no model is loaded), run on its thread.
EngineWork = Callable[[Engine | None], Any]
#: Queues ``work`` on the inference thread; its result or error comes back through the future.
Submit = Callable[[EngineWork], "concurrent.futures.Future[Any]"]

#: How often a waiting call looks whether it was cancelled before the worker reached it.
_POLL_S = 0.05


@dataclass(frozen=True)
class EngineFacts:
    """What the server reads about the model without a call: taken on the worker's thread at
    load time (plain data, safe to read from any thread)."""

    name: str
    family: Family
    placement: Placement
    capabilities: EngineCapabilities
    recommended_sampling: Sampling
    description: str
    figures: Mapping[str, object] = field(default_factory=dict)

    @classmethod
    def of(cls, engine: Engine) -> EngineFacts:
        return cls(
            engine.name,
            engine.family,
            engine.placement,
            engine.capabilities,
            engine.recommended_sampling,
            engine.describe(),
            dict(engine.figures()),
        )


class SharedEngine:
    """An :class:`~vldesk.core.inference.engine.Engine` that runs every call on the app's
    inference thread, with the model the app has loaded; :meth:`unload` only stops lending it.

    The server's scheduler calls it from its own thread; each call becomes one item in the
    inference worker's queue, behind the window's requests already there. The scheduler waits
    for each call before it sends the next, so the window and the server take turns: a question
    asked in the window waits for at most one server call (one answer or one batch), never for
    the server's whole backlog. No Qt here: the worker's queue is reached through ``submit``.
    """

    def __init__(self, facts: EngineFacts, submit: Submit) -> None:
        self._facts = facts
        self._submit = submit
        self._closed = threading.Event()

    @property
    def name(self) -> str:
        return self._facts.name

    @property
    def family(self) -> Family:
        return self._facts.family

    @property
    def placement(self) -> Placement:
        return self._facts.placement

    @property
    def capabilities(self) -> EngineCapabilities:
        return self._facts.capabilities

    @property
    def recommended_sampling(self) -> Sampling:
        return self._facts.recommended_sampling

    def describe(self) -> str:
        return self._facts.description

    def figures(self) -> Mapping[str, object]:
        return self._facts.figures

    def batch_size_for(self, settings: GenerationSettings) -> int:
        # The engine's own figure may need its device: the worker splits larger batches by it.
        return self._facts.capabilities.max_batch

    def sampling_figures(self, settings: GenerationSettings) -> dict[str, object]:
        figures: dict[str, object] = self._call(lambda e: e.sampling_figures(settings), None, dict)
        return figures

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
        def work(engine: Engine) -> GenerationResult:
            return engine.generate(
                conversation,
                settings,
                on_text=on_text,
                on_token=on_token,
                cancel=cancel,
                reuse_cache=reuse_cache,
            )

        result: GenerationResult = self._call(work, cancel, self._cancelled)
        return result

    def generate_batch(
        self,
        conversations: Sequence[Conversation],
        settings: GenerationSettings | None = None,
        *,
        cancel: threading.Event | None = None,
    ) -> list[GenerationResult]:
        def work(engine: Engine) -> list[GenerationResult]:
            size = max(1, engine.batch_size_for(settings or GenerationSettings()))
            results: list[GenerationResult] = []
            for start in range(0, len(conversations), size):
                chunk = conversations[start : start + size]
                results += engine.generate_batch(chunk, settings, cancel=cancel)
            return results

        results: list[GenerationResult] = self._call(
            work, cancel, lambda: [self._cancelled() for _ in conversations]
        )
        return results

    def unload(self) -> None:
        """The server is done with the model; the app keeps it loaded."""
        self._closed.set()

    def _call(
        self,
        work: Callable[[Engine], T],
        cancel: threading.Event | None,
        if_cancelled: Callable[[], T],
    ) -> T:
        """Run ``work`` on the inference thread and wait for it; cancelled before the worker
        reached it, it never runs and ``if_cancelled()`` comes back at once."""
        if self._closed.is_set():
            raise self._gone()

        def checked(engine: Engine | None) -> T:
            if engine is None or engine.name != self.name or self._closed.is_set():
                raise self._gone()
            return work(engine)

        future = self._submit(checked)
        while True:
            try:
                result: T = future.result(timeout=_POLL_S)
                return result
            except concurrent.futures.TimeoutError:
                if cancel is not None and cancel.is_set() and future.cancel():
                    return if_cancelled()
            except concurrent.futures.CancelledError:
                return if_cancelled()

    def _gone(self) -> ApiError:
        return ApiError(
            503,
            f"The model '{self.name}' is no longer loaded in vldesk; try again shortly.",
            headers={"Retry-After": "2"},
        )

    def _cancelled(self) -> GenerationResult:
        stats = GenerationStats(0, 0, 0, 0.0, 0.0, 0.0, self.placement.device, "")
        return GenerationResult("", StopReason.CANCELLED, stats)
