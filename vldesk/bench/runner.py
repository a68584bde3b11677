"""Run the whole benchmark: build or find the model, run each phase, summarize, write JSON."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from vldesk.bench.fixtures import DEFAULT_PHOTO_SIZE, make_photo, model_folder, photo_folder, photos
from vldesk.bench.report import BUSY_LOAD, phase_load, summarize
from vldesk.bench.spec import PhaseSpec
from vldesk.core.generation import DEFAULT_IMAGE_TOKENS
from vldesk.core.models.catalog import Family

ALL_PHASES = ("ceiling", "interactive", "batch", "baseline", "startup")
_TITLES = {
    "ceiling": "Measuring memory bandwidth and matrix-multiply rates",
    "interactive": "Interactive: one photo and one 1024x1024 image",
    "batch": "Batch: {o.images} photos in batches of {o.batch_size}",
    "baseline": "Baseline: {o.baseline_images} photos the plain way (float32, full size)",
    "startup": "Start-up of the desktop app",
}
Progress = Callable[[str], None]


@dataclass(frozen=True)
class BenchOptions:
    """What to benchmark and how much of it. Defaults: Qwen3-VL-2B's real architecture with
    random weights, 8 photos of 1600x1200 in batches of 4 against 2 photos the plain way."""

    family: Family = Family.QWEN3_VL
    #: An installed model (catalog id, imported name or folder) instead of a random one.
    model: str | None = None
    #: Build the random model with this many text layers and vision blocks (quick runs).
    layers: int | None = None
    #: Where random models and photos are kept between runs (default: the cache folder).
    work_dir: Path | None = None
    device: str = "auto"
    dtype: str = "auto"
    weights: str = "full"
    images: int = 8
    baseline_images: int = 2
    batch_size: int = 4
    new_tokens: int = 32
    caption_tokens: int = 48
    photo_size: tuple[int, int] = DEFAULT_PHOTO_SIZE
    max_image_tokens: int = DEFAULT_IMAGE_TOKENS
    repeats: int = 1
    phases: tuple[str, ...] = ALL_PHASES
    #: Each phase in its own process: its own peak memory, a real start-to-ready time.
    isolate: bool = True
    quiet_wait_s: float = 20.0
    startup_runs: int = 3
    #: Runs of a phase at most, while other processes take over ``BUSY_LOAD`` of the CPU.
    attempts: int = 2
    ceiling_bytes: int = 2 * 1024**3
    matmul_size: int = 2048

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["family"] = self.family.value
        data["work_dir"] = str(self.work_dir) if self.work_dir else None
        return data


def work_dir(options: BenchOptions) -> Path:
    if options.work_dir is not None:
        return Path(options.work_dir)
    from vldesk.core.paths import app_paths

    return app_paths().cache_dir / "bench"


def resolve_model(options: BenchOptions, work: Path, progress: Progress) -> tuple[Path, str, bool]:
    """(folder, name, synthetic) of the model to measure."""
    if options.model:
        from vldesk.core.models.store import ModelStore
        from vldesk.core.paths import app_paths
        from vldesk.core.settings import load_settings

        settings = load_settings(app_paths().settings_file)
        folder = ModelStore(app_paths(settings.models_dir).models_dir).resolve(options.model)
        return Path(folder), options.model, False
    from vldesk.bench.synthetic import REAL_MODEL_NAMES

    name = REAL_MODEL_NAMES[options.family]
    progress(f"Preparing {name} with random weights (built once, then reused) ...")
    folder = model_folder(options.family, work / "models", options.layers)
    suffix = f" ({options.layers} layers)" if options.layers else ""
    return folder, f"{name} (random weights){suffix}", True


def run_bench(options: BenchOptions, progress: Progress = lambda _text: None) -> dict[str, Any]:
    """Run the chosen phases and return the report (see :func:`vldesk.bench.report.summarize`)."""
    from vldesk.bench.system import describe_machine
    from vldesk.bench.worker import run_phase
    from vldesk.core.models.folder_check import validate_model_folder

    work = work_dir(options)
    folder, name, synthetic = resolve_model(options, work, progress)
    count = max(options.images, options.baseline_images, 1)
    photo_dir = photo_folder(work, count, options.photo_size)
    all_photos = [str(p) for p in photos(photo_dir, count)]
    square = make_photo(work / "square-1024.jpg", (1024, 1024), seed=1024)
    spec = PhaseSpec(
        model_dir=str(folder),
        model_name=name,
        device=options.device,
        dtype=options.dtype,
        weights=options.weights,
        photos=tuple(all_photos[: options.images]),
        square_image=str(square),
        new_tokens=options.new_tokens,
        caption_tokens=options.caption_tokens,
        batch_size=options.batch_size,
        max_image_tokens=options.max_image_tokens,
        repeats=options.repeats,
        quiet_wait_s=options.quiet_wait_s,
        ceiling_bytes=options.ceiling_bytes,
        matmul_size=options.matmul_size,
    )
    report: dict[str, Any] = {
        "vldesk_bench": 1,
        "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "machine": describe_machine(),
        "model": {"name": name, "folder": str(folder), "synthetic": synthetic},
        "options": options.to_dict(),
    }
    # A GGUF folder runs on llama.cpp: the phases that need transformers (its baseline, the
    # start-up of the app, the torch bandwidth ceiling) have nothing to measure on it.
    gguf = validate_model_folder(folder).format == "gguf"
    if gguf:
        progress("A GGUF model: measuring llama.cpp's interactive and batch phases only.")
    for phase in ALL_PHASES:
        if phase not in options.phases or (gguf and phase not in ("interactive", "batch")):
            continue
        progress(f"{_TITLES[phase].format(o=options)} ...")
        started = time.perf_counter()
        phase_spec = spec
        if phase == "baseline":
            only = {**spec.to_dict(), "photos": all_photos[: options.baseline_images]}
            phase_spec = PhaseSpec.from_dict(only)
        for attempt in range(1, options.attempts + 1):
            try:
                if phase == "startup":
                    result = _startup(folder, options)
                else:
                    result = run_phase(phase, phase_spec, isolate=options.isolate)
            except Exception as exc:  # one failed phase must not lose the others' figures
                result = {"error": str(exc)}
            result["attempt"] = attempt
            load = phase_load(result)
            previous = phase_load(report.get(phase))
            if phase not in report or (load or 0.0) < (previous or 0.0):
                report[phase] = result
            if load is None or load <= BUSY_LOAD:
                break
            if attempt < options.attempts:
                progress(f"  other processes took {load:.0%} of the CPU: running it again ...")
        report[phase]["phase_s"] = time.perf_counter() - started
    report["summary"] = summarize(report)
    return report


def _startup(folder: Path, options: BenchOptions) -> dict[str, Any]:
    from vldesk.bench.startup import measure_startup

    return measure_startup(folder, runs=options.startup_runs)


def write_report(report: dict[str, Any], path: Path) -> None:
    from vldesk.core.atomic import atomic_write_text

    atomic_write_text(path, json.dumps(report, indent=2, ensure_ascii=False) + "\n")
