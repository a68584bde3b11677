"""What a job writes besides caption files: captions in the photos' XMP, and exported boxes."""

# The XMP step runs after the caption file is on disk and is journaled on its own ("xmp"
# records): a crash before that record makes a resumed job write the XMP again, which is safe
# because the caption's date is the result's journaled time, so the second write sets the same
# tags to the same values, and vldesk recognises its own (unreviewed, digest-matching)
# description as replaceable rather than a person's.

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Mapping
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from vldesk.core.batch.options import BatchOptions, BoxFormat
from vldesk.core.batch.records import ImageResult, ImageStatus
from vldesk.core.errors import VldeskError
from vldesk.core.grounding import Detection, ImageBoxes, boxes_from_answer, write_coco, write_yolo
from vldesk.core.images import LoadedImage
from vldesk.core.metadata import Caption, WriteStatus, sidecar_path, write_caption
from vldesk.core.metadata.xmp import MetadataMode
from vldesk.core.models.catalog import Family

log = logging.getLogger(__name__)

#: The ``status`` of an ``xmp`` record whose write failed (the caption file is kept).
XMP_FAILED = "failed"
XMP_WRITTEN = WriteStatus.WRITTEN.value
#: What XML 1.0 cannot hold. exiv2 would store a space instead, so the text read back would no
#: longer match the digest of what was written, and vldesk's own caption would pass for a
#: person's (never replaced again, even by a resume).
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def xmp_text(caption: str) -> str:
    """``caption`` as XMP can store it: characters XML forbids removed."""
    return _NOT_XML.sub("", caption).strip()


def xmp_target(options: BatchOptions, image: str) -> Path:
    """The file the XMP step of ``image`` replaces: its sidecar or the photo itself."""
    path = options.folder / image
    return path if options.xmp is MetadataMode.EMBED else sidecar_path(path)


def write_xmp(options: BatchOptions, result: ImageResult) -> dict[str, Any]:
    """Write ``result``'s caption into its photo's XMP; returns the journal's ``xmp`` record.

    Never raises for one photo's problem: a failure is a record with a note saying why.
    """
    assert options.xmp is not None
    caption = Caption(
        descriptions={"x-default": xmp_text(result.caption)},
        model=result.model or options.model,
        prompt=options.prompt,
        # The journaled time, not now: writing again after a crash gives the same bytes.
        date=datetime.fromtimestamp(result.at, timezone.utc).replace(microsecond=0),
    )
    record: dict[str, Any] = {"kind": "xmp", "seq": result.seq, "image": result.image}
    try:
        written = write_caption(
            options.folder / result.image,
            caption,
            options.xmp,
            overwrite_human=options.xmp_overwrite,
        )
    except (VldeskError, ValueError, OSError) as exc:
        return {**record, "status": XMP_FAILED, "note": f"Photo metadata not written: {exc}"}
    if written.status is WriteStatus.SKIPPED_HUMAN:
        shown = " ".join(written.existing_description.split())
        shown = shown if len(shown) <= 80 else shown[:79] + "…"
        note = (
            f"Photo metadata left alone: {written.target.name} has a description a person "
            f'wrote ("{shown}"); --xmp-overwrite replaces it.'
        )
        return {**record, "status": written.status.value, "note": note}
    return {**record, "status": written.status.value, "note": None, "file": str(written.target)}


def boxes_record(
    answer: str, family: Family, loaded: LoadedImage, max_image_tokens: int, image: str
) -> dict[str, Any] | None:
    """The boxes of ``answer`` mapped onto the original, as kept in the journal; ``None`` (the
    image is left out of the export, its caption kept) when its frame cannot be worked out."""
    try:
        found = boxes_from_answer(answer, family, loaded, max_image_tokens, image)
    except (ValueError, VldeskError) as exc:
        log.warning("no boxes for %s: %s", image, exc)
        return None
    return {
        "size": list(found.size),
        "detections": [
            {
                "label": d.label,
                "box": list(d.box) if d.box is not None else None,
                "point": list(d.point) if d.point is not None else None,
            }
            for d in found.detections
        ],
    }


def image_boxes(image: str, record: Mapping[str, Any]) -> ImageBoxes:
    width, height = record["size"]
    detections = tuple(
        Detection(
            str(d.get("label") or ""),
            box=_floats(d.get("box"), 4),  # type: ignore[arg-type]
            point=_floats(d.get("point"), 2),  # type: ignore[arg-type]
        )
        for d in record.get("detections", ())
    )
    return ImageBoxes(image, (int(width), int(height)), detections)


def _floats(values: Any, count: int) -> tuple[float, ...] | None:
    if not isinstance(values, list) or len(values) != count:
        return None
    return tuple(float(v) for v in values)


def export_boxes(options: BatchOptions, results: Iterable[ImageResult]) -> list[Path]:
    """Write every captioned image's boxes (none found is an image without boxes, still listed).

    Raises:
        WriteError: the export could not be saved.
    """
    target = options.boxes_target()
    assert target is not None
    images = [
        image_boxes(r.image, r.boxes)
        for r in results
        if r.status is ImageStatus.CAPTIONED and r.boxes is not None
    ]
    if options.boxes is BoxFormat.COCO:
        target.parent.mkdir(parents=True, exist_ok=True)
        write_coco(target, images)
        return [target]
    write_yolo(target, images)
    return [target]
