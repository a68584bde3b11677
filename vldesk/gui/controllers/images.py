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
from vldesk.gui.widgets.image_info import SEPARATOR
from vldesk.gui.widgets.message_banner import Level
from vldesk.gui.workers.image_loader import DecodedImage, ImageLoader

#: What to do with a decoded image instead of starting a conversation about it.
ImageUse = Callable[[SessionImage], None]
#: What to do instead when that image cannot be opened (given why, for the user).
ImageFallback = Callable[[str], None]


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
        self._use: tuple[int, ImageUse, ImageFallback] | None = None
        #: How many more unreadable files an opened folder may skip to reach a readable one.
        self._skips_left = 0
        #: A message about an open that showed nothing: the next image shown makes it stale.
        self._failed_open_message: str | None = None
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

    def open_start_folder(self) -> Path:
        """Where Open starts: the folder of the image shown or of the last one opened, else the
        Pictures folder, else home. Always an existing folder: a missing one would be typed
        into the dialog's name box instead."""
        recent = self._preferences.settings.recent_files
        candidates = [
            *([self.sequence.current.parent] if self.sequence.current else []),
            *(Path(path).parent for path in recent[:1]),
            Path(QStandardPaths.writableLocation(QStandardPaths.StandardLocation.PicturesLocation)),
        ]
        return next((folder for folder in candidates if folder.is_dir()), Path.home())

    def open_image_dialog(self) -> None:
        patterns = " ".join(f"*{ext}" for ext in IMAGE_EXTENSIONS)
        files, _filter = QFileDialog.getOpenFileNames(
            self._window,
            _tr("Open Image"),
            str(self.open_start_folder()),
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
            self._failed_open_message = self._window.banner.text
            return
        self._use = None
        # A folder (or several files) opens on its first readable image, not on an error.
        single_file = len(paths) == 1 and not Path(paths[0]).is_dir()
        self._skips_left = 0 if single_file else self.sequence.position[1] - 1
        self.loader.load_file(first)
        self._window.statusBar().showMessage(_tr("Opening {0}…").format(first.name))

    def open_sequence(self, paths: list[Path], index: int) -> None:
        """Show ``paths[index]`` and step through ``paths`` (the folder panel's order)."""
        path = self.sequence.open_at(paths, index)
        if path is None:
            return
        self._use = None
        self._skips_left = 0
        self.loader.load_file(path)

    def open_for(self, path: Path, use: ImageUse, fallback: ImageFallback) -> None:
        """Open ``path`` on its own and hand it to ``use`` instead of a new conversation; if it
        cannot be opened, ``fallback`` gets why (the conversation on screen is left alone)."""
        self.sequence.open([path])
        self._skips_left = 0
        self._use = (self.loader.load_file(path), use, fallback)

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
            self._skips_left = 0
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
        self._skips_left = 0
        self.sequence.clear()
        self.loader.load_pasted(image)

    @Slot(object)
    def _on_loaded(self, decoded: DecodedImage) -> None:
        w = self._window
        w.viewer.set_image(decoded.display, decoded.preview)
        stale = self._failed_open_message
        if w.banner.level is Level.ERROR or (stale is not None and w.banner.text == stale):
            w.banner.hide()  # an error about an earlier image or answer no longer applies
        self._failed_open_message = None
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
    def _on_failed(self, request_id: int, source: str, message: str) -> None:
        use, self._use = self._use, None
        if use is not None and use[0] == request_id:
            use[2](message)
            return
        w = self._window
        w.statusBar().clearMessage()
        path = self.sequence.current
        if path is not None and str(path) == source and self._skips_left > 0:
            # Opening a folder: go on to the next file, and say which one was skipped.
            self._skips_left -= 1
            w.show_message(
                _tr("Skipped a file that cannot be opened: {0}").format(message), Level.WARNING
            )
            following = self.sequence.step(1)
            if following is not None:
                self.loader.load_file(following)
                return
        w.show_message(message)
        self._failed_open_message = message
        # The viewer, the title and the counter all name the file that failed: the previous
        # image must not stay on screen under the new name (nor be asked about).
        name = path.name if path is not None and str(path) == source else Path(source).name
        self.current = None
        self._session.set_image(None)
        w.viewer.show_error(_tr("{0} cannot be opened.").format(name) + "\n\n" + message)
        w.setWindowTitle(f"{name} — vldesk")
        parts = [name, _tr("cannot be opened")]
        index, count = self.sequence.position
        if count > 1:
            parts.append(_tr("{0} of {1}").format(index, count))
        w.image_info.setText(SEPARATOR.join(parts))
        self.changed.emit()

    def update_info(self) -> None:
        decoded = self.current
        if decoded is None:
            if not self._window.viewer.error_text:  # else it names the file that failed
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
        self._window.image_info.setText(SEPARATOR.join(parts))

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
