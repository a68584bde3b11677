"""Entry point: ``vldesk`` with a subcommand runs the CLI, without one it opens the app."""

from __future__ import annotations

import sys


def main(argv: list[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    from vldesk.cli import COMMANDS, run_cli

    if args and (args[0] in COMMANDS or args[0] in ("-h", "--help", "--version")):
        return run_cli(args)
    from vldesk.gui import desktop_entry, system_libs

    if args and args[0] in desktop_entry.FLAGS:
        return desktop_entry.main(args[0])
    # Before Qt is imported: a missing system library gets a message, not a crash.
    problem = system_libs.startup_problem(args)
    if problem:
        system_libs.report(problem)
        return 1
    from vldesk.gui.launch import run_app

    return run_app(args)


if __name__ == "__main__":
    sys.exit(main())
