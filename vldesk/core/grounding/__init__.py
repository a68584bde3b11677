"""Grounding: boxes and points in a model's answer, mapped to the photo's pixels and exported."""

from vldesk.core.grounding.answers import boxes_from_answer
from vldesk.core.grounding.coords import (
    CoordinateSystem,
    ImageFrame,
    coordinate_system,
    frame_for_image,
    to_original_pixels,
)
from vldesk.core.grounding.export import (
    ImageBoxes,
    coco_document,
    write_coco,
    write_yolo,
    yolo_lines,
)
from vldesk.core.grounding.parse import Detection, parse_detections
from vldesk.core.grounding.region import (
    CONTEXT_IMAGE_TOKENS,
    Region,
    RegionQuestion,
    boxes_in_region,
    region_images,
)

__all__ = [
    "CONTEXT_IMAGE_TOKENS",
    "CoordinateSystem",
    "Detection",
    "ImageBoxes",
    "ImageFrame",
    "Region",
    "RegionQuestion",
    "boxes_from_answer",
    "boxes_in_region",
    "coco_document",
    "coordinate_system",
    "frame_for_image",
    "parse_detections",
    "region_images",
    "to_original_pixels",
    "write_coco",
    "write_yolo",
    "yolo_lines",
]
