"""Asking about a region: the crop at the full budget plus the whole image small, and the way
back from the crop's coordinates to the photo's pixels."""

# Method (docs/grounding.md): the model gets two images in one message, the whole photo
# reduced to a small token budget (where the region sits, what surrounds it) and then the
# region cropped from the full-resolution original, which the engine fits to the user's full
# budget. A crop is far more detail per token than the whole photo at the same budget, and the
# context image costs few tokens. The context image is resized here to its budget on Qwen's
# grid, so the engine's own fit (at the larger budget) leaves it as it is: one request
# carries two budgets on every engine (transformers, llama.cpp, remote).

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from PIL import Image

from vldesk.core.grounding.coords import (
    ImageFrame,
    oriented_original_size,
    to_original_pixels,
)
from vldesk.core.grounding.export import ImageBoxes
from vldesk.core.grounding.parse import Detection, parse_detections
from vldesk.core.images import LoadedImage, budget_size
from vldesk.core.models.catalog import FAMILY_TRAITS, Family

#: Visual tokens of the whole image sent beside a region, for context.
CONTEXT_IMAGE_TOKENS = 256
#: A region narrower or lower than this (original pixels) is a click, not a selection.
MIN_REGION_SIDE = 4


@dataclass(frozen=True)
class Region:
    """A rectangle of the oriented original in whole pixels: left and top inclusive, right and
    bottom exclusive (a crop box)."""

    left: int
    top: int
    right: int
    bottom: int

    def __post_init__(self) -> None:
        if self.left < 0 or self.top < 0 or self.right <= self.left or self.bottom <= self.top:
            raise ValueError(f"not a region: {self.box}")

    @property
    def box(self) -> tuple[int, int, int, int]:
        return (self.left, self.top, self.right, self.bottom)

    @property
    def size(self) -> tuple[int, int]:
        return (self.right - self.left, self.bottom - self.top)

    @classmethod
    def from_corners(
        cls, a: tuple[float, float], b: tuple[float, float], image_size: tuple[int, int]
    ) -> Region | None:
        """The region between two dragged corners (any order), clamped to the image and
        rounded outwards to whole pixels; ``None`` when it is too small to ask about."""
        width, height = image_size
        left = max(0, int(min(a[0], b[0])))
        top = max(0, int(min(a[1], b[1])))
        right = min(width, -int(-max(a[0], b[0]) // 1))
        bottom = min(height, -int(-max(a[1], b[1]) // 1))
        if right - left < MIN_REGION_SIDE or bottom - top < MIN_REGION_SIDE:
            return None
        return cls(left, top, right, bottom)


@dataclass(frozen=True)
class RegionQuestion:
    """A question about ``region`` of an image of ``image_size`` (oriented original pixels),
    sent with the whole image at ``context_tokens`` for context."""

    region: Region
    image_size: tuple[int, int]
    context_tokens: int = CONTEXT_IMAGE_TOKENS

    def to_dict(self) -> dict[str, Any]:
        """How history keeps it (in the question's settings)."""
        return {
            "box": list(self.region.box),
            "image_size": list(self.image_size),
            "context_tokens": self.context_tokens,
        }

    @classmethod
    def from_dict(cls, data: object) -> RegionQuestion | None:
        """Read :meth:`to_dict`'s form back; ``None`` for anything else (never raises)."""
        if not isinstance(data, dict):
            return None
        try:
            left, top, right, bottom = (int(v) for v in data["box"])
            width, height = (int(v) for v in data["image_size"])
            context = int(data.get("context_tokens", CONTEXT_IMAGE_TOKENS))
            return cls(Region(left, top, right, bottom), (width, height), max(4, context))
        except (KeyError, TypeError, ValueError):
            return None

    def within(self, max_image_tokens: int) -> RegionQuestion:
        """This question with the context budget no larger than the request's budget."""
        if self.context_tokens <= max_image_tokens:
            return self
        return replace(self, context_tokens=max_image_tokens)

    def prompt(self, question: str) -> str:
        """The text the model gets: which image is which, then the person's question."""
        left, top, right, bottom = self.region.box
        width, height = self.image_size
        return (
            f"The first image is a whole photo ({width}x{height} pixels), for context. The "
            f"second image is an enlarged region of it, from ({left}, {top}) to ({right}, "
            f"{bottom}). Answer about the region in the second image; give any coordinates "
            f"relative to the second image.\n\n{question}"
        )


def region_images(
    loaded: LoadedImage, question: RegionQuestion, family: Family
) -> tuple[LoadedImage, LoadedImage]:
    """(the whole image reduced to the context budget, the region cropped at full detail).

    The crop comes from ``loaded.image`` (the full-resolution oriented image the viewer shows;
    a reduced draft is scaled to); the engine fits it to the request's budget as any image.
    The context budget should not exceed the request's (:meth:`RegionQuestion.within`), or the
    engine shrinks the context image further.
    """
    factor = FAMILY_TRAITS[family].patch_factor
    image = loaded.image
    original_width, original_height = oriented_original_size(loaded)
    scale_x = image.width / original_width
    scale_y = image.height / original_height
    left, top, right, bottom = question.region.box
    crop_box = (
        int(left * scale_x),
        int(top * scale_y),
        max(int(left * scale_x) + 1, round(right * scale_x)),
        max(int(top * scale_y) + 1, round(bottom * scale_y)),
    )
    crop = image.crop(crop_box)
    context_size = budget_size(image.size, factor, question.context_tokens)
    context = image.resize(context_size, Image.Resampling.BICUBIC, reducing_gap=3.0)
    context_image = LoadedImage(context, loaded.source, loaded.original_size, loaded.format)
    crop_image = LoadedImage(crop, f"{loaded.source} (region)", question.region.size, loaded.format)
    return context_image, crop_image


def boxes_in_region(
    answer: str,
    family: Family,
    question: RegionQuestion,
    crop_size: tuple[int, int],
    max_image_tokens: int,
    file_name: str,
) -> ImageBoxes:
    """The boxes of an answer about a region, in the whole image's original pixels.

    ``crop_size`` is the crop's size as sent (before the engine's fit to ``max_image_tokens``):
    the model's coordinates are of that crop, fitted; they map onto the region, then shift by
    its corner.
    """
    factor = FAMILY_TRAITS[family].patch_factor
    frame = ImageFrame(budget_size(crop_size, factor, max_image_tokens), question.region.size)
    in_crop = to_original_pixels(parse_detections(answer), family, frame)
    dx, dy = question.region.left, question.region.top

    def shifted(detection: Detection) -> Detection:
        box = point = None
        if detection.box is not None:
            x1, y1, x2, y2 = detection.box
            box = (x1 + dx, y1 + dy, x2 + dx, y2 + dy)
        if detection.point is not None:
            point = (detection.point[0] + dx, detection.point[1] + dy)
        return Detection(detection.label, box=box, point=point)

    return ImageBoxes(file_name, question.image_size, tuple(shifted(d) for d in in_crop))
