"""Closing the window while a worker's core callable is stuck returns without waiting for it."""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from PIL import Image
from PySide6.QtCore import QCoreApplication
from pytestqt.qtbot import QtBot

from tests.gui.conftest import make_image
from vldesk.core.errors import DownloadCancelled
from vldesk.core.history import HistoryStore
from vldesk.core.models.catalog import CATALOG
from vldesk.core.paths import app_paths
from vldesk.gui.app import DesktopApp
from vldesk.gui.workers import background

#: How long the blocked callables wait for the test before giving up (never reached when the
#: code is right; it keeps a wrong one from hanging the run).
GIVE_UP_S = 60


class Blocked:
    """Stands in for a core callable: says when it is entered, then waits for ``release``."""

    def __init__(self, then: Callable[..., Any] | None = None) -> None:
        self.entered = threading.Event()
        self.release = threading.Event()
        self.returned = threading.Event()
        self._then = then

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        self.entered.set()
        try:
            self.release.wait(GIVE_UP_S)
            return self._then(*args, **kwargs) if self._then is not None else None
        finally:
            self.returned.set()


@pytest.fixture
def short_bound(monkeypatch: pytest.MonkeyPatch) -> None:
    """A short shutdown wait keeps these tests quick; its length is not what they check."""
    monkeypatch.setattr(background, "SHUTDOWN_WAIT_S", 0.05)


def close_while_blocked(qtbot: QtBot, app: DesktopApp, blocked: Blocked) -> None:
    qtbot.waitUntil(blocked.entered.is_set, timeout=10_000)
    with qtbot.waitSignal(app.window.closing, timeout=10_000):
        app.window.close()
    assert not app.window.isVisible()
    # Closing returned while the callable is still stuck: it did not wait for it.
    assert not blocked.returned.is_set()
    blocked.release.set()
    qtbot.waitUntil(blocked.returned.is_set, timeout=10_000)


@pytest.mark.usefixtures("short_bound")
def test_closing_while_an_image_decodes(
    fake_app: DesktopApp, qtbot: QtBot, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from vldesk.gui.workers import image_loader

    blocked = Blocked(then=image_loader.decode)
    monkeypatch.setattr(image_loader, "decode", blocked)
    loader = fake_app.images.loader
    delivered: list[object] = []
    loader.loaded.connect(delivered.append)
    fake_app.open_paths([str(make_image(tmp_path / "photo.png"))])

    close_while_blocked(qtbot, fake_app, blocked)
    qtbot.waitUntil(lambda: not loader.busy, timeout=10_000)
    QCoreApplication.processEvents()
    assert delivered == []  # the late image is dropped, not shown in a closed window


@pytest.mark.usefixtures("short_bound")
def test_closing_while_history_thumbnails_decode(
    make_app: Callable[..., DesktopApp],
    fake_model_dir: Path,
    qtbot: QtBot,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from vldesk.gui.workers import thumbnails

    history = HistoryStore(app_paths().ensure().history_db)
    thumbnail = Image.new("RGB", (64, 48), (10, 120, 200))
    history.start_conversation("/pictures/boat.jpg", thumbnail, "tiny")
    history.close()
    blocked = Blocked(then=thumbnails.decode_thumbnails)
    monkeypatch.setattr(thumbnails, "decode_thumbnails", blocked)

    app = make_app(fake_model_dir, start=False)  # the history list asks for its thumbnails
    close_while_blocked(qtbot, app, blocked)


@pytest.mark.usefixtures("short_bound")
def test_closing_while_a_download_ignores_its_cancel(
    fake_app: DesktopApp, qtbot: QtBot, monkeypatch: pytest.MonkeyPatch
) -> None:
    from vldesk.gui.workers import download

    blocked = Blocked()  # a read that cannot be interrupted
    monkeypatch.setattr(download, "download_model", blocked)
    assert fake_app.downloads.start(CATALOG[0])

    close_while_blocked(qtbot, fake_app, blocked)
    qtbot.waitUntil(lambda: not fake_app.downloads.busy, timeout=10_000)
    assert not fake_app.downloads.start(CATALOG[0])  # nothing starts once closed


def test_closing_lets_a_download_that_heeds_cancel_end_cleanly(
    fake_app: DesktopApp, qtbot: QtBot, monkeypatch: pytest.MonkeyPatch
) -> None:
    from vldesk.gui.workers import download

    entered = threading.Event()

    def until_cancelled(*_args: Any, cancel: threading.Event, **_kwargs: Any) -> Path:
        entered.set()
        cancel.wait(GIVE_UP_S)
        raise DownloadCancelled("cancelled")

    monkeypatch.setattr(download, "download_model", until_cancelled)
    worker = fake_app.downloads
    assert worker.start(CATALOG[0])
    qtbot.waitUntil(entered.is_set, timeout=10_000)
    with qtbot.waitSignal(worker.cancelled, timeout=10_000) as cancelled:
        fake_app.window.close()
        # The bounded wait covers a download that stops when asked: it has ended by now.
        assert not worker.busy
    assert cancelled.args == [CATALOG[0].id]
