"""The Describe Folder dialog fits a laptop screen, and its caption-files group round-trips."""

from __future__ import annotations

from pathlib import Path

from pytestqt.qtbot import QtBot

from tests.gui.conftest import AppFactory, EngineStandIn, shown_dialogs, wait_for_model
from tests.helpers.fake_engine import FakeEngineLoader
from vldesk.core.batch import BatchOptions, CaptionMode, ReportPaths
from vldesk.core.generation import GenerationSettings
from vldesk.gui.dialogs.batch_dialog import BatchDialog
from vldesk.gui.dialogs.caption_outputs_box import CaptionOutputsBox

#: A 1366×768 laptop screen less a title bar and a task bar.
LAPTOP_HEIGHT = 768 - 80
LAPTOP_WIDTH = 1366


def test_the_dialog_with_every_group_fits_a_laptop_screen(
    make_app: AppFactory, fake_model_dir: Path, qtbot: QtBot
) -> None:
    app = make_app(
        fake_model_dir,
        engine_loader=FakeEngineLoader(make=lambda request: EngineStandIn(request, device="cpu")),
    )
    wait_for_model(qtbot, app)
    app.window.describe_folder_action.trigger()
    [dialog] = shown_dialogs(app, BatchDialog)
    assert dialog.run_on is not None  # all groups are there: Run on, photo metadata
    assert dialog.photo_outputs_box.isVisible()
    needed = dialog.minimumSizeHint()
    assert needed.height() <= LAPTOP_HEIGHT
    assert needed.width() <= LAPTOP_WIDTH
    dialog.reject()


def test_caption_outputs_come_back_as_entered(qtbot: QtBot, tmp_path: Path) -> None:
    box = CaptionOutputsBox()
    qtbot.addWidget(box)
    box.fill(None)
    assert box.mode_radios[CaptionMode.SKIP].isChecked()
    defaults = box.values(tmp_path)
    assert defaults["caption_extension"] == ".txt"
    assert defaults["reports"] == ReportPaths(None, None, None)

    reports = tmp_path / "reports"
    earlier = BatchOptions(
        folder=tmp_path / "photos",
        prompt="Describe it.",
        model="m",
        settings=GenerationSettings(),
        caption_extension=".caption",
        mode=CaptionMode.APPEND,
        prefix="photo, ",
        suffix=" .",
        reports=ReportPaths(
            reports / "vldesk-captions.jsonl", None, reports / "vldesk-captions.md"
        ),
    )
    again = CaptionOutputsBox()
    qtbot.addWidget(again)
    again.fill(earlier)
    values = again.values(earlier.folder)
    assert values == {
        "caption_extension": ".caption",
        "mode": CaptionMode.APPEND,
        "prefix": "photo, ",
        "suffix": " .",
        "reports": earlier.reports,
    }
