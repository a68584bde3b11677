"""The engine seam: what batch, chat, bench, the GUI and the server need of a loaded model.

An :class:`Engine` is a loaded model that answers conversations. The in-process transformers
engine (:mod:`vldesk.core.inference.transformers_engine`) implements it, remote engines and test
doubles do too; callers depend on this protocol only. An engine is not thread-safe: one owner
thread calls it, and ``cancel`` events are the only thing other threads touch.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol, runtime_checkable

from vldesk.core.generation import Conversation, GenerationResult, GenerationSettings
from vldesk.core.inference.sampling import Sampling
from vldesk.core.models.catalog import Family

#: Receives each piece of answer text as it is decoded.
TextCallback = Callable[[str], None]
#: Receives the number of tokens generated so far.
TokenCallback = Callable[[int], None]


@dataclass(frozen=True)
class Placement:
    """Where and how an engine runs: for status lines, figures and the model manager."""

    #: Which engine runs the model: "transformers", "llama.cpp", "remote", "fake".
    backend: str
    #: "cpu", "cuda:0", "mps", or a server's address.
    device: str
    #: The device's kind: "cpu", "cuda", "mps" or "remote".
    kind: str
    #: The compute precision ("bfloat16", "float32"...); empty where the engine does not say.
    dtype: str
    #: How the weights are held: "full", "int8", "int4", or a file format's own name.
    weights: str = "full"
    #: Why this device and precision were chosen, for the user.
    reason: str = ""

    def describe(self) -> str:
        """One line: the device and precision, and the weights where they are not full."""
        text = f"{self.device} ({self.dtype})" if self.dtype else self.device
        return text if self.weights == "full" else f"{text}; {self.weights} weights"


@dataclass(frozen=True)
class EngineCapabilities:
    """What an engine can do beyond answering one question."""

    #: A follow-up about the same images continues the last answer's cache (no re-reading).
    continues_conversation: bool = False
    #: The most conversations one :meth:`Engine.generate_batch` call takes.
    max_batch: int = 1
    #: Pixels per side of one visual token (28 on Qwen2.5-VL, 32 on Qwen3-VL): image budgets
    #: are ``tokens * factor**2`` pixels, and images are resized with it before they are sent.
    patch_factor: int = 28


@runtime_checkable
class Engine(Protocol):
    """A loaded model that answers conversations about images."""

    @property
    def name(self) -> str:
        """The model's name as the user knows it (catalog id or folder name)."""
        ...

    @property
    def family(self) -> Family:
        """The model family: decides prompt details and coordinate conventions."""
        ...

    @property
    def placement(self) -> Placement: ...

    @property
    def capabilities(self) -> EngineCapabilities: ...

    @property
    def recommended_sampling(self) -> Sampling:
        """The model's own sampling values: what a setting left ``None`` uses."""
        ...

    def describe(self) -> str:
        """Where and how the model runs, for status lines."""
        ...

    def sampling_figures(self, settings: GenerationSettings) -> dict[str, object]:
        """The decoding values an answer with ``settings`` uses, for its figures."""
        ...

    def batch_size_for(self, settings: GenerationSettings) -> int:
        """How many images one :meth:`generate_batch` call should take under ``settings``."""
        ...

    def figures(self) -> Mapping[str, object]:
        """Figures about the loaded model for benchmarks and reports (JSON-safe values)."""
        ...

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
        """Answer the last user turn, streaming text to ``on_text``.

        Setting ``cancel`` stops the answer after the current token: the text so far comes back
        with ``StopReason.CANCELLED``. ``reuse_cache`` lets a follow-up continue from the last
        answer where the engine can.

        Raises:
            GenerationError: the answer failed; the message is for the user.
            OutOfMemoryError: the device ran out of memory.
        """
        ...

    def generate_batch(
        self,
        conversations: Sequence[Conversation],
        settings: GenerationSettings | None = None,
        *,
        cancel: threading.Event | None = None,
    ) -> list[GenerationResult]:
        """Answer several conversations at once; one result per conversation, in order."""
        ...

    def unload(self) -> None:
        """Free the model's memory; the engine answers no more."""
        ...


@dataclass(frozen=True)
class LoadRequest:
    """Which model folder to load, where, and in which precision."""

    model_dir: Path
    name: str
    device: str = "auto"
    dtype: str = "auto"
    #: "full", "int8" or "int4" (CPU only): :mod:`vldesk.core.inference.cpu.quantized_weights`.
    weights: str = "full"


#: Loads the model a request names; :func:`load_engine` in the app, a stand-in in tests.
EngineLoader = Callable[[LoadRequest], Engine]


def load_engine(request: LoadRequest) -> Engine:
    """Load the request's model folder in this process: a GGUF folder (as
    :func:`~vldesk.core.models.folder_format.folder_format` judges it for the store's check too)
    runs on llama.cpp (its projector is required), any other on transformers (torch is imported
    here)."""
    from vldesk.core.models.folder_format import GGUF, folder_format

    if folder_format(request.model_dir) == GGUF:
        from vldesk.core.inference.llamacpp.engine import LlamaCppEngine

        return LlamaCppEngine.load(request.model_dir, name=request.name, weights=request.weights)
    from vldesk.core.inference.transformers_engine import TransformersEngine

    return TransformersEngine.load(
        request.model_dir,
        device=request.device,
        dtype=request.dtype,
        name=request.name,
        weights=request.weights,
    )
