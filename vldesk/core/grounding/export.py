"""Export boxes in original pixels as COCO JSON or YOLO txt, for one image or a whole batch."""

from __future__ import annotations

import json
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

from vldesk.core.atomic import atomic_write_text
from vldesk.core.grounding.parse import Detection

#: The YOLO class list written beside the label files (the Ultralytics/darknet convention).
YOLO_CLASSES_FILE = "classes.txt"


@dataclass(frozen=True)
class ImageBoxes:
    """One image's detections in its original (oriented) pixels.

    ``file_name`` is how the export names the image: a bare name or a path relative to the
    batch folder, with forward slashes.
    """

    file_name: str
    size: tuple[int, int]
    detections: tuple[Detection, ...]


def categories(images: Sequence[ImageBoxes]) -> list[str]:
    """Every label in order of first appearance (so ids stay stable as a batch grows)."""
    seen: dict[str, None] = {}
    for image in images:
        for detection in image.detections:
            seen.setdefault(detection.label or "object", None)
    return list(seen)


def coco_document(images: Sequence[ImageBoxes]) -> dict[str, Any]:
    """A COCO detection document; a point becomes a one-keypoint annotation with an empty box."""
    names = categories(images)
    category_id = {name: number for number, name in enumerate(names, start=1)}
    coco_images: list[dict[str, Any]] = []
    annotations: list[dict[str, Any]] = []
    for image_id, image in enumerate(images, start=1):
        width, height = image.size
        coco_images.append(
            {"id": image_id, "file_name": image.file_name, "width": width, "height": height}
        )
        for detection in image.detections:
            annotation: dict[str, Any] = {
                "id": len(annotations) + 1,
                "image_id": image_id,
                "category_id": category_id[detection.label or "object"],
                "iscrowd": 0,
            }
            if detection.box is not None:
                x1, y1, x2, y2 = detection.box
                annotation["bbox"] = [_round(x1), _round(y1), _round(x2 - x1), _round(y2 - y1)]
                annotation["area"] = _round((x2 - x1) * (y2 - y1))
            elif detection.point is not None:
                x, y = detection.point
                annotation["bbox"] = [_round(x), _round(y), 0, 0]
                annotation["area"] = 0
                annotation["keypoints"] = [_round(x), _round(y), 2]
                annotation["num_keypoints"] = 1
            else:
                continue
            annotations.append(annotation)
    return {
        "images": coco_images,
        "annotations": annotations,
        "categories": [{"id": category_id[name], "name": name} for name in names],
    }


def write_coco(path: str | os.PathLike[str], images: Sequence[ImageBoxes]) -> None:
    """Write :func:`coco_document` as UTF-8 JSON (labels in any script stay readable)."""
    text = json.dumps(coco_document(images), ensure_ascii=False, indent=1)
    atomic_write_text(path, text + "\n")


def yolo_lines(image: ImageBoxes, class_ids: Mapping[str, int]) -> list[str]:
    """``class cx cy w h`` per box, normalised to 0-1; points have no YOLO box and are left out."""
    width, height = image.size
    lines = []
    for detection in image.detections:
        if detection.box is None:
            continue
        x1, y1, x2, y2 = detection.box
        centre_x = (x1 + x2) / 2 / width
        centre_y = (y1 + y2) / 2 / height
        box_width = (x2 - x1) / width
        box_height = (y2 - y1) / height
        class_id = class_ids[detection.label or "object"]
        lines.append(f"{class_id} {centre_x:.6f} {centre_y:.6f} {box_width:.6f} {box_height:.6f}")
    return lines


def write_yolo(folder: str | os.PathLike[str], images: Sequence[ImageBoxes]) -> list[Path]:
    """One ``<image stem>.txt`` per image (mirroring sub-folders) plus ``classes.txt``.

    Returns the files written, the class list last.
    """
    root = Path(folder)
    names = categories(images)
    class_ids = {name: number for number, name in enumerate(names)}
    written = []
    for image in images:
        relative = PurePosixPath(image.file_name).with_suffix(".txt")
        target = root.joinpath(*relative.parts)
        target.parent.mkdir(parents=True, exist_ok=True)
        lines = yolo_lines(image, class_ids)
        atomic_write_text(target, "".join(line + "\n" for line in lines))
        written.append(target)
    classes = root / YOLO_CLASSES_FILE
    root.mkdir(parents=True, exist_ok=True)
    atomic_write_text(classes, "".join(name + "\n" for name in names))
    written.append(classes)
    return written


def _round(value: float) -> float:
    return round(value, 2)
