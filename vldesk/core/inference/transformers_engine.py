"""The inference engine: load a Qwen VL model from a local folder and answer a conversation.

torch and transformers are imported inside functions: importing this module is cheap.
"""

from __future__ import annotations

import contextlib
import gc
import logging
import os
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from vldesk.core.errors import GenerationError, OutOfMemoryError
from vldesk.core.generation import (
    Conversation,
    GenerationResult,
    GenerationSettings,
)
from vldesk.core.inference.batch_memory import MAX_BATCH, choose_batch_size
from vldesk.core.inference.chat_messages import chat_messages
from vldesk.core.inference.conversation_cache import IMAGE_INPUTS, ConversationCache, cache_keyword
from vldesk.core.inference.cpu.decode_forwards import QUANTIZED_KERNELS
from vldesk.core.inference.cpu.kernels import KernelChoice
from vldesk.core.inference.cpu.process import release_freed_memory
from vldesk.core.inference.cpu.quantized_weights import WeightFormat
from vldesk.core.inference.device import DeviceChoice, HardwareProbe
from vldesk.core.inference.engine import Placement, TextCallback, TokenCallback
from vldesk.core.inference.engine_base import EngineBase
from vldesk.core.inference.generation_hooks import (
    CancelCriteria,
    StepClock,
    SuppressTokens,
    generation_config,
    make_streamer,
)
from vldesk.core.inference.memory import peak_memory
from vldesk.core.inference.memory_errors import is_out_of_memory
from vldesk.core.inference.model_figures import config_sizes, decode_bytes_per_token, weight_figures
from vldesk.core.inference.model_folder import ModelInfo
from vldesk.core.inference.prompt_interrupt import PromptInterrupt, PromptInterrupted
from vldesk.core.inference.results import build_result, token_stop_reason
from vldesk.core.inference.sampling import Sampling, read_sampling
from vldesk.core.inference.thinking import ThinkFilter
from vldesk.core.inference.transformers_loading import free_device_memory, load_model, short_error
from vldesk.core.messages import core_text

log = logging.getLogger(__name__)


#: Set to 1 to decode on CUDA with a static KV cache and torch.compile (experimental).
STATIC_CACHE_ENV = "VLDESK_GPU_STATIC_CACHE"

#: Chat-turn terminator and document terminator; Qwen3.5's config names only the second.
STOP_TOKENS = ("<|im_end|>", "<|endoftext|>")


class TransformersEngine(EngineBase):
    """A loaded model plus its processor. Not thread-safe: one owner thread calls it.

    Use :meth:`load` to build one; :meth:`generate` answers; :meth:`unload` frees memory.
    """

    def __init__(
        self,
        model: Any,
        processor: Any,
        info: ModelInfo,
        choice: DeviceChoice,
        cpu_kernels: KernelChoice | None = None,
    ) -> None:
        self._model = model
        self._processor = processor
        self.info = info
        self.choice = choice
        #: The decode kernels measured and installed on CPU (None elsewhere).
        self.cpu_kernels = cpu_kernels
        tokenizer = processor.tokenizer
        self._stop_ids = [
            int(tid)
            for tid in tokenizer.convert_tokens_to_ids(list(STOP_TOKENS))
            if tid is not None and tid != tokenizer.unk_token_id
        ]
        self._image_token_id = int(model.config.image_token_id)
        self._pad_id = (
            tokenizer.pad_token_id if tokenizer.pad_token_id is not None else self._stop_ids[-1]
        )
        template = getattr(processor, "chat_template", None) or ""
        self._template_has_thinking = "enable_thinking" in template
        self._thinking = info.traits.thinking_template or self._template_has_thinking
        # GPU only, opt-in and untested so far (no GPU was available when it was written): a
        # static KV cache, with which transformers compiles the decode step (docs/performance.md).
        self._static_cache = choice.kind == "cuda" and os.environ.get(STATIC_CACHE_ENV) == "1"
        #: The last answer's key/value cache, for a follow-up about the same image.
        self._conversation_cache = (
            ConversationCache(self._image_token_id)
            if info.traits.prefix_cache
            and not self._static_cache
            and ConversationCache.supported(model)
            else None
        )
        # Batches are left-padded so every row's answer starts at the same position.
        tokenizer.padding_side = "left"
        #: Stops a cancelled answer between layers while it still reads its prompt.
        self._interrupt = PromptInterrupt(model)
        weights = self.weights
        description = choice.describe()
        if weights is not WeightFormat.FULL:
            description = f"{description}; {weights.value} weights"
        super().__init__(
            info.name,
            info.family,
            Placement(
                backend="transformers",
                device=choice.device,
                kind=choice.kind,
                dtype=choice.dtype.value,
                weights=weights.value,
                reason=choice.reason,
            ),
            description=description,
            max_batch=MAX_BATCH[choice.kind if choice.kind in MAX_BATCH else "cpu"],
            continues_conversation=self._conversation_cache is not None,
        )

    @classmethod
    def load(
        cls,
        model_dir: str | os.PathLike[str],
        *,
        device: str | None = "auto",
        dtype: str | None = "auto",
        name: str | None = None,
        probe: HardwareProbe | None = None,
        weights: str | WeightFormat | None = WeightFormat.FULL,
    ) -> TransformersEngine:
        """Load weights and processor from a local folder, never from the network.

        ``weights`` ``int8`` or ``int4`` quantizes the text decoder's weights on the CPU (faster
        answers, less accurate: :mod:`vldesk.core.inference.cpu.quantized_weights`); other devices
        ignore it.

        Raises:
            ModelLoadError: the folder is missing files, has unsupported or broken weights.
            DeviceError: the requested device or precision is not available.
            OutOfMemoryError: the weights do not fit in memory.
        """
        loaded = load_model(
            Path(model_dir), device=device, dtype=dtype, name=name, probe=probe, weights=weights
        )
        return cls(loaded.model, loaded.processor, loaded.info, loaded.choice, loaded.cpu_kernels)

    def batch_size_for(self, settings: GenerationSettings) -> int:
        """As many images as fit in half the free memory, up to the device's batch bound."""
        if self._model is None:
            raise GenerationError(core_text("Engine", "The model has been unloaded."))
        dtype_bytes = self.choice.dtype.bytes_per_param
        return choose_batch_size(self._model.config, self.choice.device, dtype_bytes, settings)

    def figures(self) -> dict[str, object]:
        """The model's folder, family, placement, CPU kernels and sizes, JSON-safe: weights
        (``parameters``, ``weights_bytes``), ``decode_bytes_per_token`` and ``config_sizes``."""
        kernels = self.cpu_kernels
        sizes: dict[str, object] = {}
        if self._model is not None:  # an unloaded engine still names itself
            tied = kernels is not None and kernels.tied_head_packed
            sizes = {
                **weight_figures(self._model, tied_head_packed=tied),
                "decode_bytes_per_token": decode_bytes_per_token(self._model),
                "config_sizes": config_sizes(self._model.config),
            }
        return {
            "name": self.name,
            "path": str(self.info.path),
            "family": self.family.value,
            "backend": "transformers",
            "device": self.choice.device,
            "dtype": self.choice.dtype.value,
            "dtype_bytes": self.choice.dtype.bytes_per_param,
            "weights": self.weights.value,
            "device_reason": self.choice.reason,
            "cpu_kernels": kernels.to_dict() if kernels else None,
            **sizes,
        }

    @property
    def weights(self) -> WeightFormat:
        """How the text decoder's weights are held (int8 only where it was asked for and ran)."""
        kernel = self.cpu_kernels.kernel if self.cpu_kernels is not None else None
        return WeightFormat(kernel.value) if kernel in QUANTIZED_KERNELS else WeightFormat.FULL

    @property
    def processor(self) -> Any:
        return self._processor

    @property
    def model(self) -> Any:
        return self._model

    def unload(self) -> None:
        """Drop the model and give its memory back to the system or the GPU."""
        self._interrupt.remove()
        self._model = None
        self._processor = None
        if self._conversation_cache is not None:
            self._conversation_cache.clear()
        gc.collect()
        free_device_memory()
        release_freed_memory()

    def prepare_inputs(self, conversation: Conversation, settings: GenerationSettings) -> Any:
        """Tokenize with the model's own chat template; control tokens in user text stay text."""
        return self.prepare_batch([conversation], settings)

    def prepare_batch(
        self, conversations: Sequence[Conversation], settings: GenerationSettings
    ) -> Any:
        """Tokenize several conversations into one left-padded batch (one is no padding)."""
        for conversation in conversations:
            if not conversation.turns or conversation.turns[-1].role != "user":
                raise GenerationError("The conversation must end with a question.")
        factor = self.info.traits.patch_factor
        max_pixels = settings.max_image_tokens * factor * factor
        template_kwargs: dict[str, Any] = {}
        if self._template_has_thinking:
            template_kwargs["enable_thinking"] = False
        messages = [chat_messages(c, settings, factor) for c in conversations]
        inputs = self._processor.apply_chat_template(
            messages if len(messages) > 1 else messages[0],
            add_generation_prompt=True,
            tokenize=True,
            return_dict=True,
            return_tensors="pt",
            sanitize_control_tokens=True,
            processor_kwargs={
                "padding": len(messages) > 1,
                "size": {"longest_edge": max_pixels, "shortest_edge": 4 * factor * factor},
            },
            **template_kwargs,
        )
        return inputs.to(self._model.device)

    def _own_sampling(self) -> Sampling:
        """The model's generation_config.json (transformers' defaults for what it leaves out)."""
        return read_sampling(self.info.path) or Sampling()

    def _run_generate(
        self,
        inputs: Any,
        settings: GenerationSettings,
        cancel: threading.Event,
        clock: StepClock | None = None,
        **extra: Any,
    ) -> Any:
        """``model.generate`` with cancel support, mapping failures to user-facing errors;
        ``clock`` notes when the first token came (one is made when not given)."""
        import torch
        from transformers import LogitsProcessorList, StoppingCriteriaList

        if not settings.greedy and settings.seed is not None:
            torch.manual_seed(settings.seed)
        clock = clock or StepClock(self._interrupt)
        criteria = StoppingCriteriaList([clock, CancelCriteria(cancel)])
        if settings.ignore_eos:
            # Not ``min_new_tokens``: its processors rebuild a vocabulary-sized mask each step
            # (about 10 % of a CPU decode step), which would skew fixed-length timings.
            extra["logits_processor"] = LogitsProcessorList([SuppressTokens(self._stop_ids)])
        try:
            with torch.inference_mode(), self._interrupt.watching(cancel):
                return self._model.generate(
                    **inputs,
                    generation_config=generation_config(
                        settings,
                        self.recommended_sampling,
                        self._stop_ids,
                        self._pad_id,
                        self._static_cache,
                    ),
                    stopping_criteria=criteria,
                    **extra,
                )
        except PromptInterrupted:
            raise  # the callers answer "stopped, no words"
        except Exception as exc:
            if is_out_of_memory(exc):
                free_device_memory()
                raise OutOfMemoryError(
                    core_text(
                        "Engine",
                        "Out of memory while answering on {device}. Try a smaller image budget, "
                        "fewer images, or another device.",
                        device=self.choice.device,
                    )
                ) from exc
            raise GenerationError(
                core_text("Engine", "Generation failed: {reason}", reason=short_error(exc))
            ) from exc
        finally:
            if self.choice.kind == "cpu":
                release_freed_memory()

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
        """Answer the last user turn, streaming text to ``on_text`` as it is decoded.

        Setting ``cancel`` stops generation after the current token; the text so far is returned
        with ``StopReason.CANCELLED``. With ``reuse_cache`` a follow-up question about the same
        images continues from the previous answer's key/value cache (:mod:`conversation_cache`)
        instead of reading the images again; benchmarks and independent captions turn it off.
        """
        import torch

        if self._model is None:
            raise GenerationError(core_text("Engine", "The model has been unloaded."))
        settings = settings or GenerationSettings()
        cancel = cancel or threading.Event()
        started = time.perf_counter()
        if self.choice.kind == "cuda":
            torch.cuda.reset_peak_memory_stats()
        inputs = self.prepare_inputs(conversation, settings)
        input_ids = inputs["input_ids"]
        prompt_tokens = int(input_ids.shape[1])
        conversation_cache = self._conversation_cache if reuse_cache else None
        reused = 0

        thinking = self._thinking
        chunks: list[str] = []

        def collect(text: str) -> None:
            chunks.append(text)
            if on_text is not None:
                on_text(text)

        streamer = make_streamer(
            self._processor.tokenizer, collect, ThinkFilter() if thinking else None, on_token
        )
        clock = StepClock(self._interrupt)
        output_ids = input_ids  # no new tokens, unless generation runs
        if not cancel.is_set():
            extra: dict[str, Any] = {"streamer": streamer}
            images = {key: inputs.get(key) for key in IMAGE_INPUTS}
            cache_key = cache_keyword()
            if conversation_cache is not None:
                extra[cache_key], reused = conversation_cache.take(inputs, self._model)
            try:
                output_ids = self._run_generate(inputs, settings, cancel, clock=clock, **extra)
            except PromptInterrupted:
                pass  # stopped while reading the prompt: no words, and the cache is incomplete
            else:
                if conversation_cache is not None:
                    cache = extra[cache_key]
                    conversation_cache.keep(cache, output_ids[0], images, self._model)
        finished = time.perf_counter()
        new_ids = [int(t) for t in output_ids[0, prompt_tokens:]]
        return self._result(
            "".join(chunks),
            new_ids,
            settings,
            cancel,
            prompt_tokens=prompt_tokens,
            image_tokens=int((input_ids == self._image_token_id).sum()),
            started=started,
            first_token_at=clock.first_step_at,
            finished=finished,
            reused_tokens=reused,
        )

    def generate_batch(
        self,
        conversations: Sequence[Conversation],
        settings: GenerationSettings | None = None,
        *,
        cancel: threading.Event | None = None,
    ) -> list[GenerationResult]:
        """Answer several conversations in one batched ``generate`` (left padding).

        Decoding is memory-bound, so a batch costs little more per step than one answer. With
        greedy decoding the answers equal those of :meth:`generate` one at a time.
        """
        if self._model is None:
            raise GenerationError(core_text("Engine", "The model has been unloaded."))
        settings = settings or GenerationSettings()
        cancel = cancel or threading.Event()
        if not conversations:
            return []
        started = time.perf_counter()
        inputs = self.prepare_batch(conversations, settings)
        input_ids = inputs["input_ids"]
        width = int(input_ids.shape[1])
        clock = StepClock(self._interrupt)
        output_ids = input_ids  # no new tokens, unless generation runs
        if not cancel.is_set():
            with contextlib.suppress(PromptInterrupted):  # stopped while reading the prompts
                output_ids = self._run_generate(inputs, settings, cancel, clock=clock)
        finished = time.perf_counter()
        tokenizer = self._processor.tokenizer
        results = []
        for row in range(len(conversations)):
            new_ids = [int(t) for t in output_ids[row, width:]]
            if not settings.ignore_eos:
                # Rows that finished early are padded: cut at the first stop token.
                end = next((i + 1 for i, t in enumerate(new_ids) if t in self._stop_ids), None)
                new_ids = new_ids[:end] if end is not None else new_ids
            result = self._result(
                tokenizer.decode(new_ids, skip_special_tokens=True),
                new_ids,
                settings,
                cancel,
                prompt_tokens=int(inputs["attention_mask"][row].sum()),
                image_tokens=int((input_ids[row] == self._image_token_id).sum()),
                started=started,
                first_token_at=clock.first_step_at,
                finished=finished,
                extra={"batch_size": len(conversations)},
            )
            results.append(result)
        return results

    def _result(
        self,
        text: str,
        new_ids: list[int],
        settings: GenerationSettings,
        cancel: threading.Event,
        *,
        prompt_tokens: int,
        image_tokens: int,
        started: float,
        first_token_at: float | None,
        finished: float,
        reused_tokens: int = 0,
        extra: dict[str, object] | None = None,
    ) -> GenerationResult:
        return build_result(
            text,
            token_stop_reason(new_ids, self._stop_ids, settings, cancel),
            model=self.name,
            device=self.choice.device,
            dtype=self.choice.dtype.value,
            prompt_tokens=prompt_tokens,
            image_tokens=image_tokens,
            new_tokens=len(new_ids),
            started=started,
            first_token_at=first_token_at,
            finished=finished,
            sampling=self.sampling_figures(settings),
            thinking=self._thinking,
            reused_tokens=reused_tokens,
            peak_memory_bytes=peak_memory(self.choice.device),
            extra=extra,
        )
