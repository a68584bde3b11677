"""One call from a model's answer to boxes in the photo's pixels, ready to draw or export."""

from __future__ import annotations

from vldesk.core.grounding.coords import frame_for_image, to_original_pixels
from vldesk.core.grounding.export import ImageBoxes
from vldesk.core.grounding.parse import parse_detections
from vldesk.core.images import LoadedImage
from vldesk.core.models.catalog import Family


def boxes_from_answer(
    answer: str,
    family: Family,
    loaded: LoadedImage,
    max_image_tokens: int,
    file_name: str | None = None,
) -> ImageBoxes:
    """Parse ``answer`` (from a ``family`` model shown ``loaded`` at ``max_image_tokens``) and
    map it onto the oriented original; ``file_name`` defaults to the image's name.

    To draw on ``loaded.image`` itself (a reduced draft may be smaller than the original),
    scale by ``loaded.image.width / result.size[0]``.
    """
    frame = frame_for_image(family, loaded, max_image_tokens)
    detections = to_original_pixels(parse_detections(answer), family, frame)
    return ImageBoxes(file_name or loaded.name, frame.original_size, tuple(detections))
