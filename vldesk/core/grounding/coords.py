"""Map a model's box coordinates back to the pixels of the photo the person sees."""

# The target frame is the *oriented original*: the file's full-resolution pixels after its EXIF
# orientation is applied (what vldesk.core.images.load_image returns and any viewer shows), never
# the sensor's unrotated pixel grid.

from __future__ import annotations

from dataclasses import dataclass, replace
from enum import Enum

from vldesk.core.grounding.parse import Detection
from vldesk.core.images import LoadedImage, budget_size
from vldesk.core.models.catalog import FAMILY_TRAITS, Family

#: Qwen3-VL and Qwen3.5 answer on a grid of this many steps per side, whatever the image size.
RELATIVE_GRID = 1000.0


class CoordinateSystem(str, Enum):
    """How a family's answers express positions."""

    #: Absolute pixels of the image as resized for the model (Qwen2.5-VL).
    MODEL_PIXELS = "model-pixels"
    #: 0-1000 relative to the image's width and height (Qwen3-VL, Qwen3.5).
    RELATIVE_1000 = "relative-1000"


_SYSTEMS = {
    Family.QWEN2_5_VL: CoordinateSystem.MODEL_PIXELS,
    Family.QWEN3_VL: CoordinateSystem.RELATIVE_1000,
    Family.QWEN3_5: CoordinateSystem.RELATIVE_1000,
}


def coordinate_system(family: Family) -> CoordinateSystem:
    return _SYSTEMS[family]


@dataclass(frozen=True)
class ImageFrame:
    """The two sizes a mapping needs, both (width, height).

    ``model_size`` is what the model saw (after the token-budget resize); ``original_size`` is
    the oriented original the boxes are mapped onto.
    """

    model_size: tuple[int, int]
    original_size: tuple[int, int]


def frame_for_image(family: Family, loaded: LoadedImage, max_image_tokens: int) -> ImageFrame:
    """The frame of ``loaded`` as sent at ``max_image_tokens``.

    The model size is the one :func:`vldesk.core.images.fit_to_token_budget` resizes to (same
    function, same arguments). ``loaded.image`` may be a reduced JPEG draft; the original size
    comes from the file header, turned by the EXIF orientation the loader applied.
    """
    factor = FAMILY_TRAITS[family].patch_factor
    model_size = budget_size(loaded.image.size, factor, max_image_tokens)
    return ImageFrame(model_size, oriented_original_size(loaded))


def oriented_original_size(loaded: LoadedImage) -> tuple[int, int]:
    """``loaded.original_size`` is the unrotated header size: swap it when the loader turned the
    image by 90 degrees (EXIF orientations 5-8), which shows as swapped landscape/portrait."""
    width, height = loaded.original_size
    shown_width, shown_height = loaded.image.size
    if (width > height and shown_width < shown_height) or (
        width < height and shown_width > shown_height
    ):
        return (height, width)
    return (width, height)


def to_original_pixels(
    detections: list[Detection], family: Family, frame: ImageFrame
) -> list[Detection]:
    """``detections`` as parsed from ``family``'s answer, in original (oriented) pixels.

    Coordinates are clamped to the image; a box the model put partly outside keeps its inside.
    """
    original_width, original_height = frame.original_size
    if coordinate_system(family) is CoordinateSystem.MODEL_PIXELS:
        scale_x = original_width / frame.model_size[0]
        scale_y = original_height / frame.model_size[1]
    else:
        scale_x = original_width / RELATIVE_GRID
        scale_y = original_height / RELATIVE_GRID

    def x(value: float) -> float:
        return min(max(value * scale_x, 0.0), float(original_width))

    def y(value: float) -> float:
        return min(max(value * scale_y, 0.0), float(original_height))

    mapped = []
    for detection in detections:
        box = point = None
        if detection.box is not None:
            x1, y1, x2, y2 = detection.box
            box = (x(x1), y(y1), x(x2), y(y2))
        if detection.point is not None:
            point = (x(detection.point[0]), y(detection.point[1]))
        mapped.append(replace(detection, box=box, point=point))
    return mapped
