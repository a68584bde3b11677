"""Start the desktop app: logging, Qt, the error hook, the window, then the model."""

from __future__ import annotations

import contextlib
import json
import logging
import logging.handlers
import os
import sys
import time
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn

from PySide6.QtCore import QMessageLogContext, QTimer, QtMsgType, qInstallMessageHandler
from PySide6.QtGui import QIcon
from PySide6.QtWidgets import QApplication

from vldesk import __version__
from vldesk.core.paths import app_paths
from vldesk.gui.single_instance import (
    NEW_INSTANCE_ENV,
    HandOver,
    InstanceServer,
    hand_over,
    server_name,
)

if TYPE_CHECKING:
    from vldesk.gui.app import DesktopApp

log = logging.getLogger(__name__)

LOG_NAME = "vldesk.log"
_QT_LEVELS = {
    QtMsgType.QtDebugMsg: logging.DEBUG,
    QtMsgType.QtInfoMsg: logging.INFO,
    QtMsgType.QtWarningMsg: logging.WARNING,
    QtMsgType.QtCriticalMsg: logging.ERROR,
    QtMsgType.QtFatalMsg: logging.CRITICAL,
}


def setup_logging(log_dir: Path) -> Path | None:
    """Log to a rotating file in the user log folder; returns its path (None if not writable)."""
    root = logging.getLogger()
    root.setLevel(logging.INFO)
    try:
        log_dir.mkdir(parents=True, exist_ok=True)
        log_file = log_dir / LOG_NAME
        handler = logging.handlers.RotatingFileHandler(
            log_file, maxBytes=2_000_000, backupCount=3, encoding="utf-8"
        )
    except OSError:
        return None
    handler.setFormatter(
        logging.Formatter("%(asctime)s %(levelname)s %(threadName)s %(name)s: %(message)s")
    )
    root.addHandler(handler)
    return log_file


def guard_std_streams(log_file: Path | None) -> None:
    """A windowed launch (pythonw, a GUI bundle) has no stderr: libraries that write to it
    would crash, so point missing streams at the log file (or nowhere)."""
    if sys.stderr is not None and sys.stdout is not None:
        return
    target = (
        str(log_file) if log_file is not None else "nul" if sys.platform == "win32" else "/dev/null"
    )
    stream = open(target, "a", encoding="utf-8", buffering=1)  # noqa: SIM115 - lives as long as the app
    if sys.stderr is None:
        sys.stderr = stream
    if sys.stdout is None:
        sys.stdout = stream


def _qt_message(kind: QtMsgType, context: QMessageLogContext, message: str) -> None:
    logging.getLogger("qt").log(_QT_LEVELS.get(kind, logging.WARNING), "%s", message)


def app_icon() -> QIcon:
    return QIcon(str(resources.files("vldesk") / "assets" / "vldesk.svg"))


def create_application(args: list[str]) -> QApplication:
    existing = QApplication.instance()
    if isinstance(existing, QApplication):
        return existing
    app = QApplication([sys.argv[0] if sys.argv else "vldesk", *args])
    app.setApplicationName("vldesk")
    app.setApplicationDisplayName("vldesk")
    app.setApplicationVersion(__version__)
    app.setDesktopFileName("vldesk")
    app.setWindowIcon(app_icon())
    return app


def run_app(args: list[str], *, verbose: bool = False) -> int:
    """Open the window at once; the model loads in the background afterwards.

    ``args`` may name image files or folders to open; ``verbose`` (``vldesk -v``) also logs to
    stderr. Returns the exit code when it stops before the window opens; once the window has
    closed the process ends at once (:func:`end_process`).
    """
    paths = app_paths()
    log_file = setup_logging(paths.log_dir)
    if verbose and sys.stderr is not None:
        echo = logging.StreamHandler(sys.stderr)
        echo.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
        logging.getLogger().addHandler(echo)
    guard_std_streams(log_file)
    qInstallMessageHandler(_qt_message)
    log.info("vldesk %s starting (Python %s)", __version__, sys.version.split()[0])
    app = create_application(args)
    from vldesk.gui.appearance import install_focus_rings

    install_focus_rings(app)
    # Qt removed its own options (-style, ...): what is left are files to open.
    to_open = [arg for arg in app.arguments()[1:] if not arg.startswith("-")]
    instance: InstanceServer | None = None
    if not _runs_alone(app):
        name = server_name(paths.data_dir)
        outcome = hand_over(name, to_open)
        if outcome is HandOver.DELIVERED:
            log.info("handed %d path(s) to the vldesk already running", len(to_open))
            return 0
        if outcome is HandOver.NO_ANSWER:
            report_problem(
                "vldesk is already running but did not answer. Close it (or end its process) "
                f"and try again, or set {NEW_INSTANCE_ENV}=1 to start a second one."
            )
            return 1
        instance = InstanceServer(name, app)
        if not instance.listen():
            instance = None

    # Imported here so that a broken install still gets logging set up first.
    from vldesk.gui.app import DesktopApp
    from vldesk.gui.crash import ExceptionHook
    from vldesk.gui.i18n import setup_interface_language
    from vldesk.gui.open_events import FileOpenFilter
    from vldesk.gui.smoke import SMOKE_FLAG, run_smoke_test

    setup_interface_language(app, paths.settings_file)

    hook = ExceptionHook(log_file)
    hook.install()
    try:
        root = DesktopApp()
    except Exception as exc:
        log.exception("start-up failed")
        hook.handle(type(exc), exc, exc.__traceback__)
        app.processEvents()
        for dialog in list(hook.dialogs):
            dialog.exec()
        return 1
    app.aboutToQuit.connect(root.shut_down)
    if instance is not None:
        instance.paths_received.connect(lambda received: bring_forward(root, received))
    app.installEventFilter(FileOpenFilter(root.open_paths, app))  # macOS: Finder's Open With
    root.window.show()
    if os.environ.get("VLDESK_STARTUP_REPORT"):  # `vldesk bench` times the start-up, then quits
        _report_startup(app, root, Path(os.environ["VLDESK_STARTUP_REPORT"]))
    if SMOKE_FLAG in app.arguments():
        run_smoke_test(app, root, to_open)
    else:
        # After the first paint: the heavy part (torch, the weights) happens on the worker thread.
        QTimer.singleShot(0, lambda: root.start(to_open))
    code = app.exec()
    root.shut_down()
    # The window is gone: a model load it did not wait for may finish now (its thread must
    # end before Python tears the app down).
    root.wait_for_background_work()
    if instance is not None:
        # The process ends without Qt's teardown: stop listening now (a restarted vldesk must
        # not hand its paths back to this one).
        instance.close()
    if root.restart_requested:
        from vldesk.gui.restart import start_again

        start_again()
    hook.uninstall()
    log.info("vldesk exited with code %s", code)
    end_process(int(code))


def end_process(code: int) -> NoReturn:
    """Everything is saved and closed: end the process without Python's teardown, which took
    seconds after the window was gone once torch and transformers were imported (their
    modules are unloaded one object at a time)."""
    logging.shutdown()  # flushes the log file
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(Exception):
            if stream is not None:
                stream.flush()
    os._exit(code)


def _runs_alone(app: QApplication) -> bool:
    """Start-up timing, the smoke test and an explicit request run beside a running app."""
    from vldesk.gui.smoke import SMOKE_FLAG

    return (
        os.environ.get(NEW_INSTANCE_ENV) == "1"
        or bool(os.environ.get("VLDESK_STARTUP_REPORT"))
        or SMOKE_FLAG in app.arguments()
    )


def bring_forward(root: DesktopApp, paths: list[str]) -> None:
    """Another launch's files open here, and the window comes to the front."""
    if paths:
        root.open_paths(paths)
    window = root.window
    if window.isMinimized():
        window.showNormal()
    window.raise_()
    window.activateWindow()


def report_problem(message: str) -> None:
    """A start-up problem, on stderr (a terminal) and in the log."""
    log.error("%s", message)
    if sys.stderr is not None:
        sys.stderr.write(message + "\n")


def _report_startup(app: QApplication, root: DesktopApp, path: Path) -> None:
    """Write when the window was painted and the model ready (``time.time()``), then quit."""
    stamps: dict[str, float] = {}

    def note(key: str) -> None:  # may run on the worker thread: quit through the event loop
        stamps[key] = time.time()
        if key != "window_shown":
            path.write_text(json.dumps(stamps), encoding="utf-8")
            QTimer.singleShot(0, app, app.quit)

    QTimer.singleShot(0, lambda: note("window_shown"))  # runs after the first paint
    worker = root.inference.worker
    worker.model_loaded.connect(lambda _info: note("model_ready"))
    worker.model_failed.connect(lambda _message: note("model_failed"))
