"""A box in model space lands on the photo's pixels: every family, resized, EXIF-rotated."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from PIL import Image

from vldesk.core.grounding import (
    Detection,
    ImageFrame,
    boxes_from_answer,
    frame_for_image,
    parse_detections,
    to_original_pixels,
)
from vldesk.core.images import LoadedImage, fit_to_token_budget, load_image
from vldesk.core.models.catalog import FAMILY_TRAITS, Family

#: Where the red rectangle is, in the pixels a viewer shows (left, top, right, bottom).
RED_BOX = (300, 420, 700, 900)
SHOWN_SIZE = (1000, 1200)
BUDGET_TOKENS = 256


def _shown_image() -> Image.Image:
    image = Image.new("RGB", SHOWN_SIZE, (30, 90, 200))
    image.paste((255, 0, 0), RED_BOX)
    return image


def _save(path: Path, image: Image.Image, fmt: str, orientation: int = 1) -> None:
    exif = Image.Exif()
    exif[0x0112] = orientation
    image.save(path, fmt, exif=exif.tobytes(), **({"quality": 95} if fmt == "JPEG" else {}))


def _red_bbox(image: Image.Image) -> tuple[int, int, int, int]:
    """Where the rectangle ended up in ``image`` (independent of the code under test)."""
    red, green, _ = image.convert("RGB").split()
    mask = Image.eval(red, lambda v: 255 if v > 128 else 0)
    mask.paste(0, mask=Image.eval(green, lambda v: 255 if v > 100 else 0))
    box = mask.getbbox()
    assert box is not None
    return box


def _answer_for(family: Family, model_image: Image.Image) -> str:
    """What a perfect model of this family would answer, from the image it was given."""
    left, top, right, bottom = _red_bbox(model_image)
    if family is Family.QWEN2_5_VL:
        coords = [left, top, right, bottom]
    else:
        width, height = model_image.size
        coords = [
            round(left / width * 1000),
            round(top / height * 1000),
            round(right / width * 1000),
            round(bottom / height * 1000),
        ]
    return "```json\n" + json.dumps([{"bbox_2d": coords, "label": "red"}]) + "\n```"


def _map_answer(family: Family, loaded: LoadedImage) -> tuple[float, float, float, float]:
    factor = FAMILY_TRAITS[family].patch_factor
    model_image = fit_to_token_budget(loaded, factor, BUDGET_TOKENS)
    frame = frame_for_image(family, loaded, BUDGET_TOKENS)
    assert frame.model_size == model_image.size
    assert frame.original_size == SHOWN_SIZE
    (mapped,) = to_original_pixels(
        parse_detections(_answer_for(family, model_image)), family, frame
    )
    assert mapped.box is not None
    return mapped.box


def _assert_close(box: tuple[float, float, float, float], model_width: int) -> None:
    # One model pixel is this many original pixels; resampling blurs an edge by about one.
    tolerance = 2 * SHOWN_SIZE[0] / model_width + 1
    for got, want in zip(box, RED_BOX, strict=True):
        assert abs(got - want) <= tolerance, (box, RED_BOX)


@pytest.mark.parametrize("family", list(Family), ids=lambda f: f.value)
@pytest.mark.parametrize(
    ("fmt", "orientation", "draft"),
    [("PNG", 1, False), ("PNG", 6, False), ("PNG", 8, False), ("JPEG", 6, True)],
    ids=["upright", "exif-rotated-cw", "exif-rotated-ccw", "rotated-jpeg-draft"],
)
def test_a_box_in_model_space_lands_on_the_original_pixels(
    tmp_path: Path, family: Family, fmt: str, orientation: int, draft: bool
) -> None:
    shown = _shown_image()
    # Store the pixels so that applying the EXIF orientation gives back what is shown.
    stored = {
        1: shown,
        6: shown.transpose(Image.Transpose.ROTATE_90),
        8: shown.transpose(Image.Transpose.ROTATE_270),
    }[orientation]
    path = tmp_path / f"photo.{fmt.lower()}"
    _save(path, stored, fmt, orientation)
    loaded = load_image(path, draft_pixels=200_000 if draft else None)
    assert loaded.image.size != SHOWN_SIZE if draft else loaded.image.size == SHOWN_SIZE
    box = _map_answer(family, loaded)
    model_width = frame_for_image(family, loaded, BUDGET_TOKENS).model_size[0]
    assert model_width < SHOWN_SIZE[0]  # the budget really shrank the image
    _assert_close(box, model_width)


def test_qwen2_5_scales_model_pixels_and_qwen3_reads_a_1000_grid() -> None:
    frame = ImageFrame(model_size=(448, 336), original_size=(4000, 3000))
    answer = [Detection("x", box=(224, 168, 448, 336)), Detection("p", point=(112, 84))]
    assert to_original_pixels(answer, Family.QWEN2_5_VL, frame) == [
        Detection("x", box=(2000.0, 1500.0, 4000.0, 3000.0)),
        Detection("p", point=(1000.0, 750.0)),
    ]
    for family in (Family.QWEN3_VL, Family.QWEN3_5):
        relative = [Detection("x", box=(500, 500, 1000, 1000)), Detection("p", point=(250, 250))]
        assert to_original_pixels(relative, family, frame) == [
            Detection("x", box=(2000.0, 1500.0, 4000.0, 3000.0)),
            Detection("p", point=(1000.0, 750.0)),
        ]


def test_coordinates_outside_the_image_are_clamped() -> None:
    frame = ImageFrame(model_size=(100, 100), original_size=(200, 100))
    (detection,) = to_original_pixels(
        [Detection("edge", box=(-10, -5, 1200, 1100))], Family.QWEN3_VL, frame
    )
    assert detection.box == (0.0, 0.0, 200.0, 100.0)


def test_an_unrotated_in_memory_image_uses_its_own_size() -> None:
    buffer = io.BytesIO()
    Image.new("RGB", (640, 480)).save(buffer, "PNG")
    loaded = LoadedImage(Image.open(buffer).convert("RGB"), "mem", (640, 480))
    frame = frame_for_image(Family.QWEN3_VL, loaded, 64)
    assert frame.original_size == (640, 480)
    assert frame.model_size[0] * frame.model_size[1] <= 64 * 32 * 32


def test_boxes_from_answer_is_parse_frame_and_map_in_one_call(tmp_path: Path) -> None:
    stored = _shown_image().transpose(Image.Transpose.ROTATE_90)
    path = tmp_path / "turned.png"
    _save(path, stored, "PNG", orientation=6)
    loaded = load_image(path)
    model_image = fit_to_token_budget(loaded, FAMILY_TRAITS[Family.QWEN3_VL].patch_factor, 256)
    boxes = boxes_from_answer(
        _answer_for(Family.QWEN3_VL, model_image), Family.QWEN3_VL, loaded, 256
    )
    assert (boxes.file_name, boxes.size) == ("turned.png", SHOWN_SIZE)
    (detection,) = boxes.detections
    assert detection.label == "red"
    assert detection.box is not None
    _assert_close(detection.box, model_image.width)
