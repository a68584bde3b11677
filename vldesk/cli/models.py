"""``vldesk models list|download|import|remove``: manage the models on this machine."""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
import shutil
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from types import FrameType
from typing import Any, TextIO

from vldesk.cli.cpu_speed import cpu_speed_json, cpu_speed_lines
from vldesk.cli.options import Subcommands
from vldesk.core.errors import DownloadCancelled, VldeskError
from vldesk.core.inference.cpu.quantized_weights import (
    WEIGHT_CHOICES,
    WeightFormat,
    weight_format,
)
from vldesk.core.inference.device import expected_cpu_precision
from vldesk.core.models.catalog import CATALOG, ModelSpec, find_model, gguf_variant
from vldesk.core.models.downloads import DownloadProgress
from vldesk.core.models.machine import Fit, fit_hint, total_memory_bytes
from vldesk.core.models.store import (
    InstallState,
    ModelStatus,
    ModelStore,
    catalog_gguf_variants,
    folder_size,
)
from vldesk.core.settings import Settings
from vldesk.core.units import format_bytes, format_duration

EXIT_INTERRUPTED = 130
_FIT_WORDS = {
    Fit.FITS: "fits",
    Fit.TIGHT: "tight: close other programs",
    Fit.TOO_BIG: "too big",
    Fit.UNKNOWN: "unknown",
}


def register(subparsers: Subcommands) -> None:
    parser = subparsers.add_parser(
        "models",
        help="list, download, import and remove models",
        description="Manage the models on this machine. Downloads come from ModelScope and "
        "resume after an interruption; imported folders are used in place.",
    )
    actions = parser.add_subparsers(dest="models_action", metavar="ACTION")
    parser.set_defaults(handler=_usage(parser))

    listing = actions.add_parser("list", help="the catalog with what is installed, and imports")
    listing.add_argument("--json", action="store_true", help="print JSON instead of a table")
    listing.add_argument(
        "--weights",
        choices=WEIGHT_CHOICES,
        default=None,
        help="the CPU weight format to estimate memory for (default: the settings')",
    )
    listing.set_defaults(handler=run_list)

    download = actions.add_parser(
        "download",
        help="download a model from ModelScope (resumes an interrupted download)",
        description="Download a catalog model, or any ModelScope repository of a supported "
        "architecture (its config.json is checked first), into the models folder. Ctrl+C "
        "stops it; running the command again resumes where it stopped.",
    )
    download.add_argument(
        "model", metavar="ID", help="a ModelScope id, e.g. Qwen/Qwen3-VL-2B-Instruct"
    )
    download.add_argument(
        "--gguf",
        metavar="QUANT",
        help="download the model's GGUF version for the llama.cpp engine instead, at this "
        "quantization (Q4_K_M, Q8_0 or F16): only that file and its vision projector; the same "
        "as the id REPO:QUANT, e.g. Qwen/Qwen3-VL-2B-Instruct-GGUF:Q4_K_M",
    )
    download.add_argument(
        "--force",
        action="store_true",
        help="check every file again (SHA-256) and repair what is wrong, even if installed",
    )
    download.add_argument("--quiet", "-q", action="store_true", help="no progress display")
    download.set_defaults(handler=run_download)

    imports = actions.add_parser(
        "import",
        help="use a model folder you already have (checked, not copied)",
        description="Register a Qwen-VL model folder from ModelScope, Hugging Face or a copy. "
        "It is checked first and used where it is; nothing is copied.",
    )
    imports.add_argument("folder", metavar="FOLDER", type=Path)
    imports.add_argument("--name", help="the name to use it by (default: the folder's name)")
    imports.set_defaults(handler=run_import)

    remove = actions.add_parser(
        "remove",
        help="delete a downloaded model, or forget an imported folder (which is kept)",
    )
    remove.add_argument("model", metavar="ID_OR_NAME")
    remove.add_argument("--yes", "-y", action="store_true", help="do not ask for confirmation")
    remove.set_defaults(handler=run_remove)


def _usage(parser: argparse.ArgumentParser) -> Callable[[argparse.Namespace], int]:
    def show(args: argparse.Namespace) -> int:
        parser.print_help()
        return 2

    return show


def _settings() -> Settings:
    from vldesk.core.paths import app_paths
    from vldesk.core.settings import load_settings

    return load_settings(app_paths().settings_file)


def _store(settings: Settings | None = None) -> ModelStore:
    from vldesk.core.paths import app_paths

    settings = settings if settings is not None else _settings()
    return ModelStore(app_paths(settings.models_dir).models_dir)


def _spec(model_id: str) -> ModelSpec:
    spec = find_model(model_id)
    if spec is None:
        known = ", ".join(s.id for s in CATALOG)
        raise VldeskError(
            f"'{model_id}' is not in the catalog ({known}). To use a model folder you already "
            "have, run `vldesk models import FOLDER`."
        )
    return spec


# ----------------------------------------------------------------------------------------------
# list
# ----------------------------------------------------------------------------------------------


def run_list(args: argparse.Namespace) -> int:
    settings = _settings()
    store = _store(settings)
    statuses = [store.status(spec) for spec in CATALOG]
    # The GGUF variants there are (whole or partial): each quantization is a model of its own.
    statuses += [
        status
        for status in map(store.status, catalog_gguf_variants())
        if status.state is not InstallState.NOT_INSTALLED
    ]
    by_id = [store.status(spec) for spec in store.downloaded_by_id()]
    # Estimated for the CPU (a GPU cannot be seen without importing torch), at the precision
    # loading will choose there and the weight format asked for.
    precision = expected_cpu_precision(settings.dtype)
    weights = weight_format(args.weights or settings.weights)
    ram = total_memory_bytes()
    hints = {
        s.spec.ref: fit_hint(s.spec, ram, None, precision, cpu_weights=weights)
        for s in (*statuses, *by_id)
    }
    imported = []
    for entry in store.imported():
        check = store.validate_model_folder(entry.path)
        state = "ok" if check.ok else ("missing" if not entry.path.is_dir() else "broken")
        imported.append((entry, state, folder_size(entry.path), check.reason))
    if args.json:

        def listed(s: ModelStatus) -> dict[str, Any]:
            return {
                "id": s.spec.ref,
                "engine": "llama.cpp" if s.spec.is_gguf else "transformers",
                "family": s.spec.family.value,
                "default": s.spec.default,
                "state": s.state.value,
                "size_on_disk": s.size_on_disk,
                "download_bytes": s.spec.download_bytes,
                "path": str(s.path),
                "revision": s.manifest.revision if s.manifest else None,
                "commit": s.manifest.commit if s.manifest else None,
                "problem": s.problem,
                "memory_needed_bytes": s.spec.memory_needed_bytes(precision, weights),
                "precision": s.spec.gguf_quant or precision.value,
                "weights": s.spec.gguf_quant or weights.value,
                "fit": hints[s.spec.ref].fit.value,
            }

        data = {
            "models_dir": str(store.models_dir),
            "cpu_speed": cpu_speed_json(),
            "catalog": [listed(s) for s in statuses],
            # Repositories outside the catalog, downloaded by their ModelScope id.
            "downloaded_by_id": [listed(s) for s in by_id],
            "imported": [
                {
                    "name": entry.name,
                    "path": str(entry.path),
                    "model_type": entry.model_type,
                    "state": state,
                    "size_on_disk": size,
                    "problem": reason or None,
                }
                for entry, state, size, reason in imported
            ],
        }
        print(json.dumps(data, indent=2, ensure_ascii=False))
        return 0

    print(f"Models folder: {store.models_dir}")
    print()
    width = max(len(s.spec.ref) for s in (*statuses, *by_id))
    print(
        f"  {'MODEL':<{width}}  {'STATE':<13}  {'ON DISK':>9}  {'DOWNLOAD':>9}  "
        f"{'ENGINE':<12}  {'MEMORY':>9}  THIS MACHINE"
    )
    for status in (*statuses, *by_id):
        mark = "*" if status.spec.default else " "
        on_disk = format_bytes(status.size_on_disk) if status.size_on_disk else "-"
        if status.manifest is not None:
            size = format_bytes(status.manifest.total_bytes)
        else:
            size = "~" + format_bytes(status.spec.download_bytes)
        memory = "~" + format_bytes(status.spec.memory_needed_bytes(precision, weights))
        fit = _FIT_WORDS[hints[status.spec.ref].fit]
        engine = "llama.cpp" if status.spec.is_gguf else "transformers"
        print(
            f"{mark} {status.spec.ref:<{width}}  {status.state.value:<13}  {on_disk:>9}  "
            f"{size:>9}  {engine:<12}  {memory:>9}  {fit}"
        )
    print("  (* the default model; 'partial' downloads resume with `vldesk models download ID`)")
    ram_text = f", against {format_bytes(ram)} of RAM here" if ram else ""
    how = precision.value if weights is WeightFormat.FULL else f"{precision.value}, {weights.value}"
    print(f"  (MEMORY: to run on the CPU in {how}{ram_text};")
    print("   on a GPU, about the bfloat16 figure of its own memory)")
    print()
    for line in cpu_speed_lines():
        print(line)
    print()
    if not imported:
        print("No imported folders (add one with `vldesk models import FOLDER`).")
        return 0
    print("Imported folders:")
    name_width = max(len(entry.name) for entry, *_ in imported)
    for entry, state, used, reason in imported:
        shown = format_bytes(used) if used else "-"
        print(f"  {entry.name:<{name_width}}  {state:<7}  {shown:>9}  {entry.path}")
        if reason and state != "ok":
            print(f"  {'':<{name_width}}  {reason}")
    return 0


# ----------------------------------------------------------------------------------------------
# download
# ----------------------------------------------------------------------------------------------


class ProgressPrinter:
    """Shows download progress on a stream: a redrawn bar on a terminal, else periodic lines.

    Called from the download's worker threads, so it serialises its own writes.
    """

    def __init__(
        self,
        stream: TextIO | None,
        *,
        tty: bool | None = None,
        line_interval_s: float = 5.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.stream = stream
        self.tty = bool(tty if tty is not None else stream is not None and _isatty(stream))
        self.interval = 0.1 if self.tty else line_interval_s
        self._clock = clock
        self._last = float("-inf")
        self._lock = threading.Lock()
        self._drawn = 0  # length of the bar on screen, 0 when none is
        self._announced = False

    def __call__(self, progress: DownloadProgress) -> None:
        if self.stream is None:
            return
        with self._lock:
            if progress.phase == "listing":
                if not self._announced:
                    self._write_line(f"Looking up {progress.model_id} on ModelScope ...")
                    self._announced = True
                return
            now = self._clock()
            final = progress.phase == "done"
            if not final and now - self._last < self.interval:
                return
            self._last = now
            line = self.render(progress)
            if self.tty:
                columns = shutil.get_terminal_size((100, 20)).columns
                line = line[: max(20, columns - 1)]
                self.stream.write("\r" + line.ljust(self._drawn))
                self._drawn = len(line)
                if final:
                    self.stream.write("\n")
                    self._drawn = 0
                self.stream.flush()
            else:
                self._write_line(line)

    def render(self, progress: DownloadProgress) -> str:
        percent = progress.fraction * 100
        amounts = f"{format_bytes(progress.bytes_done)} / {format_bytes(progress.bytes_total)}"
        if progress.phase == "done":
            return f"{percent:5.1f}%  {amounts}  done"
        speed = f"{format_bytes(progress.speed)}/s" if progress.speed > 0 else "-- /s"
        parts = [f"{percent:5.1f}%", amounts, speed, f"ETA {format_duration(progress.eta)}"]
        if self.tty:
            filled = int(progress.fraction * 24)
            parts.insert(0, "[" + "#" * filled + "-" * (24 - filled) + "]")
        if progress.current_file:
            parts.append(progress.current_file)
        return "  ".join(parts)

    def close(self) -> None:
        """End a bar left on screen (after a cancel or an error) so later text starts cleanly."""
        with self._lock:
            if self.stream is not None and self._drawn:
                self.stream.write("\n")
                self.stream.flush()
                self._drawn = 0

    def _write_line(self, text: str) -> None:
        assert self.stream is not None
        if self._drawn:
            self.stream.write("\n")
            self._drawn = 0
        self.stream.write(text + "\n")
        self.stream.flush()


def _isatty(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError, OSError):
        return False


@contextlib.contextmanager
def _ctrl_c_cancels(cancel: threading.Event, stream: TextIO | None) -> Iterator[None]:
    """The first Ctrl+C asks the download to stop cleanly; a second one interrupts outright."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.getsignal(signal.SIGINT)

    def on_interrupt(signum: int, frame: FrameType | None) -> None:
        cancel.set()
        signal.signal(signal.SIGINT, previous)
        if stream is not None:
            stream.write("\nStopping the download (press Ctrl+C again to quit at once) ...\n")
            stream.flush()

    signal.signal(signal.SIGINT, on_interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


def run_download(args: argparse.Namespace) -> int:
    from vldesk.core.models.downloads import download_model, remote_model_spec, set_hub_log_level

    store = _store()
    # A catalog model, one downloaded before by its id, or any ModelScope repository of a
    # supported architecture (its config.json is checked before any weights come).
    spec = find_model(args.model) or store.find_downloaded(args.model)
    if args.gguf:
        try:
            spec = gguf_variant(_spec(args.model), args.gguf)
        except ValueError as exc:
            raise VldeskError(str(exc)) from None
    if spec is None:
        set_hub_log_level(logging.INFO if args.verbose else logging.ERROR)
        spec = remote_model_spec(args.model, store)
    manifest = store.read_manifest(spec)
    if (
        not args.force
        and manifest is not None
        and manifest.revision == spec.revision
        and store.is_installed(spec)
    ):
        print(f"{spec.ref} is already installed in {store.folder_for(spec)}.")
        return 0
    set_hub_log_level(logging.INFO if args.verbose else logging.ERROR)
    cancel = threading.Event()
    printer = ProgressPrinter(None if args.quiet else sys.stderr)
    try:
        with _ctrl_c_cancels(cancel, sys.stderr):
            folder = download_model(spec, store, on_progress=printer, cancel=cancel)
    except DownloadCancelled as exc:
        printer.close()
        print(
            f"vldesk: {exc} Resume with: vldesk models download {spec.ref}",
            file=sys.stderr,
        )
        return EXIT_INTERRUPTED
    except BaseException:
        printer.close()
        raise
    print(f"{spec.ref} is installed in {folder}.")
    return 0


# ----------------------------------------------------------------------------------------------
# import and remove
# ----------------------------------------------------------------------------------------------


def run_import(args: argparse.Namespace) -> int:
    store = _store()
    model = store.import_folder(args.folder, name=args.name)
    print(
        f"Imported '{model.name}' ({model.model_type}) from {model.path}; it is used in place. "
        f"Use it with: vldesk describe --model {model.name} IMAGE"
    )
    return 0


def run_remove(args: argparse.Namespace) -> int:
    store = _store()
    spec = find_model(args.model) or store.find_downloaded(args.model)
    if spec is not None and not args.yes and _isatty(sys.stdin):
        status = store.status(spec)
        if status.state is not InstallState.NOT_INSTALLED:
            answer = input(
                f"Delete {spec.ref} ({format_bytes(status.size_on_disk)}) from {status.path}? "
                "[y/N] "
            )
            if answer.strip().lower() not in ("y", "yes"):
                print("Nothing was removed.")
                return 1
    print(store.remove(args.model))
    return 0
