"""Asking about a region dragged on the image: the crop at the full budget plus the whole image
small, boxes mapped back to the photo, and the region shown again from history."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import pytest
from PIL import Image
from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtTest import QTest
from pytestqt.qtbot import QtBot

from tests.gui.conftest import AppFactory, make_image, open_image, wait_idle
from tests.gui.test_grounding import ORIENTED_SIZE, grounding_app, rotated_photo
from tests.helpers.fake_engine import FakeEngine, FakeEngineLoader
from vldesk.core.generation import Conversation
from vldesk.core.grounding import CONTEXT_IMAGE_TOKENS, Region
from vldesk.core.history_records import StoredMessage
from vldesk.core.images import budget_size, fit_to_token_budget
from vldesk.core.models.catalog import FAMILY_TRAITS, Family
from vldesk.gui.app import DesktopApp

#: Larger than the context image's budget, so the two budgets differ.
FULL_TOKENS = 1024


def drag(app: DesktopApp, start: tuple[float, float], end: tuple[float, float]) -> None:
    """Shift+drag on the viewer from one point of the original image to another."""
    viewer = app.window.viewer
    viewport = viewer.viewport()
    a = viewer.mapFromScene(QPointF(*start))
    b = viewer.mapFromScene(QPointF(*end))
    shift = Qt.KeyboardModifier.ShiftModifier
    QTest.mousePress(viewport, Qt.MouseButton.LeftButton, shift, a)
    middle = QPoint((a.x() + b.x()) // 2, (a.y() + b.y()) // 2)
    QTest.mouseMove(viewport, middle)
    QTest.mouseMove(viewport, b)
    QTest.mouseRelease(viewport, Qt.MouseButton.LeftButton, shift, b)


def engine(loader: FakeEngineLoader) -> FakeEngine:
    """The stand-in the app's model is (what it was asked is recorded there)."""
    [loaded] = loader.engines
    return loaded


def test_a_dragged_region_is_asked_about_as_crop_and_small_whole_image(
    make_app: AppFactory, fake_model_dir: Path, qtbot: QtBot, tmp_path: Path
) -> None:
    app, loader = grounding_app(
        make_app, fake_model_dir, qtbot, Family.QWEN3_VL, "A sign.", max_image_tokens=FULL_TOKENS
    )
    photo = tmp_path / "street.png"
    picture = Image.effect_noise(ORIENTED_SIZE, 60).convert("RGB")  # every crop is different
    picture.save(photo)
    open_image(qtbot, app, photo)

    drag(app, (200, 300), (600, 700))
    question = app.session.region
    assert question is not None
    # One screen pixel is 1/zoom photo pixels: the drag lands within that of the corners.
    slack = 1 / app.window.viewer.zoom() + 1
    assert question.region.box == pytest.approx((200, 300, 600, 700), abs=slack)
    assert question.image_size == ORIENTED_SIZE
    assert app.window.grounding_panel.region_row.isVisible()
    assert not app.window.viewer.horizontalScrollBar().isSliderDown()

    assert app.chat.ask("What does the sign say?")
    wait_idle(qtbot, app)
    [conversation] = engine(loader).asked
    [turn] = conversation.turns[:1]
    context, crop = turn.images
    factor = FAMILY_TRAITS[Family.QWEN3_VL].patch_factor
    # The whole image at the small budget, left as it is by the engine's fit to the full one.
    assert context.image.size == budget_size(ORIENTED_SIZE, factor, CONTEXT_IMAGE_TOKENS)
    assert fit_to_token_budget(context, factor, FULL_TOKENS).size == context.image.size
    # The region's own pixels, from the full-resolution image, fitted to the full budget.
    assert crop.image.tobytes() == picture.crop(question.region.box).tobytes()
    assert engine(loader).settings_seen[-1].max_image_tokens == FULL_TOKENS
    assert turn.text.endswith("What does the sign say?")
    assert "second image" in turn.text
    # The conversation shows the person's question, with the region it is about.
    shown = app.window.answer_view.exchanges[0].question
    assert shown.endswith("What does the sign say?")
    assert "Region" in shown


def test_boxes_in_an_answer_about_a_region_map_back_to_the_photo(
    make_app: AppFactory, fake_model_dir: Path, qtbot: QtBot, tmp_path: Path
) -> None:
    # Qwen2.5-VL answers in pixels of the crop as resized for the model.
    def answer(conversation: Conversation) -> str:
        crop = conversation.turns[-1].images[1]
        width, height = fit_to_token_budget(crop, 28, FULL_TOKENS).size
        return json.dumps([{"bbox_2d": [0, 0, width // 2, height // 2], "label": "sign"}])

    app, _loader = grounding_app(
        make_app, fake_model_dir, qtbot, Family.QWEN2_5_VL, answer, max_image_tokens=FULL_TOKENS
    )
    open_image(qtbot, app, rotated_photo(tmp_path / "street.jpg"))
    app.grounding.select_region(Region(200, 300, 600, 700))
    assert app.chat.ask("Where is the sign?")
    wait_idle(qtbot, app)
    boxes = app.grounding.boxes
    assert boxes is not None
    assert boxes.size == ORIENTED_SIZE
    # The crop's top-left quarter, in the photo: rounding to the model grid costs < 1 %.
    assert boxes.detections[0].box == pytest.approx((200, 300, 400, 500), abs=4)


def test_a_click_or_a_plain_drag_selects_no_region(
    make_app: AppFactory, fake_model_dir: Path, qtbot: QtBot, tmp_path: Path
) -> None:
    app, _loader = grounding_app(make_app, fake_model_dir, qtbot, Family.QWEN3_VL, "ok")
    open_image(qtbot, app, make_image(tmp_path / "a.png", (400, 300)))
    viewport = app.window.viewer.viewport()
    at = app.window.viewer.mapFromScene(QPointF(100, 100))
    QTest.mouseClick(viewport, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.ShiftModifier, at)
    assert app.session.region is None
    QTest.mousePress(viewport, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, at)
    QTest.mouseMove(viewport, at + QPoint(80, 80))
    QTest.mouseRelease(viewport, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, at)
    assert app.session.region is None

    # In "Select Region" mode a plain drag selects; the mode ends with the selection.
    app.grounding.select_region_action.trigger()
    assert app.grounding.selector.selecting
    drag_end = app.window.viewer.mapFromScene(QPointF(300, 250))
    QTest.mousePress(viewport, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, at)
    QTest.mouseMove(viewport, drag_end)
    QTest.mouseRelease(
        viewport, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, drag_end
    )
    assert app.session.region is not None
    assert not app.grounding.select_region_action.isChecked()
    app.window.grounding_panel.clear_region_button.click()
    assert app.session.region is None


def test_a_region_question_is_shown_again_when_reopened_from_history(
    make_app: AppFactory, fake_model_dir: Path, qtbot: QtBot, tmp_path: Path
) -> None:
    app, loader = grounding_app(
        make_app, fake_model_dir, qtbot, Family.QWEN3_VL, "A sign.", max_image_tokens=FULL_TOKENS
    )
    photo = rotated_photo(tmp_path / "street.jpg")
    open_image(qtbot, app, photo)
    region = Region(100, 200, 500, 900)
    app.grounding.select_region(region)
    assert app.chat.ask("What does the sign say?")
    wait_idle(qtbot, app)
    history_id = app.session.history_id
    assert history_id is not None

    # Another image, then the conversation again from history.
    open_image(qtbot, app, make_image(tmp_path / "other.png"))
    assert app.session.region is None
    app.history.open_entry(history_id)
    qtbot.waitUntil(lambda: app.session.image is not None and app.session.image.path == photo)
    restored = app.session.region
    assert restored is not None
    assert restored.region == region
    assert app.window.grounding_panel.region_row.isVisible()
    first = app.window.answer_view.exchanges[0]
    assert "Region 400×700 px at (100, 200)" in first.question
    assert first.question.endswith("What does the sign say?")

    # The dashed outline is back on the image, where the region is.
    viewer = app.window.viewer
    picture = viewer.viewport().grab().toImage()
    edge = viewer.mapFromScene(QPointF(100, 550))
    colours = {picture.pixelColor(edge + QPoint(dx, 0)).getRgb()[:3] for dx in (-1, 0, 1)}
    assert colours != {(128, 128, 128)}

    # A follow-up is asked with the restored conversation: the region's two images again.
    assert app.chat.ask("And its colour?")
    wait_idle(qtbot, app)
    again = engine(loader).asked[-1]
    assert len(again.turns[0].images) == 2
    assert again.turns[0].images[1].image.size == region.size


def test_a_region_is_drawn_on_the_thumbnail_when_the_photo_is_gone(
    make_app: AppFactory, fake_model_dir: Path, qtbot: QtBot, tmp_path: Path
) -> None:
    app, _loader = grounding_app(make_app, fake_model_dir, qtbot, Family.QWEN3_VL, "A sign.")
    photo = rotated_photo(tmp_path / "street.jpg")
    open_image(qtbot, app, photo)
    app.grounding.select_region(Region(100, 200, 500, 900))
    assert app.chat.ask("What does the sign say?")
    wait_idle(qtbot, app)
    history_id = app.session.history_id
    assert history_id is not None
    open_image(qtbot, app, make_image(tmp_path / "other.png"))
    photo.unlink()

    app.history.open_entry(history_id)
    shown = app.window.viewer.image_size
    assert shown is not None
    assert max(shown) < 300  # the stored thumbnail
    scale = shown[1] / ORIENTED_SIZE[1]
    viewer = app.window.viewer
    picture = viewer.viewport().grab().toImage()
    inside = picture.pixelColor(viewer.mapFromScene(QPointF(300 * scale, 550 * scale)))
    outside = picture.pixelColor(viewer.mapFromScene(QPointF(650 * scale, 550 * scale)))
    # The thumbnail is grey throughout: outside the region it is shaded, inside it is not.
    assert inside.lightness() > outside.lightness() + 20


def test_history_without_regions_still_reads(tmp_path: Path) -> None:
    """Old entries (no region in a question's settings) and odd values restore as whole-image
    questions."""
    from vldesk.gui.asked_about import last_answer_asked, stored_regions

    def message(
        settings: dict[str, object], role: str = "user", stats: dict[str, object] | None = None
    ) -> StoredMessage:
        return StoredMessage(1, 1, role, "?", "m", settings, stats, datetime.now())

    olds = [message({}), message({"max_image_tokens": 512}), message({"region": "nonsense"})]
    assert stored_regions(olds) == {}
    found = stored_regions([message({"region": {"box": [1, 2, 30, 40], "image_size": [50, 60]}})])
    assert found[0].region == Region(1, 2, 30, 40)
    assert found[0].context_tokens == CONTEXT_IMAGE_TOKENS
    # An answer saved before the family was recorded: its boxes are not drawn again.
    question = message({"max_image_tokens": 512})
    assert last_answer_asked([question, message({}, "assistant", {"model": "m"})]) is None
    asked = last_answer_asked([question, message({}, "assistant", {"family": "qwen2_5_vl"})])
    assert asked is not None
    assert (asked.max_image_tokens, asked.family) == (512, Family.QWEN2_5_VL)


def test_a_region_question_is_read_ahead_and_continues_from_it(
    ready_app: DesktopApp, qtbot: QtBot, tmp_path: Path
) -> None:
    """With the tiny real model on the CPU: typing reads the region's two images ahead, and the
    question then continues from that cache instead of reading them again."""
    from tests.gui.test_read_ahead import _Finished

    app = ready_app
    app.preferences.remember(max_new_tokens=4)  # the words of a random model do not matter
    open_image(qtbot, app, make_image(tmp_path / "photo.png", (320, 240)))
    app.grounding.select_region(Region(0, 0, 160, 120))
    finished = _Finished()
    app.inference.read_ahead_finished.connect(finished.record)
    edit = app.window.prompt_panel.prompt_edit
    qtbot.keyClicks(edit, "What")
    qtbot.waitUntil(lambda: bool(finished.results), timeout=60_000)
    assert [read for _id, read in finished.results] == [True]
    qtbot.keyClicks(edit, " is here?")
    qtbot.keyClick(edit, Qt.Key.Key_Return)
    wait_idle(qtbot, app)
    result = app.session.last_result
    assert result is not None
    asked = app.session.last_asked
    assert asked is not None
    assert asked.region is not None
    # Both images (and the text before the question) came from the read-ahead's cache.
    assert result.stats.reused_tokens > result.stats.image_tokens > 0


def test_a_region_questions_hidden_instructions_stay_out_of_exports_and_captions(
    make_app: AppFactory, fake_model_dir: Path, qtbot: QtBot, tmp_path: Path
) -> None:
    from PySide6.QtGui import QGuiApplication

    app, loader = grounding_app(make_app, fake_model_dir, qtbot, Family.QWEN3_VL, "A sign.")
    photo = tmp_path / "street.png"
    Image.new("RGB", ORIENTED_SIZE, "grey").save(photo)
    open_image(qtbot, app, photo)
    drag(app, (200, 300), (600, 700))
    assert app.chat.ask("What does the sign say?")
    wait_idle(qtbot, app)
    sent = engine(loader).asked[-1].turns[0].text
    assert sent != "What does the sign say?"  # the model got the question wrapped
    wrapping = sent.replace("What does the sign say?", "").strip()

    assert app.history.export_conversation(tmp_path / "chat.md")
    assert app.history.export_answer(tmp_path / "answer.txt")
    app.history.copy_conversation()
    with qtbot.waitSignal(app.photo_caption.saved, timeout=20_000):
        assert app.photo_caption.save_caption()
    [sidecar] = tmp_path.glob("street.*xmp")
    for written in (
        (tmp_path / "chat.md").read_text(encoding="utf-8"),
        (tmp_path / "answer.txt").read_text(encoding="utf-8"),
        QGuiApplication.clipboard().text(),
        sidecar.read_text(encoding="utf-8"),
    ):
        assert "What does the sign say?" in written
        assert wrapping[:40] not in written


def test_a_fresh_preset_keeps_the_region_and_edit_asks_about_the_questions_own(
    make_app: AppFactory, fake_model_dir: Path, qtbot: QtBot, tmp_path: Path
) -> None:
    app, loader = grounding_app(make_app, fake_model_dir, qtbot, Family.QWEN3_VL, "A sign.")
    photo = tmp_path / "street.png"
    Image.new("RGB", ORIENTED_SIZE, "grey").save(photo)
    open_image(qtbot, app, photo)
    drag(app, (200, 300), (600, 700))
    region = app.session.region
    assert region is not None
    assert app.chat.ask("What does the sign say?")
    wait_idle(qtbot, app)
    # A preset that starts a new conversation is still about the selected region.
    app.window.prompt_panel.fresh_presets_check.setChecked(True)
    assert app.chat.ask_preset("brief")
    wait_idle(qtbot, app)
    assert app.session.region == region
    assert len(engine(loader).asked[-1].turns[0].images) == 2  # the region and the whole image
    # Edit: the question is asked again about its own region, not the one selected now.
    app.grounding.clear_region()
    assert app.chat.ask("And the whole street?")
    wait_idle(qtbot, app)
    assert len(engine(loader).asked[-1].turns[-1].images) == 0  # a follow-up, no region
    app.chat.begin_edit(0)
    assert app.chat.ask("Which sign is it?")
    wait_idle(qtbot, app)
    [turn] = engine(loader).asked[-1].turns
    assert len(turn.images) == 2
    assert turn.text.endswith("Which sign is it?")
    assert "second image" in turn.text
    assert app.session.records[0].region == region
