"""The command-line interface: ``vldesk describe``, ``vldesk models ...``.

Each command group lives in its own module with ``register(subparsers)``; a handler returns the
exit code. A :class:`~vldesk.core.errors.VldeskError` becomes one line on stderr and exit code 1.
"""

from __future__ import annotations

import argparse
import difflib
import sys
from collections.abc import Callable
from typing import Any

from vldesk import __version__
from vldesk.cli.logs import configure_logging
from vldesk.core.errors import VldeskError

Handler = Callable[[argparse.Namespace], int]

#: Top-level subcommands; anything else on the command line is handed to the GUI (image paths).
COMMANDS = ("describe", "models", "batch", "bench", "serve")
#: Flags that ask for details on stderr, accepted before or after the command.
VERBOSE_FLAGS = ("-v", "--verbose")

EXIT_ERROR = 1
EXIT_USAGE = 2
EXIT_INTERRUPTED = 130


class _CommandParser(argparse.ArgumentParser):
    """A subcommand's parser: it also takes ``-v`` (``vldesk describe -v ...``).

    The default is suppressed so that a ``-v`` given before the command is not reset.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.add_argument(
            *VERBOSE_FLAGS, action="store_true", default=argparse.SUPPRESS, help=VERBOSE_HELP
        )


VERBOSE_HELP = "log details (and library warnings) to stderr"


def unknown_command_message(word: str) -> str:
    """What to say when ``word`` is neither a command nor an existing file."""
    close = difflib.get_close_matches(word, COMMANDS, n=1)
    hint = f" Did you mean '{close[0]}'?" if close else ""
    return (
        f"vldesk: error: '{word}' is neither a command nor an existing file.{hint}\n"
        f"Commands: {', '.join(COMMANDS)}. 'vldesk --help' explains them; "
        "'vldesk [IMAGE ...]' opens the app."
    )


def build_parser() -> argparse.ArgumentParser:
    from vldesk.cli import batch, bench, describe, models, serve

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
    parser.add_argument(*VERBOSE_FLAGS, action="store_true", help=VERBOSE_HELP)
    subparsers = parser.add_subparsers(
        dest="command", metavar="COMMAND", parser_class=_CommandParser
    )
    describe.register(subparsers)
    models.register(subparsers)
    batch.register(subparsers)
    bench.register(subparsers)
    serve.register(subparsers)
    return parser


def run_cli(argv: list[str]) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    handler: Handler | None = getattr(args, "handler", None)
    if handler is None:
        parser.print_help()
        return EXIT_USAGE
    configure_logging(verbose=args.verbose)
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
