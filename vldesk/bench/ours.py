"""vldesk's own path, timed: the engine with its defaults, one image and a batched folder."""

from __future__ import annotations

import itertools
import statistics
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from vldesk.bench.memory import activation_bytes, memory_check
from vldesk.bench.spec import PhaseSpec, median_of, rate
from vldesk.bench.system import LoadMeter, wait_for_quiet
from vldesk.core.generation import Conversation, GenerationSettings
from vldesk.core.images import LoadedImage, fit_to_token_budget, load_image
from vldesk.core.inference.engine import Engine
from vldesk.core.inference.memory import peak_resident_bytes, resident_bytes


def _load_engine(spec: PhaseSpec) -> tuple[Engine, dict[str, Any]]:
    """Load the engine as the app does and describe it."""
    import torch

    # Imported before the runtime's memory is measured: the model classes' code is runtime.
    from transformers import AutoModelForImageTextToText, AutoProcessor  # noqa: F401

    from vldesk.core.inference.engine import LoadRequest, load_engine

    rss_before = resident_bytes()
    start = time.perf_counter()
    request = LoadRequest(
        model_dir=Path(spec.model_dir),
        name=spec.model_name,
        device=spec.device,
        dtype=spec.dtype,
        weights=spec.weights,
    )
    engine = load_engine(request)
    ready = time.time()
    placement, figures = engine.placement, engine.figures()
    info: dict[str, Any] = {
        "engine": placement.backend,
        "device": placement.device,
        "dtype": placement.dtype,
        "weights": placement.weights,
        "device_reason": placement.reason,
        "threads": torch.get_num_threads(),
        "load_s": time.perf_counter() - start,
        "start_to_ready_s": ready - spec.started_at if spec.started_at else None,
        "params": figures.get("parameters"),
        # Quantized layers keep scales (and int4 its values a second time) beside the weight.
        "weights_bytes": figures.get("weights_bytes"),
        "decode_bytes_per_token": figures.get("decode_bytes_per_token"),
        "cpu_kernels": figures.get("cpu_kernels"),
        "rss_before_load_bytes": rss_before,
        "rss_ready_bytes": resident_bytes(),
    }
    return engine, info


def _activations(engine: Engine, image_tokens: int, prompt_tokens: int) -> int | None:
    """The activation estimate from the engine's config sizes; ``None`` where it gives none."""
    figures = engine.figures()
    sizes, dtype_bytes = figures.get("config_sizes"), figures.get("dtype_bytes")
    if not isinstance(sizes, Mapping) or not isinstance(dtype_bytes, int):
        return None
    return activation_bytes(sizes, image_tokens, prompt_tokens, dtype_bytes)


def _prepared(path: Path, factor: int, max_tokens: int) -> LoadedImage:
    """Decode (JPEG draft mode) and resize to the budget, as the batch runner does off-thread."""
    loaded = load_image(path, draft_pixels=max_tokens * factor * factor)
    resized = fit_to_token_budget(loaded, factor, max_tokens)
    return LoadedImage(resized, loaded.source, loaded.original_size, loaded.format)


#: The follow-up the interactive phase asks about the photo (it continues the kept cache).
FOLLOW_UP_PROMPT = "What is in the top left corner?"


def _one_answer(
    engine: Engine,
    image: LoadedImage,
    spec: PhaseSpec,
    *,
    conversation: Conversation | None = None,
    keep_cache: bool = False,
) -> tuple[dict[str, Any], str]:
    """One question about ``image`` (or ``conversation``'s last one) with a fixed answer length:
    its figures and its answer. Per-token times give a decode rate that a burst of load from
    other processes hardly moves (the median step). ``keep_cache`` keeps the answer's cache for
    a follow-up; without it every question reads the image afresh, as a first question does."""
    settings = GenerationSettings(
        max_new_tokens=spec.new_tokens, ignore_eos=True, max_image_tokens=spec.max_image_tokens
    )
    stamps: list[float] = []
    quiet = wait_for_quiet(timeout=spec.quiet_wait_s)
    meter = LoadMeter().start()
    result = engine.generate(
        conversation or Conversation().ask(spec.prompt, [image]),
        settings,
        on_token=lambda _count: stamps.append(time.perf_counter()),
        reuse_cache=keep_cache,
    )
    steps = [b - a for a, b in itertools.pairwise(stamps)]
    stats = result.stats
    figures = {
        "image_tokens": stats.image_tokens,
        "prompt_tokens": stats.prompt_tokens,
        "new_tokens": stats.new_tokens,
        "time_to_first_token_s": stats.time_to_first_token_s,
        "decode_tokens_per_s": stats.decode_tokens_per_s,
        "decode_tokens_per_s_median_step": 1 / statistics.median(steps) if steps else 0.0,
        "total_s": stats.total_s,
        "reused_tokens": stats.reused_tokens,
        "other_load_before": quiet,
        "other_load": meter.stop(),
    }
    return figures, result.text


def run_interactive(spec: PhaseSpec) -> dict[str, Any]:
    """Load the model, warm up, then answer about a photo at the default image budget and
    about a 1024x1024 image: time to first token, decode rate, peak memory."""
    from PIL import Image

    engine, info = _load_engine(spec)
    factor = engine.capabilities.patch_factor
    warm = Image.new("RGB", (64, 64), (120, 90, 60))
    # The first call builds kernels and caches; the measured calls are the second and later.
    warm_settings = GenerationSettings(max_new_tokens=2, ignore_eos=True)
    warm_start = time.perf_counter()
    warm_image = LoadedImage(warm, "warm-up", warm.size)
    engine.generate(Conversation().ask("Hi", [warm_image]), warm_settings)
    info["warm_up_s"] = time.perf_counter() - warm_start
    info["rss_warm_bytes"] = resident_bytes()
    cases: dict[str, str | None] = {
        "photo": spec.photos[0] if spec.photos else None,
        "square_1024": spec.square_image,
    }
    results: dict[str, Any] = {}
    for case, path in cases.items():
        if path is None:
            continue
        decode_start = time.perf_counter()
        image = _prepared(Path(path), factor, spec.max_image_tokens)
        decoded_s = time.perf_counter() - decode_start
        follow_up = case == "photo"
        answered = [
            _one_answer(engine, image, spec, keep_cache=follow_up and run == spec.repeats - 1)
            for run in range(spec.repeats)
        ]
        runs = [figures for figures, _answer in answered]
        results[case] = {
            **median_of(runs),
            "image": Path(path).name,
            "image_size": list(image.original_size),
            "image_decode_s": decoded_s,
        }
        if follow_up:
            # A second question about the photo continues the first answer's cache.
            asked = Conversation().ask(spec.prompt, [image]).answered(answered[-1][1])
            results["photo_follow_up"], _answer = _one_answer(
                engine, image, spec, conversation=asked.ask(FOLLOW_UP_PROMPT), keep_cache=True
            )
    peak = peak_resident_bytes()
    largest = max(results.values(), key=lambda r: r["image_tokens"], default=None)
    if largest is not None and peak is not None and info["rss_before_load_bytes"] is not None:
        activations = _activations(
            engine, int(largest["image_tokens"]), int(largest["prompt_tokens"]) + spec.new_tokens
        )
        if activations is not None and isinstance(info["weights_bytes"], int):
            info["memory"] = memory_check(
                info["weights_bytes"], activations, peak - info["rss_before_load_bytes"]
            )
    engine.unload()
    # The bandwidth right after decoding, in the same process (after the peak was read): on a
    # shared machine the decode ceiling must come from the same conditions as the decode.
    from vldesk.bench.ceiling import measure_bandwidth

    bandwidth = measure_bandwidth(min(spec.ceiling_bytes, 1024**3))
    info["read_gbs_after_decode"] = bandwidth["read_gbs"]
    return {**info, "cases": results, "peak_rss_bytes": peak}


def run_batch(spec: PhaseSpec) -> dict[str, Any]:
    """Caption a folder of the photos with the folder-batch runner (prefetch and resize on its
    own thread, ``generate_batch``, caption files and journal written): images per hour."""
    import shutil
    import tempfile

    from vldesk.core.batch.journal import BatchJob
    from vldesk.core.batch.options import BatchOptions, CaptionMode
    from vldesk.core.batch.runner import EMPTY_ANSWER, BatchEventKind, BatchProgress, BatchRunner

    engine, info = _load_engine(spec)
    factor = engine.capabilities.patch_factor
    settings = GenerationSettings(
        max_new_tokens=spec.caption_tokens, ignore_eos=True, max_image_tokens=spec.max_image_tokens
    )
    # Warm up on one image, as a real job's first batch would pay it; not counted.
    warm = _prepared(Path(spec.photos[0]), factor, spec.max_image_tokens)
    warm_settings = GenerationSettings(
        max_new_tokens=2, ignore_eos=True, max_image_tokens=spec.max_image_tokens
    )
    engine.generate_batch([Conversation().ask(spec.prompt, [warm])], warm_settings)
    batch_starts: list[float] = []
    failures: list[str] = []
    empty_answers: list[str] = []

    def on_progress(event: BatchProgress) -> None:
        if event.kind is BatchEventKind.BATCH_STARTED:
            batch_starts.append(time.perf_counter())
        elif event.kind is BatchEventKind.IMAGE_FAILED and event.error == EMPTY_ANSWER:
            # Random weights may answer only whitespace: the image went through the model all
            # the same (a real job reports it failed; for speed it counts).
            empty_answers.append(str(event.image))
        elif event.kind is BatchEventKind.IMAGE_FAILED:
            failures.append(f"{event.image}: {event.error}")

    with tempfile.TemporaryDirectory(prefix="vldesk-bench-batch-") as tmp:
        folder = Path(tmp) / "photos"
        folder.mkdir()
        for photo in spec.photos:
            shutil.copy2(photo, folder / Path(photo).name)
        options = BatchOptions(
            folder=folder,
            prompt=spec.prompt,
            model=spec.model_name,
            settings=settings,
            mode=CaptionMode.OVERWRITE,
        )
        job = BatchJob.create(options, jobs_dir=Path(tmp) / "jobs")
        try:
            runner = BatchRunner(
                engine, job, on_progress=on_progress, batch_size=max(1, spec.batch_size)
            )
            quiet = wait_for_quiet(timeout=spec.quiet_wait_s)
            meter = LoadMeter().start()
            start = time.perf_counter()
            summary = runner.run()
            end = time.perf_counter()
            elapsed = end - start
            load = meter.stop()
        finally:
            job.close()
    engine.unload()
    count = summary.captioned + len(empty_answers)
    return {
        **info,
        "runner": "vldesk.core.batch.runner.BatchRunner (Engine.generate_batch, prefetch thread)",
        "images": count,
        "failed": summary.failed - len(empty_answers),
        "empty_answers": len(empty_answers),
        "batch_size": runner.batch_size,
        "caption_tokens": spec.caption_tokens,
        "elapsed_s": elapsed,
        "seconds_per_image": elapsed / count if count else 0.0,
        "images_per_hour": rate(count, elapsed) * 3600,
        "batch_seconds": [b - a for a, b in itertools.pairwise([*batch_starts, end])],
        "failures": failures,
        "other_load_before": quiet,
        "other_load": load,
        "peak_rss_bytes": peak_resident_bytes(),
    }
