"""Saving a person's caption edits and approvals: the XMP sidecar, then the caption file."""

# The sidecar ``photo.jpg.xmp`` is written first and the caption file (what training tools
# read) replaced atomically after it; if that fails the sidecar is put back as it was, so a
# save changes both or neither (the model's words are never lost). The sidecar gets the text
# marked reviewed (``vldesk:Reviewed`` True), with the model's original text kept in
# ``vldesk:ModelText`` the first time a person changes it. Only vldesk's own sidecar is ever
# written: a description in another program's sidecar or inside the photo is not touched.

from __future__ import annotations

import logging
from pathlib import Path

from vldesk.core.atomic import atomic_write_bytes, atomic_write_text
from vldesk.core.captions.folder import CaptionEntry, CaptionStyle, read_caption_file
from vldesk.core.errors import VldeskError
from vldesk.core.messages import core_text
from vldesk.core.metadata import (
    Caption,
    MetadataError,
    MetadataMode,
    StoredCaption,
    read_sidecar,
    sidecar_path,
    write_caption,
)

log = logging.getLogger(__name__)


class CaptionEditError(VldeskError):
    """A caption could not be saved or approved; what is on disk is unchanged."""


def save_caption(entry: CaptionEntry, text: str, style: CaptionStyle) -> None:
    """Replace the caption with a person's ``text`` and mark it reviewed.

    Raises:
        CaptionEditError: the text is empty, or the sidecar belongs to another program.
        WriteError: a file could not be written (the caption and the sidecar are as they were).
    """
    text = text.strip()
    if not text:
        raise CaptionEditError(
            core_text("Captions", "{file}: an empty caption cannot be saved.", file=entry.name)
        )
    original = _model_text(entry)
    _check_sidecar(entry)
    sidecar = sidecar_path(entry.image)
    before = sidecar.read_bytes() if sidecar.is_file() else None
    _write_reviewed(entry, text, original, style)
    try:
        atomic_write_text(entry.caption_file, text + "\n")
    except BaseException:
        _put_back(sidecar, before)
        raise


def _put_back(sidecar: Path, before: bytes | None) -> None:
    """The sidecar as it was before a save that failed (none: removed)."""
    try:
        if before is None:
            sidecar.unlink(missing_ok=True)
        else:
            atomic_write_bytes(sidecar, before)
    except (OSError, VldeskError) as exc:
        log.warning("could not put back %s: %s", sidecar, exc)


def approve(entry: CaptionEntry, style: CaptionStyle) -> None:
    """Mark the caption as reviewed by a person (its text unchanged).

    Raises:
        CaptionEditError: there is no caption, or the sidecar belongs to another program.
        WriteError: the sidecar could not be written (the previous one is intact).
    """
    text = read_caption_file(entry.caption_file)
    if not text:
        raise CaptionEditError(
            core_text("Captions", "{file} has no caption to approve.", file=entry.name)
        )
    _check_sidecar(entry)
    _write_reviewed(entry, text, _model_text(entry), style)


def _model_text(entry: CaptionEntry) -> str:
    """The model's own caption: kept in the sidecar once edited, else the caption file as the
    batch wrote it (until a person edits or approves it, the file holds the model's words)."""
    stored = _sidecar(entry)
    if stored is not None and stored.model_text:
        return stored.model_text
    if stored is not None and stored.reviewed:
        return ""  # approved before this was recorded: the original is unknown
    return read_caption_file(entry.caption_file) or ""


def _sidecar(entry: CaptionEntry) -> StoredCaption | None:
    try:
        return read_sidecar(entry.image)
    except MetadataError as exc:
        raise CaptionEditError(str(exc)) from None


def _check_sidecar(entry: CaptionEntry) -> None:
    stored = _sidecar(entry)
    if stored is not None and stored.reviewed is None:
        raise CaptionEditError(
            f"{sidecar_path(entry.image).name} holds a description written in another program; "
            "it was left as it is."
        )


def _write_reviewed(entry: CaptionEntry, text: str, original: str, style: CaptionStyle) -> None:
    stored = _sidecar(entry)
    caption = Caption(
        {"x-default": text},
        model=(stored.model if stored is not None and stored.model else style.model),
        prompt=(stored.prompt if stored is not None and stored.prompt else style.prompt),
        reviewed=True,
        model_text=original,
    )
    try:
        # Only vldesk's own sidecar is written (checked above), so replacing it is safe.
        write_caption(entry.image, caption, MetadataMode.SIDECAR, overwrite_human=True)
    except MetadataError as exc:
        raise CaptionEditError(str(exc)) from None
