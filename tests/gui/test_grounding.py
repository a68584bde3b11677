"""Boxes in an answer are drawn on the image where they belong, listed, toggled and exported."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from PIL import Image
from PySide6.QtCore import QPoint, QPointF
from PySide6.QtGui import QColor, QImage
from pytestqt.qtbot import QtBot

from tests.gui.conftest import AppFactory, open_image, wait_for_model, wait_idle
from tests.helpers.fake_engine import FakeEngine, FakeEngineLoader
from vldesk.core.images import budget_size
from vldesk.core.models.catalog import FAMILY_TRAITS, Family
from vldesk.gui.app import DesktopApp
from vldesk.gui.widgets.box_overlay import BOX_COLORS

#: The photo as stored: landscape, turned to portrait by its EXIF orientation (6: 90° CW).
STORED_SIZE = (1200, 800)
ORIENTED_SIZE = (800, 1200)
GREY = (128, 128, 128)
IMAGE_TOKENS = 256


def rotated_photo(path: Path) -> Path:
    """A grey JPEG whose pixels are landscape but which is shown portrait (EXIF orientation 6)."""
    exif = Image.Exif()
    exif[0x0112] = 6
    Image.new("RGB", STORED_SIZE, GREY).save(path, "JPEG", quality=95, exif=exif)
    return path


def grounding_app(
    make_app: AppFactory,
    fake_model_dir: Path,
    qtbot: QtBot,
    family: Family,
    answer: str | Callable[..., str],
    **settings: object,
) -> tuple[DesktopApp, FakeEngineLoader]:
    """An app whose model is a :class:`FakeEngine` of ``family`` giving ``answer``."""
    factor = FAMILY_TRAITS[family].patch_factor

    def make(request: object) -> FakeEngine:
        return FakeEngine(name="fake", family=family, answer=answer, patch_factor=factor)

    loader = FakeEngineLoader(make=make)  # type: ignore[arg-type]
    app = make_app(
        fake_model_dir, engine_loader=loader, **{"max_image_tokens": IMAGE_TOKENS, **settings}
    )
    app.window.resize(1100, 760)
    wait_for_model(qtbot, app)
    return app, loader


def widget_pixel(app: DesktopApp, original: tuple[float, float]) -> QPoint:
    """Where a point of the original image is on the viewer's viewport."""
    return app.window.viewer.mapFromScene(QPointF(*original))


def colour_near(picture: QImage, point: QPoint, colour: QColor, reach: int = 1) -> bool:
    """Whether ``colour`` is within ``reach`` pixels of ``point`` (box lines are 2 px wide)."""
    for dx in range(-reach, reach + 1):
        for dy in range(-reach, reach + 1):
            pixel = picture.pixelColor(point.x() + dx, point.y() + dy)
            if (
                max(
                    abs(pixel.red() - colour.red()),
                    abs(pixel.green() - colour.green()),
                    abs(pixel.blue() - colour.blue()),
                )
                <= 12
            ):
                return True
    return False


def grab(app: DesktopApp) -> QImage:
    return app.window.viewer.viewport().grab().toImage()


def ask_and_wait(qtbot: QtBot, app: DesktopApp, question: str) -> None:
    assert app.chat.ask(question)
    wait_idle(qtbot, app)


def assert_box_drawn(app: DesktopApp, box: tuple[float, float, float, float]) -> None:
    """The box's four edges are drawn in the first box colour, and its inside is the photo."""
    x1, y1, x2, y2 = box
    picture = grab(app)
    red = QColor(BOX_COLORS[0])
    middle_x, middle_y = (x1 + x2) / 2, (y1 + y2) / 2
    for edge in ((x1, middle_y), (x2, middle_y), (middle_x, y2)):
        assert colour_near(picture, widget_pixel(app, edge), red), edge
    inside = widget_pixel(app, (middle_x, middle_y))
    assert colour_near(picture, inside, QColor(*GREY), reach=0)
    # Just outside the left edge (a few screen pixels): no line there.
    outside = widget_pixel(app, (x1, middle_y)) - QPoint(5, 0)
    assert not colour_near(picture, outside, red)


@pytest.mark.parametrize(
    ("family", "model_box"),
    [
        # Qwen2.5-VL answers in pixels of the image as resized for the model.
        (Family.QWEN2_5_VL, None),
        # Qwen3-VL answers on a 0-1000 grid of the image.
        (Family.QWEN3_VL, (250, 100, 750, 600)),
    ],
)
def test_boxes_of_an_answer_land_on_the_right_pixels_of_a_rotated_photo(
    make_app: AppFactory,
    fake_model_dir: Path,
    qtbot: QtBot,
    tmp_path: Path,
    family: Family,
    model_box: tuple[int, int, int, int] | None,
) -> None:
    width, height = ORIENTED_SIZE
    factor = FAMILY_TRAITS[family].patch_factor
    model_width, model_height = budget_size(ORIENTED_SIZE, factor, IMAGE_TOKENS)
    if model_box is None:  # a quarter in from the left, a tenth down, in model pixels
        model_box = (
            model_width // 4,
            model_height // 10,
            model_width * 3 // 4,
            model_height * 6 // 10,
        )
        scale = (width / model_width, height / model_height)
    else:
        scale = (width / 1000, height / 1000)
    expected = (
        model_box[0] * scale[0],
        model_box[1] * scale[1],
        model_box[2] * scale[0],
        model_box[3] * scale[1],
    )
    answer = json.dumps([{"bbox_2d": list(model_box), "label": "红色汽车"}], ensure_ascii=False)
    app, _loader = grounding_app(make_app, fake_model_dir, qtbot, family, f"```json\n{answer}\n```")
    open_image(qtbot, app, rotated_photo(tmp_path / "car.jpg"))
    assert app.window.viewer.image_size == ORIENTED_SIZE
    assert "800 × 1200 px" in app.window.image_info.text()  # as shown, not as stored
    ask_and_wait(qtbot, app, "Where is the red car?")

    boxes = app.grounding.boxes
    assert boxes is not None
    assert boxes.size == ORIENTED_SIZE
    [found] = boxes.detections
    assert found.label == "红色汽车"
    assert found.box == pytest.approx(expected, abs=0.5)
    assert_box_drawn(app, expected)

    # Listed under the answer, with its place in the photo's pixels.
    panel = app.window.grounding_panel
    assert panel.isVisible()
    assert panel.box_list.count() == 1
    x1, y1, x2, y2 = (round(v) for v in expected)
    assert f"{x2 - x1}×{y2 - y1} px at ({x1}, {y1})" in panel.box_list.item(0).text()
    assert "红色汽车" in panel.box_list.item(0).text()


def test_show_boxes_toggle_hides_and_shows_them(
    make_app: AppFactory, fake_model_dir: Path, qtbot: QtBot, tmp_path: Path
) -> None:
    answer = '[{"bbox_2d": [100, 100, 900, 500], "label": "car"}]'
    app, _loader = grounding_app(make_app, fake_model_dir, qtbot, Family.QWEN3_VL, answer)
    open_image(qtbot, app, rotated_photo(tmp_path / "car.jpg"))
    ask_and_wait(qtbot, app, "Find the car")
    expected = (80.0, 120.0, 720.0, 600.0)
    assert_box_drawn(app, expected)
    left_edge = widget_pixel(app, (80.0, 360.0))
    red = QColor(BOX_COLORS[0])

    app.grounding.show_boxes_action.trigger()
    assert not colour_near(grab(app), left_edge, red)
    assert not app.window.grounding_panel.show_boxes_check.isChecked()
    app.window.grounding_panel.show_boxes_check.setChecked(True)
    assert colour_near(grab(app), left_edge, red)
    assert app.grounding.show_boxes_action.isChecked()


def test_selecting_a_box_in_the_list_highlights_it(
    make_app: AppFactory, fake_model_dir: Path, qtbot: QtBot, tmp_path: Path
) -> None:
    answer = (
        '[{"bbox_2d": [100, 100, 400, 400], "label": "cat"}, '
        '{"bbox_2d": [600, 600, 900, 900], "label": "dog"}]'
    )
    app, _loader = grounding_app(make_app, fake_model_dir, qtbot, Family.QWEN3_VL, answer)
    open_image(qtbot, app, rotated_photo(tmp_path / "pets.jpg"))
    ask_and_wait(qtbot, app, "Find the pets")
    dog_inside = widget_pixel(app, (600.0, 900.0))
    before = grab(app).pixelColor(dog_inside)
    app.window.grounding_panel.box_list.setCurrentRow(1)
    after = grab(app).pixelColor(dog_inside)
    assert before.getRgb()[:3] == GREY
    assert after.getRgb()[:3] != GREY  # the chosen box is filled with its colour


def test_an_answer_without_boxes_clears_them_and_export_writes_coco_and_yolo(
    make_app: AppFactory, fake_model_dir: Path, qtbot: QtBot, tmp_path: Path
) -> None:
    answers = iter(
        ['[{"bbox_2d": [0, 0, 500, 500], "label": "sky"}, {"point_2d": [500, 750]}]', "Nothing."]
    )
    app, _loader = grounding_app(
        make_app, fake_model_dir, qtbot, Family.QWEN3_VL, lambda _c: next(answers)
    )
    open_image(qtbot, app, rotated_photo(tmp_path / "sky.jpg"))
    ask_and_wait(qtbot, app, "Find the sky")
    assert app.grounding.export_boxes_action.isEnabled()

    (tmp_path / "out").mkdir()
    coco = tmp_path / "out" / "sky.json"
    assert app.grounding.export_boxes(coco)
    document = json.loads(coco.read_text(encoding="utf-8"))
    assert document["images"] == [{"id": 1, "file_name": "sky.jpg", "width": 800, "height": 1200}]
    assert document["annotations"][0]["bbox"] == [0, 0, 400, 600]
    assert document["annotations"][1]["keypoints"] == [400, 900, 2]

    yolo = tmp_path / "out" / "sky.txt"
    assert app.grounding.export_boxes(yolo)
    assert yolo.read_text() == "0 0.250000 0.250000 0.500000 0.500000\n"
    assert (tmp_path / "out" / "classes.txt").read_text() == "sky\nobject\n"

    ask_and_wait(qtbot, app, "Anything else?")
    assert app.grounding.boxes is None
    assert not app.grounding.export_boxes_action.isEnabled()
    assert app.window.grounding_panel.isHidden()


def test_boxes_are_drawn_again_when_the_conversation_is_reopened(
    make_app: AppFactory, fake_model_dir: Path, qtbot: QtBot, tmp_path: Path
) -> None:
    answer = '[{"bbox_2d": [100, 100, 900, 500], "label": "car"}]'
    app, _loader = grounding_app(make_app, fake_model_dir, qtbot, Family.QWEN3_VL, answer)
    photo = rotated_photo(tmp_path / "car.jpg")
    open_image(qtbot, app, photo)
    ask_and_wait(qtbot, app, "Find the car")
    history_id = app.session.history_id
    assert history_id is not None
    open_image(qtbot, app, rotated_photo(tmp_path / "other.jpg"))
    assert app.grounding.boxes is None

    app.history.open_entry(history_id)
    qtbot.waitUntil(lambda: app.session.image is not None and app.session.image.path == photo)
    assert app.grounding.boxes is not None
    assert_box_drawn(app, (80.0, 120.0, 720.0, 600.0))
    assert app.window.grounding_panel.box_list.count() == 1


def test_an_edit_that_fails_leaves_no_boxes_of_the_answer_it_deleted(
    make_app: AppFactory, fake_model_dir: Path, qtbot: QtBot, tmp_path: Path
) -> None:
    from vldesk.core.errors import GenerationError

    app, loader = grounding_app(
        make_app,
        fake_model_dir,
        qtbot,
        Family.QWEN3_VL,
        '[{"bbox_2d": [0, 0, 500, 500], "label": "sky"}]',
    )
    open_image(qtbot, app, rotated_photo(tmp_path / "sky.jpg"))
    ask_and_wait(qtbot, app, "Find the sky")
    assert app.grounding.export_boxes_action.isEnabled()
    [engine] = loader.engines
    engine.failures["Find the sea"] = GenerationError("The model failed.")
    app.chat.begin_edit(0)
    assert app.chat.ask("Find the sea")
    wait_idle(qtbot, app)
    assert app.session.conversation.turns == ()  # the sky question and its answer are gone
    assert app.grounding.boxes is None
    assert not app.grounding.export_boxes_action.isEnabled()
    assert not app.grounding.export_boxes(tmp_path / "stale.json")
    assert app.session.last_asked is None
