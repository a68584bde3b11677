"""Caption files next to the images, the combined reports (JSONL, CSV, Markdown) and history."""

# Every file is replaced atomically, never appended to in place: an append rewrites the whole
# caption file. Reports are regenerated from the journal each time, so they cannot hold a half row
# or a row twice, whenever the process dies.

from __future__ import annotations

import contextlib
import csv
import glob
import hashlib
import html
import io
import json
import re
from collections.abc import Iterable
from pathlib import Path, PurePosixPath
from typing import Any

from PIL import Image

from vldesk.core.atomic import atomic_write_bytes, atomic_write_text
from vldesk.core.batch.options import BatchOptions, CaptionMode
from vldesk.core.batch.records import CaptionWrite, ImageResult, ImageStatus, WriteOp
from vldesk.core.errors import ImageLoadError, VldeskError, WriteError
from vldesk.core.history_records import HistoryWriter
from vldesk.core.images import LoadedImage, load_image

#: An existing caption shown in the reports for a skipped image is cut to this many characters.
MAX_EXISTING_CAPTION = 20_000
CSV_COLUMNS = (
    "image",
    "status",
    "caption",
    "error",
    "caption_file",
    "model",
    "prompt",
    "stop_reason",
    "seconds",
    "batch_size",
    "image_tokens",
    "new_tokens",
    "settings",
    "path",
    "xmp",
    "xmp_note",
)
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


class CaptionChangedError(VldeskError):
    """A caption file changed by someone else while a job was interrupted; it is left alone."""


def caption_relpath(options: BatchOptions, image: str) -> str:
    """The caption file of an image, relative to the folder like the image itself."""
    return str(PurePosixPath(image).with_suffix(options.caption_extension))


def read_existing_caption(options: BatchOptions, image: str) -> str | None:
    """The caption file's text, or ``None`` when the image has no caption file."""
    path = options.folder / caption_relpath(options, image)
    try:
        data = path.read_bytes()
    except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
        return None
    except OSError:
        return ""  # there is a file; we just cannot show it
    return data.decode("utf-8", errors="replace").strip()[:MAX_EXISTING_CAPTION]


def plan_write(options: BatchOptions, image: str, caption: str) -> CaptionWrite:
    """The change that stores ``caption`` for ``image`` under the job's mode.

    Raises:
        VldeskError: an existing caption file cannot be read (append mode).
    """
    relative = caption_relpath(options, image)
    line = options.caption_text(caption) + "\n"
    if options.mode is not CaptionMode.APPEND:
        op = WriteOp.REPLACE if options.mode is CaptionMode.OVERWRITE else WriteOp.CREATE
        return CaptionWrite(relative, op, line)
    before = _read_bytes(options.folder / relative)
    # The new caption starts on a line of its own.
    separator = "\n" if before and not before.endswith(b"\n") else ""
    return CaptionWrite(
        relative,
        WriteOp.APPEND,
        separator + line,
        before_size=len(before),
        before_sha256=hashlib.sha256(before).hexdigest(),
    )


def apply_write(folder: Path, write: CaptionWrite) -> bool:
    """Make ``write`` true on disk, atomically; False when it already was (idempotent).

    Safe to call again after a crash at any point: a replacement is simply written again, and an
    append happens only if the file is still exactly as it was before it.

    Raises:
        WriteError: the file cannot be written (the old one is intact).
        CaptionChangedError: an append was pending but the file has changed since.
    """
    path = folder / write.file
    if write.op is not WriteOp.APPEND:
        if _read_bytes_or_none(path) == write.text.encode("utf-8"):
            return False
        atomic_write_text(path, write.text)
        return True
    current = _read_bytes(path)
    added = write.text.encode("utf-8")
    before = current[: write.before_size]
    if (
        len(current) == write.before_size + len(added)
        and current.endswith(added)
        and hashlib.sha256(before).hexdigest() == write.before_sha256
    ):
        return False
    if len(current) != write.before_size or (
        hashlib.sha256(current).hexdigest() != write.before_sha256
    ):
        raise CaptionChangedError(
            f"{path} was changed while the job was interrupted, so the caption was not added to it."
        )
    atomic_write_bytes(path, current + added)
    return True


def remove_stale_temporaries(path: Path) -> None:
    """Delete what an atomic write of ``path`` killed mid-way left (``.name.XXXX.tmp``).

    Only called for files this job was writing when it died; the job's lock keeps any other
    run of it from writing them now.
    """
    try:
        leftovers = list(path.parent.glob(f".{glob.escape(path.name)}.*.tmp"))
    except OSError:
        return
    for leftover in leftovers:
        with contextlib.suppress(OSError):
            leftover.unlink()


def _read_bytes(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except FileNotFoundError:
        return b""
    except OSError as exc:
        raise WriteError(
            f"Could not read the caption file {path} ({exc.strerror or exc})."
        ) from exc


def _read_bytes_or_none(path: Path) -> bytes | None:
    try:
        return path.read_bytes()
    except OSError:
        return None


# -- reports ---------------------------------------------------------------------------------------


def report_row(options: BatchOptions, result: ImageResult) -> dict[str, Any]:
    """One image's row, the same in every report format."""
    stats = result.stats or {}
    return {
        "image": result.image,
        "status": result.status.value,
        "caption": result.caption,
        "error": result.error,
        "caption_file": result.write.file if result.write is not None else None,
        "model": result.model or None,
        "engine": result.engine or None,
        "prompt": options.prompt,
        "stop_reason": result.stop_reason,
        "seconds": round(result.seconds, 3) if result.seconds is not None else None,
        "batch_size": result.batch_size,
        "image_tokens": stats.get("image_tokens"),
        "new_tokens": stats.get("new_tokens"),
        "settings": options.settings.to_dict(),
        "path": str(options.folder / result.image),
        "stats": result.stats,
        # The photo metadata step (jobs with --xmp): written, skipped-human or failed, and why.
        "xmp": result.xmp,
        "xmp_note": result.xmp_note,
        "boxes": len(result.boxes.get("detections", ())) if result.boxes is not None else None,
    }


def render_jsonl(options: BatchOptions, results: Iterable[ImageResult]) -> str:
    return "".join(json.dumps(report_row(options, r), ensure_ascii=False) + "\n" for r in results)


def render_csv(options: BatchOptions, results: Iterable[ImageResult]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for result in results:
        row = report_row(options, result)
        row["settings"] = json.dumps(row["settings"], sort_keys=True)
        writer.writerow(["" if row[c] is None else row[c] for c in CSV_COLUMNS])
    return buffer.getvalue()


def render_markdown(options: BatchOptions, results: Iterable[ImageResult]) -> str:
    rows = list(results)
    counts = {s: sum(1 for r in rows if r.status is s) for s in ImageStatus}
    lines = [
        f"# Captions for {_md(str(options.folder))}",
        "",
        f"- Model: {_md(options.model)}",
        f"- Engine: {_md(', '.join(_engines(rows)) or '—')}",
        f"- Prompt: {_md(options.prompt)}",
        f"- Images: {len(rows)} ({counts[ImageStatus.CAPTIONED]} captioned, "
        f"{counts[ImageStatus.FAILED]} failed, {counts[ImageStatus.SKIPPED]} skipped)",
        "",
        "| Image | Status | Caption or error | Seconds |",
        "| --- | --- | --- | ---: |",
    ]
    for r in rows:
        text = (r.error or "") if r.status is ImageStatus.FAILED else r.caption
        if r.xmp_note:
            text = f"{text}\n({r.xmp_note})"
        seconds = f"{r.seconds:.2f}" if r.seconds is not None else ""
        lines.append(f"| {_md(r.image)} | {r.status.value} | {_md(text)} | {seconds} |")
    return "\n".join(lines) + "\n"


def _engines(results: Iterable[ImageResult]) -> list[str]:
    """The engines that answered, in order of first use (a resumed job may have changed)."""
    return list(dict.fromkeys(r.engine for r in results if r.engine))


def _md(text: str) -> str:
    """Text safe inside a Markdown table cell: no HTML, no cell breaks, line breaks as <br>."""
    text = html.escape(_CONTROL.sub("", text), quote=False).replace("|", "\\|")
    return text.replace("\r\n", "\n").replace("\n", "<br>")


def write_reports(options: BatchOptions, results: Iterable[ImageResult]) -> list[Path]:
    """Regenerate each requested report atomically; returns the files written.

    Raises:
        WriteError: a report could not be saved (the previous version is intact).
    """
    rows = list(results)
    written = []
    reports = options.reports
    # CSV gets a byte-order mark: spreadsheet programs otherwise misread non-ASCII captions.
    for path, render, encoding in (
        (reports.jsonl, render_jsonl, "utf-8"),
        (reports.csv, render_csv, "utf-8-sig"),
        (reports.markdown, render_markdown, "utf-8"),
    ):
        if path is None:
            continue
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise WriteError(
                f"Could not create the folder {path.parent} ({exc.strerror})."
            ) from exc
        atomic_write_text(path, render(options, rows), encoding)
        written.append(path)
    return written


def start_history_entry(
    history: HistoryWriter,
    options: BatchOptions,
    result: ImageResult,
    loaded: LoadedImage | None,
) -> int:
    """The job's one history entry: its folder (the app opens it in the folder panel), the
    prompt and, as its picture, the first captioned image; returns its id. One entry per job,
    not one per image: a folder of 10,000 photos would bury every conversation.

    Raises:
        HistoryError: the history cannot be written.
    """
    path = options.folder / result.image
    thumbnail = loaded.image if loaded is not None else _thumbnail_source(path)
    conversation = history.start_conversation(options.folder, thumbnail, result.model)
    settings = options.settings.to_dict()
    history.add_message(conversation, "user", options.prompt, model=result.model, settings=settings)
    return conversation


def history_summary(options: BatchOptions, captioned: int, failed: int, skipped: int) -> str:
    """The entry's answer after each run: what was done, where the captions are."""
    extension = options.caption_extension
    return (
        f"{options.folder}: {captioned} captioned, {failed} failed, {skipped} skipped "
        f"(caption files *{extension} beside the images)."
    )


def _thumbnail_source(path: Path) -> Image.Image | None:
    try:
        return load_image(path, draft_pixels=256 * 256).image
    except ImageLoadError:
        return None
