"""``vldesk describe IMAGE...``: ask a model about images and stream the answers to stdout."""

from __future__ import annotations

import argparse
import json
import signal
import sys
import threading
from pathlib import Path
from types import FrameType

from vldesk.cli.options import (
    Subcommands,
    add_generation_arguments,
    choose_model,
    generation_settings,
    load_request,
    running_status,
)
from vldesk.core.errors import ImageLoadError, VldeskError
from vldesk.core.generation import Conversation
from vldesk.core.inference.engine import Engine, load_engine
from vldesk.core.presets import LANGUAGES, get_preset, preset_names


def register(subparsers: Subcommands) -> None:
    parser = subparsers.add_parser(
        "describe",
        help="describe images (or ask about them) and print the answers",
        description="Ask a local model about one or more images; the answer streams to stdout.",
    )
    parser.add_argument("images", nargs="+", metavar="IMAGE", help="image files to describe")
    parser.add_argument(
        "--model",
        "-m",
        help="catalog id (e.g. Qwen/Qwen3-VL-2B-Instruct), imported name, or a model folder; "
        "default: the model chosen in settings",
    )
    prompt = parser.add_mutually_exclusive_group()
    prompt.add_argument(
        "--preset", "-p", choices=preset_names(), default="brief", help="a ready-made prompt"
    )
    prompt.add_argument("--prompt", help="your own question or instruction")
    parser.add_argument("--system", help="an optional system prompt")
    parser.add_argument("--lang", choices=LANGUAGES, default="en", help="language of the preset")
    add_generation_arguments(parser, length_help="answer length limit")
    parser.add_argument(
        "--json", action="store_true", help="print one JSON object per image (JSON Lines)"
    )
    parser.add_argument("--quiet", "-q", action="store_true", help="no progress messages")
    parser.set_defaults(handler=run)


def _status(args: argparse.Namespace, text: str) -> None:
    if not args.quiet:
        print(text, file=sys.stderr, flush=True)


def run(args: argparse.Namespace) -> int:
    from vldesk.core.images import load_image
    from vldesk.core.paths import app_paths
    from vldesk.core.settings import load_settings

    paths = app_paths()
    user_settings = load_settings(paths.settings_file)
    if args.prompt is not None:
        question, preset_tokens = args.prompt, None
        if not question.strip():
            raise VldeskError("The prompt is empty.")
    else:
        preset = get_preset(args.preset)
        question, preset_tokens = preset.prompt(args.lang), preset.max_new_tokens
    settings = generation_settings(args, preset_tokens, user_settings.to_generation_settings())

    # Check every image before spending seconds on loading the model.
    images = []
    failures = 0
    for raw in args.images:
        try:
            images.append(load_image(Path(raw)))
        except ImageLoadError as exc:
            failures += 1
            print(f"vldesk: error: {exc}", file=sys.stderr)
    if not images:
        return 1

    model_ref = args.model or user_settings.model
    choice = choose_model(args, model_ref, user_settings)
    _status(args, f"Loading {choice.name} with {choice.engine} ({choice.reason}) ...")
    name = choice.name if not Path(model_ref).is_dir() else Path(model_ref).name
    engine: Engine = load_engine(load_request(args, choice.folder, name, user_settings))
    _status(args, running_status(engine))

    cancel = threading.Event()
    previous = signal.getsignal(signal.SIGINT)

    def on_interrupt(signum: int, frame: FrameType | None) -> None:
        # First Ctrl+C stops the answer cleanly; a second one interrupts outright.
        cancel.set()
        signal.signal(signal.SIGINT, previous)

    signal.signal(signal.SIGINT, on_interrupt)
    try:
        for index, image in enumerate(images):
            if cancel.is_set():
                break
            conversation = Conversation(system=args.system or user_settings.system_prompt or None)
            conversation = conversation.ask(question, [image])
            if not args.json and len(images) > 1:
                print(f"{'' if index == 0 else chr(10)}== {image.source} ==", flush=True)
            stream = None if args.json else _print_stream
            # The answer's first words take a while on a CPU (the model reads the image first).
            _status(args, f"Reading {image.source} ...")
            try:
                result = engine.generate(conversation, settings, on_text=stream, cancel=cancel)
            except VldeskError as exc:
                failures += 1
                print(f"vldesk: error: {image.source}: {exc}", file=sys.stderr)
                continue
            if args.json:
                record = {
                    "image": image.source,
                    "prompt": question,
                    "answer": result.text,
                    "stop_reason": result.stop_reason.value,
                    "model": engine.name,
                    # The model's own sampling where the user set none.
                    "settings": settings.with_model_defaults(engine.recommended_sampling).to_dict(),
                    "stats": result.stats.to_dict(),
                }
                print(json.dumps(record, ensure_ascii=False), flush=True)
            else:
                print(flush=True)
                s = result.stats
                _status(
                    args,
                    f"[{s.image_tokens} image tokens, {s.new_tokens} new tokens, first token "
                    f"{s.time_to_first_token_s:.2f}s, {s.decode_tokens_per_s:.1f} tok/s]",
                )
            if result.cancelled:
                _status(args, "Stopped.")
                return 130
    finally:
        signal.signal(signal.SIGINT, previous)
        engine.unload()
    return 1 if failures else 0


def _print_stream(text: str) -> None:
    sys.stdout.write(text)
    sys.stdout.flush()
