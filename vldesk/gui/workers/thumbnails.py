"""Decode history thumbnails (small JPEG bytes) into QImages on a thread pool."""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import QObject, QRunnable, QSize, Qt, QThreadPool, Signal, Slot
from PySide6.QtGui import QImage

#: Thumbnails per job: few enough to arrive quickly, enough to keep the pool's overhead low.
BATCH = 16


class _Relay(QObject):
    decoded = Signal(list)


class _DecodeBatch(QRunnable):
    def __init__(self, relay: _Relay, items: Sequence[tuple[int, bytes]], size: QSize) -> None:
        super().__init__()
        self._relay = relay
        self._items = list(items)
        self._size = size

    def run(self) -> None:
        results: list[tuple[int, QImage]] = []
        for key, data in self._items:
            image = QImage.fromData(data)
            if not image.isNull():
                scaled = image.scaled(
                    self._size,
                    Qt.AspectRatioMode.KeepAspectRatio,
                    Qt.TransformationMode.SmoothTransformation,
                )
                results.append((key, scaled))
        self._relay.decoded.emit(results)


class ThumbnailDecoder(QObject):
    """Queue (key, bytes) pairs; ``decoded`` delivers (key, QImage) pairs in the GUI thread,
    each scaled to fit ``size`` (device pixels).

    Signals:
        decoded(list): ``[(key, QImage), ...]``; undecodable thumbnails are left out.
    """

    decoded = Signal(list)

    def __init__(self, size: QSize, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._size = size
        self._pool = QThreadPool(self)
        self._pool.setMaxThreadCount(1)
        self._relay = _Relay(self)
        self._relay.decoded.connect(self._forward)

    def decode(self, items: Sequence[tuple[int, bytes]]) -> None:
        for start in range(0, len(items), BATCH):
            self._pool.start(_DecodeBatch(self._relay, items[start : start + BATCH], self._size))

    @Slot(list)
    def _forward(self, results: list[tuple[int, QImage]]) -> None:
        self.decoded.emit(results)

    def wait_for_done(self, msecs: int = 10_000) -> bool:
        return bool(self._pool.waitForDone(msecs))
