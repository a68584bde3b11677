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
    turns: list[tuple[str, str]] = [(turn.role, turn.text) for turn in conversation.turns]
    if not turns:
        return None
    if last_only:
        turns = turns[-2:]
    elif conversation.system:
        turns.insert(0, ("system", conversation.system))
    result = session.last_result
    image = session.image
    return ExportEntry(
        image_path=image.path if image is not None else None,
        turns=turns,
        model=session.model_name or "",
        date=datetime.now().astimezone(),
        settings=settings.to_dict(),
        stats=result.stats.to_dict() if result is not None else None,
    )


def export_stem(session: ChatSession) -> str:
    """A default file name: the image's, else "vldesk"."""
    image = session.image
    return image.path.stem if image is not None and image.path is not None else "vldesk"


def ask_export_path(parent: QWidget, title: str, stem: str) -> Path | None:
    """Ask where to save; the file type follows the chosen filter when no suffix was typed."""
    start = QStandardPaths.writableLocation(QStandardPaths.StandardLocation.DocumentsLocation)
    chosen, chosen_filter = QFileDialog.getSaveFileName(
        parent,
        title,
        str(Path(start) / f"{stem}.md"),
        QCoreApplication.translate("Export", EXPORT_FILTERS),
    )
    if not chosen:
        return None
    path = Path(chosen)
    if path.suffix.lower() not in EXPORT_FORMATS:
        path = path.with_suffix(".txt" if "txt" in chosen_filter else ".md")
    return path
