"""A model download running in a background thread, reported through Qt signals."""

from __future__ import annotations

import logging
import threading

from PySide6.QtCore import QObject, Signal

from vldesk.core.errors import DownloadCancelled, VldeskError
from vldesk.core.models.catalog import ModelSpec
from vldesk.core.models.downloads import download_model
from vldesk.core.models.store import ModelStore
from vldesk.gui.i18n import error_text
from vldesk.gui.workers.background import BackgroundRunner

log = logging.getLogger(__name__)


class DownloadWorker(QObject):
    """Downloads one catalog model at a time; the window stays responsive throughout.

    Signals (emitted from the download thread, delivered queued to the GUI thread):
        progress(DownloadProgress): a snapshot, as often as the download reports one (its
            tracker throttles them to a few a second; notices and the end always come).
        finished(str, str): model id and its folder, once complete and verified.
        failed(str, str): model id and a message for the user; partial files are kept.
        cancelled(str): model id; partial files are kept for a resume.
    """

    progress = Signal(object)
    finished = Signal(str, str)
    failed = Signal(str, str)
    cancelled = Signal(str)

    def __init__(self, store: ModelStore, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._store = store
        self._runner = BackgroundRunner("model download")
        self._cancel = threading.Event()
        #: Set just before the last signal: its slots already see the worker as idle.
        self._ended = threading.Event()
        self._ended.set()
        self._model_id: str | None = None

    @property
    def busy(self) -> bool:
        return self._runner.busy and not self._ended.is_set()

    @property
    def model_id(self) -> str | None:
        """The model being downloaded, if any."""
        return self._model_id if self.busy else None

    def start(self, spec: ModelSpec, *, endpoint: str | None = None) -> bool:
        """Start downloading ``spec``; ``False`` (and nothing started) if one is running."""
        if self.busy or self._runner.stopping.is_set():
            return False
        ended = self._ended = threading.Event()
        self._model_id = spec.ref

        def run(cancel: threading.Event) -> None:
            self._download(spec, cancel, ended, endpoint)

        self._cancel = self._runner.start(run)
        return True

    def cancel(self) -> None:
        """Ask the running download to stop; it keeps its partial files for a resume."""
        self._cancel.set()

    def wait(self, timeout: float | None = None) -> bool:
        """Block until the download thread ends (tests); ``True`` when it has."""
        return self._runner.wait(timeout)

    def shut_down(self, timeout: float | None = None) -> bool:
        """Closing: cancel (partial files are kept: the next download resumes them) and wait
        a bounded time for the download to notice."""
        return self._runner.shut_down([self._cancel], timeout)

    def _download(
        self,
        spec: ModelSpec,
        cancel: threading.Event,
        ended: threading.Event,
        endpoint: str | None,
    ) -> None:
        """In the download thread: run the core download and report how it ended."""
        try:
            folder = download_model(
                spec, self._store, on_progress=self.progress.emit, cancel=cancel, endpoint=endpoint
            )
        except DownloadCancelled:
            ended.set()
            self.cancelled.emit(spec.ref)
        except VldeskError as exc:
            ended.set()
            self.failed.emit(spec.ref, error_text(exc))
        except Exception as exc:  # a bug, not a user error: keep the details in the log
            log.exception("download of %s failed", spec.id)
            ended.set()
            self.failed.emit(spec.ref, f"The download failed unexpectedly: {exc}")
        else:
            ended.set()
            self.finished.emit(spec.ref, str(folder))
