"""The GUI's worker idiom: core callables on daemon threads, a cancel event, bounded shutdown."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

log = logging.getLogger(__name__)

#: The longest closing the window waits for a worker's callable to return; one still running
#: after that (a decode or a read that cannot be interrupted) ends on its own, unheard.
SHUTDOWN_WAIT_S = 5.0


class BackgroundRunner:
    """Runs core callables on daemon threads, at most ``max_parallel`` at a time.

    Each callable gets a :class:`threading.Event` that asks it to stop and reports through its
    owner's Qt signals: the receivers live in the GUI thread, so Qt queues them there.
    :meth:`shut_down` waits a bounded time, so closing the window never freezes, and any signal
    a callable still sends after it is dropped (its owner may be gone by then).
    """

    def __init__(self, name: str, max_parallel: int = 1) -> None:
        self._name = name
        self._slots = threading.Semaphore(max_parallel)
        self._lock = threading.Lock()
        self._threads: set[threading.Thread] = set()
        #: Set by :meth:`shut_down`: nothing new starts, queued callables are skipped.
        self.stopping = threading.Event()

    @property
    def busy(self) -> bool:
        """Whether a callable is running or waiting for its turn."""
        with self._lock:
            return bool(self._threads)

    def start(
        self, call: Callable[[threading.Event], None], cancel: threading.Event | None = None
    ) -> threading.Event:
        """Run ``call(cancel)`` in the background; returns its cancel event (new if not given).

        A callable whose event is set before its turn comes is skipped.
        """
        cancel = cancel if cancel is not None else threading.Event()
        if self.stopping.is_set():
            cancel.set()
            return cancel
        thread = threading.Thread(
            target=self._run, args=(call, cancel), name=self._name, daemon=True
        )
        with self._lock:
            self._threads.add(thread)
        thread.start()
        return cancel

    def _run(self, call: Callable[[threading.Event], None], cancel: threading.Event) -> None:
        try:
            with self._slots:
                if cancel.is_set() or self.stopping.is_set():
                    return
                call(cancel)
        except RuntimeError:
            # Signals of an owner deleted after shutdown raise; before it, it is a bug.
            if not self.stopping.is_set():
                log.exception("%s failed", self._name)
        except Exception:
            log.exception("%s failed", self._name)
        finally:
            with self._lock:
                self._threads.discard(threading.current_thread())

    def wait(self, timeout: float | None = None) -> bool:
        """Block until every callable has returned, at most ``timeout`` seconds; ``True`` if so."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            with self._lock:
                threads = list(self._threads)
            if not threads:
                return True
            for thread in threads:
                left = None if deadline is None else max(0.0, deadline - time.monotonic())
                thread.join(left)
                if deadline is not None and time.monotonic() >= deadline:
                    return not self.busy

    def shut_down(self, cancels: list[threading.Event], timeout: float | None = None) -> bool:
        """Set ``cancels`` and stop starting work, then wait at most ``timeout`` seconds
        (:data:`SHUTDOWN_WAIT_S` when not given); ``True`` if every callable has returned."""
        self.stopping.set()
        for cancel in cancels:
            cancel.set()
        stopped = self.wait(SHUTDOWN_WAIT_S if timeout is None else timeout)
        if not stopped:
            log.warning("%s did not stop in time: it ends on its own", self._name)
        return stopped
