"""Starting vldesk again with the same command line (to apply a new interface language)."""

from __future__ import annotations

import logging
import sys

from PySide6.QtCore import QProcess

log = logging.getLogger(__name__)


def restart_command() -> tuple[str, list[str]]:
    """The program and arguments this process was started with.

    A bundled app (PyInstaller) is its own program; otherwise the interpreter with its own
    options (``-m vldesk``, or the ``vldesk`` script) comes first, so the same code runs.
    """
    if getattr(sys, "frozen", False):
        return sys.executable, list(sys.argv[1:])
    original = list(getattr(sys, "orig_argv", []) or [sys.executable, *sys.argv])
    return sys.executable, original[1:]


def start_again() -> bool:
    """Start a new vldesk process, detached from this one (which is about to exit)."""
    program, arguments = restart_command()
    started, _pid = QProcess.startDetached(program, arguments)
    if not started:
        log.error("could not restart vldesk: %s %s", program, arguments)
    else:
        log.info("restarting: %s %s", program, arguments)
    return bool(started)
