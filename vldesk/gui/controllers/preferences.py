"""The settings in use: read by every controller, changed and saved in one place."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QObject, Signal

from vldesk.core.errors import VldeskError
from vldesk.core.settings import Settings, save_settings
from vldesk.gui.i18n import error_text


class Preferences(QObject):
    """Holds :class:`Settings` and saves each change at once.

    Signals:
        save_failed(str): a change could not be saved (it still applies); for the user.
    """

    save_failed = Signal(str)

    def __init__(self, settings: Settings, path: Path, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.settings = settings
        self._path = path

    def remember(self, **changes: object) -> None:
        """Change and save settings; a failed save is reported but never loses the old file."""
        updated = self.settings.replace(**changes)
        if updated == self.settings:
            return
        self.settings = updated
        try:
            save_settings(self.settings, self._path)
        except VldeskError as exc:
            self.save_failed.emit(error_text(exc))
