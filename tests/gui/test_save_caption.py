"""Edit → Save Caption to Photo: the answer (or the selected text) into the photo's XMP, read
back with exiftool; a person's description is replaced only when the user says so."""

from __future__ import annotations

from pathlib import Path

import pytest
from pytestqt.qtbot import QtBot

from tests.core.metadata.images import make_photo
from tests.gui.conftest import open_image, wait_idle
from tests.helpers.exiftool import ExifTool, exiftool_runner
from vldesk.core.metadata import WriteResult, WriteStatus
from vldesk.core.settings import load_settings
from vldesk.gui.app import DesktopApp

ANSWER = "A red square."  # what the fake app's model says


@pytest.fixture
def exiftool() -> ExifTool:
    return exiftool_runner()


def answer_about(qtbot: QtBot, app: DesktopApp, photo: Path) -> None:
    open_image(qtbot, app, photo)
    assert app.chat.ask("Describe it.")
    wait_idle(qtbot, app)


def save(qtbot: QtBot, app: DesktopApp) -> WriteResult:
    assert app.window.save_caption_action.isEnabled()
    with qtbot.waitSignal(app.photo_caption.saved, timeout=20_000) as blocker:
        app.window.save_caption_action.trigger()
    result = blocker.args[0]
    assert isinstance(result, WriteResult)
    return result


def test_the_answer_goes_into_a_sidecar(
    fake_app: DesktopApp, qtbot: QtBot, tmp_path: Path, exiftool: ExifTool
) -> None:
    photo = make_photo(tmp_path / "garden.jpg")
    before = photo.read_bytes()
    answer_about(qtbot, fake_app, photo)
    result = save(qtbot, fake_app)
    assert result.status is WriteStatus.WRITTEN
    sidecar = tmp_path / "garden.jpg.xmp"
    assert result.target == sidecar
    tags = exiftool(sidecar)
    assert tags["XMP-dc:Description"] == ANSWER
    assert tags["XMP-vldesk:Prompt"] == "Describe it."
    assert tags["XMP-vldesk:Model"] == fake_app.session.model_name
    assert tags["XMP-vldesk:Reviewed"] in (False, "False")
    assert photo.read_bytes() == before  # the photo itself is not touched
    assert "garden.jpg.xmp" in fake_app.window.statusBar().currentMessage()


def test_embedded_when_chosen_and_the_selected_text_only(
    fake_app: DesktopApp, qtbot: QtBot, tmp_path: Path, exiftool: ExifTool
) -> None:
    fake_app.window.caption_embed_action.trigger()
    assert load_settings(fake_app.paths.settings_file).caption_metadata == "embed"
    photo = make_photo(tmp_path / "square.png")
    answer_about(qtbot, fake_app, photo)
    browser = fake_app.window.answer_view.browser
    found = browser.document().find("red square")
    assert not found.isNull()
    browser.setTextCursor(found)
    assert save(qtbot, fake_app).target == photo
    tags = exiftool(photo)
    assert tags["XMP-dc:Description"] == "red square"
    assert tags["IFD0:Make"] == "TestCam"  # the rest of the photo's metadata is kept
    assert not (tmp_path / "square.png.xmp").exists()


@pytest.mark.parametrize("replace", [False, True], ids=["keep", "replace"])
def test_a_persons_description_is_replaced_only_when_confirmed(
    fake_app: DesktopApp, qtbot: QtBot, tmp_path: Path, exiftool: ExifTool, replace: bool
) -> None:
    photo = make_photo(tmp_path / "grandmother.jpg")
    exiftool(photo, "-XMP-dc:Description=My grandmother's garden", write=True)
    answer_about(qtbot, fake_app, photo)
    assert save(qtbot, fake_app).status is WriteStatus.SKIPPED_HUMAN
    box = fake_app.photo_caption.confirmation
    assert box is not None
    assert box.isVisible()
    assert "My grandmother's garden" in box.informativeText()
    assert exiftool(photo)["XMP-dc:Description"] == "My grandmother's garden"
    buttons = {button.text(): button for button in box.buttons()}
    if replace:
        with qtbot.waitSignal(fake_app.photo_caption.saved, timeout=20_000) as blocker:
            buttons["Replace"].click()
        assert blocker.args[0].status is WriteStatus.WRITTEN
        sidecar = exiftool(tmp_path / "grandmother.jpg.xmp")
        assert sidecar["XMP-dc:Description"] == ANSWER
    else:
        buttons["Keep Theirs"].click()
        assert not (tmp_path / "grandmother.jpg.xmp").exists()
        assert "kept" in fake_app.window.statusBar().currentMessage()
    assert exiftool(photo)["XMP-dc:Description"] == "My grandmother's garden"


def test_nothing_to_save_is_said_plainly(
    fake_app: DesktopApp, qtbot: QtBot, tmp_path: Path
) -> None:
    assert not fake_app.window.save_caption_action.isEnabled()
    open_image(qtbot, fake_app, make_photo(tmp_path / "new.jpg"))
    assert not fake_app.window.save_caption_action.isEnabled()  # no answer yet
    assert not fake_app.photo_caption.save_caption()
    assert "no finished answer" in fake_app.window.banner.text
    assert not (tmp_path / "new.jpg.xmp").exists()
