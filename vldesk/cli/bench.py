"""``vldesk bench``: how fast a model runs on this machine, before or after downloading it."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from vldesk.cli.options import Subcommands, positive_int
from vldesk.core.errors import VldeskError
from vldesk.core.inference.cpu.quantized_weights import WEIGHT_CHOICES
from vldesk.core.inference.device import DEVICE_CHOICES, DTYPE_CHOICES
from vldesk.core.models.catalog import Family

_FAMILIES = {family.value: family for family in Family}


def register(subparsers: Subcommands) -> None:
    from vldesk.bench.runner import ALL_PHASES

    parser = subparsers.add_parser(
        "bench",
        help="measure how fast a model runs here, against the plain way and the machine's ceiling",
        description="Build a random-weight model of a real architecture (or use an installed "
        "one), then measure start-up, one image, a folder batch, the plain float32 baseline and "
        "the machine's memory bandwidth and matrix rates. Prints a table and writes JSON.",
    )
    source = parser.add_mutually_exclusive_group()
    source.add_argument(
        "--family",
        choices=sorted(_FAMILIES),
        default=Family.QWEN3_VL.value,
        help="architecture of the random-weight model (default: qwen3_vl, Qwen3-VL-2B)",
    )
    source.add_argument("--model", "-m", help="an installed model (catalog id, name or folder)")
    parser.add_argument(
        "--layers", type=positive_int, help="text layers and vision blocks (quick runs)"
    )
    parser.add_argument("--images", type=positive_int, default=8, help="photos in the batch")
    parser.add_argument(
        "--baseline-images", type=positive_int, default=2, help="photos for the plain baseline"
    )
    parser.add_argument("--batch-size", type=positive_int, default=4)
    parser.add_argument(
        "--new-tokens", type=positive_int, default=32, help="answer length, one image"
    )
    parser.add_argument(
        "--caption-tokens", type=positive_int, default=48, help="caption length in the batch"
    )
    parser.add_argument("--photo-size", type=_size, default=None, help="WxH (default 1600x1200)")
    parser.add_argument("--max-image-tokens", type=positive_int, default=None)
    parser.add_argument("--repeats", type=positive_int, default=1, help="runs per measurement")
    parser.add_argument(
        "--attempts",
        type=positive_int,
        default=2,
        help="runs of a phase at most while other processes keep the CPU busy",
    )
    parser.add_argument(
        "--only",
        default=None,
        help=f"comma-separated phases to run (of {','.join(ALL_PHASES)})",
    )
    parser.add_argument("--skip", default=None, help="comma-separated phases to leave out")
    parser.add_argument("--device", choices=DEVICE_CHOICES, default="auto")
    parser.add_argument("--dtype", choices=DTYPE_CHOICES, default="auto")
    parser.add_argument(
        "--weights", choices=WEIGHT_CHOICES, default="full", help="how vldesk holds the weights"
    )
    parser.add_argument("--work-dir", type=Path, help="where random models and photos are kept")
    parser.add_argument("--json", type=Path, help="write the report here (default: bench-*.json)")
    parser.add_argument(
        "--in-process", action="store_true", help="run every phase in this process (no isolation)"
    )
    parser.add_argument(
        "--peer",
        choices=("llama.cpp",),
        help="instead of the phases: vldesk against llama.cpp on the same weights, at matched "
        "precisions (needs llama-cpp-python and gguf)",
    )
    parser.add_argument(
        "--peer-weights",
        default="full,int8,int4",
        help="vldesk weight formats to compare (against F16, Q8_0, Q4_K_M)",
    )
    parser.add_argument(
        "--prompt-tokens", type=positive_int, default=1000, help="prompt length for --peer"
    )
    parser.set_defaults(handler=run)


def _size(text: str) -> tuple[int, int]:
    width, sep, height = text.lower().partition("x")
    try:
        size = (int(width), int(height))
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not WIDTHxHEIGHT") from None
    if not sep or min(size) < 32:
        raise argparse.ArgumentTypeError("give WIDTHxHEIGHT, each at least 32")
    return size


def _phases(only: str | None, skip: str | None) -> tuple[str, ...]:
    from vldesk.bench.runner import ALL_PHASES

    chosen = [p.strip() for p in only.split(",")] if only else list(ALL_PHASES)
    dropped = {p.strip() for p in skip.split(",")} if skip else set()
    unknown = [p for p in [*chosen, *dropped] if p not in ALL_PHASES]
    if unknown:
        raise VldeskError(f"Unknown phase '{unknown[0]}': choose from {', '.join(ALL_PHASES)}.")
    return tuple(p for p in ALL_PHASES if p in chosen and p not in dropped)


def run(args: argparse.Namespace) -> int:
    from dataclasses import replace

    from vldesk.bench.report import format_table
    from vldesk.bench.runner import BenchOptions, run_bench, write_report

    options = BenchOptions(
        family=_FAMILIES[args.family],
        model=args.model,
        layers=args.layers,
        work_dir=args.work_dir,
        device=args.device,
        dtype=args.dtype,
        weights=args.weights,
        images=args.images,
        baseline_images=args.baseline_images,
        batch_size=args.batch_size,
        new_tokens=args.new_tokens,
        caption_tokens=args.caption_tokens,
        repeats=args.repeats,
        attempts=args.attempts,
        phases=_phases(args.only, args.skip),
        isolate=not args.in_process,
    )
    if args.photo_size:
        options = replace(options, photo_size=args.photo_size)
    if args.max_image_tokens:
        options = replace(options, max_image_tokens=args.max_image_tokens)
    if args.peer:
        return _run_peer(args, options)
    report = run_bench(options, progress=lambda text: print(text, file=sys.stderr, flush=True))
    print(format_table(report))
    for phase in ("ceiling", "interactive", "batch", "baseline", "startup"):
        error = (report.get(phase) or {}).get("error")
        if error:
            print(f"vldesk: {phase} phase: {error}", file=sys.stderr)
    path = args.json or Path(f"bench-{report['created'][:19].replace(':', '')}.json")
    write_report(report, path)
    print(f"Report written to {path}", file=sys.stderr)
    return 0


def _run_peer(args: argparse.Namespace, options: Any) -> int:
    """``--peer llama.cpp``: the side-by-side table, and its figures as JSON."""
    import json
    from datetime import datetime, timezone

    from vldesk.bench.fixtures import make_photo
    from vldesk.bench.peer import MATCHED_FORMATS, compare, format_comparison, llama_cpp_version
    from vldesk.bench.runner import resolve_model, work_dir
    from vldesk.bench.system import describe_machine
    from vldesk.core.atomic import atomic_write_text

    formats = [name.strip() for name in args.peer_weights.split(",") if name.strip()]
    known = [ours for ours, _peer in MATCHED_FORMATS]
    unknown = [name for name in formats if name not in known]
    if unknown:
        raise VldeskError(f"Unknown weights '{unknown[0]}' for --peer: choose from {known}.")
    llama_cpp_version()  # says how to install it before a model is built

    def progress(text: str) -> None:
        print(text, file=sys.stderr, flush=True)

    work = work_dir(options)
    folder, name, _synthetic = resolve_model(options, work, progress)
    square = make_photo(work / "square-1024.jpg", (1024, 1024), seed=1024)
    result = compare(
        Path(folder),
        work,
        square_image=square,
        formats=formats,
        prompt_tokens=args.prompt_tokens,
        new_tokens=args.new_tokens,
        progress=progress,
    )
    created = datetime.now(timezone.utc).isoformat(timespec="seconds")
    report = {"created": created, "machine": describe_machine(), "model": name, **result}
    print(format_comparison(result))
    path = args.json or Path(f"bench-peer-{created[:19].replace(':', '')}.json")
    atomic_write_text(path, json.dumps(report, indent=2))
    print(f"Report written to {path}", file=sys.stderr)
    return 0
