"""Boxes export as COCO JSON and YOLO txt, for one image or a batch."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from vldesk.core.grounding import Detection, ImageBoxes, coco_document, write_coco, write_yolo

BATCH = (
    ImageBoxes(
        "street.jpg",
        (400, 200),
        (
            Detection("汽车", box=(100.0, 50.0, 300.0, 150.0)),
            Detection("person", box=(0.0, 0.0, 40.0, 200.0)),
        ),
    ),
    ImageBoxes(
        "sub/park.png",
        (100, 100),
        (Detection("person", box=(10.0, 20.0, 30.0, 60.0)), Detection("eye", point=(5.0, 6.0))),
    ),
)


def test_coco_has_images_categories_and_xywh_boxes(tmp_path: Path) -> None:
    path = tmp_path / "boxes.json"
    write_coco(path, BATCH)
    assert "汽车" in path.read_text(encoding="utf-8")  # UTF-8, not \\u escapes
    document = json.loads(path.read_text(encoding="utf-8"))
    assert document == coco_document(BATCH)
    assert document["images"] == [
        {"id": 1, "file_name": "street.jpg", "width": 400, "height": 200},
        {"id": 2, "file_name": "sub/park.png", "width": 100, "height": 100},
    ]
    assert document["categories"] == [
        {"id": 1, "name": "汽车"},
        {"id": 2, "name": "person"},
        {"id": 3, "name": "eye"},
    ]
    boxes = [(a["image_id"], a["category_id"], a["bbox"]) for a in document["annotations"]]
    assert boxes == [
        (1, 1, [100.0, 50.0, 200.0, 100.0]),
        (1, 2, [0.0, 0.0, 40.0, 200.0]),
        (2, 2, [10.0, 20.0, 20.0, 40.0]),
        (2, 3, [5.0, 6.0, 0, 0]),
    ]
    assert document["annotations"][3]["keypoints"] == [5.0, 6.0, 2]
    assert [a["id"] for a in document["annotations"]] == [1, 2, 3, 4]


def test_yolo_writes_normalised_centres_and_the_class_list(tmp_path: Path) -> None:
    written = write_yolo(tmp_path, BATCH)
    assert written == [
        tmp_path / "street.txt",
        tmp_path / "sub" / "park.txt",
        tmp_path / "classes.txt",
    ]
    assert (tmp_path / "classes.txt").read_text(encoding="utf-8") == "汽车\nperson\neye\n"
    assert (tmp_path / "street.txt").read_text().splitlines() == [
        "0 0.500000 0.500000 0.500000 0.500000",
        "1 0.050000 0.500000 0.100000 1.000000",
    ]
    # The point has no YOLO box: only the person's box is written.
    assert (tmp_path / "sub" / "park.txt").read_text().splitlines() == [
        "1 0.200000 0.400000 0.200000 0.400000"
    ]


@pytest.mark.parametrize("writer", [write_coco, write_yolo])
def test_an_image_without_detections_still_exports(tmp_path: Path, writer) -> None:  # type: ignore[no-untyped-def]
    empty = (ImageBoxes("blank.jpg", (10, 10), ()),)
    target = tmp_path / ("out.json" if writer is write_coco else "labels")
    writer(target, empty)
    if writer is write_coco:
        assert json.loads(target.read_text())["images"][0]["file_name"] == "blank.jpg"
    else:
        assert (target / "blank.txt").read_text() == ""
