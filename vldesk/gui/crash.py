"""Uncaught errors: log them with the traceback and show a readable dialog, from any thread."""

from __future__ import annotations

import logging
import sys
import threading
import traceback
from pathlib import Path
from types import TracebackType

from PySide6.QtCore import QCoreApplication, QObject, QThread, Signal, Slot
from PySide6.QtWidgets import QApplication

from vldesk.core.errors import VldeskError
from vldesk.gui.dialogs.error_dialog import ErrorDialog
from vldesk.gui.i18n import error_text

log = logging.getLogger("vldesk.crash")

#: Beyond this many dialogs in one run, errors are only logged (no dialog storm).
MAX_DIALOGS = 5


def _tr(text: str) -> str:
    return QCoreApplication.translate("ExceptionHook", text)


def describe(exc: BaseException) -> str:
    """One readable sentence for the dialog."""
    if isinstance(exc, VldeskError):
        return error_text(exc)
    if isinstance(exc, MemoryError):
        return _tr("vldesk ran out of memory. Close other programs or use a smaller model.")
    return _tr("Something went wrong: {0}: {1}").format(type(exc).__name__, exc)


class ExceptionHook(QObject):
    """Installed as ``sys.excepthook`` and ``threading.excepthook``.

    Errors from other threads are handed to the GUI thread through a queued signal.

    Signals:
        error_reported(str, str): the message and the traceback text.
    """

    error_reported = Signal(str, str)

    def __init__(self, log_file: Path | None, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.log_file = log_file
        self.dialogs: list[ErrorDialog] = []
        self._shown = 0
        self.error_reported.connect(self._show_dialog)

    def install(self) -> None:
        sys.excepthook = self.handle
        threading.excepthook = self._thread_hook

    def uninstall(self) -> None:
        sys.excepthook = sys.__excepthook__
        threading.excepthook = threading.__excepthook__

    def handle(
        self,
        kind: type[BaseException],
        exc: BaseException,
        tb: TracebackType | None,
    ) -> None:
        if issubclass(kind, KeyboardInterrupt):
            QApplication.quit()
            return
        details = "".join(traceback.format_exception(kind, exc, tb))
        log.error("uncaught exception\n%s", details)
        self.error_reported.emit(describe(exc), details)

    def _thread_hook(self, args: threading.ExceptHookArgs) -> None:
        if args.exc_value is None:
            return
        self.handle(args.exc_type, args.exc_value, args.exc_traceback)

    @Slot(str, str)
    def _show_dialog(self, message: str, details: str) -> None:
        app = QApplication.instance()
        if app is None or QThread.currentThread() is not app.thread():
            return
        if self._shown >= MAX_DIALOGS:
            return
        self._shown += 1
        parent = QApplication.activeWindow()
        dialog = ErrorDialog(message, details, self.log_file, parent)
        dialog.finished.connect(lambda _result: self._forget(dialog))
        self.dialogs.append(dialog)
        dialog.show()  # not exec(): a nested event loop inside an excepthook invites re-entry

    def _forget(self, dialog: ErrorDialog) -> None:
        if dialog in self.dialogs:
            self.dialogs.remove(dialog)
        dialog.deleteLater()
