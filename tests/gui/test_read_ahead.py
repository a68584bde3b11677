"""While the first question about an image is typed, the model reads the image (on the CPU), and
the question continues from it; moving on stops the read-ahead, and nothing of it is shown."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QObject, Qt, Slot
from pytestqt.qtbot import QtBot

from tests.gui.conftest import (
    AppFactory,
    EngineStandIn,
    make_image,
    open_image,
    wait_for_model,
    wait_idle,
)
from vldesk.core.inference.engine import LoadRequest
from vldesk.gui.app import DesktopApp


class _Finished(QObject):
    """Lives in the GUI thread: the worker's signal reaches it queued, as it reaches the app."""

    def __init__(self) -> None:
        super().__init__()
        self.results: list[tuple[int, bool]] = []

    @Slot(int, bool)
    def record(self, request_id: int, read: bool) -> None:
        self.results.append((request_id, read))


def _spy(app: DesktopApp) -> tuple[list[int], list[int]]:
    """Record read-ahead requests and cancels going to the inference worker."""
    started: list[int] = []
    cancelled: list[int] = []
    client = app.inference
    read_ahead, cancel = client.read_ahead, client.cancel

    def spying_read_ahead(*args: object, **kwargs: object) -> int:
        request_id = read_ahead(*args, **kwargs)  # type: ignore[arg-type]
        started.append(request_id)
        return request_id

    def spying_cancel(request_id: int) -> None:
        cancelled.append(request_id)
        cancel(request_id)

    client.read_ahead = spying_read_ahead  # type: ignore[method-assign]
    client.cancel = spying_cancel  # type: ignore[method-assign]
    return started, cancelled


def test_typing_the_first_question_reads_the_image_ahead(
    ready_app: DesktopApp, qtbot: QtBot, tmp_path: Path
) -> None:
    app = ready_app
    started, _ = _spy(app)
    open_image(qtbot, app, make_image(tmp_path / "photo.png", (200, 150)))
    edit = app.window.prompt_panel.prompt_edit
    finished = _Finished()
    app.inference.read_ahead_finished.connect(finished.record)
    qtbot.keyClicks(edit, "What")
    qtbot.waitUntil(lambda: bool(finished.results), timeout=30_000)
    assert finished.results == [(started[0], True)]
    assert len(started) == 1  # once per image, not per key
    assert app.window.answer_view.exchanges == []  # nothing of it is shown
    qtbot.keyClicks(edit, " is in the corner?")
    qtbot.keyClick(edit, Qt.Key.Key_Return)
    wait_idle(qtbot, app)
    result = app.session.last_result
    assert result is not None
    assert result.stats.reused_tokens > result.stats.image_tokens  # the image was not read again
    assert len(started) == 1
    # History holds the question and its answer only.
    assert app.history.store is not None
    entry = app.history.store.get_conversation(app.session.history_id or -1)
    assert entry is not None
    assert [m.role for m in entry.messages] == ["user", "assistant"]
    # Typing a follow-up reads nothing ahead: the answer's cache already holds the image.
    qtbot.keyClicks(edit, "And")
    assert len(started) == 1


def test_moving_to_another_image_stops_the_read_ahead(
    ready_app: DesktopApp, qtbot: QtBot, tmp_path: Path
) -> None:
    app = ready_app
    started, cancelled = _spy(app)
    open_image(qtbot, app, make_image(tmp_path / "one.png", (200, 150)))
    qtbot.keyClicks(app.window.prompt_panel.prompt_edit, "W")
    assert len(started) == 1
    open_image(qtbot, app, make_image(tmp_path / "two.png", (120, 90), (10, 200, 10)))
    assert started[0] in cancelled


def test_no_read_ahead_on_a_gpu(
    make_app: AppFactory, tiny_dir: Path, qtbot: QtBot, tmp_path: Path
) -> None:
    # Reading an image takes a moment on a GPU: nothing to gain from reading it early.
    gpus: list[EngineStandIn] = []

    def gpu(request: LoadRequest) -> EngineStandIn:
        gpus.append(EngineStandIn(request, device="cuda:0"))
        return gpus[-1]

    app = make_app(tiny_dir, engine_loader=gpu)
    wait_for_model(qtbot, app)
    open_image(qtbot, app, make_image(tmp_path / "photo.png"))
    edit = app.window.prompt_panel.prompt_edit
    qtbot.keyClicks(edit, "What is it?")
    qtbot.keyClick(edit, Qt.Key.Key_Return)
    wait_idle(qtbot, app)
    # The engine takes requests in order: a read-ahead would have come before the question.
    assert [question for question, _budget in gpus[0].asked_with_budget] == ["What is it?"]
    assert app.window.answer_view.current_answer() == "A red square."
