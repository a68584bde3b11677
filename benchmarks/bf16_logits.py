"""bf16 against float32 logits on a real-size random-weight model (run by hand, not a test).

    .venv/bin/python benchmarks/bf16_logits.py MODEL_DIR [--image-tokens N]

Loads the same folder twice (float32, then bfloat16 with vldesk's CPU kernels) and compares the
logits of every prompt position for one image: relative error and top-1 / top-5 agreement.
"""

from __future__ import annotations

import argparse
import gc
import json
import sys
from pathlib import Path


def main(argv: list[str]) -> int:
    import torch
    from PIL import Image

    from vldesk.core.generation import Conversation, GenerationSettings
    from vldesk.core.images import LoadedImage
    from vldesk.core.inference.transformers_engine import TransformersEngine

    parser = argparse.ArgumentParser()
    parser.add_argument("model_dir", type=Path)
    parser.add_argument("--image-tokens", type=int, default=256)
    args = parser.parse_args(argv)

    image = Image.effect_mandelbrot((640, 480), (-2.0, -1.2, 1.0, 1.2), 80).convert("RGB")
    conversation = Conversation().ask(
        "Describe this image in detail.", [LoadedImage(image, "mandelbrot", image.size)]
    )
    settings = GenerationSettings(max_image_tokens=args.image_tokens)
    logits = {}
    for dtype in ("float32", "bfloat16"):
        engine = TransformersEngine.load(args.model_dir, device="cpu", dtype=dtype)
        inputs = engine.prepare_inputs(conversation, settings)
        if dtype == "bfloat16":
            inputs = {
                k: v.to(torch.bfloat16) if v.is_floating_point() else v for k, v in inputs.items()
            }
        with torch.inference_mode():
            logits[dtype] = engine.model(**inputs).logits[0].float()
        engine.unload()
        del engine
        gc.collect()
    exact, fast = logits["float32"], logits["bfloat16"]
    error = (exact - fast).abs()
    top5 = fast.topk(5, dim=-1).indices
    report = {
        "positions": exact.shape[0],
        "max_abs_error": error.max().item(),
        "max_abs_logit": exact.abs().max().item(),
        "relative_max_error": error.max().item() / exact.abs().max().item(),
        "mean_abs_error_over_logit_std": error.mean().item() / exact.std().item(),
        "top1_agreement": (exact.argmax(-1) == fast.argmax(-1)).float().mean().item(),
        "fp32_top1_in_bf16_top5": (top5 == exact.argmax(-1, keepdim=True))
        .any(-1)
        .float()
        .mean()
        .item(),
    }
    print(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
