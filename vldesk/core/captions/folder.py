"""A folder's images with their caption files, review state and the latest batch's failures."""

from __future__ import annotations

import logging
import os
import re
import threading
from dataclasses import dataclass, field, replace
from pathlib import Path, PurePosixPath

from vldesk.core.batch.journal import JOURNAL_FILE, default_jobs_dir, list_jobs, read_journal
from vldesk.core.batch.options import DEFAULT_CAPTION_EXTENSION, BatchOptions
from vldesk.core.batch.records import ImageStatus, replay
from vldesk.core.batch.scan import scan_images
from vldesk.core.captions.review import ReviewCache, ReviewState
from vldesk.core.images import IMAGE_EXTENSIONS
from vldesk.core.metadata.sidecar import SIDECAR_SUFFIX

log = logging.getLogger(__name__)

#: Caption files are shown up to this many characters (a caption file is a line or a paragraph).
MAX_CAPTION_CHARS = 20_000


@dataclass(frozen=True)
class CaptionStyle:
    """How the folder's captions are named and what the model was told (from its latest job)."""

    extension: str = DEFAULT_CAPTION_EXTENSION
    recursive: bool = False
    model: str = ""
    prompt: str = ""
    #: The job whose failures are shown, if the folder has one.
    job_id: str | None = None

    def caption_file(self, image: Path) -> Path:
        return image.with_suffix(self.extension)


@dataclass(frozen=True)
class CaptionEntry:
    """One image of the folder."""

    image: Path
    caption_file: Path
    #: The caption file's text; ``None`` when there is none.
    caption: str | None
    review: ReviewState = ReviewState.NONE
    #: Why the latest batch job failed this image (``None``: it did not).
    error: str | None = None

    @property
    def name(self) -> str:
        return self.image.name


@dataclass
class FolderCaptions:
    """The folder's entries in natural order (the order the viewer steps through)."""

    folder: Path
    style: CaptionStyle
    entries: list[CaptionEntry] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    def index_of(self, image: Path) -> int | None:
        for row, entry in enumerate(self.entries):
            if entry.image == image:
                return row
        return None


def natural_key(relative: str) -> list[object]:
    """Sort ``img2`` before ``img10``, case-insensitively (folders first by their own names)."""
    return [int(part) if part.isdigit() else part.lower() for part in re.split(r"(\d+)", relative)]


def latest_job(folder: Path, jobs_dir: Path | None = None) -> tuple[str, BatchOptions] | None:
    """The most recently active batch job of ``folder``, if there is one."""
    folder = folder.resolve()
    for summary in list_jobs(jobs_dir=jobs_dir):
        if summary.folder.resolve() == folder:
            return summary.job_id, summary.options
    return None


def _failures(job_id: str, jobs_dir: Path | None) -> dict[str, str]:
    """Image (relative, ``/``-separated) -> reason, for the job's latest failed results."""
    journal = (jobs_dir or default_jobs_dir()) / job_id / JOURNAL_FILE
    state = replay(read_journal(journal)[0])
    return {
        image: result.error or ""
        for image, result in state.results.items()
        if result.status is ImageStatus.FAILED
    }


def read_caption_file(path: Path) -> str | None:
    """A caption file's text (stripped), ``None`` when there is none."""
    try:
        data = path.read_bytes()
    except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
        return None
    except OSError as exc:
        log.info("cannot read %s: %s", path, exc)
        return ""
    return data.decode("utf-8", errors="replace").strip()[:MAX_CAPTION_CHARS]


def load_folder(
    folder: Path,
    *,
    reviews: ReviewCache | None = None,
    jobs_dir: Path | None = None,
    cancel: threading.Event | None = None,
) -> FolderCaptions:
    """Read a folder for the panel: one scan, each caption file, each sidecar's review state.

    The caption naming (extension, subfolders) follows the folder's latest batch job; without
    one, ``photo.txt`` beside ``photo.jpg``. Stops early (returning what it has) when
    ``cancel`` is set.

    Raises:
        VldeskError: the folder does not exist or cannot be read.
    """
    folder = Path(folder).absolute()
    job = latest_job(folder, jobs_dir)
    if job is None:
        style = CaptionStyle()
        failures: dict[str, str] = {}
    else:
        job_id, options = job
        style = CaptionStyle(
            options.caption_extension, options.recursive, options.model, options.prompt, job_id
        )
        failures = _failures(job_id, jobs_dir)
    scan = scan_images(folder, recursive=style.recursive, types=IMAGE_EXTENSIONS)
    reviews = reviews or ReviewCache()
    result = FolderCaptions(folder, style, problems=list(scan.problems))
    # Each directory is listed once: caption files and sidecars that are not there cost nothing.
    listings: dict[Path, set[str]] = {}
    for relative in sorted(scan.images, key=natural_key):
        if cancel is not None and cancel.is_set():
            break
        image = folder / PurePosixPath(relative)
        names = listings.get(image.parent)
        if names is None:
            names = listings[image.parent] = _names_in(image.parent)
        caption_file = style.caption_file(image)
        caption = read_caption_file(caption_file) if caption_file.name in names else None
        has_sidecar = image.name + SIDECAR_SUFFIX in names
        review = reviews.state(image, has_sidecar=has_sidecar)
        result.entries.append(
            CaptionEntry(image, caption_file, caption, review, failures.get(relative))
        )
    return result


def _names_in(directory: Path) -> set[str]:
    try:
        return set(os.listdir(directory))
    except OSError:
        return set()


def reread(entry: CaptionEntry, reviews: ReviewCache) -> CaptionEntry:
    """``entry`` as it is on disk now (after an edit or approval)."""
    return replace(
        entry, caption=read_caption_file(entry.caption_file), review=reviews.state(entry.image)
    )
