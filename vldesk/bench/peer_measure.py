"""One side of the peer comparison, measured in a fresh process: llama.cpp, or vldesk with either
of its CPU engines (transformers, or its own llama.cpp engine on the same GGUF file)."""

from __future__ import annotations

import os
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from vldesk.core.errors import VldeskError
from vldesk.core.inference.engine import Engine


@dataclass(frozen=True)
class PeerSpec:
    """One measurement in one fresh process: plain data, passed as JSON."""

    engine: str  # "vldesk", "llama.cpp" or "vldesk-llama.cpp" (vldesk's engine on the GGUF)
    weights: str  # vldesk: full/int8/int4; llama.cpp: F16/Q8_0/Q4_K_M
    model_dir: str  # the model folder; for vldesk-llama.cpp the GGUF files' folder
    gguf: str | None = None
    mmproj: str | None = None
    square_image: str | None = None
    prompt_tokens: int = 1000
    new_tokens: int = 32
    threads: int = 0


def prompt_ids(count: int, vocab: int, seed: int = 7) -> list[int]:
    """``count`` ordinary token ids (the same for both engines; speed does not depend on them)."""
    import random

    pick = random.Random(seed)
    high = min(vocab, 150_000)
    return [pick.randrange(min(1000, high // 2), high) for _ in range(count)]


def _steps_rate(stamps: Sequence[float]) -> float:
    import itertools
    import statistics

    steps = [b - a for a, b in itertools.pairwise(stamps)]
    return 1 / statistics.median(steps) if steps else 0.0


def measure_llama_cpp(spec: PeerSpec) -> dict[str, Any]:
    import llama_cpp

    from vldesk.core.inference.memory import peak_resident_bytes

    threads = spec.threads or os.cpu_count() or 1
    started = time.perf_counter()
    llm = llama_cpp.Llama(
        model_path=spec.gguf,
        n_ctx=spec.prompt_tokens + 2 * spec.new_tokens + 1536,
        n_batch=512,
        n_ubatch=512,
        n_threads=threads,
        n_threads_batch=threads,
        verbose=False,
    )
    figures: dict[str, Any] = {"load_s": time.perf_counter() - started, "threads": threads}
    ids = prompt_ids(spec.prompt_tokens + 1, llm.n_vocab())

    def decode(count: int) -> float:
        stamps = []
        for token in prompt_ids(count, llm.n_vocab(), seed=11):
            llm.eval([token])
            stamps.append(time.perf_counter())
        return _steps_rate(stamps)

    llm.reset()
    llm.eval(ids[:1])
    figures["decode_empty_tokens_per_s"] = decode(spec.new_tokens)
    llm.reset()
    llm._ctx.kv_cache_clear()
    start = time.perf_counter()
    llm.eval(ids[: spec.prompt_tokens])
    figures["prefill_tokens"] = spec.prompt_tokens
    figures["prefill_tokens_per_s"] = spec.prompt_tokens / (time.perf_counter() - start)
    figures["decode_cached_tokens_per_s"] = decode(spec.new_tokens)
    if spec.mmproj and spec.square_image:
        figures.update(_llama_cpp_image(llm, spec, threads))
    figures["peak_rss_bytes"] = peak_resident_bytes()
    return figures


def _llama_cpp_image(llm: Any, spec: PeerSpec, threads: int) -> dict[str, Any]:
    """Projector encode and encode + prompt to the first token for one image, as llama.cpp's
    multimodal helper does it."""
    import ctypes

    import llama_cpp
    from llama_cpp import mtmd_cpp

    params = mtmd_cpp.mtmd_context_params_default()
    params.use_gpu = False
    params.n_threads = threads
    params.print_timings = False
    context = mtmd_cpp.mtmd_init_from_file(str(spec.mmproj).encode(), llm.model, params)
    if context is None:
        raise VldeskError("llama.cpp could not load the vision projector.")
    data = Path(str(spec.square_image)).read_bytes()
    buffer = (ctypes.c_uint8 * len(data)).from_buffer(bytearray(data))
    bitmap = mtmd_cpp.mtmd_helper_bitmap_init_from_buf(context, buffer, len(data), False)
    text = mtmd_cpp.mtmd_input_text()
    prompt = f"<|im_start|>user\n{mtmd_cpp.mtmd_default_marker().decode()}"
    prompt += "Describe this image.<|im_end|>\n<|im_start|>assistant\n"
    encoded = prompt.encode()
    text.text, text.text_len = encoded, len(encoded)
    text.add_special, text.parse_special = True, True
    chunks = mtmd_cpp.mtmd_input_chunks_init()
    bitmaps = (mtmd_cpp.mtmd_bitmap_p_ctypes * 1)(bitmap)
    if mtmd_cpp.mtmd_tokenize(context, chunks, ctypes.byref(text), bitmaps, 1) != 0:
        raise VldeskError("llama.cpp could not tokenize the image prompt.")
    figures: dict[str, Any] = {}
    for index in range(mtmd_cpp.mtmd_input_chunks_size(chunks)):
        chunk = mtmd_cpp.mtmd_input_chunks_get(chunks, index)
        if mtmd_cpp.mtmd_input_chunk_get_type(chunk) == mtmd_cpp.MTMD_INPUT_CHUNK_TYPE_IMAGE:
            figures["image_tokens"] = int(mtmd_cpp.mtmd_input_chunk_get_n_tokens(chunk))
            start = time.perf_counter()
            mtmd_cpp.mtmd_encode_chunk(context, chunk)
            figures["image_encode_s"] = time.perf_counter() - start
    llm.reset()
    llm._ctx.kv_cache_clear()
    past = llama_cpp.llama_pos(0)
    start = time.perf_counter()
    code = mtmd_cpp.mtmd_helper_eval_chunks(
        context, llm._ctx.ctx, chunks, 0, 0, llm.n_batch, True, ctypes.byref(past)
    )
    figures["image_first_token_s"] = time.perf_counter() - start
    if code != 0:
        raise VldeskError(f"llama.cpp could not read the image prompt (code {code}).")
    mtmd_cpp.mtmd_input_chunks_free(chunks)
    mtmd_cpp.mtmd_bitmap_free(bitmap)
    mtmd_cpp.mtmd_free(context)
    return figures


def _text_of(engine: Engine, tokens: int) -> Any:
    """A question whose prompt (chat template included) is about ``tokens`` tokens long."""
    from vldesk.core.generation import Conversation, GenerationSettings

    words = [
        "the",
        "quick",
        "brown",
        "fox",
        "jumps",
        "over",
        "a",
        "lazy",
        "dog",
        "near",
        "seven",
        "old",
        "river",
        "banks",
    ]
    # One new token: the answer's figures count the prompt the chat template made.
    settings = GenerationSettings(max_new_tokens=1, ignore_eos=True)

    def conversation(count: int) -> Any:
        return Conversation().ask(" ".join(words[i % len(words)] for i in range(count)))

    def length(count: int) -> int:
        answer = engine.generate(conversation(count), settings, reuse_cache=False)
        return answer.stats.prompt_tokens

    # Words are not tokens one to one (a word can take several): scale by the tokens per word.
    base = length(1)
    guess, found = tokens, length(tokens)
    for _ in range(3):
        if found == tokens or found <= base:
            break
        guess = max(1, 1 + round((tokens - base) * (guess - 1) / (found - base)))
        found = length(guess)
    return conversation(guess)


def measure_vldesk(spec: PeerSpec) -> dict[str, Any]:
    """vldesk's transformers engine on the model folder, at ``spec.weights``."""
    import torch

    from vldesk.core.inference.engine import LoadRequest, load_engine

    if spec.threads:
        torch.set_num_threads(spec.threads)
    started = time.perf_counter()
    model_dir = Path(spec.model_dir)
    request = LoadRequest(model_dir, name=model_dir.name, device="cpu", weights=spec.weights)
    engine = load_engine(request)
    figures: dict[str, Any] = {
        "load_s": time.perf_counter() - started,
        "threads": torch.get_num_threads(),
        "dtype": engine.placement.dtype,
    }
    return {**figures, **_measure_engine(engine, spec)}


def measure_vldesk_llama_cpp(spec: PeerSpec) -> dict[str, Any]:
    """vldesk's own llama.cpp engine (what ``--engine auto`` picks on AVX2 CPUs) on the GGUF
    folder, at ``spec.weights``: llama.cpp plus vldesk's templating, sampling and resizing."""
    from vldesk.core.inference.llamacpp.engine import LlamaCppEngine

    started = time.perf_counter()
    engine = LlamaCppEngine.load(
        Path(spec.model_dir), weights=spec.weights, threads=spec.threads or None
    )
    figures: dict[str, Any] = {
        "load_s": time.perf_counter() - started,
        "threads": engine.threads,
        "dtype": engine.file_type,
    }
    return {**figures, **_measure_engine(engine, spec)}


def _measure_engine(engine: Engine, spec: PeerSpec) -> dict[str, Any]:
    """The figures llama.cpp gets, through the engine's ``generate`` as the app calls it."""
    from vldesk.core.generation import Conversation, GenerationSettings
    from vldesk.core.images import load_image
    from vldesk.core.inference.memory import peak_resident_bytes

    figures: dict[str, Any] = {}
    settings = GenerationSettings(max_new_tokens=spec.new_tokens, ignore_eos=True)

    def run(conversation: Any) -> Any:
        stamps: list[float] = []
        result = engine.generate(
            conversation,
            settings,
            on_token=lambda _count: stamps.append(time.perf_counter()),
            reuse_cache=False,
        )
        return result.stats, _steps_rate(stamps)

    run(Conversation().ask("Hi"))  # warm-up: kernels and caches are built on the first call
    short, figures["decode_empty_tokens_per_s"] = run(Conversation().ask("Hi"))
    long, figures["decode_cached_tokens_per_s"] = run(_text_of(engine, spec.prompt_tokens))
    figures["short_prompt_tokens"] = short.prompt_tokens
    figures["prefill_tokens"] = long.prompt_tokens
    figures["prefill_tokens_per_s"] = long.prompt_tokens / long.time_to_first_token_s
    if spec.square_image:
        image = load_image(Path(spec.square_image))
        answer = engine.generate(
            Conversation().ask("Describe this image.", [image]),
            GenerationSettings(max_new_tokens=1, ignore_eos=True),
            reuse_cache=False,
        )
        figures["image_tokens"] = answer.stats.image_tokens
        figures["image_first_token_s"] = answer.stats.time_to_first_token_s
    figures["peak_rss_bytes"] = peak_resident_bytes()
    return figures
