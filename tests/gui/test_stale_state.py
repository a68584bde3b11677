"""Nothing on screen outlives what it was about: banners, answer figures, memory, the Model
menu's actions and entries."""

from __future__ import annotations

from pathlib import Path

import pytest
from pytestqt.qtbot import QtBot

from tests.gui.conftest import AppFactory, drop_files, make_image, open_image, wait_idle
from tests.helpers.fake_modelscope import model_files
from vldesk.core.models.store import ModelStore
from vldesk.core.units import format_bytes
from vldesk.gui.app import DesktopApp
from vldesk.gui.controllers import chat
from vldesk.gui.main_window import MainWindow

GB = 1024**3


def answer_something(qtbot: QtBot, app: DesktopApp, image: Path) -> None:
    open_image(qtbot, app, image)
    assert app.chat.ask("What is it?")
    wait_idle(qtbot, app)


def figures(app: DesktopApp) -> list[str]:
    panel = app.window.status_panel
    return [
        label.text()
        for label in (panel.image_tokens_label, panel.first_token_label, panel.speed_label)
    ]


def test_a_no_images_banner_goes_once_an_image_opens(
    fake_app: DesktopApp, qtbot: QtBot, tmp_path: Path
) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    drop_files(fake_app.window.viewer.viewport(), [empty])
    banner = fake_app.window.banner
    assert banner.isVisible()
    assert banner.text == "There are no images there."
    open_image(qtbot, fake_app, make_image(tmp_path / "a.png"))
    assert not banner.isVisible()


def test_a_skipped_files_warning_of_the_same_drop_stays(
    fake_app: DesktopApp, qtbot: QtBot, tmp_path: Path
) -> None:
    notes = tmp_path / "notes.txt"
    notes.write_text("not an image")
    image = make_image(tmp_path / "a.png")
    drop_files(fake_app.window.viewer.viewport(), [notes, image])
    qtbot.waitUntil(lambda: fake_app.session.image is not None, timeout=10_000)
    assert fake_app.window.banner.isVisible()
    assert "notes.txt" in fake_app.window.banner.text


def test_answer_figures_go_with_the_image_and_the_model(
    fake_app: DesktopApp, qtbot: QtBot, tmp_path: Path
) -> None:
    answer_something(qtbot, fake_app, make_image(tmp_path / "a.png"))
    assert figures(fake_app)[0]  # image tokens of the answer
    open_image(qtbot, fake_app, make_image(tmp_path / "b.png", color=(0, 200, 0)))
    assert figures(fake_app) == ["", "", ""]

    assert fake_app.chat.ask("And this?")
    wait_idle(qtbot, fake_app)
    assert figures(fake_app)[0]
    fake_app.window.unload_model_action.trigger()
    qtbot.waitUntil(lambda: fake_app.models.info is None, timeout=10_000)
    assert figures(fake_app) == ["", "", ""]


def test_memory_is_what_the_process_holds_not_the_answers_peak(
    fake_app: DesktopApp, qtbot: QtBot, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The reading of the operating system is the edge: the process holds 2.9 GB.
    monkeypatch.setattr(chat, "memory_in_use", lambda device: int(2.9 * GB))
    answer_something(qtbot, fake_app, make_image(tmp_path / "a.png"))
    label = fake_app.window.status_panel.memory_label
    assert label.text() == f"{format_bytes(int(2.9 * GB))} in use"
    assert "holds now" in label.toolTip()


def test_reload_and_unload_need_a_loaded_model(
    make_app: AppFactory, fake_app: DesktopApp, qtbot: QtBot
) -> None:
    nothing = make_app(start=False)  # no model chosen, none loaded
    assert not nothing.window.reload_model_action.isEnabled()
    assert not nothing.window.unload_model_action.isEnabled()

    window = fake_app.window
    assert window.reload_model_action.isEnabled()
    assert window.unload_model_action.isEnabled()
    window.unload_model_action.trigger()
    qtbot.waitUntil(lambda: fake_app.models.info is None, timeout=10_000)
    assert not window.reload_model_action.isEnabled()
    assert not window.unload_model_action.isEnabled()
    # The hint says how to get a model back, not "choose a preset" with every preset off.
    assert "unloaded" in window.answer_view.browser.toPlainText()


def test_a_model_imported_elsewhere_shows_when_the_menu_opens(
    fake_app: DesktopApp, tmp_path: Path
) -> None:
    folder = tmp_path / "cli-imported"
    for name, data in model_files(extras=False).items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_bytes(data)
    # As `vldesk models import` does, in another process with its own store.
    ModelStore(fake_app.paths.models_dir).import_folder(folder, name="from-the-cli")
    menu = fake_app.window.model_menu

    def labels() -> list[str]:
        return [action.text() for action in menu.actions()]

    assert not any("from-the-cli" in label for label in labels())
    menu.aboutToShow.emit()
    assert any("from-the-cli" in label for label in labels())


def test_an_empty_batch_view_does_not_come_back_at_start(qtbot: QtBot) -> None:
    # A dock a batch opened is saved in the layout; at the next start there is no batch.
    before = MainWindow()
    qtbot.addWidget(before)
    before.show()
    before.batch_dock.show()
    state = before.saveState()
    after = MainWindow()
    qtbot.addWidget(after)
    after.show()
    after.restore_layout(None, state, None)
    assert not after.batch_dock.isVisible()
