"""Which models the Model menu offers, and what to say when there is none."""

from __future__ import annotations

import logging
from pathlib import Path

from PySide6.QtCore import QCoreApplication

from vldesk.core.models.store import ModelStore

log = logging.getLogger(__name__)


def installed_models(store: ModelStore) -> list[tuple[str, str, Path]]:
    """(label, reference, folder) of every installed or imported model."""
    try:
        installed = store.installed()
    except OSError as exc:  # an unreadable models folder must not break the menu
        log.warning("listing models failed: %s", exc)
        return []
    return [
        (m.spec.display_name if m.spec is not None else m.name, m.name, m.path) for m in installed
    ]


def menu_ref(store: ModelStore, current: str | None) -> str | None:
    """The menu entry of the current model: a folder loaded by path shows as its entry."""
    if current is None or not Path(current).is_absolute():
        return current
    for _label, ref, path in installed_models(store):
        if path == Path(current):
            return ref
    return current


def model_entries(store: ModelStore, current: str | None) -> list[tuple[str, str]]:
    """(label, reference) for the Model menu and the settings dialog; the current one included."""
    entries = [(label, ref) for label, ref, _path in installed_models(store)]
    shown = menu_ref(store, current)
    if shown and all(ref != shown for _label, ref in entries):
        entries.append((Path(shown).name or shown, shown))
    return entries


def no_model_text(reason: str = "") -> str:
    """Markdown for the answer area when no model can be loaded: how to get one."""
    text = QCoreApplication.translate(
        "DesktopApp",
        "### No model is available yet\n\n"
        "vldesk needs a Qwen vision-language model on this computer. Choose "
        "**Model → Manage Models…** (Ctrl+M) to download one, or download one in a "
        "terminal:\n\n`vldesk models download Qwen/Qwen3-VL-2B-Instruct`\n\n"
        "or choose **Model → Open Model Folder…** to use a model folder you already have.",
    )
    return f"{text}\n\n*{reason}*" if reason else text
