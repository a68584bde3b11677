"""A region question: its two images, its record in history, and boxes mapped back."""

from __future__ import annotations

import pytest
from PIL import Image

from vldesk.core.grounding import (
    CONTEXT_IMAGE_TOKENS,
    Region,
    RegionQuestion,
    boxes_in_region,
    region_images,
)
from vldesk.core.images import LoadedImage, budget_size, fit_to_token_budget
from vldesk.core.models.catalog import FAMILY_TRAITS, Family


def test_dragged_corners_in_any_order_become_a_clamped_whole_pixel_region() -> None:
    assert Region.from_corners((30.6, 40.2), (10.4, 5.9), (100, 100)) == Region(10, 5, 31, 41)
    assert Region.from_corners((-5, -5), (500, 80), (100, 100)) == Region(0, 0, 100, 80)
    assert Region.from_corners((10, 10), (12, 50), (100, 100)) is None  # a click, not a drag


def test_a_region_question_survives_history_and_odd_values_do_not_raise() -> None:
    question = RegionQuestion(Region(1, 2, 30, 40), (50, 60), 128)
    assert RegionQuestion.from_dict(question.to_dict()) == question
    for odd in (None, "x", {"box": [1, 2]}, {"box": [5, 5, 1, 1], "image_size": [9, 9]}):
        assert RegionQuestion.from_dict(odd) is None


def test_the_crop_keeps_full_detail_and_the_context_image_its_small_budget() -> None:
    picture = Image.effect_noise((1600, 1200), 60).convert("RGB")
    loaded = LoadedImage(picture, "photo.png", (1600, 1200))
    question = RegionQuestion(Region(400, 300, 800, 600), (1600, 1200))
    factor = FAMILY_TRAITS[Family.QWEN3_VL].patch_factor
    context, crop = region_images(loaded, question.within(1024), Family.QWEN3_VL)
    assert context.image.size == budget_size((1600, 1200), factor, CONTEXT_IMAGE_TOKENS)
    # The engine's fit at the full budget leaves the context image as it is.
    assert fit_to_token_budget(context, factor, 1024).size == context.image.size
    assert crop.image.tobytes() == picture.crop((400, 300, 800, 600)).tobytes()
    # A budget below the context's own: the context image follows it down.
    assert question.within(64).context_tokens == 64


def test_a_reduced_image_is_cropped_where_the_region_is() -> None:
    """``loaded.image`` may be a reduced draft: the region (original pixels) is scaled to it."""
    picture = Image.new("RGB", (800, 600), (0, 0, 0))
    picture.paste((255, 255, 255), (200, 150, 400, 300))
    loaded = LoadedImage(picture, "big.jpg", (1600, 1200))
    question = RegionQuestion(Region(400, 300, 800, 600), (1600, 1200))
    _context, crop = region_images(loaded, question, Family.QWEN3_VL)
    assert crop.image.size == (200, 150)
    assert crop.image.getextrema() == ((255, 255), (255, 255), (255, 255))


@pytest.mark.parametrize("family", [Family.QWEN3_VL, Family.QWEN2_5_VL])
def test_boxes_about_a_region_map_onto_the_whole_photo(family: Family) -> None:
    question = RegionQuestion(Region(100, 200, 500, 500), (1000, 800))
    crop_size = (400, 300)
    if family is Family.QWEN3_VL:
        answer = '{"bbox_2d": [500, 0, 1000, 500], "label": "sign"}'
    else:
        width, height = budget_size(crop_size, FAMILY_TRAITS[family].patch_factor, 1024)
        answer = f'{{"bbox_2d": [{width / 2}, 0, {width}, {height / 2}], "label": "sign"}}'
    boxes = boxes_in_region(answer, family, question, crop_size, 1024, "street.jpg")
    assert boxes.size == (1000, 800)
    assert boxes.detections[0].box == pytest.approx((300, 200, 500, 350))
