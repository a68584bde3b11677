"""The Describe Folder dialog starts from the last job's options, kept in the settings file."""

from __future__ import annotations

import json
from pathlib import Path

from PySide6.QtCore import QSettings
from pytestqt.qtbot import QtBot

from tests.gui.conftest import (
    AppFactory,
    EngineStandIn,
    make_image,
    shown_dialogs,
    wait_for_model,
)
from tests.helpers.fake_engine import FakeEngineLoader
from vldesk.core.batch import BatchOptions, CaptionMode
from vldesk.core.generation import GenerationSettings
from vldesk.core.paths import app_paths
from vldesk.core.settings import LastBatch, load_settings
from vldesk.gui.app import DesktopApp
from vldesk.gui.dialogs.batch_dialog import BatchDialog


def fake_loader() -> FakeEngineLoader:
    return FakeEngineLoader(make=lambda request: EngineStandIn(request, device="cpu"))


def open_batch_dialog(app: DesktopApp) -> BatchDialog:
    app.window.describe_folder_action.trigger()
    [dialog] = shown_dialogs(app, BatchDialog)
    return dialog


def test_the_dialog_opens_with_the_last_jobs_options_after_a_restart(
    make_app: AppFactory, fake_model_dir: Path, qtbot: QtBot, tmp_path: Path
) -> None:
    photos = tmp_path / "photos"
    make_image(photos / "a.png")
    first = make_app(fake_model_dir, engine_loader=fake_loader())
    wait_for_model(qtbot, first)
    dialog = open_batch_dialog(first)
    dialog.folder_edit.setText(str(photos))
    dialog.outputs_box.prefix_edit.setText("photo, ")
    dialog.outputs_box.extension_edit.setText(".caption")
    dialog.outputs_box.mode_radios[CaptionMode.OVERWRITE].setChecked(True)
    dialog.batch_size_spin.setValue(3)
    dialog.start_button.click()
    qtbot.waitUntil(lambda: not first.batch.running, timeout=30_000)
    first.shut_down()
    first.wait_for_background_work()

    # The settings file on disk holds the job, and window.ini no longer does.
    on_disk = load_settings(first.paths.settings_file).last_batch
    assert on_disk is not None
    assert (on_disk.options.folder, on_disk.options.prefix) == (photos, "photo, ")
    assert on_disk.batch_size == 3
    assert not QSettings(
        str(first.paths.config_dir / "window.ini"), QSettings.Format.IniFormat
    ).contains("batch/options")

    second = DesktopApp(app_paths(), engine_loader=fake_loader())  # reads the settings file
    qtbot.addWidget(second.window)
    try:
        second.window.show()
        second.start()
        wait_for_model(qtbot, second)
        again = open_batch_dialog(second)
        assert again.folder_edit.text() == str(photos)
        assert again.outputs_box.prefix_edit.text() == "photo, "
        assert again.outputs_box.extension_edit.text() == ".caption"
        assert again.outputs_box.mode_radios[CaptionMode.OVERWRITE].isChecked()
        assert again.batch_size_spin.value() == 3
    finally:
        second.shut_down()
        second.wait_for_background_work()


def test_options_in_an_old_window_ini_move_to_the_settings_file(
    make_app: AppFactory, fake_model_dir: Path, qtbot: QtBot, tmp_path: Path
) -> None:
    old = BatchOptions(
        folder=tmp_path / "old-photos",
        prompt="Describe it for a training set.",
        model=str(fake_model_dir),
        settings=GenerationSettings(max_new_tokens=77),
        suffix=", old style",
    )
    ini_path = app_paths().config_dir / "window.ini"
    ini_path.parent.mkdir(parents=True, exist_ok=True)
    written = QSettings(str(ini_path), QSettings.Format.IniFormat)
    written.setValue("other/kept", "yes")
    # As the previous version wrote them.
    written.setValue("batch/options", json.dumps(old.to_dict(), ensure_ascii=False))
    written.setValue("batch/batch_size", 5)
    written.sync()
    del written

    app = make_app(fake_model_dir, engine_loader=fake_loader())
    wait_for_model(qtbot, app)
    dialog = open_batch_dialog(app)
    assert dialog.folder_edit.text() == str(old.folder)
    assert dialog.outputs_box.suffix_edit.text() == ", old style"
    assert dialog.max_tokens_spin.value() == 77
    assert dialog.batch_size_spin.value() == 5

    moved = load_settings(app.paths.settings_file).last_batch
    assert moved is not None
    assert (moved.options, moved.batch_size) == (old, 5)
    ini = QSettings(str(ini_path), QSettings.Format.IniFormat)
    assert not ini.contains("batch/options")
    assert not ini.contains("batch/batch_size")
    assert ini.contains("other/kept")  # only the batch keys go


def test_the_settings_file_wins_over_an_old_window_ini(
    make_app: AppFactory, fake_model_dir: Path, qtbot: QtBot, tmp_path: Path
) -> None:
    ini_path = app_paths().config_dir / "window.ini"
    ini_path.parent.mkdir(parents=True, exist_ok=True)
    stale = BatchOptions(folder=tmp_path / "stale", prompt="Old.", model=str(fake_model_dir))
    written = QSettings(str(ini_path), QSettings.Format.IniFormat)
    written.setValue("batch/options", json.dumps(stale.to_dict()))
    written.sync()
    del written
    current = BatchOptions(folder=tmp_path / "current", prompt="New.", model=str(fake_model_dir))

    app = make_app(fake_model_dir, engine_loader=fake_loader(), last_batch=LastBatch(current, 2))
    wait_for_model(qtbot, app)
    dialog = open_batch_dialog(app)
    assert dialog.folder_edit.text() == str(current.folder)
    assert dialog.batch_size_spin.value() == 2
    kept = app.settings.last_batch
    assert kept is not None
    assert kept.options == current
    assert not QSettings(str(ini_path), QSettings.Format.IniFormat).contains("batch/options")
