"""The command-line interface: ``vldesk describe``, ``vldesk models ...``.

Each command group lives in its own module with ``register(subparsers)``; a handler returns the
exit code. A :class:`~vldesk.core.errors.VldeskError` becomes one line on stderr and exit code 1.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Callable

from vldesk import __version__
from vldesk.core.errors import VldeskError

Handler = Callable[[argparse.Namespace], int]

#: Top-level subcommands; anything else on the command line is handed to the GUI (image paths).
COMMANDS = ("describe", "models", "batch", "bench")

EXIT_ERROR = 1
EXIT_USAGE = 2
EXIT_INTERRUPTED = 130


def build_parser() -> argparse.ArgumentParser:
    from vldesk.cli import batch, bench, describe, models

    parser = argparse.ArgumentParser(
        prog="vldesk",
        description="Understand images offline with local Qwen vision-language models. "
        "Run without a command to open the desktop app.",
        epilog="The app: 'vldesk [IMAGE ...]' opens the window (with those images). "
        "'vldesk --install-desktop-entry' adds vldesk and its icon to this user's Linux app "
        "menu ('--uninstall-desktop-entry' removes them). 'vldesk --smoke-test [IMAGE]' shows "
        "the window, prints a JSON report and quits, to check an installation.",
    )
    parser.add_argument("--version", action="version", version=f"vldesk {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="log details to stderr")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    describe.register(subparsers)
    models.register(subparsers)
    batch.register(subparsers)
    bench.register(subparsers)
    return parser


def run_cli(argv: list[str]) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    handler: Handler | None = getattr(args, "handler", None)
    if handler is None:
        parser.print_help()
        return EXIT_USAGE
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
    )
    if not args.verbose:
        # Library chatter (kernel fallbacks, deprecations) is for -v, not for every run.
        for noisy in ("transformers", "modelscope", "modelscope_hub", "accelerate"):
            logging.getLogger(noisy).setLevel(logging.ERROR)
    try:
        return handler(args)
    except VldeskError as exc:
        print(f"vldesk: error: {exc}", file=sys.stderr)
        return EXIT_ERROR
    except KeyboardInterrupt:
        print("vldesk: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except MemoryError:
        print("vldesk: error: out of memory", file=sys.stderr)
        return EXIT_ERROR
