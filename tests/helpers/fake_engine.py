"""A fake :class:`~vldesk.core.inference.engine.Engine` for tests that need no torch.

It answers deterministically from what it is asked (the question and the images' sources), streams
word by word, honours ``cancel`` between words, and records every call. Failures are injected per
question. Real tiny models stay for the end-to-end tests; this is for batch, chat, GUI and server
logic.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

from vldesk.core.errors import GenerationError
from vldesk.core.generation import (
    Conversation,
    GenerationResult,
    GenerationSettings,
    StopReason,
)
from vldesk.core.inference.engine import (
    Engine,
    EngineCapabilities,
    LoadRequest,
    Placement,
    TextCallback,
    TokenCallback,
)
from vldesk.core.inference.results import build_result
from vldesk.core.inference.sampling import Sampling
from vldesk.core.models.catalog import Family

#: Makes the answer to a conversation.
Answerer = Callable[[Conversation], str]


def echo_answer(conversation: Conversation) -> str:
    """``"<question> | <image sources>"``: every answer names what it answered."""
    turn = conversation.turns[-1]
    images = ", ".join(image.source for image in conversation.images) or "no image"
    return f"{turn.text} | {images}"


@dataclass
class FakeEngine:
    """Implements the Engine protocol without a model.

    ``answer`` is the fixed answer, or a function of the conversation (default: an echo of the
    question and image sources). ``failures`` maps a question's text to the exception its answer
    raises. ``before_word`` is called before each streamed word with its index (tests block or
    cancel there).
    """

    name: str = "fake-model"
    family: Family = Family.QWEN3_VL
    answer: str | Answerer = echo_answer
    device: str = "cpu"
    dtype: str = "float32"
    max_batch: int = 4
    #: The engine it stands in for, as :attr:`Placement.backend` names it.
    backend: str = "fake"
    continues_conversation: bool = False
    patch_factor: int = 32
    failures: dict[str, Exception] = field(default_factory=dict)
    before_word: Callable[[int], None] | None = None
    #: Every conversation asked (alone or in a batch, failed or not), in order.
    asked: list[Conversation] = field(default_factory=list)
    #: The size of every :meth:`generate_batch` call, in order.
    batches: list[int] = field(default_factory=list)
    #: The settings of every answer, in order.
    settings_seen: list[GenerationSettings] = field(default_factory=list)
    unloaded: bool = False
    #: The thread of each call: an engine is called from one owner thread only.
    threads: set[int] = field(default_factory=set)

    @property
    def placement(self) -> Placement:
        kind = self.device.split(":")[0]
        return Placement(self.backend, self.device, kind, self.dtype, reason="a test stand-in")

    @property
    def capabilities(self) -> EngineCapabilities:
        return EngineCapabilities(
            continues_conversation=self.continues_conversation,
            max_batch=self.max_batch,
            patch_factor=self.patch_factor,
        )

    @property
    def recommended_sampling(self) -> Sampling:
        return Sampling()

    def describe(self) -> str:
        return self.placement.describe()

    def sampling_figures(self, settings: GenerationSettings) -> dict[str, object]:
        return {"greedy": settings.greedy, **settings.sampling(Sampling()).to_dict()}

    def batch_size_for(self, settings: GenerationSettings) -> int:
        return self.max_batch

    def figures(self) -> Mapping[str, object]:
        return {"name": self.name, "backend": "fake", "device": self.device}

    def answer_for(self, conversation: Conversation) -> str:
        """The full answer ``conversation`` gets (uncut by limits or cancel)."""
        return self.answer if isinstance(self.answer, str) else self.answer(conversation)

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
        settings = settings or GenerationSettings()
        self._check(conversation, settings)
        return self._answer(conversation, settings, on_text, on_token, cancel)

    def generate_batch(
        self,
        conversations: Sequence[Conversation],
        settings: GenerationSettings | None = None,
        *,
        cancel: threading.Event | None = None,
    ) -> list[GenerationResult]:
        settings = settings or GenerationSettings()
        for conversation in conversations:
            self._check(conversation, settings)
        if conversations:
            self.batches.append(len(conversations))
        results = [self._answer(c, settings, None, None, cancel) for c in conversations]
        return [
            GenerationResult(r.text, r.stop_reason, r.stats, {"batch_size": len(conversations)})
            for r in results
        ]

    def unload(self) -> None:
        self.unloaded = True

    def _check(self, conversation: Conversation, settings: GenerationSettings) -> None:
        self.threads.add(threading.get_ident())
        if self.unloaded:
            raise GenerationError("The model has been unloaded.")
        if not conversation.turns or conversation.turns[-1].role != "user":
            raise GenerationError("The conversation must end with a question.")
        self.asked.append(conversation)
        self.settings_seen.append(settings)
        failure = self.failures.get(conversation.turns[-1].text)
        if failure is not None:
            raise failure

    def _answer(
        self,
        conversation: Conversation,
        settings: GenerationSettings,
        on_text: TextCallback | None,
        on_token: TokenCallback | None,
        cancel: threading.Event | None,
    ) -> GenerationResult:
        words = self.answer_for(conversation).split(" ")
        said: list[str] = []
        reason = StopReason.END_OF_TEXT
        for index, word in enumerate(words):
            if self.before_word is not None:
                self.before_word(index)
            if cancel is not None and cancel.is_set():
                reason = StopReason.CANCELLED
                break
            if index >= settings.max_new_tokens:
                reason = StopReason.MAX_TOKENS
                break
            piece = word if index == 0 else " " + word
            said.append(piece)
            if on_text is not None:
                on_text(piece)
            if on_token is not None:
                on_token(index + 1)
        return build_result(
            "".join(said),
            reason,
            model=self.name,
            device=self.device,
            dtype=self.dtype,
            prompt_tokens=sum(len(t.text.split()) for t in conversation.turns),
            image_tokens=16 * len(conversation.images),
            new_tokens=len(said),
            # No clock: the figures' times are all 0.
            started=0.0,
            first_token_at=0.0,
            finished=0.0,
            sampling=self.sampling_figures(settings),
        )


@dataclass
class FakeEngineLoader:
    """An :data:`~vldesk.core.inference.engine.EngineLoader` that makes :class:`FakeEngine`s.

    ``make`` builds the engine for a request (default: a FakeEngine named as asked); ``fail``
    is raised instead where set. Every request and engine is recorded.
    """

    make: Callable[[LoadRequest], FakeEngine] | None = None
    fail: Exception | None = None
    requests: list[LoadRequest] = field(default_factory=list)
    engines: list[FakeEngine] = field(default_factory=list)

    def __call__(self, request: LoadRequest) -> FakeEngine:
        self.requests.append(request)
        if self.fail is not None:
            raise self.fail
        engine = self.make(request) if self.make is not None else FakeEngine(name=request.name)
        self.engines.append(engine)
        return engine


def _implements_the_protocol(engine: FakeEngine) -> Engine:
    """mypy checks here that FakeEngine satisfies the Engine protocol."""
    return engine
