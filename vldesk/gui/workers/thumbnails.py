"""Decode history thumbnails (small JPEG bytes) into QImages on a background thread."""

from __future__ import annotations

import threading
from collections.abc import Sequence

from PySide6.QtCore import QObject, QSize, Qt, Signal, Slot
from PySide6.QtGui import QImage

from vldesk.gui.workers.background import BackgroundRunner

#: Thumbnails per signal: few enough to arrive quickly, enough to keep signals few.
BATCH = 16


def decode_thumbnails(items: Sequence[tuple[int, bytes]], size: QSize) -> list[tuple[int, QImage]]:
    """(key, QImage) for each thumbnail that decodes, scaled to fit ``size``."""
    results: list[tuple[int, QImage]] = []
    for key, data in items:
        image = QImage.fromData(data)
        if not image.isNull():
            scaled = image.scaled(
                size, Qt.AspectRatioMode.KeepAspectRatio, Qt.TransformationMode.SmoothTransformation
            )
            results.append((key, scaled))
    return results


class ThumbnailDecoder(QObject):
    """Queue (key, bytes) pairs; ``decoded`` delivers (key, QImage) pairs in the GUI thread,
    each scaled to fit ``size`` (device pixels).

    Signals:
        decoded(list): ``[(key, QImage), ...]``; undecodable thumbnails are left out.
    """

    decoded = Signal(list)
    # Sent from the decoding thread; queued to this object's slot in the GUI thread.
    _batch_decoded = Signal(list)

    def __init__(self, size: QSize, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._size = size
        self._runner = BackgroundRunner("thumbnail decoding")
        #: One for all: thumbnails are only ever stopped all together, when closing.
        self._cancel = threading.Event()
        self._batch_decoded.connect(self._forward)

    def decode(self, items: Sequence[tuple[int, bytes]]) -> None:
        pending, size = list(items), self._size

        def run(cancel: threading.Event) -> None:
            for start in range(0, len(pending), BATCH):
                if cancel.is_set():
                    return
                results = decode_thumbnails(pending[start : start + BATCH], size)
                if not cancel.is_set():
                    self._batch_decoded.emit(results)

        self._runner.start(run, self._cancel)

    @Slot(list)
    def _forward(self, results: list[tuple[int, QImage]]) -> None:
        self.decoded.emit(results)

    @property
    def busy(self) -> bool:
        return self._runner.busy

    def wait_for_done(self, msecs: int = 10_000) -> bool:
        """Block until queued thumbnails are decoded, at most ``msecs`` (tests)."""
        return self._runner.wait(msecs / 1000)

    def shut_down(self, timeout: float | None = None) -> bool:
        """Closing: skip queued batches, drop results, wait a bounded time for a running one."""
        return self._runner.shut_down([self._cancel], timeout)
