"""What engines say of themselves alike, fixed when they are made: a base for Engine classes."""

from __future__ import annotations

import functools
import threading
from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence

from vldesk.core.generation import Conversation, GenerationResult, GenerationSettings
from vldesk.core.inference.engine import (
    EngineCapabilities,
    Placement,
    TextCallback,
    TokenCallback,
)
from vldesk.core.inference.sampling import Sampling
from vldesk.core.models.catalog import FAMILY_TRAITS, Family


class EngineBase(ABC):
    """The descriptive half of the :class:`~vldesk.core.inference.engine.Engine` protocol.

    The name, family, placement, capabilities and description are fixed when the engine is made
    (images are sized with the family's patch factor). By default an engine answers one
    conversation per call, and its recommended sampling is :meth:`_own_sampling`, read once.
    Subclasses answer (:meth:`generate`), report :meth:`figures` and :meth:`unload`.
    """

    def __init__(
        self,
        name: str,
        family: Family,
        placement: Placement,
        *,
        description: str,
        max_batch: int = 1,
        continues_conversation: bool = False,
    ) -> None:
        self._name = name
        self._family = family
        self._placement = placement
        self._description = description
        self._capabilities = EngineCapabilities(
            continues_conversation=continues_conversation,
            max_batch=max_batch,
            patch_factor=FAMILY_TRAITS[family].patch_factor,
        )

    @property
    def name(self) -> str:
        return self._name

    @property
    def family(self) -> Family:
        return self._family

    @property
    def placement(self) -> Placement:
        return self._placement

    @property
    def capabilities(self) -> EngineCapabilities:
        return self._capabilities

    def describe(self) -> str:
        return self._description

    @functools.cached_property
    def recommended_sampling(self) -> Sampling:
        """The model's own sampling values: what a setting left ``None`` uses."""
        return self._own_sampling()

    def _own_sampling(self) -> Sampling:
        """Where the model recommends none (or another program applies its own): the defaults."""
        return Sampling()

    def sampling_figures(self, settings: GenerationSettings) -> dict[str, object]:
        """The decoding values an answer with ``settings`` uses, for its figures: the sampling
        ones are None under greedy decoding; ``from_model`` names the model's own values."""
        used: dict[str, object] = dict(settings.sampling(self.recommended_sampling).to_dict())
        if settings.greedy:
            used.update(temperature=None, top_p=None, top_k=None)
        from_model = [
            name
            for name, value in used.items()
            if value is not None and getattr(settings, name) is None
        ]
        return {"greedy": settings.greedy, **used, "from_model": from_model}

    def batch_size_for(self, settings: GenerationSettings) -> int:
        return 1

    @abstractmethod
    def figures(self) -> Mapping[str, object]: ...

    @abstractmethod
    def generate(
        self,
        conversation: Conversation,
        settings: GenerationSettings | None = None,
        *,
        on_text: TextCallback | None = None,
        on_token: TokenCallback | None = None,
        cancel: threading.Event | None = None,
        reuse_cache: bool = True,
    ) -> GenerationResult: ...

    def generate_batch(
        self,
        conversations: Sequence[Conversation],
        settings: GenerationSettings | None = None,
        *,
        cancel: threading.Event | None = None,
    ) -> list[GenerationResult]:
        """One answer after another, each reading its own prompt."""
        return [
            self.generate(conversation, settings, cancel=cancel, reuse_cache=False)
            for conversation in conversations
        ]

    @abstractmethod
    def unload(self) -> None: ...
