"""Describe Folder's photo metadata and box export options reach the job, and are remembered."""

from __future__ import annotations

import json
from pathlib import Path

from pytestqt.qtbot import QtBot

from tests.gui.conftest import AppFactory, make_image, shown_dialogs, wait_for_model
from tests.helpers.fake_engine import FakeEngine, FakeEngineLoader
from vldesk.core.batch.options import BoxFormat
from vldesk.core.metadata import MetadataMode, read_caption, sidecar_path
from vldesk.core.settings import load_settings
from vldesk.gui.app import DesktopApp
from vldesk.gui.dialogs.batch_dialog import BatchDialog

ANSWER = '[{"bbox_2d": [0, 0, 500, 1000], "label": "left half"}]'


def boxes_loader() -> FakeEngineLoader:
    return FakeEngineLoader(make=lambda request: FakeEngine(name=request.name, answer=ANSWER))


def open_batch_dialog(app: DesktopApp) -> BatchDialog:
    app.window.describe_folder_action.trigger()
    [dialog] = shown_dialogs(app, BatchDialog)
    return dialog


def test_xmp_and_box_options_run_the_job_and_come_back_next_time(
    make_app: AppFactory, fake_model_dir: Path, qtbot: QtBot, tmp_path: Path
) -> None:
    photos = tmp_path / "photos"
    make_image(photos / "a.png", (200, 100))
    app = make_app(fake_model_dir, engine_loader=boxes_loader())
    wait_for_model(qtbot, app)
    dialog = open_batch_dialog(app)
    box = dialog.photo_outputs_box
    assert box.xmp_combo.currentData() is None  # off until asked for
    assert not box.overwrite_check.isEnabled()
    dialog.folder_edit.setText(str(photos))
    box.xmp_combo.setCurrentIndex(box.xmp_combo.findData(MetadataMode.SIDECAR.value))
    assert box.overwrite_check.isEnabled()
    assert not box.overwrite_check.isChecked()  # a person's description is kept by default
    box.boxes_combo.setCurrentIndex(box.boxes_combo.findData(BoxFormat.COCO.value))
    options = dialog.options()
    assert (options.xmp, options.xmp_overwrite, options.boxes) == (
        MetadataMode.SIDECAR,
        False,
        BoxFormat.COCO,
    )
    dialog.start_button.click()
    qtbot.waitUntil(lambda: not app.batch.running, timeout=30_000)

    # What the CLI's --xmp sidecar --boxes coco writes.
    stored = read_caption(sidecar_path(photos / "a.png"))
    assert stored is not None
    assert stored.descriptions["x-default"] == ANSWER
    coco = json.loads((photos / "boxes.coco.json").read_text(encoding="utf-8"))
    assert coco["annotations"][0]["bbox"] == [0, 0, 100, 100]

    # Kept with the other batch options, in the settings file.
    last = load_settings(app.paths.settings_file).last_batch
    assert last is not None
    assert (last.options.xmp, last.options.boxes) == (MetadataMode.SIDECAR, BoxFormat.COCO)
    again = open_batch_dialog(app).photo_outputs_box
    assert again.xmp_combo.currentData() == MetadataMode.SIDECAR.value
    assert again.boxes_combo.currentData() == BoxFormat.COCO.value


def test_overwriting_a_persons_description_is_asked_for_explicitly(
    make_app: AppFactory, fake_model_dir: Path, qtbot: QtBot, tmp_path: Path
) -> None:
    make_image(tmp_path / "a.png")
    app = make_app(fake_model_dir, engine_loader=boxes_loader())
    wait_for_model(qtbot, app)
    dialog = open_batch_dialog(app)
    box = dialog.photo_outputs_box
    dialog.folder_edit.setText(str(tmp_path))
    box.xmp_combo.setCurrentIndex(box.xmp_combo.findData(MetadataMode.EMBED.value))
    box.overwrite_check.setChecked(True)
    box.boxes_combo.setCurrentIndex(box.boxes_combo.findData(BoxFormat.YOLO.value))
    options = dialog.options()
    assert (options.xmp, options.xmp_overwrite, options.boxes) == (
        MetadataMode.EMBED,
        True,
        BoxFormat.YOLO,
    )
    # Turning metadata off again drops the overwrite (the core refuses one without the other).
    box.xmp_combo.setCurrentIndex(0)
    assert dialog.options().xmp is None
    assert not dialog.options().xmp_overwrite
