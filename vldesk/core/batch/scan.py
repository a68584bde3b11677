"""Find the images of a batch job in a folder, in a stable order."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from vldesk.core.errors import VldeskError
from vldesk.core.messages import core_text


@dataclass(frozen=True)
class ScanResult:
    """Image paths relative to the folder (``/``-separated, sorted); unreadable subfolders."""

    images: tuple[str, ...]
    problems: tuple[str, ...] = field(default=())


def scan_images(folder: Path, *, recursive: bool, types: tuple[str, ...]) -> ScanResult:
    """List the image files under ``folder`` by extension (content is checked when loading).

    Hidden files and folders (names starting with ".") are left out: they hold editor and OS
    clutter (``._photo.jpg`` on macOS) and our own temporary files. Symlinked folders are not
    followed, so a link loop cannot make the scan endless.

    Raises:
        VldeskError: the folder does not exist or cannot be read.
    """
    if not folder.exists():
        raise VldeskError(
            core_text("Batch", "The folder {folder} does not exist.", folder=str(folder))
        )
    if not folder.is_dir():
        raise VldeskError(
            core_text("Batch", "{folder} is a file, not a folder.", folder=str(folder))
        )
    wanted = {ext.lower() for ext in types}
    problems: list[str] = []

    def on_error(exc: OSError) -> None:
        where = exc.filename or folder
        problems.append(
            core_text(
                "Batch",
                "{folder}: the folder cannot be read ({reason})",
                folder=str(where),
                reason=str(exc.strerror or exc),
            )
        )

    found: list[str] = []
    try:
        os.listdir(folder)
    except OSError as exc:
        raise VldeskError(
            core_text(
                "Batch",
                "The folder {folder} cannot be read ({reason}).",
                folder=str(folder),
                reason=exc.strerror or str(exc),
            )
        ) from None
    for root, dirs, files in os.walk(folder, onerror=on_error):
        dirs[:] = sorted(d for d in dirs if not d.startswith(".")) if recursive else []
        relative_root = PurePosixPath(Path(root).relative_to(folder).as_posix())
        for name in files:
            if name.startswith(".") or os.path.splitext(name)[1].lower() not in wanted:
                continue
            if not os.path.isfile(os.path.join(root, name)):
                continue  # a broken link or a special file
            found.append(str(relative_root / name) if str(relative_root) != "." else name)
    return ScanResult(tuple(sorted(found, key=_sort_key)), tuple(problems))


def no_images_message(folder: Path, *, recursive: bool, types: tuple[str, ...]) -> str:
    """What to tell the user when a scan found no image to caption."""
    kinds = ", ".join(sorted({ext.lower().lstrip(".") for ext in types}))
    if recursive:
        return core_text(
            "Batch",
            "There are no images in {folder}: no {kinds} files in it or its subfolders.",
            folder=str(folder),
            kinds=kinds,
        )
    return core_text(
        "Batch",
        "There are no images in {folder}: no {kinds} files in it (subfolders were not searched).",
        folder=str(folder),
        kinds=kinds,
    )


def _sort_key(relative: str) -> tuple[str, ...]:
    # By folder then name, so a folder's images stay together ("a/b.png" after "a.png").
    return tuple(relative.split("/"))
