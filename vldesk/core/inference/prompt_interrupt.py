"""Let Stop interrupt a long prompt between layers, not only between generated tokens.

transformers checks stopping criteria after each new token, but reading a photo before the first
token is one forward pass of about half a minute on a small CPU (docs/performance.md): a Stop
pressed then did nothing until it ended. A check before every layer of the vision tower and the
text decoder raises :class:`PromptInterrupted` once the answer's cancel event is set, so the pass
ends within one layer (well under a second).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any


class PromptInterrupted(Exception):
    """The answer was cancelled in the middle of a forward pass; its cache is incomplete."""


class PromptInterrupt:
    """Pre-hooks on every layer of ``model`` (the members of its layer lists), inactive except
    inside :meth:`watching` until :meth:`prompt_read`: decode steps are short, and the stopping
    criteria end those after the step, keeping its token."""

    def __init__(self, model: Any) -> None:
        self._event: threading.Event | None = None
        self._handles = [layer.register_forward_pre_hook(self._check) for layer in _layers(model)]

    @property
    def layers(self) -> int:
        return len(self._handles)

    @contextmanager
    def watching(self, event: threading.Event) -> Iterator[None]:
        """Raise :class:`PromptInterrupted` at the next layer once ``event`` is set."""
        self._event = event
        try:
            yield
        finally:
            self._event = None

    def prompt_read(self) -> None:
        """The prompt's forward pass is over: stop checking (a stopping criterion calls this)."""
        self._event = None

    def remove(self) -> None:
        for handle in self._handles:
            handle.remove()
        self._handles = []

    def _check(self, _module: Any, _args: Any) -> None:
        event = self._event
        if event is not None and event.is_set():
            raise PromptInterrupted


def _layers(model: Any) -> list[Any]:
    """The repeated blocks of ``model``: every member of its ``ModuleList`` containers (vision
    blocks, decoder layers; small lists such as mergers cost nothing to check)."""
    import torch

    return [
        layer
        for module in model.modules()
        if isinstance(module, torch.nn.ModuleList)
        for layer in module
    ]
