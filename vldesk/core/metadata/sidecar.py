"""Sidecar names: ``photo.jpg.xmp`` (darktable, digiKam) is written; ``photo.xmp`` is read too."""

from __future__ import annotations

import os
from pathlib import Path

SIDECAR_SUFFIX = ".xmp"


def sidecar_path(image: str | os.PathLike[str]) -> Path:
    """Where vldesk writes the sidecar of ``image``: its full name plus ``.xmp``."""
    path = Path(image)
    return path.with_name(path.name + SIDECAR_SUFFIX)


def sidecar_candidates(image: str | os.PathLike[str]) -> tuple[Path, ...]:
    """Sidecars that may describe ``image``, the one vldesk writes first.

    ``photo.xmp`` (Lightroom, Capture One, digiKam's alternative setting) is read but never
    written: beside a RAW+JPEG pair it belongs to the RAW file.
    """
    path = Path(image)
    return (sidecar_path(path), path.with_suffix(SIDECAR_SUFFIX))


def existing_sidecars(image: str | os.PathLike[str]) -> list[Path]:
    return [candidate for candidate in sidecar_candidates(image) if candidate.is_file()]
