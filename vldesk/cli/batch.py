"""``vldesk batch FOLDER``: caption every image in a folder, resumably, with a progress bar."""

from __future__ import annotations

import argparse
import contextlib
import shutil
import signal
import sys
import time
import unicodedata
from collections.abc import Iterator
from pathlib import Path
from types import FrameType
from typing import TextIO

from vldesk.cli.options import (
    Subcommands,
    add_generation_arguments,
    add_offline_arguments,
    add_server_arguments,
    choose_model,
    connect_servers,
    generation_settings,
    load_request,
    open_results,
    positive_int,
    running_status,
)
from vldesk.core.batch import (
    BatchControl,
    BatchEventKind,
    BatchJob,
    BatchOptions,
    BatchProgress,
    BatchRunner,
    BatchSummary,
    BoxFormat,
    CaptionMode,
    ReportPaths,
    find_job,
)
from vldesk.core.batch.scan import no_images_message, scan_images
from vldesk.core.errors import VldeskError
from vldesk.core.history import HistoryWriter
from vldesk.core.images import IMAGE_EXTENSIONS
from vldesk.core.inference.engine import Engine, LoadRequest, load_engine
from vldesk.core.metadata import MetadataMode
from vldesk.core.presets import LANGUAGES, get_preset, preset_names
from vldesk.core.units import format_duration

EXIT_FAILURES = 1
EXIT_CANCELLED = 130
#: Without a terminal, a progress line at most this often (failures are always shown).
PLAIN_LINE_SECONDS = 2.0


def register(subparsers: Subcommands) -> None:
    parser = subparsers.add_parser(
        "batch",
        help="caption every image in a folder (caption files and reports; resumable)",
        description="Describe every image in a folder with a local model. Each caption goes to "
        "a file next to its image (photo.jpg -> photo.txt). Progress is journaled: after "
        "Ctrl+C, a crash or a reboot, run the same command with --resume to continue.",
    )
    parser.add_argument("folder", type=Path, metavar="FOLDER", help="the folder of images")
    parser.add_argument(
        "--recursive", "-r", action="store_true", help="include images in subfolders"
    )
    parser.add_argument(
        "--types",
        help="image types to include, comma-separated (e.g. jpg,png); default: all readable "
        f"types ({','.join(e.lstrip('.') for e in IMAGE_EXTENSIONS)})",
    )
    prompt = parser.add_mutually_exclusive_group()
    prompt.add_argument(
        "--preset", "-p", choices=preset_names(), default="brief", help="a ready-made prompt"
    )
    prompt.add_argument("--prompt", help="your own question or instruction")
    parser.add_argument("--system", help="an optional system prompt")
    parser.add_argument("--lang", choices=LANGUAGES, default="en", help="language of the preset")

    out = parser.add_argument_group("caption files")
    out.add_argument(
        "--ext", default=".txt", help="caption file extension (default .txt; e.g. .caption)"
    )
    out.add_argument(
        "--mode",
        choices=[m.value for m in CaptionMode],
        default=CaptionMode.SKIP.value,
        help="when a caption file exists: skip the image (default), overwrite the file, or "
        "append the new caption to it",
    )
    out.add_argument("--prefix", default="", help="text put before every caption, as given")
    out.add_argument("--suffix", default="", help="text put after every caption, as given")

    photo = parser.add_argument_group("photo metadata and boxes")
    photo.add_argument(
        "--xmp",
        choices=[m.value for m in MetadataMode],
        help="also write each new caption into the photo's XMP, with the model, prompt and date "
        "(marked machine-made, not reviewed): a photo.jpg.xmp sidecar, or embedded in the file",
    )
    photo.add_argument(
        "--xmp-overwrite",
        action="store_true",
        help="replace a description a person wrote (default: keep it and report the image)",
    )
    photo.add_argument(
        "--boxes",
        choices=[f.value for f in BoxFormat],
        help="export the boxes in the answers (e.g. with --preset find) as one COCO JSON or "
        "YOLO txt files, in original image pixels",
    )
    photo.add_argument(
        "--boxes-out",
        type=Path,
        metavar="PATH",
        help="the COCO file or YOLO folder (default: boxes.coco.json or labels/ in FOLDER)",
    )

    reports = parser.add_argument_group("reports (one row per image, failures included)")
    reports.add_argument("--jsonl", type=Path, metavar="FILE", help="write a JSON Lines report")
    reports.add_argument("--csv", type=Path, metavar="FILE", help="write a CSV report")
    reports.add_argument("--md", type=Path, metavar="FILE", help="write a Markdown report")

    job = parser.add_argument_group("resuming")
    again = job.add_mutually_exclusive_group()
    again.add_argument(
        "--resume", action="store_true", help="continue an interrupted run of the same command"
    )
    again.add_argument(
        "--restart", action="store_true", help="forget an interrupted run and start over"
    )
    job.add_argument(
        "--retry-failed",
        action="store_true",
        help="run the images that failed last time again (implies --resume)",
    )

    gen = parser.add_argument_group("model and generation")
    gen.add_argument(
        "--model",
        "-m",
        help="catalog id, imported name, or a model folder; default: the model chosen in settings",
    )
    gen.add_argument(
        "--batch-size",
        type=positive_int,
        help="images per model call (default: chosen from free memory; 1 streams each caption)",
    )
    add_generation_arguments(gen, length_help="caption length limit")
    add_server_arguments(parser.add_argument_group("servers (instead of a local model)"))
    add_offline_arguments(parser.add_argument_group("offline batch (vllm run-batch, Ray Data)"))
    parser.add_argument(
        "--no-history", action="store_true", help="do not save the captions to the history"
    )
    parser.add_argument("--quiet", "-q", action="store_true", help="no progress, only errors")
    parser.set_defaults(handler=run)


def _model_identity(model_ref: str) -> tuple[str, str]:
    """(the name recorded with the job, the engine's display name) for a model reference."""
    folder = Path(model_ref).expanduser()
    if folder.is_dir():
        # A folder is named by its absolute path so the job id does not depend on the cwd.
        return str(folder.resolve()), folder.resolve().name
    return model_ref, model_ref


def run(args: argparse.Namespace) -> int:
    from vldesk.core.paths import app_paths
    from vldesk.core.settings import load_settings

    paths = app_paths()
    user_settings = load_settings(paths.settings_file)
    if args.prompt is not None:
        question, preset_tokens = args.prompt, None
    else:
        preset = get_preset(args.preset)
        question, preset_tokens = preset.prompt(args.lang), preset.max_new_tokens
    settings = generation_settings(args, preset_tokens, user_settings.to_generation_settings())
    # Servers are asked for their model first: the job is named after the model they serve.
    remote: Engine | None = None
    if args.server:
        remote = connect_servers(args)
    elif args.import_results:
        remote = open_results(args)
    model_ref = args.model or user_settings.model
    model_id, model_name = (remote.name,) * 2 if remote else _model_identity(model_ref)
    types = tuple(args.types.split(",")) if args.types else IMAGE_EXTENSIONS
    options = BatchOptions(
        folder=args.folder,
        prompt=question,
        model=model_id,
        settings=settings,
        system=args.system or user_settings.system_prompt or None,
        recursive=args.recursive,
        types=types,
        caption_extension=args.ext,
        mode=CaptionMode(args.mode),
        prefix=args.prefix,
        suffix=args.suffix,
        reports=ReportPaths(args.jsonl, args.csv, args.md),
        xmp=MetadataMode(args.xmp) if args.xmp else None,
        xmp_overwrite=args.xmp_overwrite,
        boxes=BoxFormat(args.boxes) if args.boxes else None,
        boxes_out=args.boxes_out,
    )
    if not options.folder.is_dir():
        raise VldeskError(f"The folder {options.folder} does not exist.")
    # Neither a job nor a loaded model for a folder with nothing to caption.
    if not scan_images(options.folder, recursive=options.recursive, types=options.types).images:
        message = no_images_message(options.folder, recursive=options.recursive, types=types)
        hint = "" if options.recursive else " Add --recursive to include subfolders."
        raise VldeskError(message + hint)

    if args.reference_images is not None and not args.export_requests:
        raise VldeskError("--reference-images goes with --export-requests.")
    if args.export_requests:
        return _export_requests(args, options, model_name)
    # Settle which job this is before spending seconds on loading the model.
    job = _open_job(args, options)
    try:
        if remote is not None:
            return _run_job(args, job, remote)
        choice = choose_model(args, model_ref, user_settings)
        request = load_request(args, choice.folder, model_name, user_settings)
        return _run_job(args, job, request, f"with {choice.engine} ({choice.reason})")
    finally:
        job.close()


def _export_requests(args: argparse.Namespace, options: BatchOptions, model: str) -> int:
    from vldesk.core.inference.remote.offline import export_requests
    from vldesk.core.models.catalog import Family

    root = args.reference_images
    if root and not root.startswith("/"):
        raise VldeskError(f"--reference-images needs an absolute path, not '{root}'.")

    images = scan_images(options.folder, recursive=options.recursive, types=options.types).images
    written, unreadable = export_requests(
        options.folder,
        images,
        args.export_requests,
        model=model,
        prompt=options.prompt,
        system=options.system,
        settings=options.settings,
        family=Family(args.model_family) if args.model_family else None,
        image_root=args.reference_images,
    )
    for image, why in unreadable:
        print(f"vldesk: failed: {image}: {why}", file=sys.stderr)
    if not args.quiet:
        print(
            f"{written} requests for {model} written to {args.export_requests}. After the batch "
            f"has run: vldesk batch {options.folder} ... --import-results RESULTS.jsonl",
            file=sys.stderr,
        )
    return EXIT_FAILURES if unreadable else 0


def _open_job(args: argparse.Namespace, options: BatchOptions) -> BatchJob:
    if args.restart and args.retry_failed:
        raise VldeskError("--restart starts over, so there are no failures to retry with it.")
    if args.resume or args.retry_failed:
        return BatchJob.resume(options)
    existing = find_job(options)
    if existing is not None and not existing.finished and not args.restart:
        raise VldeskError(
            f"An interrupted batch job for {options.folder} with these options exists "
            f"({existing.done} images done). Add --resume to continue it, or --restart to "
            "start over."
        )
    return BatchJob.create(options)


def _run_job(
    args: argparse.Namespace,
    job: BatchJob,
    request: LoadRequest | Engine,
    engine_choice: str = "",
) -> int:
    """Run ``job`` on the model ``request`` loads (``engine_choice`` says with which engine and
    why), or on an engine already connected."""
    show = _ProgressPrinter(sys.stderr, quiet=args.quiet)
    if isinstance(request, LoadRequest):
        show.status(f"Loading {' '.join(filter(None, (request.name, engine_choice)))} ...")
        engine: Engine = load_engine(request)
    else:
        engine = request
    try:
        show.status(running_status(engine))
        with _history(args, show) as history:
            control = BatchControl()
            runner = BatchRunner(
                engine,
                job,
                control=control,
                on_progress=show.event,
                history=history,
                batch_size=args.batch_size,
            )
            try:
                with _cancel_on_signals(control):
                    summary = runner.run(retry_failed=args.retry_failed)
            except KeyboardInterrupt:
                # A second Ctrl+C: the journal is consistent at any instant, so resuming is safe.
                show.finish_line()
                print(
                    "vldesk: interrupted. Run the same command with --resume to continue.",
                    file=sys.stderr,
                )
                return EXIT_CANCELLED
    finally:
        engine.unload()
    show.finish_line()
    return _report(summary, show)


@contextlib.contextmanager
def _history(args: argparse.Namespace, show: _ProgressPrinter) -> Iterator[HistoryWriter | None]:
    if args.no_history:
        yield None
        return
    from vldesk.core.history import HistoryStore
    from vldesk.core.paths import app_paths

    try:
        store = HistoryStore(app_paths().history_db)
    except VldeskError as exc:
        show.warning(f"The captions will not be saved to the history: {exc}")
        yield None
        return
    try:
        yield store
    finally:
        store.close()


@contextlib.contextmanager
def _cancel_on_signals(control: BatchControl) -> Iterator[None]:
    """The first Ctrl+C (or SIGTERM) cancels cleanly; a second Ctrl+C interrupts at once."""
    previous_int = signal.getsignal(signal.SIGINT)
    previous_term = signal.getsignal(signal.SIGTERM) if hasattr(signal, "SIGTERM") else None

    def on_signal(signum: int, frame: FrameType | None) -> None:
        control.cancel()
        signal.signal(signal.SIGINT, previous_int)

    signal.signal(signal.SIGINT, on_signal)
    if previous_term is not None:
        signal.signal(signal.SIGTERM, on_signal)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous_int)
        if previous_term is not None:
            signal.signal(signal.SIGTERM, previous_term)


def _report(summary: BatchSummary, show: _ProgressPrinter) -> int:
    for warning in summary.warnings:
        show.warning(warning)
    counts = (
        f"{summary.captioned} captioned, {summary.failed} failed, {summary.skipped} skipped "
        f"of {summary.total} images"
    )
    if summary.cancelled:
        show.status(
            f"Cancelled: {counts}. Run the same command with --resume to continue where it stopped."
        )
        return EXIT_CANCELLED
    if summary.found_no_images:  # the images went between the check and the run
        return EXIT_FAILURES
    show.status(f"Done: {counts} in {format_duration(summary.elapsed_s)}.")
    if summary.reports:
        show.status("Reports: " + ", ".join(str(p) for p in summary.reports))
    if summary.exports:
        show.status("Boxes: " + ", ".join(str(p) for p in summary.exports))
    for image, note in summary.metadata_notes:
        # Not failures: each caption file is written; only its photo metadata is not.
        show.warning(f"{image}: {note}")
    if summary.failed:
        show.status("Run the same command with --retry-failed to try the failed images again.")
        return EXIT_FAILURES
    return 0


class _ProgressPrinter:
    """A progress bar on a terminal; on a pipe or file, plain lines at a moderate pace."""

    def __init__(self, stream: TextIO, *, quiet: bool) -> None:
        self.stream = stream
        self.quiet = quiet
        isatty = getattr(stream, "isatty", None)
        self.tty = bool(isatty and isatty())
        self._bar_shown = False
        self._last_line = 0.0

    def status(self, text: str) -> None:
        if not self.quiet:
            self._line(text)

    def warning(self, text: str) -> None:
        self._line(f"vldesk: warning: {text}")

    def finish_line(self) -> None:
        if self._bar_shown:
            self.stream.write("\n")
            self.stream.flush()
            self._bar_shown = False

    def _line(self, text: str) -> None:
        if self._bar_shown:
            self.stream.write("\r\x1b[K")
            self._bar_shown = False
        self.stream.write(text + "\n")
        self.stream.flush()

    def event(self, event: BatchProgress) -> None:
        kind = event.kind
        if kind is BatchEventKind.IMAGE_FAILED:
            # Failures are shown even with --quiet: they need attention.
            self._line(f"vldesk: failed: {event.image}: {event.error}")
        elif kind is BatchEventKind.WARNING:
            self.warning(event.error or "")
        if self.quiet:
            return
        if kind is BatchEventKind.STARTED:
            earlier = event.done
            if earlier:
                self._line(f"Resuming: {earlier} of {event.total} images already done.")
            else:
                self._line(f"{event.total} images in the folder.")
        elif kind in (BatchEventKind.FINISHED, BatchEventKind.CANCELLED):
            self._bar(event, force=True)
        elif kind in (
            BatchEventKind.IMAGE_DONE,
            BatchEventKind.IMAGE_SKIPPED,
            BatchEventKind.BATCH_STARTED,
            BatchEventKind.CAPTION_TEXT,
        ):
            self._bar(event, force=False)

    def _bar(self, event: BatchProgress, *, force: bool) -> None:
        now = time.monotonic()
        if not self.tty:
            # Plain lines for logs: one per finished image at most every few seconds.
            finished = event.kind in (BatchEventKind.IMAGE_DONE, BatchEventKind.IMAGE_SKIPPED)
            if not force and not (finished and now - self._last_line >= PLAIN_LINE_SECONDS):
                return
            self._last_line = now
            self._line(_describe(event, with_caption=False))
            return
        width = shutil.get_terminal_size((100, 20)).columns
        text = _describe(event, with_caption=True, bar=True)
        self.stream.write("\r\x1b[K" + _fit(text, max(10, width - 1)))
        self.stream.flush()
        self._bar_shown = True


def _describe(event: BatchProgress, *, with_caption: bool, bar: bool = False) -> str:
    total = max(event.total, 1)
    share = event.done / total
    parts = []
    if bar:
        filled = round(share * 20)
        parts.append("[" + "#" * filled + "-" * (20 - filled) + "]")
    parts.append(f"{event.done}/{event.total} ({share:.0%})")
    if event.images_per_minute:
        parts.append(f"{event.images_per_minute:.1f} images/min")
    if event.eta_s is not None and event.done < event.total:
        parts.append(f"ETA {format_duration(event.eta_s)}")
    if event.failed:
        parts.append(f"{event.failed} failed")
    current = event.image or (event.batch[0] if len(event.batch) == 1 else None)
    if event.batch and len(event.batch) > 1:
        current = f"{len(event.batch)} images from {event.batch[0]}"
    if current:
        if with_caption and event.caption:
            caption = " ".join(event.caption.split())
            parts.append(f"{current}: {caption}")
        else:
            parts.append(current)
    return "  ".join(parts)


def _fit(text: str, columns: int) -> str:
    """Cut ``text`` to ``columns`` terminal cells (CJK characters take two), so the bar never
    wraps and each redraw replaces it in place."""
    used = 0
    for index, char in enumerate(text):
        used += 2 if unicodedata.east_asian_width(char) in ("W", "F") else 1
        if used > columns:
            return text[:index]
    return text
