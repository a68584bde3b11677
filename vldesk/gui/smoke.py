"""``vldesk --smoke-test [IMAGE]``: show the window, open the image, print a report, quit."""

# For checking an installation or an app bundle without a person: exit code 0 when the window
# was shown with its icon (and the image, if one was given, opened). No model is loaded.

from __future__ import annotations

import json
import sys
from pathlib import Path

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication

import vldesk
from vldesk.gui.app import DesktopApp
from vldesk.gui.i18n import current_language
from vldesk.gui.workers.image_loader import DecodedImage

SMOKE_FLAG = "--smoke-test"
#: Give up (exit code 1) when the image has not opened by then.
TIMEOUT_MS = 30_000


def run_smoke_test(app: QApplication, root: DesktopApp, paths: list[str]) -> None:
    """Schedule the checks; the event loop then ends with exit code 0 (passed) or 1."""
    finished = False

    def finish(image: str | None = None, error: str | None = None) -> None:
        nonlocal finished
        if finished:
            return
        finished = True
        window = root.window
        menus = [action.text() for action in window.menuBar().actions()]
        report = {
            "window_visible": window.isVisible(),
            "icon": not app.windowIcon().isNull(),
            "language": current_language(),
            "menus": menus,
            "package": str(Path(vldesk.__file__).parent),
            "image": image,
            "error": error,
        }
        passed = report["window_visible"] and report["icon"] and error is None
        if sys.stdout is not None:
            sys.stdout.write(json.dumps(report, ensure_ascii=False) + "\n")
            sys.stdout.flush()
        app.exit(0 if passed else 1)

    def loaded(decoded: DecodedImage) -> None:
        finish(image=decoded.name)

    if paths:
        root.images.loader.loaded.connect(loaded)
        root.images.loader.failed.connect(lambda _id, _source, message: finish(error=message))

        def open_them() -> None:
            before = root.images.loader.latest_request
            root.open_paths(paths)
            if root.images.loader.latest_request == before:  # nothing to decode: say why
                finish(error=root.window.banner.text or "nothing to open")

        QTimer.singleShot(0, open_them)
        QTimer.singleShot(TIMEOUT_MS, lambda: finish(error="the image did not open in time"))
    else:
        QTimer.singleShot(0, finish)  # after the first paint
