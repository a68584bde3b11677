"""Decode images on a thread pool, producing the model's RGB image and a QImage for display."""

from __future__ import annotations

import itertools
import logging
from dataclasses import dataclass
from pathlib import Path

from PIL import Image
from PySide6.QtCore import QBuffer, QIODevice, QObject, QRunnable, QThreadPool, Signal, Slot
from PySide6.QtGui import QImage

from vldesk.core.errors import VldeskError
from vldesk.core.images import LoadedImage, load_image, load_image_bytes

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
        return self.path.name if self.path is not None else self.loaded.source


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
        loaded = load_image_bytes(bytes(buffer.data().data()), "pasted image")
        file_size = None
    display = pil_to_qimage(loaded.image)
    width, height = loaded.image.size
    preview = None
    if max(width, height) > PREVIEW_SIDE * 1.5:
        preview = pil_to_qimage(_reduced(loaded.image, PREVIEW_SIDE))
    thumbnail = _reduced(loaded.image, THUMBNAIL_SIDE)
    return DecodedImage(request_id, loaded, display, preview, thumbnail, path, file_size)


class _Relay(QObject):
    """Lives in the GUI thread; runnables emit through it, so delivery is queued there."""

    done = Signal(object)
    error = Signal(int, str, str)


class _DecodeJob(QRunnable):
    def __init__(
        self, relay: _Relay, request_id: int, path: Path | None, pasted: QImage | None
    ) -> None:
        super().__init__()
        self._relay = relay
        self._request_id = request_id
        self._path = path
        self._pasted = pasted

    def run(self) -> None:
        source = str(self._path) if self._path is not None else "pasted image"
        try:
            result = decode(self._request_id, self._path, self._pasted)
        except VldeskError as exc:
            self._relay.error.emit(self._request_id, source, str(exc))
        except MemoryError:
            self._relay.error.emit(
                self._request_id, source, f"{source}: not enough memory to open this image"
            )
        except Exception as exc:
            log.exception("decoding %s failed", source)
            self._relay.error.emit(self._request_id, source, f"{source}: {exc}")
        else:
            self._relay.done.emit(result)


class ImageLoader(QObject):
    """Decodes one image at a time off the GUI thread; a newer request replaces a queued one.

    Signals:
        loaded(DecodedImage): the latest request finished.
        failed(int, str, str): request id, source, and a message for the user.
    """

    loaded = Signal(object)
    failed = Signal(int, str, str)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._pool = QThreadPool(self)
        self._pool.setMaxThreadCount(2)
        self._ids = itertools.count(1)
        self._latest = 0
        # Jobs are not auto-deleted: Python keeps them alive until their result arrives.
        self._jobs: dict[int, _DecodeJob] = {}
        self._relay = _Relay(self)
        self._relay.done.connect(self._on_done)
        self._relay.error.connect(self._on_error)

    def load_file(self, path: Path) -> int:
        return self._start(Path(path), None)

    def load_pasted(self, image: QImage) -> int:
        return self._start(None, image)

    @property
    def latest_request(self) -> int:
        return self._latest

    def _start(self, path: Path | None, pasted: QImage | None) -> int:
        for request_id, job in list(self._jobs.items()):
            if self._pool.tryTake(job):  # superseded before it started: skip it
                del self._jobs[request_id]
        self._latest = next(self._ids)
        job = _DecodeJob(self._relay, self._latest, path, pasted)
        job.setAutoDelete(False)
        self._jobs[self._latest] = job
        self._pool.start(job)
        return self._latest

    @Slot(object)
    def _on_done(self, result: DecodedImage) -> None:
        self._jobs.pop(result.request_id, None)
        if result.request_id == self._latest:
            self.loaded.emit(result)

    @Slot(int, str, str)
    def _on_error(self, request_id: int, source: str, message: str) -> None:
        self._jobs.pop(request_id, None)
        if request_id == self._latest:
            self.failed.emit(request_id, source, message)

    def wait_for_done(self, msecs: int = 30_000) -> bool:
        """Block until running decodes end (shutdown and tests)."""
        return bool(self._pool.waitForDone(msecs))
