"""The plain way seed scripts caption images, timed: the reference for every ratio.

float32 on CPU (float16 on a GPU), the processor's own pixel budget, ``generate`` on one image at
a time, torch's default threads and dynamic cache. Nothing here uses the engine.
"""

from __future__ import annotations

import gc
import itertools
import statistics
import time
from pathlib import Path
from typing import Any

from vldesk.bench.spec import PhaseSpec, rate
from vldesk.bench.system import LoadMeter, wait_for_quiet
from vldesk.core.inference.memory import peak_resident_bytes, resident_bytes


class _Clock:
    """A stopping criterion that never stops and notes when each new token appears."""

    def __init__(self) -> None:
        self.stamps: list[float] = []

    def __call__(self, input_ids: Any, scores: Any, **kwargs: Any) -> Any:
        import torch

        self.stamps.append(time.perf_counter())
        return torch.zeros(input_ids.shape[0], dtype=torch.bool, device=input_ids.device)


def _load(spec: PhaseSpec) -> tuple[Any, Any, str]:
    import torch
    from transformers import AutoModelForImageTextToText

    from vldesk.core.inference.processor_loading import load_processor, torchvision_usable

    torchvision_usable()
    device = "cuda:0" if torch.cuda.is_available() else "cpu"
    dtype = torch.float16 if device != "cpu" else torch.float32
    model = AutoModelForImageTextToText.from_pretrained(
        spec.model_dir, dtype=dtype, local_files_only=True, use_safetensors=True
    ).to(device)
    model.eval()
    # The processor exactly as shipped: its default pixel budget, no resizing beforehand.
    processor = load_processor(Path(spec.model_dir))
    return model, processor, device


def _caption(model: Any, processor: Any, device: str, path: str, spec: PhaseSpec) -> dict[str, Any]:
    import torch
    from PIL import Image
    from transformers import StoppingCriteriaList

    start = time.perf_counter()
    with Image.open(path) as file:
        image = file.convert("RGB")
    messages = [
        {
            "role": "user",
            "content": [{"type": "image", "image": image}, {"type": "text", "text": spec.prompt}],
        }
    ]
    inputs = processor.apply_chat_template(
        messages, add_generation_prompt=True, tokenize=True, return_dict=True, return_tensors="pt"
    ).to(device)
    clock = _Clock()
    with torch.no_grad():
        output = model.generate(
            **inputs,
            max_new_tokens=spec.caption_tokens,
            min_new_tokens=spec.caption_tokens,
            do_sample=False,
            stopping_criteria=StoppingCriteriaList([clock]),
        )
    finished = time.perf_counter()
    processor.batch_decode(output[:, inputs["input_ids"].shape[1] :], skip_special_tokens=True)
    steps = [b - a for a, b in itertools.pairwise(clock.stamps)]
    first = clock.stamps[0] if clock.stamps else finished
    image_token = int(model.config.image_token_id)
    return {
        "image_tokens": int((inputs["input_ids"] == image_token).sum()),
        "prompt_tokens": int(inputs["input_ids"].shape[1]),
        "time_to_first_token_s": first - start,
        "decode_tokens_per_s": rate(len(steps), finished - first),
        "decode_tokens_per_s_median_step": 1 / statistics.median(steps) if steps else 0.0,
        "total_s": finished - start,
    }


def run_baseline(spec: PhaseSpec) -> dict[str, Any]:
    """Caption ``spec.photos`` one by one the plain way: images per hour and per-image figures."""
    import torch

    # Imported before the runtime's memory is measured: the model classes' code is runtime.
    from transformers import AutoModelForImageTextToText, AutoProcessor  # noqa: F401

    rss_before = resident_bytes()
    load_start = time.perf_counter()
    model, processor, device = _load(spec)
    ready = time.time()
    load_s = time.perf_counter() - load_start
    quiet = wait_for_quiet(timeout=spec.quiet_wait_s)
    meter = LoadMeter().start()
    start = time.perf_counter()
    images = [_caption(model, processor, device, path, spec) for path in spec.photos]
    elapsed = time.perf_counter() - start
    first = images[0] if images else {}
    load = meter.stop()
    dtype = str(model.dtype).removeprefix("torch.")
    weights = sum(p.numel() * p.element_size() for p in model.parameters())
    del model, processor
    gc.collect()
    return {
        "device": device,
        "dtype": dtype,
        "threads": torch.get_num_threads(),
        "load_s": load_s,
        "start_to_ready_s": ready - spec.started_at if spec.started_at else None,
        "weights_bytes": weights,
        "rss_before_load_bytes": rss_before,
        "images": len(images),
        "caption_tokens": spec.caption_tokens,
        "elapsed_s": elapsed,
        "seconds_per_image": elapsed / len(images) if images else 0.0,
        "images_per_hour": rate(len(images), elapsed) * 3600,
        "per_image": images,
        "photo": first,
        "other_load_before": quiet,
        "other_load": load,
        "peak_rss_bytes": peak_resident_bytes(),
    }
