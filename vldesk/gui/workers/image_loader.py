"""Decode images on background threads, producing the model's RGB image and a QImage for display."""

from __future__ import annotations

import itertools
import logging
import threading
from dataclasses import dataclass
from pathlib import Path

from PIL import Image
from PySide6.QtCore import QBuffer, QIODevice, QObject, Signal, Slot
from PySide6.QtGui import QImage

from vldesk.core.errors import ImageLoadError, VldeskError
from vldesk.core.images import PASTED_IMAGE, LoadedImage, load_image, load_image_bytes
from vldesk.core.messages import core_text
from vldesk.gui.i18n import error_text, translated
from vldesk.gui.workers.background import BackgroundRunner

log = logging.getLogger(__name__)

#: Long side of the reduced copy the viewer draws when zoomed out (keeps big images smooth).
PREVIEW_SIDE = 2048
#: Long side of the thumbnail kept with history entries.
THUMBNAIL_SIDE = 256


@dataclass(frozen=True, eq=False)
class DecodedImage:
    """An image ready for the model and the viewer; built off the GUI thread."""

    request_id: int
    loaded: LoadedImage
    display: QImage
    #: A reduced copy for drawing when zoomed out; ``None`` when the image is small.
    preview: QImage | None
    thumbnail: Image.Image
    #: The file, or ``None`` for a pasted image.
    path: Path | None
    file_size: int | None

    @property
    def name(self) -> str:
        # A pasted image's source is a core message ("pasted image"): shown translated.
        return self.path.name if self.path is not None else translated(self.loaded.source)


def pil_to_qimage(image: Image.Image) -> QImage:
    """A deep-copied 32-bit QImage of an RGB Pillow image (RGBX paints fastest)."""
    rgb = image if image.mode == "RGB" else image.convert("RGB")
    data = rgb.tobytes("raw", "RGBX")
    width, height = rgb.size
    return QImage(data, width, height, width * 4, QImage.Format.Format_RGBX8888).copy()


def _reduced(image: Image.Image, side: int) -> Image.Image:
    copy = image.copy()
    copy.thumbnail((side, side), Image.Resampling.BILINEAR, reducing_gap=2.0)
    return copy


def decode(request_id: int, path: Path | None, pasted: QImage | None = None) -> DecodedImage:
    """Load a file (or a pasted QImage) the way the model sees it; raises ImageLoadError."""
    if path is not None:
        loaded = load_image(path)
        file_size: int | None = path.stat().st_size
    else:
        assert pasted is not None
        buffer = QBuffer()
        buffer.open(QIODevice.OpenModeFlag.WriteOnly)
        # PySide6 takes the format as str at run time; its stubs say bytes.
        pasted.save(buffer, "PNG")  # type: ignore[call-overload]
        loaded = load_image_bytes(bytes(buffer.data().data()), PASTED_IMAGE)
        file_size = None
    display = pil_to_qimage(loaded.image)
    width, height = loaded.image.size
    preview = None
    if max(width, height) > PREVIEW_SIDE * 1.5:
        preview = pil_to_qimage(_reduced(loaded.image, PREVIEW_SIDE))
    thumbnail = _reduced(loaded.image, THUMBNAIL_SIDE)
    return DecodedImage(request_id, loaded, display, preview, thumbnail, path, file_size)


class ImageLoader(QObject):
    """Decodes images off the GUI thread, two at a time; a newer request replaces the others.

    Signals:
        loaded(DecodedImage): the latest request finished.
        failed(int, str, str): request id, source, and a message for the user.
    """

    loaded = Signal(object)
    failed = Signal(int, str, str)
    # Sent from the decoding threads; queued to this object's slots in the GUI thread.
    _decoded = Signal(object)
    _not_decoded = Signal(int, str, str)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._runner = BackgroundRunner("image decoding", max_parallel=2)
        self._ids = itertools.count(1)
        self._latest = 0
        #: The cancel event of each request not delivered yet.
        self._pending: dict[int, threading.Event] = {}
        self._decoded.connect(self._on_done)
        self._not_decoded.connect(self._on_error)

    def load_file(self, path: Path) -> int:
        return self._start(Path(path), None)

    def load_pasted(self, image: QImage) -> int:
        return self._start(None, image)

    @property
    def latest_request(self) -> int:
        return self._latest

    def _start(self, path: Path | None, pasted: QImage | None) -> int:
        for cancel in self._pending.values():
            cancel.set()  # superseded: skipped if not started yet, its result dropped if it was
        request_id = self._latest = next(self._ids)

        def run(cancel: threading.Event) -> None:
            self._decode(request_id, path, pasted, cancel)

        self._pending[request_id] = self._runner.start(run)
        return request_id

    def _decode(
        self, request_id: int, path: Path | None, pasted: QImage | None, cancel: threading.Event
    ) -> None:
        """In a decoding thread: decode, then report unless cancelled meanwhile."""
        source = str(path) if path is not None else translated(PASTED_IMAGE)
        try:
            result = decode(request_id, path, pasted)
        except VldeskError as exc:
            message = error_text(exc)
        except MemoryError:
            memory = core_text("Images", "not enough memory to decode this image")
            message = error_text(ImageLoadError(source, memory))
        except Exception as exc:
            log.exception("decoding %s failed", source)
            message = f"{source}: {exc}"
        else:
            if not cancel.is_set():
                self._decoded.emit(result)
            return
        if not cancel.is_set():
            self._not_decoded.emit(request_id, source, message)

    @Slot(object)
    def _on_done(self, result: DecodedImage) -> None:
        self._pending.pop(result.request_id, None)
        if result.request_id == self._latest:
            self.loaded.emit(result)

    @Slot(int, str, str)
    def _on_error(self, request_id: int, source: str, message: str) -> None:
        self._pending.pop(request_id, None)
        if request_id == self._latest:
            self.failed.emit(request_id, source, message)

    @property
    def busy(self) -> bool:
        return self._runner.busy

    def wait_for_done(self, msecs: int = 30_000) -> bool:
        """Block until running decodes end, at most ``msecs`` (tests)."""
        return self._runner.wait(msecs / 1000)

    def shut_down(self, timeout: float | None = None) -> bool:
        """Closing: drop pending results and wait a bounded time for running decodes."""
        cancels = list(self._pending.values())
        self._pending.clear()
        return self._runner.shut_down(cancels, timeout)
