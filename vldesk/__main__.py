"""Entry point: ``vldesk`` with a subcommand runs the CLI, without one it opens the app."""

from __future__ import annotations

import sys
from pathlib import Path


def main(argv: list[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    from vldesk.cli import COMMANDS, VERBOSE_FLAGS, run_cli, unknown_command_message

    # -v may come before the command: look past it for the first word.
    leading = 0
    while leading < len(args) and args[leading] in VERBOSE_FLAGS:
        leading += 1
    first = args[leading] if leading < len(args) else None
    if first is not None and (first in COMMANDS or first in ("-h", "--help", "--version")):
        return run_cli(args)
    from vldesk.gui import desktop_entry, system_libs

    if first is not None and first in desktop_entry.FLAGS:
        return desktop_entry.main(first)
    if first is not None and not first.startswith("-") and not Path(first).exists():
        # A typo ('descibe') or a command this version lacks: not images for the window, which
        # would open and say nothing useful (and never exit without a screen).
        sys.stderr.write(unknown_command_message(first) + "\n")
        return 2
    # Before Qt is imported: a missing system library gets a message, not a crash.
    problem = system_libs.startup_problem(args)
    if problem:
        system_libs.report(problem)
        return 1
    from vldesk.gui.launch import run_app

    return run_app(args[leading:], verbose=leading > 0)


if __name__ == "__main__":
    sys.exit(main())
