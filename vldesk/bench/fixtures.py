"""What the benchmark runs on: random-weight models of real architectures and a folder of photos."""

from __future__ import annotations

import json
import logging
import shutil
from pathlib import Path
from typing import Any

from vldesk.core.models.catalog import Family

log = logging.getLogger(__name__)

#: Photos in the benchmark folder: a 2 MP camera picture scaled for the web. At the
#: processor's own budget this is about 1850 visual tokens; phone photos (12 MP) give 12k.
DEFAULT_PHOTO_SIZE = (1600, 1200)
#: Marks a finished model folder: a build that was interrupted is built again.
_DONE = ".vldesk-bench-complete"


def reduced_config(config: dict[str, Any], family: Family, layers: int) -> dict[str, Any]:
    """``config`` with ``layers`` text layers and vision blocks (quick runs); widths are kept,
    so per-layer costs stay real. Deepstack and full-attention indexes are clipped to fit."""
    config = json.loads(json.dumps(config))
    text = config if family is Family.QWEN2_5_VL else config["text_config"]
    vision = config["vision_config"]
    text["num_hidden_layers"] = layers
    vision["depth"] = layers
    if family is Family.QWEN2_5_VL:
        text["max_window_layers"] = min(int(text.get("max_window_layers", layers)), layers)
        vision["fullatt_block_indexes"] = [layers - 1]
    if family is Family.QWEN3_VL:
        # Not into the last layer: llama.cpp (bench --peer) cannot add deepstack features there.
        vision["deepstack_visual_indexes"] = list(range(min(layers - 1, 3)))
    if family is Family.QWEN3_5:
        interval = int(text.get("full_attention_interval", 4))
        text["layer_types"] = [
            "full_attention" if (i + 1) % interval == 0 or i == layers - 1 else "linear_attention"
            for i in range(layers)
        ]
    return config


def model_folder(family: Family, root: Path, layers: int | None = None) -> Path:
    """A random-weight model of ``family``'s real catalog config (with ``layers`` layers if
    given) in ``root``, built once and reused: building a 2B model takes about a minute."""
    from vldesk.bench.synthetic import REAL_MODEL_NAMES, build_model_folder, real_config

    name = REAL_MODEL_NAMES[family] + (f"-{layers}layers" if layers else "")
    folder = root / name
    if (folder / _DONE).is_file():
        return folder
    if folder.exists():
        shutil.rmtree(folder)
    config = real_config(family)
    if layers:
        config = reduced_config(config, family, layers)
    log.info("building %s with random weights in %s", name, folder)
    build_model_folder(family, folder, config)
    (folder / _DONE).write_text("ok\n", encoding="utf-8")
    return folder


def make_photo(path: Path, size: tuple[int, int], seed: int) -> Path:
    """A photo-like JPEG: smooth colour fields, shapes, edges and grain, so it decodes and
    compresses like a camera picture (content does not change how fast a model runs)."""
    import random

    from PIL import Image, ImageDraw, ImageFilter

    rng = random.Random(seed)
    width, height = size
    small = Image.new("RGB", (16, 12))
    small.putdata([tuple(rng.randrange(256) for _ in range(3)) for _ in range(16 * 12)])
    image = small.resize(size, Image.Resampling.BICUBIC)
    draw = ImageDraw.Draw(image)
    for _ in range(24):
        x, y = rng.randrange(width), rng.randrange(height)
        r = rng.randrange(max(8, width // 40), max(9, width // 6))
        colour = tuple(rng.randrange(256) for _ in range(3))
        if rng.random() < 0.5:
            draw.ellipse((x - r, y - r, x + r, y + r), fill=colour)
        else:
            draw.rectangle((x - r, y - r // 2, x + r, y + r // 2), fill=colour)
    image = image.filter(ImageFilter.GaussianBlur(1))
    grain = Image.effect_noise(size, 24).convert("RGB")
    image = Image.blend(image, grain, 0.08)
    path.parent.mkdir(parents=True, exist_ok=True)
    image.save(path, "JPEG", quality=90)
    return path


def photo_folder(root: Path, count: int, size: tuple[int, int] = DEFAULT_PHOTO_SIZE) -> Path:
    """``count`` photos of ``size`` in a folder of their own (reused when already there)."""
    folder = root / f"photos-{size[0]}x{size[1]}"
    for index in range(count):
        path = folder / f"photo-{index:03d}.jpg"
        if not path.is_file():
            make_photo(path, size, seed=index)
    return folder


def photos(folder: Path, count: int) -> list[Path]:
    return sorted(folder.glob("photo-*.jpg"))[:count]
