"""Plain-data types for a generation request and its result; safe to pass between threads."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, replace
from enum import Enum
from typing import Any, Literal, TypeVar

from vldesk.core.images import LoadedImage
from vldesk.core.inference.sampling import Sampling

Role = Literal["user", "assistant"]
_Number = TypeVar("_Number", int, float)

#: About 1024 visual tokens keeps detail for OCR while prefill stays seconds, not minutes, on CPU.
DEFAULT_IMAGE_TOKENS = 1024


@dataclass(frozen=True)
class GenerationSettings:
    """How to generate. Greedy decoding is the default: repeatable captions.

    A sampling value left ``None`` is the model's own recommendation (its
    generation_config.json), filled in by the engine; the answer's figures say what was used.
    """

    max_new_tokens: int = 512
    greedy: bool = True
    temperature: float | None = None
    top_p: float | None = None
    top_k: int | None = None
    repetition_penalty: float | None = None
    #: Upper bound on visual tokens per image; images are resized to fit it.
    max_image_tokens: int = DEFAULT_IMAGE_TOKENS
    #: Keep generating past end-of-sequence (benchmarks only: fixed-length timing).
    ignore_eos: bool = False
    seed: int | None = None

    def __post_init__(self) -> None:
        if self.max_new_tokens < 1:
            raise ValueError("max_new_tokens must be at least 1")
        if self.max_image_tokens < 4:
            raise ValueError("max_image_tokens must be at least 4")
        if not self.greedy and self.temperature is not None and self.temperature <= 0:
            raise ValueError("temperature must be above 0 when sampling")

    def sampling(self, model_defaults: Sampling) -> Sampling:
        """The sampling values to use: these settings', the model's where these are ``None``."""
        return Sampling(
            temperature=_first(self.temperature, model_defaults.temperature),
            top_p=_first(self.top_p, model_defaults.top_p),
            top_k=_first(self.top_k, model_defaults.top_k),
            repetition_penalty=_first(self.repetition_penalty, model_defaults.repetition_penalty),
        )

    def with_model_defaults(self, model_defaults: Sampling) -> GenerationSettings:
        """These settings with every ``None`` sampling value replaced by the model's."""
        return replace(self, **self.sampling(model_defaults).to_dict())

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _first(value: _Number | None, default: _Number) -> _Number:
    return default if value is None else value


@dataclass(frozen=True)
class Turn:
    """One message: the user's (with any images) or the assistant's answer."""

    role: Role
    text: str
    images: tuple[LoadedImage, ...] = ()


@dataclass(frozen=True)
class Conversation:
    """An optional system prompt and the turns so far; immutable, so each step makes a new one."""

    turns: tuple[Turn, ...] = ()
    system: str | None = None

    def ask(
        self, text: str, images: tuple[LoadedImage, ...] | list[LoadedImage] = ()
    ) -> Conversation:
        return Conversation((*self.turns, Turn("user", text, tuple(images))), self.system)

    def answered(self, text: str) -> Conversation:
        return Conversation((*self.turns, Turn("assistant", text)), self.system)

    @property
    def images(self) -> tuple[LoadedImage, ...]:
        return tuple(image for turn in self.turns for image in turn.images)


class StopReason(str, Enum):
    END_OF_TEXT = "end_of_text"
    MAX_TOKENS = "max_tokens"
    CANCELLED = "cancelled"


@dataclass(frozen=True)
class GenerationStats:
    """Figures for one answer, shown in the status bar and stored with history."""

    prompt_tokens: int
    image_tokens: int
    new_tokens: int
    time_to_first_token_s: float
    decode_tokens_per_s: float
    total_s: float
    device: str
    dtype: str
    peak_memory_bytes: int | None = None
    model: str = ""
    #: Prompt tokens continued from the previous answer's cache instead of being read again.
    reused_tokens: int = 0
    #: The decoding values used (greedy, temperature, top_p, top_k, repetition_penalty; the
    #: sampling ones None under greedy decoding) and, in ``from_model``, those that were the
    #: model's own recommendation rather than the user's settings.
    sampling: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class GenerationResult:
    text: str
    stop_reason: StopReason
    stats: GenerationStats
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def cancelled(self) -> bool:
        return self.stop_reason is StopReason.CANCELLED
