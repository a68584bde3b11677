"""What the export and copy commands write: the conversation on screen as an ExportEntry."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from PySide6.QtCore import QCoreApplication, QStandardPaths
from PySide6.QtWidgets import QFileDialog, QWidget

from vldesk.core.export import EXPORT_FORMATS, ExportEntry
from vldesk.core.generation import GenerationSettings
from vldesk.gui.i18n import mark_translatable
from vldesk.gui.session import ChatSession

EXPORT_FILTERS = mark_translatable("Export", "Markdown (*.md);;Text (*.txt)")


def conversation_entry(
    session: ChatSession, settings: GenerationSettings, *, last_only: bool = False
) -> ExportEntry | None:
    """The shown conversation (or only its last exchange); ``None`` when there is none."""
    conversation = session.conversation
    # Each question as typed: a region question's text as sent has hidden instructions.
    turns: list[tuple[str, str]] = [
        (turn.role, (record.question or turn.text) if turn.role == "user" else turn.text)
        for turn, record in zip(conversation.turns, session.records, strict=True)
    ]
    if not turns:
        return None
    reasons = [record.stop_reason for record in session.records]
    if last_only:
        turns, reasons = turns[-2:], reasons[-2:]
    elif conversation.system:
        turns.insert(0, ("system", conversation.system))
        reasons.insert(0, None)
    result = session.last_result
    image = session.image
    return ExportEntry(
        image_path=image.path if image is not None else None,
        turns=turns,
        model=session.model_name or "",
        date=datetime.now().astimezone(),
        settings=settings.to_dict(),
        stats=result.stats.to_dict() if result is not None else None,
        stop_reasons={index: reason for index, reason in enumerate(reasons) if reason},
    )


def export_stem(session: ChatSession) -> str:
    """A default file name: the image's, else "vldesk"."""
    image = session.image
    return image.path.stem if image is not None and image.path is not None else "vldesk"


def export_folder(session: ChatSession | None = None) -> Path:
    """Where an export starts: the image's folder, else Documents, else home (an existing
    folder, so the dialog opens in it)."""
    image = session.image if session is not None else None
    documents = QStandardPaths.writableLocation(QStandardPaths.StandardLocation.DocumentsLocation)
    candidates = [
        *([image.path.parent] if image is not None and image.path is not None else []),
        *([Path(documents)] if documents else []),
    ]
    return next((folder for folder in candidates if folder.is_dir()), Path.home())


def ask_export_path(
    parent: QWidget, title: str, stem: str, folder: Path | None = None
) -> Path | None:
    """Ask where to save, starting in ``folder`` (default: :func:`export_folder`); the file
    type follows the chosen filter when no suffix was typed."""
    start = folder if folder is not None else export_folder()
    chosen, chosen_filter = QFileDialog.getSaveFileName(
        parent,
        title,
        str(start / f"{stem}.md"),
        QCoreApplication.translate("Export", EXPORT_FILTERS),
    )
    if not chosen:
        return None
    path = Path(chosen)
    if path.suffix.lower() not in EXPORT_FORMATS:
        path = path.with_suffix(".txt" if "txt" in chosen_filter else ".md")
    return path
