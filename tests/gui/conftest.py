"""GUI test helpers: build the app on a private VLDESK_HOME, drop files, make images."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import pytest
from PIL import Image
from PySide6.QtCore import QMimeData, QPointF, Qt, QUrl
from PySide6.QtGui import QDragEnterEvent, QDropEvent
from PySide6.QtWidgets import QApplication, QWidget
from pytestqt.qtbot import QtBot

from tests.helpers.fake_engine import FakeEngine, FakeEngineLoader
from tests.helpers.fake_modelscope import model_files
from vldesk.core.errors import OutOfMemoryError
from vldesk.core.generation import (
    Conversation,
    GenerationSettings,
)
from vldesk.core.inference.engine import EngineLoader, LoadRequest, load_engine
from vldesk.core.models.catalog import Family
from vldesk.core.paths import app_paths
from vldesk.core.settings import Settings
from vldesk.gui.app import DesktopApp

#: Tiny random models only produce readable text when sampling.
SAMPLING = {"greedy": False, "temperature": 1.0, "top_p": 1.0, "top_k": 0}

AppFactory = Callable[..., DesktopApp]


#: The offscreen platform cannot apply window size hints and says so; real platforms can.
OFFSCREEN_NOISE = "This plugin does not support propagateSizeHints"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    here = Path(__file__).parent
    for item in items:
        if here in Path(str(item.fspath)).parents:
            item.add_marker(pytest.mark.qt_log_ignore(OFFSCREEN_NOISE))


@pytest.fixture
def make_app(qtbot: QtBot) -> Iterator[AppFactory]:
    """Build a :class:`DesktopApp` (optionally with a model folder); all are shut down after."""
    apps: list[DesktopApp] = []

    def make(
        model: Path | None = None,
        *,
        start: bool = True,
        engine_loader: EngineLoader = load_engine,
        **changes: Any,
    ) -> DesktopApp:
        settings = Settings(**changes) if model is None else Settings(model=str(model), **changes)
        app = DesktopApp(app_paths(), settings=settings, engine_loader=engine_loader)
        qtbot.addWidget(app.window)
        apps.append(app)
        app.window.show()
        if start:
            app.start()
        return app

    yield make
    for app in apps:
        app.shut_down()
        app.wait_for_background_work()  # as vldesk does once its window is gone
        assert not app.inference.worker_thread.isRunning()


@pytest.fixture
def tiny_dir(tiny_model_dirs: dict[Family, Path]) -> Path:
    """The default family's tiny model (Qwen3-VL, like the default catalog model)."""
    return tiny_model_dirs[Family.QWEN3_VL]


@pytest.fixture
def ready_app(make_app: AppFactory, tiny_dir: Path, qtbot: QtBot) -> DesktopApp:
    """An app whose tiny model has finished loading."""
    app = make_app(tiny_dir, **SAMPLING)
    wait_for_model(qtbot, app)
    return app


@pytest.fixture
def fake_model_dir(tmp_path: Path) -> Path:
    """A model folder that passes the store's checks, with stand-in weights: for apps whose
    engine is a :class:`FakeEngine` (nothing reads the weights)."""
    folder = tmp_path / "fake-qwen3-vl"
    for name, data in model_files(extras=False).items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_bytes(data)
    return folder


@pytest.fixture
def fake_app(make_app: AppFactory, fake_model_dir: Path, qtbot: QtBot) -> DesktopApp:
    """An app whose model, a :class:`FakeEngine` on the CPU, is loaded: it answers every
    question with "A red square." at once, without torch."""
    loader = FakeEngineLoader(make=lambda request: EngineStandIn(request, device="cpu"))
    app = make_app(fake_model_dir, engine_loader=loader)
    wait_for_model(qtbot, app)
    return app


def wait_for_model(qtbot: QtBot, app: DesktopApp, timeout: int = 60_000) -> None:
    qtbot.waitUntil(lambda: app.session.model_name is not None, timeout=timeout)


def make_image(
    path: Path, size: tuple[int, int] = (160, 120), color: tuple[int, int, int] = (200, 40, 40)
) -> Path:
    image = Image.new("RGB", size, color)
    image.paste((30, 60, 220), (0, 0, size[0] // 2, size[1] // 2))
    path.parent.mkdir(parents=True, exist_ok=True)
    image.save(path)
    return path


def drop_files(target: QWidget, paths: list[Path]) -> None:
    """Simulate dragging files from a file manager and dropping them on ``target``."""
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(path)) for path in paths])
    center = target.rect().center()
    action = Qt.DropAction.CopyAction
    buttons = Qt.MouseButton.LeftButton
    modifiers = Qt.KeyboardModifier.NoModifier
    enter = QDragEnterEvent(center, action, mime, buttons, modifiers)
    QApplication.sendEvent(target, enter)
    assert enter.isAccepted()
    drop = QDropEvent(QPointF(center), action, mime, buttons, modifiers)
    QApplication.sendEvent(target, drop)


def open_image(qtbot: QtBot, app: DesktopApp, path: Path) -> None:
    drop_files(app.window.viewer.viewport(), [path])
    qtbot.waitUntil(
        lambda: app.session.image is not None and app.session.image.path == path, timeout=10_000
    )


DialogType = TypeVar("DialogType", bound=QWidget)


def shown_dialogs(app: DesktopApp, kind: type[DialogType]) -> list[DialogType]:
    """The dialogs of ``kind`` open on the app's window (what a person sees)."""
    return [dialog for dialog in app.window.findChildren(kind) if dialog.isVisible()]


def wait_idle(qtbot: QtBot, app: DesktopApp, timeout: int = 60_000) -> None:
    qtbot.waitUntil(lambda: not app.session.busy, timeout=timeout)


class ManualClock:
    """A clock for throttles that moves only when the test says so."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


class EngineStandIn(FakeEngine):
    """A :class:`FakeEngine` for a load request, on a device no test machine has (a GPU): it
    answers every question with ``answer``, or runs out of memory as the engine reports it
    (``answer=None``). What it was asked is in :attr:`asked_with_budget` (on the worker thread:
    read it after the signal that follows)."""

    def __init__(
        self,
        request: LoadRequest,
        *,
        device: str = "cuda:0",
        answer: str | None = "A red square.",
    ) -> None:
        super().__init__(name=request.name, device=device, dtype="bfloat16")
        self.answer = answer if answer is not None else ""
        self.out_of_memory = answer is None

    @property
    def asked_with_budget(self) -> list[tuple[str, int]]:
        """(the question's text, its image budget) of each request, in the order they came."""
        return [
            (conversation.turns[-1].text, settings.max_image_tokens)
            for conversation, settings in zip(self.asked, self.settings_seen, strict=True)
        ]

    def _check(self, conversation: Conversation, settings: GenerationSettings) -> None:
        super()._check(conversation, settings)
        if self.out_of_memory:
            raise OutOfMemoryError(
                f"Out of memory while answering on {self.device}. Try a smaller image "
                "budget or the CPU."
            )
