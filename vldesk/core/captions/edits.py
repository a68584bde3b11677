"""Saving a person's caption edits and approvals: the caption file, then the XMP sidecar."""

# The caption file (what training tools read) is replaced atomically first; then the sidecar
# ``photo.jpg.xmp`` gets the same text marked reviewed (``vldesk:Reviewed`` True), with the
# model's original text kept in ``vldesk:ModelText`` the first time a person changes it. Only
# the sidecar is ever written: a description in another program's sidecar or inside the photo
# is not touched.

from __future__ import annotations

from vldesk.core.atomic import atomic_write_text
from vldesk.core.captions.folder import CaptionEntry, CaptionStyle, read_caption_file
from vldesk.core.errors import VldeskError
from vldesk.core.metadata import (
    Caption,
    MetadataError,
    MetadataMode,
    StoredCaption,
    read_sidecar,
    sidecar_path,
    write_caption,
)


class CaptionEditError(VldeskError):
    """A caption could not be saved or approved; what is on disk is unchanged."""


def save_caption(entry: CaptionEntry, text: str, style: CaptionStyle) -> None:
    """Replace the caption with a person's ``text`` and mark it reviewed.

    Raises:
        CaptionEditError: the text is empty, or the sidecar belongs to another program.
        WriteError: a file could not be written (the previous one is intact).
    """
    text = text.strip()
    if not text:
        raise CaptionEditError(f"{entry.name}: an empty caption cannot be saved.")
    original = _model_text(entry)
    _check_sidecar(entry)
    atomic_write_text(entry.caption_file, text + "\n")
    _write_reviewed(entry, text, original, style)


def approve(entry: CaptionEntry, style: CaptionStyle) -> None:
    """Mark the caption as reviewed by a person (its text unchanged).

    Raises:
        CaptionEditError: there is no caption, or the sidecar belongs to another program.
        WriteError: the sidecar could not be written (the previous one is intact).
    """
    text = read_caption_file(entry.caption_file)
    if not text:
        raise CaptionEditError(f"{entry.name} has no caption to approve.")
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
