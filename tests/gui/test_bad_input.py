"""Bad input gives a clear message in the window and the app keeps working."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from PySide6.QtGui import QAction
from pytestqt.qtbot import QtBot

from tests.gui.conftest import (
    AppFactory,
    EngineStandIn,
    drop_files,
    make_image,
    open_image,
    wait_for_model,
    wait_idle,
)
from vldesk.core.errors import ModelLoadError, OutOfMemoryError
from vldesk.core.inference.transformers_engine import TransformersEngine
from vldesk.gui.app import DesktopApp


def banner_text(app: DesktopApp) -> str:
    return app.window.banner.text if app.window.banner.isVisible() else ""


def test_no_model_installed_says_how_to_get_one(make_app: AppFactory, qtbot: QtBot) -> None:
    app = make_app()
    text = app.window.answer_view.browser.toPlainText()
    assert "No model is available yet" in text
    assert "vldesk models download" in text
    assert "Open Model Folder" in text
    assert not app.window.prompt_panel.send_button.isEnabled()
    assert not app.window.prompt_panel.preset_button("brief").isEnabled()
    entries = [a.text() for a in app.window.model_menu.actions() if not a.isSeparator()]
    assert entries[0] == "No models installed"
    assert "Open Model &Folder…" in entries
    # Images still open without a model.
    assert app.window.isVisible()


def test_non_image_and_corrupt_files_give_clear_messages(
    fake_app: DesktopApp, qtbot: QtBot, tmp_path: Path
) -> None:
    app = fake_app
    viewport = app.window.viewer.viewport()
    notes = tmp_path / "notes.txt"
    notes.write_text("not a picture", encoding="utf-8")
    drop_files(viewport, [notes])
    qtbot.waitUntil(lambda: "not an image" in banner_text(app), timeout=10_000)
    assert "notes.txt" in banner_text(app)
    assert app.session.image is None

    broken = tmp_path / "broken.png"
    broken.write_bytes(make_image(tmp_path / "good.png").read_bytes()[:200])
    drop_files(app.window, [broken])
    qtbot.waitUntil(lambda: "truncated" in banner_text(app), timeout=10_000)

    # Several files where none is an image: nothing opens, the message names them.
    other = tmp_path / "data.csv"
    other.write_text("a,b", encoding="utf-8")
    drop_files(viewport, [notes, other])
    qtbot.waitUntil(lambda: "data.csv" in banner_text(app), timeout=10_000)

    # The app still works: a good image opens and can be asked about.
    open_image(qtbot, app, tmp_path / "good.png")
    assert not app.window.banner.isVisible()
    assert app.chat.ask("What is this?")
    wait_idle(qtbot, app)
    assert app.session.last_result is not None


def test_huge_image_is_refused_clearly(
    fake_app: DesktopApp, qtbot: QtBot, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from vldesk.core import images

    # A real 200 MP file would be slow to make: lower the limit the loader applies instead.
    original = images.load_image

    def small_limit(path: Path) -> images.LoadedImage:
        return original(path, max_pixels=10_000)

    monkeypatch.setattr("vldesk.gui.workers.image_loader.load_image", small_limit)
    drop_files(fake_app.window, [make_image(tmp_path / "big.png", (200, 100))])
    qtbot.waitUntil(lambda: "too large" in banner_text(fake_app), timeout=10_000)


def test_a_folder_opens_its_images_and_arrows_step_through(
    fake_app: DesktopApp, qtbot: QtBot, tmp_path: Path
) -> None:
    folder = tmp_path / "album"
    for name in ("img10.png", "img2.png", "img1.png"):
        make_image(folder / name)
    (folder / "readme.txt").write_text("x", encoding="utf-8")
    app = fake_app
    drop_files(app.window.viewer.viewport(), [folder])
    qtbot.waitUntil(lambda: app.session.image is not None, timeout=10_000)
    assert app.session.image is not None
    assert app.session.image.path == folder / "img1.png"
    assert "1 of 3" in app.window.image_info.text()
    app.window.viewer.setFocus()
    app.window.next_action.trigger()
    qtbot.waitUntil(lambda: app.session.image.path == folder / "img2.png", timeout=10_000)  # type: ignore[union-attr]
    app.window.next_action.trigger()
    qtbot.waitUntil(lambda: app.session.image.path == folder / "img10.png", timeout=10_000)  # type: ignore[union-attr]
    app.window.previous_action.trigger()
    qtbot.waitUntil(lambda: app.session.image.path == folder / "img2.png", timeout=10_000)  # type: ignore[union-attr]


def test_model_folder_missing_files_is_explained(
    ready_app: DesktopApp, qtbot: QtBot, tiny_dir: Path, tmp_path: Path
) -> None:
    broken = tmp_path / "broken-model"
    shutil.copytree(tiny_dir, broken)
    (broken / "model.safetensors").unlink()
    for name in ("tokenizer.json", "vocab.json"):  # downloads have one or the other
        (broken / name).unlink(missing_ok=True)
    app = ready_app
    assert not app.models.open_model_folder(broken)
    text = banner_text(app)
    assert "cannot be used as a model" in text
    assert "no .safetensors weights" in text
    assert "tokenizer is missing" in text
    # The loaded model is untouched.
    assert app.session.model_name == "qwen3_vl"


def test_a_damaged_model_is_explained_at_start(
    make_app: AppFactory, qtbot: QtBot, tiny_dir: Path, tmp_path: Path
) -> None:
    damaged = tmp_path / "damaged"
    shutil.copytree(tiny_dir, damaged)
    weights = damaged / "model.safetensors"
    weights.write_bytes(weights.read_bytes()[:1000])
    app = make_app(damaged)
    text = app.window.answer_view.browser.toPlainText()
    assert "No model is available yet" in text
    assert "model.safetensors is damaged" in text
    assert app.session.model_name is None


def test_a_model_that_fails_to_load_is_reported(
    make_app: AppFactory, qtbot: QtBot, tiny_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def fail(*args: object, **kwargs: object) -> TransformersEngine:
        raise ModelLoadError("The model could not be loaded: unexpected tensor shape.")

    monkeypatch.setattr(TransformersEngine, "load", fail)
    app = make_app(tiny_dir)
    qtbot.waitUntil(lambda: app.window.banner.isVisible(), timeout=30_000)
    assert "unexpected tensor shape" in banner_text(app)
    assert app.session.model_name is None
    assert app.window.status_panel.model_label.text() == "No model loaded"
    assert not app.window.load_progress.isVisible()


def test_switching_models_from_the_menu(
    make_app: AppFactory, qtbot: QtBot, tiny_model_dirs: dict, tmp_path: Path
) -> None:
    from vldesk.core.models.catalog import Family

    app = make_app(tiny_model_dirs[Family.QWEN3_VL])
    wait_for_model(qtbot, app)
    assert app.models.open_model_folder(tiny_model_dirs[Family.QWEN2_5_VL])
    qtbot.waitUntil(lambda: app.session.model_name == "qwen2_5_vl", timeout=30_000)
    labels = {a.text(): a for a in app.window.model_group.actions()}
    assert "qwen2_5_vl" in labels  # imported folders are listed in the Model menu
    assert labels["qwen2_5_vl"].isChecked()
    back: QAction = labels["qwen3_vl"]  # the folder loaded first is listed too
    back.trigger()
    qtbot.waitUntil(lambda: app.session.model_name == "qwen3_vl", timeout=30_000)


def test_out_of_memory_offers_a_retry_with_a_smaller_image_budget(
    fake_app: DesktopApp, qtbot: QtBot, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = fake_app
    open_image(qtbot, app, make_image(tmp_path / "a.png"))
    original = EngineStandIn.generate
    budgets: list[int] = []

    def out_of_memory(self: EngineStandIn, conversation, settings=None, **kwargs):  # type: ignore[no-untyped-def]
        budgets.append(settings.max_image_tokens)
        if len(budgets) == 1:
            raise OutOfMemoryError("Out of memory while answering on cpu.")
        return original(self, conversation, settings, **kwargs)

    monkeypatch.setattr(EngineStandIn, "generate", out_of_memory)
    assert app.chat.ask("Describe it.")
    qtbot.waitUntil(lambda: "Out of memory" in banner_text(app), timeout=10_000)
    wait_idle(qtbot, app)
    buttons = app.window.banner.action_buttons
    assert [b.text() for b in buttons] == ["Retry with 512 image tokens"]
    assert app.window.answer_view.exchanges == []  # the failed question is not left dangling
    buttons[0].click()
    wait_idle(qtbot, app)
    qtbot.waitUntil(lambda: app.session.last_result is not None, timeout=10_000)
    assert budgets == [1024, 512]
    assert app.settings.max_image_tokens == 512
    # The retry did not write the question to history twice.
    assert app.history.store is not None
    entry = app.history.store.get_conversation(app.session.history_id or -1)
    assert entry is not None
    assert [m.role for m in entry.messages] == ["user", "assistant"]
