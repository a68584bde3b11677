"""The llama.cpp CPU engine: a GGUF model and its vision projector behind the Engine protocol.

llama-cpp-python is imported inside functions (the ``peer`` extra installs it): importing this
module is cheap and needs neither llama.cpp nor torch.
"""

from __future__ import annotations

import codecs
import ctypes
import gc
import logging
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from vldesk.core.errors import GenerationError, ModelLoadError
from vldesk.core.generation import Conversation, GenerationResult, GenerationSettings
from vldesk.core.images import MIN_IMAGE_TOKENS, fit_to_token_budget
from vldesk.core.inference.engine import Engine, Placement, TextCallback, TokenCallback
from vldesk.core.inference.engine_base import EngineBase
from vldesk.core.inference.llamacpp.decoding import TokenPicker
from vldesk.core.inference.llamacpp.folder import (
    ARCHITECTURES,
    FILE_TYPES,
    GgufFolder,
    inspect_gguf_folder,
)
from vldesk.core.inference.llamacpp.held import HeldSequence, ImageKey, image_digest
from vldesk.core.inference.llamacpp.mtmd import TokenizedPrompt, control_tokens, image_chunks
from vldesk.core.inference.llamacpp.prompt import (
    IMAGE_PAD,
    ImagePiece,
    PromptRenderer,
    read_chat_template,
)
from vldesk.core.inference.results import build_result, token_stop_reason
from vldesk.core.inference.sampling import Sampling, read_sampling
from vldesk.core.inference.thinking import ThinkFilter
from vldesk.core.models.catalog import FAMILY_TRAITS

log = logging.getLogger(__name__)

#: The same stop tokens as the transformers engine (its ``STOP_TOKENS``).
STOP_TOKENS = ("<|im_end|>", "<|endoftext|>")
#: The context llama.cpp reserves at load. Its key/value memory is allocated and cleared up front
#: (F16: 0.11 GB per 1,000 tokens for Qwen3-VL-2B's 28 layers), so it starts at what a photo
#: question with a long conversation needs and grows when a prompt does not fit.
START_CONTEXT = 4096
#: The most it grows to (and never past the model's own training context).
MAX_CONTEXT = 32768
#: The most tokens one image may take (far above any budget the app offers).
MAX_IMAGE_TOKENS = 16384
#: Tokens read per llama.cpp batch while reading the prompt (cancel is checked between them).
READ_BATCH = 512


class LlamaCppEngine(EngineBase):
    """A GGUF model answering on the CPU through llama.cpp. Not thread-safe: one owner thread.

    Use :meth:`load`; :meth:`generate` answers; :meth:`unload` frees memory. Conversations are
    answered one after another: no batched llama.cpp decode (yet). A follow-up continues what
    llama.cpp's memory holds from the last answer (:mod:`~vldesk.core.inference.llamacpp.held`).
    """

    def __init__(self, llm: Any, mtmd: Any, folder: GgufFolder, threads: int) -> None:
        self._llm: Any = llm
        self._mtmd: Any = mtmd
        self.folder = folder
        self.threads = threads
        metadata: dict[str, str] = dict(llm.metadata)
        architecture = metadata.get("general.architecture", "")
        family = ARCHITECTURES.get(architecture)
        if family is None:
            raise ModelLoadError(
                f"Unsupported GGUF architecture '{architecture or 'unknown'}' in {folder.model}: "
                "vldesk runs Qwen2.5-VL, Qwen3-VL and Qwen3.5 models."
            )
        file_type = metadata.get("general.file_type", "")
        self.file_type = FILE_TYPES.get(int(file_type), f"type {file_type}") if file_type else ""
        placement = Placement(
            backend="llama.cpp",
            device="cpu",
            kind="cpu",
            dtype="",
            weights=self.file_type or "GGUF",
            reason=f"a GGUF model: llama.cpp on {threads} CPU threads",
        )
        description = f"{placement.describe()} (llama.cpp)"
        super().__init__(
            folder.name,
            family,
            placement,
            description=description,
            # Linear-attention state cannot be cut back to where a follow-up parts from it.
            continues_conversation=FAMILY_TRAITS[family].prefix_cache,
        )
        #: What llama.cpp's memory holds; None when unknown (the next answer reads afresh).
        self._held: HeldSequence | None = None
        #: The most tokens the context may grow to (:meth:`_sized_prompt`).
        self._context_limit = min(MAX_CONTEXT, int(llm._model.n_ctx_train()) or MAX_CONTEXT)
        self._metadata = metadata
        self._control = control_tokens(llm)
        template = read_chat_template(folder.path, metadata.get("tokenizer.chat_template"))
        self._renderer = PromptRenderer(template, self._control)
        self._thinking = FAMILY_TRAITS[family].thinking_template or self._renderer.thinking_switch
        self._stop_ids = [self._control[token] for token in STOP_TOKENS if token in self._control]
        self._image_pad = self._control.get(IMAGE_PAD, -1)

    @classmethod
    def load(
        cls,
        model_dir: Path,
        *,
        name: str | None = None,
        weights: str = "full",
        threads: int | None = None,
    ) -> LlamaCppEngine:
        """Load the folder's GGUF model and projector, never from the network.

        Raises:
            ModelLoadError: files are missing, llama-cpp-python is not installed, or llama.cpp
                cannot read them.
        """
        folder = inspect_gguf_folder(Path(model_dir), name, weights)
        try:
            from llama_cpp import mtmd_cpp
        except ImportError:
            raise ModelLoadError(
                f"{folder.path} holds a GGUF model, which needs llama.cpp: "
                "pip install 'vldesk[peer]' (llama-cpp-python)."
            ) from None
        if threads is None:
            from vldesk.core.inference.device import _physical_cores

            threads = _physical_cores()
        log.info("loading %s with llama.cpp on %d threads", folder.model, threads)
        llm, mtmd = _open(folder, START_CONTEXT, threads)
        try:
            return cls(llm, mtmd, folder, threads)
        except ModelLoadError:
            mtmd_cpp.mtmd_free(mtmd)
            llm.close()
            raise

    def _own_sampling(self) -> Sampling:
        """The folder's generation_config.json, else the sampling values inside the GGUF."""
        found = read_sampling(self.folder.path)
        if found is not None:
            return found
        keys = {
            "temperature": "general.sampling.temp",
            "top_p": "general.sampling.top_p",
            "top_k": "general.sampling.top_k",
            "repetition_penalty": "general.sampling.penalty_repeat",
        }
        values = {name: self._metadata[key] for name, key in keys.items() if key in self._metadata}
        return Sampling.from_generation_config({k: float(v) for k, v in values.items()})

    def figures(self) -> dict[str, object]:
        import llama_cpp

        return {
            "name": self.name,
            "path": str(self.folder.path),
            "family": self._family.value,
            "backend": "llama.cpp",
            "llama_cpp_version": str(llama_cpp.__version__),
            "device": "cpu",
            "weights": self.file_type,
            "model_file": self.folder.model.name,
            "projector_file": self.folder.projector.name,
            "threads": self.threads,
            "context": self._llm.n_ctx() if self._llm is not None else 0,
        }

    def unload(self) -> None:
        """Free the model, its context and the projector."""
        self._held = None
        if self._mtmd is not None:
            from llama_cpp import mtmd_cpp

            mtmd_cpp.mtmd_free(self._mtmd)
            self._mtmd = None
        if self._llm is not None:
            self._llm.close()
            self._llm = None
        gc.collect()

    # -----------------------------------------------------------------------------------------
    # The prompt

    def _tokenize(self, text: str, *, special: bool) -> list[int]:
        return list(self._llm.tokenize(text.encode("utf-8"), add_bos=False, special=special))

    @contextmanager
    def _prompt(
        self, conversation: Conversation, settings: GenerationSettings
    ) -> Iterator[TokenizedPrompt]:
        """The conversation tokenized: images resized to the budget with the family's patch
        factor, as the transformers engine does, before llama.cpp's projector sees them."""
        from llama_cpp import mtmd_cpp

        if self._llm is None:
            raise GenerationError("The model has been unloaded.")
        factor = self.capabilities.patch_factor
        images = conversation.images
        prompt = TokenizedPrompt([], [], [])
        try:
            for piece in self._renderer.pieces(conversation):
                if not isinstance(piece, ImagePiece):
                    prompt.parts.append(self._tokenize(piece.text, special=piece.special))
                    continue
                fitted = fit_to_token_budget(images[piece.index], factor, settings.max_image_tokens)
                digest = image_digest(fitted.convert("RGB"))
                chunks = image_chunks(self._mtmd, fitted)
                prompt.chunk_lists.append(chunks)
                for index in range(mtmd_cpp.mtmd_input_chunks_size(chunks)):
                    chunk = mtmd_cpp.mtmd_input_chunks_get(chunks, index)
                    if (
                        mtmd_cpp.mtmd_input_chunk_get_type(chunk)
                        == mtmd_cpp.MTMD_INPUT_CHUNK_TYPE_TEXT
                    ):
                        count = ctypes.c_size_t()
                        tokens = mtmd_cpp.mtmd_input_chunk_get_tokens_text(
                            chunk, ctypes.byref(count)
                        )
                        prompt.parts.append([int(tokens[i]) for i in range(count.value)])
                    else:
                        prompt.parts.append(chunk)
                        tokens = int(mtmd_cpp.mtmd_input_chunk_get_n_tokens(chunk))
                        prompt.image_keys.append(ImageKey(digest, tokens))
            yield prompt
        finally:
            for chunks in prompt.chunk_lists:
                mtmd_cpp.mtmd_input_chunks_free(chunks)

    @contextmanager
    def _sized_prompt(
        self, conversation: Conversation, settings: GenerationSettings
    ) -> Iterator[TokenizedPrompt]:
        """:meth:`_prompt`, the context first grown where the prompt and the answer do not fit
        (up to ``_context_limit``; past it :meth:`_read` says what to do)."""
        with self._prompt(conversation, settings) as prompt:
            needed = len(prompt.ids(self._image_pad)) + settings.max_new_tokens + 1
            size = self._llm.n_ctx()
            if needed <= size or size >= self._context_limit:
                yield prompt
                return
        while size < needed and size < self._context_limit:
            size *= 2
        self._grow(min(size, self._context_limit))
        with self._prompt(conversation, settings) as prompt:
            yield prompt

    def _grow(self, size: int) -> None:
        """Open the model again with a ``size``-token context (the files are mapped, so this
        costs seconds, once); what memory held is gone."""
        from llama_cpp import mtmd_cpp

        current = self._llm.n_ctx()
        log.info("growing llama.cpp's context from %d to %d tokens", current, size)
        self._held = None
        mtmd_cpp.mtmd_free(self._mtmd)
        self._mtmd = None
        self._llm.close()
        self._llm = None
        try:
            self._llm, self._mtmd = _open(self.folder, size, self.threads)
        except ModelLoadError as exc:
            # Out of memory for the larger context, most likely: keep answering at the old size.
            log.warning("could not grow llama.cpp's context to %d tokens: %s", size, exc)
            self._llm, self._mtmd = _open(self.folder, current, self.threads)
            raise GenerationError(
                f"This question needs a {size:,}-token context and llama.cpp could not make "
                f"one ({exc}). Use a smaller image budget, fewer images or a new conversation."
            ) from None

    def prompt_token_ids(
        self, conversation: Conversation, settings: GenerationSettings | None = None
    ) -> list[int]:
        """The prompt's token ids, one ``<|image_pad|>`` per image token (for comparisons)."""
        with self._prompt(conversation, settings or GenerationSettings()) as prompt:
            return prompt.ids(self._image_pad)

    def _start(self, prompt: TokenizedPrompt, held: HeldSequence | None) -> HeldSequence:
        """llama.cpp's memory cut back to what ``prompt`` shares with ``held`` (emptied when
        nothing is shared or the memory cannot be cut there): what it then holds."""
        import llama_cpp

        llm = self._llm
        if held is not None:
            resume = held.resume(prompt.items())
            memory = llama_cpp.llama_get_memory(llm._ctx.ctx)
            # Linear-attention layers keep a running state that can only be cut at its end.
            if resume.items and llama_cpp.llama_memory_seq_rm(memory, 0, resume.position, -1):
                held.cut(resume.items)
                llm.n_tokens = resume.position
                log.debug("continuing from %d held tokens", resume.tokens)
                return held
        llm.reset()
        llm._ctx.kv_cache_clear()
        return HeldSequence()

    def _eval_text(self, tokens: list[int], held: HeldSequence) -> None:
        """Read ``tokens`` after what memory holds (``held`` follows it)."""
        self._llm.eval(tokens)
        held.add_tokens(tokens)

    def _eval_image(self, chunk: Any, key: ImageKey, held: HeldSequence) -> None:
        """Encode one image chunk with the projector and read it after what memory holds."""
        import llama_cpp
        from llama_cpp import mtmd_cpp

        llm = self._llm
        # Qwen's M-RoPE: an image takes fewer positions than tokens; llama.cpp says how many.
        position = llama_cpp.llama_pos(0)
        code = mtmd_cpp.mtmd_helper_eval_chunk_single(
            self._mtmd,
            llm._ctx.ctx,
            chunk,
            llama_cpp.llama_pos(llm.n_tokens),
            llama_cpp.llama_seq_id(0),
            llm.n_batch,
            False,
            ctypes.byref(position),
        )
        if code != 0:
            raise GenerationError(f"llama.cpp could not read the image (code {code}).")
        llm.n_tokens = position.value
        held.add(key, position.value)

    def _read(self, prompt: TokenizedPrompt, held: HeldSequence, cancel: threading.Event) -> bool:
        """Feed what memory does not hold yet of the prompt to llama.cpp; False when cancelled
        midway (``held`` then says how far it got)."""
        llm = self._llm
        total = len(prompt.ids(self._image_pad))
        if total >= llm.n_ctx():
            raise GenerationError(
                f"The question and images take {total} tokens; this model reads at most "
                f"{llm.n_ctx()}. Use a smaller image budget or fewer images."
            )
        skip = len(held)  # the prompt's first items, already held
        keys = iter(prompt.image_keys)
        for part in prompt.parts:
            if isinstance(part, list):
                rest, skip = part[skip:], max(0, skip - len(part))
                for start in range(0, len(rest), READ_BATCH):
                    if cancel.is_set():
                        return False
                    self._eval_text(rest[start : start + READ_BATCH], held)
                continue
            key = next(keys)
            if skip:
                skip -= 1
                continue
            if cancel.is_set():
                return False
            self._eval_image(part, key, held)
        return True

    def _logits(self) -> Any:
        import llama_cpp
        import numpy as np

        pointer = llama_cpp.llama_get_logits_ith(self._llm._ctx.ctx, -1)
        return np.ctypeslib.as_array(pointer, shape=(self._llm.n_vocab(),))

    # -----------------------------------------------------------------------------------------
    # Answers

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
        """Answer the last user turn, streaming text to ``on_text``; ``cancel`` is checked
        between tokens, prompt batches and images.

        With ``reuse_cache`` the prompt continues what llama.cpp's memory holds from the last
        answer (its prompt and the answer's tokens), up to where they part; without it the
        prompt is read from the start. Either way memory is left holding this answer for the
        next one; after an error it is emptied before the next answer.
        """
        if self._llm is None:
            raise GenerationError("The model has been unloaded.")
        settings = settings or GenerationSettings()
        cancel = cancel or threading.Event()
        started = time.perf_counter()
        new_ids: list[int] = []
        chunks: list[str] = []
        think = ThinkFilter() if self._thinking else None

        def emit(text: str) -> None:
            shown = think.feed(text) if think is not None else text
            if shown:
                chunks.append(shown)
                if on_text is not None:
                    on_text(shown)

        first_at: float | None = None
        reused = 0
        with self._sized_prompt(conversation, settings) as prompt:
            prompt_tokens = len(prompt.ids(self._image_pad))
            image_tokens = sum(prompt.image_tokens)
            if not cancel.is_set():
                # Taken: an error below leaves memory unknown, and the next answer reads afresh.
                kept, self._held = self._held, None
                held = self._start(prompt, kept if reuse_cache else None)
                reused = held.tokens
                if self._read(prompt, held, cancel):
                    picker = TokenPicker(
                        settings,
                        settings.sampling(self.recommended_sampling),
                        self._stop_ids,
                        history=prompt.ids(self._image_pad),
                    )
                    decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
                    # At the context's limit the answer ends there, as at max_new_tokens.
                    most = min(settings.max_new_tokens, self._llm.n_ctx() - held.tokens - 1)
                    while len(new_ids) < most and not cancel.is_set():
                        token = picker.pick(self._logits())
                        first_at = first_at or time.perf_counter()
                        new_ids.append(token)
                        if on_token is not None:
                            on_token(len(new_ids))
                        if token in self._stop_ids and not settings.ignore_eos:
                            break
                        # Control tokens come out empty, as transformers' skip_special_tokens.
                        emit(decoder.decode(self._llm.detokenize([token], special=False)))
                        if len(new_ids) < most:
                            self._eval_text([token], held)
                    emit(decoder.decode(b"", final=True))
                self._held = held
        if think is not None:
            emit(think.finish())
        return build_result(
            "".join(chunks),
            token_stop_reason(new_ids, self._stop_ids, settings, cancel),
            model=self.name,
            device="cpu",
            dtype=self.file_type,
            prompt_tokens=prompt_tokens,
            image_tokens=image_tokens,
            new_tokens=len(new_ids),
            started=started,
            first_token_at=first_at,
            finished=time.perf_counter(),
            sampling=self.sampling_figures(settings),
            thinking=self._thinking,
            reused_tokens=reused,
            extra={"token_ids": new_ids},
        )


def _open(folder: GgufFolder, context: int, threads: int) -> tuple[Any, Any]:
    """llama.cpp's model with a ``context``-token memory, and the projector bound to it."""
    import llama_cpp
    from llama_cpp import mtmd_cpp

    try:
        llm = llama_cpp.Llama(
            model_path=str(folder.model),
            n_ctx=context,
            n_batch=READ_BATCH,
            n_ubatch=READ_BATCH,
            n_threads=threads,
            n_threads_batch=threads,
            n_gpu_layers=0,
            verbose=False,
        )
    except (ValueError, RuntimeError) as exc:
        raise ModelLoadError(f"llama.cpp could not load {folder.model.name}: {exc}") from exc
    # The projector logs every image to stderr unless routed through llama-cpp-python's
    # logger, which Llama(verbose=False) has set to errors only.
    from llama_cpp._logger import llama_log_callback

    mtmd_cpp.mtmd_log_set(llama_log_callback, ctypes.c_void_p(0))
    mtmd_cpp.mtmd_helper_log_set(llama_log_callback, ctypes.c_void_p(0))
    params = mtmd_cpp.mtmd_context_params_default()
    params.use_gpu = False
    params.n_threads = threads
    params.print_timings = False
    # vldesk has already fitted each image to the user's budget: the projector's own limits
    # (8 to 4,096 tokens for Qwen) must not resize it again.
    params.image_min_tokens = MIN_IMAGE_TOKENS
    params.image_max_tokens = MAX_IMAGE_TOKENS
    mtmd = mtmd_cpp.mtmd_init_from_file(str(folder.projector).encode(), llm.model, params)
    if not mtmd:
        llm.close()
        raise ModelLoadError(f"llama.cpp could not load the projector {folder.projector.name}.")
    return llm, mtmd


def as_engine(engine: LlamaCppEngine) -> Engine:
    """``engine`` typed as the protocol: mypy checks here that it is one."""
    return engine
