"""Shared setup of the batch tests: picture folders, job options, running a job to the end."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from PIL import Image, ImageDraw

from vldesk.core.batch import (
    BatchJob,
    BatchOptions,
    BatchProgress,
    BatchRunner,
    BatchSummary,
    ImageStatus,
)
from vldesk.core.batch.journal import read_journal
from vldesk.core.generation import GenerationSettings
from vldesk.core.images import LoadedImage
from vldesk.core.inference.engine import Engine
from vldesk.core.models.catalog import Family

SETTINGS = GenerationSettings(max_new_tokens=6, max_image_tokens=32)
GOOD = ("a.png", "b.png", "c.jpg", "d.png", "sub/deeper/e.webp", "子目录/猫 photo.png")
BAD = ("corrupt.png", "empty.png", "truncated.jpg")
SIZES = ((64, 64), (96, 64), (64, 128), (200, 100))


def lively_model_dir(tmp_path_factory: pytest.TempPathFactory, family: Family) -> Path:
    """A tiny model whose larger random weights make captions depend on the image.

    The shared tiny models (initializer range 0.02) answer every image with the same repeated
    token, which would make caption comparisons meaningless. Built once per test session.
    """
    from vldesk.bench.synthetic import build_model_folder, tiny_config

    folder = tmp_path_factory.getbasetemp() / "batch-lively-models" / family.value
    if not (folder / "built").is_file():
        config = tiny_config(family)
        for section in (config, config.get("text_config"), config.get("vision_config")):
            if isinstance(section, dict):
                section["initializer_range"] = 0.2
        build_model_folder(family, folder, config, seed=1)
        (folder / "built").touch()
    return folder


def distinct_pictures() -> list[LoadedImage]:
    """Three small pictures that differ in size and colour, for answers that differ."""
    pictures = []
    for index, size in enumerate([(64, 64), (96, 64), (64, 128)]):
        image = Image.new("RGB", size, (index * 80 % 256, 200 - index * 50, 90))
        ImageDraw.Draw(image).ellipse((4, 4, size[0] // 2, size[1] - 4), fill=(250, 20, index))
        pictures.append(LoadedImage(image, f"p{index}.png", size))
    return pictures


def picture(path: Path, size: tuple[int, int], seed: int) -> None:
    image = Image.new("RGB", size, (seed * 37 % 256, seed * 91 % 256, seed * 53 % 256))
    draw = ImageDraw.Draw(image)
    draw.rectangle((0, 0, size[0] // 2, size[1] // 3), fill=(255 - seed * 20, 10, 60))
    draw.ellipse((size[0] // 3, size[1] // 3, size[0] - 2, size[1] - 2), fill=(0, seed * 30, 200))
    path.parent.mkdir(parents=True, exist_ok=True)
    image.save(path)


def make_tree(folder: Path) -> Path:
    """Good images of several sizes, nested and unicode names, broken files and non-images."""
    for index, name in enumerate(GOOD):
        picture(folder / name, SIZES[index % len(SIZES)], index + 1)
    (folder / "corrupt.png").write_bytes(b"this is not a PNG at all")
    (folder / "empty.png").write_bytes(b"")
    jpeg = folder / "tmp.jpg"
    picture(jpeg, (120, 90), 9)
    data = jpeg.read_bytes()
    jpeg.unlink()
    (folder / "truncated.jpg").write_bytes(data[: len(data) // 2])
    (folder / "notes.md").write_text("not an image", encoding="utf-8")
    (folder / "b.txt").write_text("an existing caption", encoding="utf-8")
    return folder


def options_for(folder: Path, **changes: Any) -> BatchOptions:
    base: dict[str, Any] = {
        "folder": folder,
        "prompt": "Describe this image.",
        "model": "lively",
        "settings": SETTINGS,
        "recursive": True,
    }
    return BatchOptions(**{**base, **changes})


def run_job(
    engine: Engine,
    options: BatchOptions,
    *,
    jobs_dir: Path,
    resume: bool = False,
    retry_failed: bool = False,
    also: Callable[[BatchProgress], None] | None = None,
    **runner_args: Any,
) -> tuple[BatchSummary, list[BatchProgress], dict[str, str]]:
    """Run a job; returns the summary, the events and each image's latest caption or error."""
    events: list[BatchProgress] = []

    def on_progress(event: BatchProgress) -> None:
        events.append(event)
        if also is not None:
            also(event)

    opener = BatchJob.resume if resume else BatchJob.create
    with opener(options, jobs_dir=jobs_dir) as job:
        runner = BatchRunner(engine, job, on_progress=on_progress, **runner_args)
        summary = runner.run(retry_failed=retry_failed)
        outcome = {
            image: r.caption if r.status is not ImageStatus.FAILED else f"FAILED {r.error}"
            for image, r in job.state.results.items()
        }
    return summary, events, outcome


def result_records(jobs_dir: Path, options: BatchOptions) -> list[dict[str, Any]]:
    records, _ = read_journal(jobs_dir / options.job_id() / "journal.jsonl")
    return [r for r in records if r["kind"] == "result"]
