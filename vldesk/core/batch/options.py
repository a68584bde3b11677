"""What a batch job does: the folder, the prompt, the settings and how captions are written."""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path
from typing import Any

from vldesk.core.errors import VldeskError
from vldesk.core.generation import GenerationSettings
from vldesk.core.images import IMAGE_EXTENSIONS
from vldesk.core.messages import core_text
from vldesk.core.metadata import MetadataMode

DEFAULT_CAPTION_EXTENSION = ".txt"
#: Characters a caption extension may hold besides letters and digits (".caption", ".en-us").
_EXTENSION_EXTRA = "-_"


class CaptionMode(str, Enum):
    """What to do when an image already has a caption file."""

    #: Leave an existing caption file alone (the image is reported as skipped).
    SKIP = "skip"
    #: Replace it.
    OVERWRITE = "overwrite"
    #: Add the new caption at its end, on a new line.
    APPEND = "append"


class BoxFormat(str, Enum):
    """How the boxes found in the answers are exported at the end of a job."""

    #: One COCO detection JSON for the whole folder.
    COCO = "coco"
    #: One YOLO ``.txt`` per image plus ``classes.txt``, in a folder of their own.
    YOLO = "yolo"


#: Where the boxes go without ``boxes_out``, inside the job's folder. YOLO files have the
#: images' names with ``.txt``, so beside the images they would clash with caption files.
DEFAULT_BOXES_OUT = {BoxFormat.COCO: "boxes.coco.json", BoxFormat.YOLO: "labels"}


@dataclass(frozen=True)
class ReportPaths:
    """Where the combined reports go; ``None`` means that report is not written."""

    jsonl: Path | None = None
    csv: Path | None = None
    markdown: Path | None = None

    def __post_init__(self) -> None:
        # Absolute now, so a resumed job writes to the same place whatever the working folder.
        for name in ("jsonl", "csv", "markdown"):
            value = getattr(self, name)
            if value is not None:
                object.__setattr__(self, name, Path(os.path.abspath(value)))

    def any(self) -> bool:
        return any((self.jsonl, self.csv, self.markdown))

    def to_dict(self) -> dict[str, str | None]:
        return {
            "jsonl": _str_or_none(self.jsonl),
            "csv": _str_or_none(self.csv),
            "markdown": _str_or_none(self.markdown),
        }

    @classmethod
    def from_dict(cls, data: Any) -> ReportPaths:
        data = data if isinstance(data, dict) else {}
        return cls(*(_path_or_none(data.get(key)) for key in ("jsonl", "csv", "markdown")))


@dataclass(frozen=True)
class BatchOptions:
    """Everything that decides which images are captioned and what is written.

    Two runs with the same :meth:`job_id` are the same job: the second one resumes the first.
    The reports' locations are not part of the identity (they are regenerated from the journal).
    """

    folder: Path
    prompt: str
    #: The model as the user named it (catalog id, imported name or folder); recorded with results.
    model: str
    settings: GenerationSettings = field(default_factory=GenerationSettings)
    system: str | None = None
    recursive: bool = False
    #: Lower-case extensions with the dot; only files ending in one of them are scanned.
    types: tuple[str, ...] = IMAGE_EXTENSIONS
    caption_extension: str = DEFAULT_CAPTION_EXTENSION
    mode: CaptionMode = CaptionMode.SKIP
    #: Added before and after every caption as given (trigger words for training sets).
    prefix: str = ""
    suffix: str = ""
    reports: ReportPaths = field(default_factory=ReportPaths)
    #: Also write each new caption, with its provenance, into the photo's XMP.
    xmp: MetadataMode | None = None
    #: Replace a description a person wrote (else such images are reported and left alone).
    xmp_overwrite: bool = False
    #: Parse the boxes in each answer and export them at the end of the job.
    boxes: BoxFormat | None = None
    #: The COCO file or YOLO folder; ``None``: :data:`DEFAULT_BOXES_OUT` in the job's folder.
    boxes_out: Path | None = None

    def __post_init__(self) -> None:
        if not self.prompt.strip():
            raise VldeskError(core_text("Batch", "The prompt is empty."))
        if self.xmp_overwrite and self.xmp is None:
            raise VldeskError("Overwriting photo descriptions needs --xmp sidecar or embed.")
        if self.boxes_out is not None and self.boxes is None:
            raise VldeskError("A place for the boxes needs --boxes coco or yolo.")
        object.__setattr__(self, "xmp", None if self.xmp is None else MetadataMode(self.xmp))
        object.__setattr__(self, "boxes", None if self.boxes is None else BoxFormat(self.boxes))
        if self.boxes_out is not None:
            object.__setattr__(self, "boxes_out", Path(os.path.abspath(self.boxes_out)))
        object.__setattr__(self, "folder", Path(os.path.abspath(self.folder)))
        object.__setattr__(self, "types", normalize_types(self.types))
        object.__setattr__(self, "caption_extension", check_extension(self.caption_extension))
        object.__setattr__(self, "mode", CaptionMode(self.mode))

    def identity(self) -> dict[str, Any]:
        """The fields that define the job (everything that changes which captions are written)."""
        return {
            "folder": str(self.folder),
            "prompt": self.prompt,
            "system": self.system,
            "model": self.model,
            "settings": self.settings.to_dict(),
            "recursive": self.recursive,
            "types": list(self.types),
            "caption_extension": self.caption_extension,
            "mode": self.mode.value,
            "prefix": self.prefix,
            "suffix": self.suffix,
            # Only when asked for, so jobs made before these options keep their ids.
            **({"xmp": self.xmp.value, "xmp_overwrite": self.xmp_overwrite} if self.xmp else {}),
            **({"boxes": self.boxes.value} if self.boxes else {}),
        }

    def job_id(self) -> str:
        canonical = json.dumps(self.identity(), sort_keys=True, ensure_ascii=False)
        return hashlib.sha256(canonical.encode("utf-8")).hexdigest()[:16]

    def to_dict(self) -> dict[str, Any]:
        return {
            **self.identity(),
            "reports": self.reports.to_dict(),
            "boxes_out": _str_or_none(self.boxes_out),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> BatchOptions:
        """Rebuild options saved by :meth:`to_dict` (a job's spec file)."""
        try:
            return cls(
                folder=Path(data["folder"]),
                prompt=str(data["prompt"]),
                model=str(data["model"]),
                settings=GenerationSettings(**data["settings"]),
                system=data.get("system"),
                recursive=bool(data["recursive"]),
                types=tuple(data["types"]),
                caption_extension=str(data["caption_extension"]),
                mode=CaptionMode(data["mode"]),
                prefix=str(data.get("prefix", "")),
                suffix=str(data.get("suffix", "")),
                reports=ReportPaths.from_dict(data.get("reports")),
                xmp=MetadataMode(data["xmp"]) if data.get("xmp") else None,
                xmp_overwrite=bool(data.get("xmp_overwrite", False)),
                boxes=BoxFormat(data["boxes"]) if data.get("boxes") else None,
                boxes_out=_path_or_none(data.get("boxes_out")),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise VldeskError(
                core_text(
                    "Batch", "The batch job's settings cannot be read ({reason}).", reason=str(exc)
                )
            ) from None

    def caption_file(self, image: Path) -> Path:
        """The caption file of an image: the same name with the caption extension."""
        return image.with_suffix(self.caption_extension)

    def boxes_target(self) -> Path | None:
        """The COCO file or YOLO folder the boxes are exported to; ``None`` without boxes."""
        if self.boxes is None:
            return None
        return self.boxes_out or self.folder / DEFAULT_BOXES_OUT[self.boxes]

    def caption_text(self, caption: str) -> str:
        """What goes into the caption file for one caption (without the final newline)."""
        return f"{self.prefix}{caption}{self.suffix}"


def normalize_types(types: tuple[str, ...] | list[str]) -> tuple[str, ...]:
    """``("JPG", ".png")`` -> ``(".jpg", ".png")``; JPEG's two spellings go together."""
    result: list[str] = []
    for raw in types:
        ext = raw.strip().lower()
        if not ext:
            continue
        ext = ext if ext.startswith(".") else f".{ext}"
        if ext not in IMAGE_EXTENSIONS:
            known = ", ".join(e.lstrip(".") for e in IMAGE_EXTENSIONS)
            raise VldeskError(f"'{raw.strip()}' is not an image type vldesk reads ({known}).")
        # Asking for jpg means JPEG files, whichever way they are spelled.
        group = (".jpg", ".jpeg", ".jfif") if ext in (".jpg", ".jpeg") else (ext,)
        result.extend(e for e in group if e not in result)
    if not result:
        raise VldeskError(core_text("Batch", "No image types were given."))
    return tuple(sorted(result))


def check_extension(extension: str) -> str:
    """A caption extension such as ``.txt`` or ``caption``; never an image type or a path."""
    ext = extension.strip()
    ext = ext if ext.startswith(".") else f".{ext}"
    body = ext[1:]
    if not body or not all(ch.isalnum() or ch in _EXTENSION_EXTRA for ch in body):
        raise VldeskError(
            core_text(
                "Batch",
                "'{extension}' cannot be a caption file extension: use letters and digits, such "
                "as .txt or .caption.",
                extension=extension,
            )
        )
    if ext.lower() in IMAGE_EXTENSIONS:
        raise VldeskError(
            core_text(
                "Batch",
                "'{extension}' is an image type: captions written with it would replace images.",
                extension=ext,
            )
        )
    return ext


def _str_or_none(path: Path | None) -> str | None:
    return str(path) if path is not None else None


def _path_or_none(value: Any) -> Path | None:
    return Path(value) if isinstance(value, str) and value else None
