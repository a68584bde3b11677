"""The image on screen: opening, dropping, pasting, stepping through a folder, recent files."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QCoreApplication, QObject, QStandardPaths, Signal, Slot
from PySide6.QtGui import QGuiApplication, QImage
from PySide6.QtWidgets import QFileDialog

from vldesk.core.grounding.coords import oriented_original_size
from vldesk.core.images import IMAGE_EXTENSIONS
from vldesk.core.units import format_bytes
from vldesk.gui.controllers.preferences import Preferences
from vldesk.gui.main_window import MainWindow
from vldesk.gui.navigation import ImageSequence
from vldesk.gui.session import ChatSession, SessionImage
from vldesk.gui.widgets.file_drop import local_files
from vldesk.gui.widgets.message_banner import Level
from vldesk.gui.workers.image_loader import DecodedImage, ImageLoader

#: What to do with a decoded image instead of starting a conversation about it.
ImageUse = Callable[[SessionImage], None]


def _tr(text: str) -> str:
    return QCoreApplication.translate("DesktopApp", text)


class ImageController(QObject):
    """Decodes images off the GUI thread (:class:`ImageLoader`) and shows the latest one; a new
    image starts a new conversation in the session.

    Signals:
        changed(): the image on screen changed (or is gone).
    """

    changed = Signal()

    def __init__(
        self,
        session: ChatSession,
        preferences: Preferences,
        window: MainWindow,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self._session = session
        self._preferences = preferences
        self._window = window
        self.loader = ImageLoader(self)
        self.sequence = ImageSequence()
        #: The image on screen (``None``: none, or only a history thumbnail).
        self.current: DecodedImage | None = None
        #: A load whose image goes elsewhere (a conversation from history), by request id.
        self._use: tuple[int, ImageUse] | None = None
        self.loader.loaded.connect(self._on_loaded)
        self.loader.failed.connect(self._on_failed)
        w = window
        w.files_dropped.connect(self.open_paths)
        w.open_action.triggered.connect(lambda: self.open_image_dialog())
        w.paste_action.triggered.connect(self.paste)
        w.prompt_panel.prompt_edit.image_pasted.connect(self.paste)
        w.next_action.triggered.connect(lambda: self.step_image(1))
        w.previous_action.triggered.connect(lambda: self.step_image(-1))
        w.viewer.zoom_changed.connect(lambda _zoom: self.update_info())

    def open_image_dialog(self) -> None:
        patterns = " ".join(f"*{ext}" for ext in IMAGE_EXTENSIONS)
        start = str(self.sequence.current.parent) if self.sequence.current else ""
        files, _filter = QFileDialog.getOpenFileNames(
            self._window,
            _tr("Open Image"),
            start
            or QStandardPaths.writableLocation(QStandardPaths.StandardLocation.PicturesLocation),
            _tr("Images ({0});;All files (*)").format(patterns),
        )
        if files:
            self.open_paths(files)

    @Slot(list)
    def open_paths(self, paths: list[str]) -> None:
        """Open dropped or chosen files or folders; the first image is shown."""
        first, skipped = self.sequence.open(paths)
        if skipped:
            names = ", ".join(p.name for p in skipped[:5]) + ("…" if len(skipped) > 5 else "")
            self._window.show_message(
                _tr("Not image files, skipped: {0}").format(names),
                Level.WARNING if first is not None else Level.ERROR,
            )
        if first is None:
            if not skipped:
                self._window.show_message(_tr("There are no images there."), Level.WARNING)
            return
        self._use = None
        self.loader.load_file(first)
        self._window.statusBar().showMessage(_tr("Opening {0}…").format(first.name))

    def open_for(self, path: Path, use: ImageUse) -> None:
        """Open ``path`` on its own and hand it to ``use`` instead of a new conversation."""
        self.sequence.open([path])
        self._use = (self.loader.load_file(path), use)

    def show_stored(self, thumbnail: bytes | None, text: str) -> None:
        """Only a stored thumbnail is left of an image (history): show it, described by
        ``text``; there is no image to ask about."""
        self._use = None
        self.current = None
        self.changed.emit()
        picture = QImage.fromData(thumbnail) if thumbnail else QImage()
        if picture.isNull():
            self._window.viewer.clear()
        else:
            self._window.viewer.set_image(picture)
        self._window.image_info.setText(text)

    def step_image(self, offset: int) -> None:
        path = self.sequence.step(offset)
        if path is not None:
            self._use = None
            self.loader.load_file(path)

    def paste(self) -> None:
        """Open what the clipboard holds: copied files, or an image."""
        mime = QGuiApplication.clipboard().mimeData()
        files = local_files(mime) if mime is not None else []
        if files:
            self.open_paths(files)
            return
        image = QGuiApplication.clipboard().image()
        if image.isNull():
            self._window.show_message(_tr("The clipboard holds no image to paste."), Level.WARNING)
            return
        self.paste_image(image)

    def paste_image(self, image: QImage) -> None:
        self._use = None
        self.sequence.clear()
        self.loader.load_pasted(image)

    @Slot(object)
    def _on_loaded(self, decoded: DecodedImage) -> None:
        w = self._window
        w.viewer.set_image(decoded.display, decoded.preview)
        if w.banner.level is Level.ERROR:
            w.banner.hide()  # an error about an earlier image or answer no longer applies
        w.statusBar().clearMessage()
        self.current = decoded
        image = SessionImage(decoded.loaded, decoded.path, decoded.thumbnail)
        use, self._use = self._use, None
        if use is not None and use[0] == decoded.request_id:
            use[1](image)
        else:
            self._session.set_image(image)
        if decoded.path is not None:
            self._remember_recent(decoded.path)
        w.setWindowTitle(f"{decoded.name} — vldesk")
        self.update_info()
        self.changed.emit()

    @Slot(int, str, str)
    def _on_failed(self, _request_id: int, _source: str, message: str) -> None:
        self._use = None
        self._window.statusBar().clearMessage()
        self._window.show_message(message)

    def update_info(self) -> None:
        decoded = self.current
        if decoded is None:
            self._window.image_info.setText("")
            return
        # As shown: turned by its EXIF orientation (the pixels boxes and regions are given in).
        width, height = oriented_original_size(decoded.loaded)
        parts = [decoded.name]
        if decoded.file_size is not None:
            parts.append(format_bytes(decoded.file_size))
        parts.append(f"{width} × {height} px")
        parts.append(f"{self._window.viewer.zoom() * 100:.0f}%")
        index, count = self.sequence.position
        if count > 1:
            parts.append(_tr("{0} of {1}").format(index, count))
        self._window.image_info.setText("  ·  ".join(parts))

    def _remember_recent(self, path: Path) -> None:
        settings = self._preferences.settings
        self._preferences.remember(recent_files=settings.with_recent_file(path).recent_files)
        self.refresh_recent_files()

    def refresh_recent_files(self) -> None:
        for action in self._window.set_recent_files(list(self._preferences.settings.recent_files)):
            path = str(action.data())
            action.triggered.connect(lambda _checked=False, path=path: self.open_paths([path]))

    def shut_down(self) -> None:
        """Closing: drop pending images; waits a bounded time for decodes already running."""
        self.loader.shut_down()
