"""Which images next/previous step through: the opened file's folder, or the dropped files."""

from __future__ import annotations

import os
import re
from collections.abc import Iterable
from pathlib import Path

from vldesk.core.images import is_image_path


def natural_key(path: Path) -> list[object]:
    """Sort ``img2`` before ``img10``, case-insensitively."""
    return [int(part) if part.isdigit() else part.lower() for part in re.split(r"(\d+)", path.name)]


def images_in_folder(folder: Path) -> list[Path]:
    """Image files directly in ``folder`` (by extension), in natural order; [] if unreadable."""
    try:
        with os.scandir(folder) as entries:
            found = [
                Path(entry.path)
                for entry in entries
                if is_image_path(entry.name) and entry.is_file() and not entry.name.startswith(".")
            ]
    except OSError:
        return []
    return sorted(found, key=natural_key)


class ImageSequence:
    """An ordered list of image paths and the position of the one shown."""

    def __init__(self) -> None:
        self._paths: list[Path] = []
        self._index = -1

    @property
    def paths(self) -> list[Path]:
        return list(self._paths)

    @property
    def current(self) -> Path | None:
        return self._paths[self._index] if 0 <= self._index < len(self._paths) else None

    @property
    def position(self) -> tuple[int, int]:
        """(1-based index, count) for display; (0, 0) when empty."""
        return (self._index + 1, len(self._paths)) if self._paths else (0, 0)

    def open(self, paths: Iterable[str | os.PathLike[str]]) -> tuple[Path | None, list[Path]]:
        """Take dropped or chosen paths; returns the path to show first and the skipped ones.

        One file: step through the image files of its folder (the file is shown even if its
        name does not look like an image: loading decides by content). Several files: step
        through those that look like images. A folder: its images.
        """
        given = [Path(p) for p in paths]
        if len(given) == 1 and not given[0].is_dir():
            file = given[0]
            siblings = images_in_folder(file.parent)
            if file not in siblings:
                siblings = [file]
            self._paths, self._index = siblings, siblings.index(file)
            return file, []
        chosen: list[Path] = []
        skipped: list[Path] = []
        for path in given:
            if path.is_dir():
                chosen.extend(images_in_folder(path))
            elif is_image_path(path):
                chosen.append(path)
            else:
                skipped.append(path)
        if not chosen:
            return None, skipped
        self._paths, self._index = chosen, 0
        return chosen[0], skipped

    def open_at(self, paths: list[Path], index: int) -> Path | None:
        """Step through ``paths`` in this order, starting at ``index``."""
        if not 0 <= index < len(paths):
            return None
        self._paths, self._index = list(paths), index
        return self._paths[index]

    def clear(self) -> None:
        self._paths, self._index = [], -1

    def step(self, offset: int) -> Path | None:
        """Move by ``offset`` (wrapping around); ``None`` when there is nothing else to show."""
        if len(self._paths) < 2:
            return None
        self._index = (self._index + offset) % len(self._paths)
        return self._paths[self._index]
