"""Peak memory of loading a model and reading one image, each precision and format in a fresh
process, beside the model manager's estimate (CPU, Linux)."""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

GB = 1e9


def _status_kib(field: str) -> int:
    """A field of /proc/self/status in KiB (``RssAnon``, ``RssFile``...), 0 where missing."""
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return 0


def _reading() -> dict[str, float]:
    from vldesk.core.inference.memory import peak_resident_bytes, resident_bytes

    return {
        "peak_gb": (peak_resident_bytes() or 0) / GB,
        "resident_gb": (resident_bytes() or 0) / GB,
        "anonymous_gb": _status_kib("RssAnon") * 1024 / GB,
        "file_pages_gb": _status_kib("RssFile") * 1024 / GB,
    }


def measure(folder: Path, dtype: str, weights: str, image_side: int) -> dict[str, Any]:
    """Load ``folder`` on the CPU in this process, then answer about one ``image_side`` square
    photo (image tokens: ``(side / 32) ** 2``) with two new tokens; memory after each."""
    from PIL import Image

    from vldesk.bench.fixtures import make_photo
    from vldesk.core.generation import Conversation, GenerationSettings
    from vldesk.core.images import LoadedImage
    from vldesk.core.inference.engine import LoadRequest, load_engine

    engine = load_engine(LoadRequest(folder, folder.name, "cpu", dtype, weights))
    loaded = _reading()
    photo = make_photo(Path(os.environ.get("TMPDIR", "/tmp")) / "load-memory.jpg", (1600, 1200), 0)
    image = Image.open(photo).convert("RGB").resize((image_side, image_side))
    tokens = (image_side // 32) ** 2
    settings = GenerationSettings(max_new_tokens=2, ignore_eos=True, max_image_tokens=tokens)
    result = engine.generate(
        Conversation().ask("Describe this photo.", [LoadedImage(image, "photo.jpg", image.size)]),
        settings,
    )
    answered = _reading()
    figures, placement = engine.figures(), engine.placement.describe()
    engine.unload()
    return {
        "dtype": dtype,
        "weights": weights,
        "placement": placement,
        "prompt_tokens": result.stats.prompt_tokens,
        "weights_bytes": figures.get("weights_bytes"),
        "cpu_kernels": figures.get("cpu_kernels"),
        "loaded": loaded,
        "answered": answered,
    }


def estimate(model_id: str, dtype: str, weights: str) -> float | None:
    """The model manager's estimate for ``model_id`` in the catalog, GB."""
    from vldesk.core.inference.cpu.quantized_weights import WeightFormat
    from vldesk.core.models.catalog import Precision, find_model

    spec = find_model(model_id)
    if spec is None:
        return None
    return spec.memory_needed_bytes(Precision(dtype), WeightFormat(weights)) / GB


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("folder", type=Path, help="a model folder (random weights, real size)")
    parser.add_argument("--catalog-id", default="", help="the catalog entry it stands for")
    parser.add_argument("--runs", nargs="+", default=["bfloat16:full"], help="DTYPE:WEIGHTS")
    parser.add_argument("--image-side", type=int, default=1024)
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        dtype, weights = args.runs[0].split(":")
        print(json.dumps(measure(args.folder, dtype, weights, args.image_side)))
        return 0
    for run in args.runs:
        dtype, weights = run.split(":")
        command = [sys.executable, __file__, str(args.folder), "--child"]
        command += ["--runs", run, "--image-side", str(args.image_side)]
        output = subprocess.run(command, check=True, capture_output=True, text=True).stdout
        figures = json.loads(output.strip().splitlines()[-1])
        figures["load_average"] = os.getloadavg()
        if args.catalog_id:
            figures["estimate_gb"] = estimate(args.catalog_id, dtype, weights)
        print(json.dumps(figures), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
