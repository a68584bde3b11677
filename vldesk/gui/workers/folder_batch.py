"""One folder batch, run on the calling worker thread: open the job, caption, say how it ended."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from vldesk.core.batch import (
    BatchControl,
    BatchEventKind,
    BatchJob,
    BatchOptions,
    BatchProgress,
    BatchRunner,
    BatchSummary,
)
from vldesk.core.errors import VldeskError
from vldesk.core.history import HistoryStore
from vldesk.core.inference.engine import Engine
from vldesk.gui.i18n import error_text
from vldesk.gui.workers.failure import Failure, FailureKind, unexpected
from vldesk.gui.workers.remote import ServerTarget, connect_pool
from vldesk.gui.workers.throttle import Clock, ProgressThrottle

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class BatchRequest:
    """Caption a folder. ``control`` pauses, resumes and cancels it from the GUI thread (its
    events are thread-safe)."""

    request_id: int
    options: BatchOptions
    control: BatchControl
    #: Continue the earlier job with these options; False starts afresh (forgetting it).
    resume: bool = False
    retry_failed: bool = False
    #: Images per model call; ``None`` chooses from free memory.
    batch_size: int | None = None
    #: The history database the captions are saved to (opened on the running thread).
    history_db: Path | None = None
    #: Caption on these servers instead of the loaded model (connected on the running thread).
    servers: ServerTarget | None = None


def run_folder_batch(
    request: BatchRequest,
    engine: Engine | None,
    send: Callable[[BatchProgress], None],
    clock: Clock = time.monotonic,
) -> BatchSummary | Failure:
    """Run ``request`` with ``engine`` (the loaded model), or on its servers where it names
    them; blocks until the batch ends, is cancelled or fails (pausing blocks too). Events go
    to ``send``, throttled; the summary, or the failure (the job stays resumable), is returned."""
    if engine is None and request.servers is None:
        return Failure.error("No model is loaded yet.")
    if request.control.cancelled:
        return Failure(FailureKind.CANCELLED, "The batch was cancelled before it started.")
    try:
        job = (
            BatchJob.resume(request.options) if request.resume else BatchJob.create(request.options)
        )
    except VldeskError as exc:
        return Failure.error(error_text(exc))
    except Exception as exc:
        return Failure.error(unexpected("opening the batch job", exc))
    throttle = ProgressThrottle(send, clock)
    history = _open_history(request.history_db, throttle)
    pool: Engine | None = None
    try:
        if request.servers is not None:
            engine = pool = connect_pool(
                request.servers,
                request.options.model,
                throttle,
                request.control.cancel_event,  # Cancel works while servers are probed
            )
        assert engine is not None
        runner = BatchRunner(
            engine,
            job,
            control=request.control,
            on_progress=throttle,
            history=history,
            batch_size=request.batch_size,
        )
        summary = runner.run(retry_failed=request.retry_failed)
    except VldeskError as exc:
        throttle.flush()
        log.warning("batch %s stopped: %s", job.job_id, exc)
        return Failure.error(error_text(exc))
    except Exception as exc:
        throttle.flush()
        return Failure.error(unexpected("describing the folder", exc))
    finally:
        job.close()
        if history is not None:
            history.close()
        if pool is not None:
            pool.unload()  # the servers' connections; a loaded model stays
    throttle.flush()
    return summary


def _open_history(path: Path | None, send: Callable[[BatchProgress], None]) -> HistoryStore | None:
    """This thread's own store on the app's history database (a connection per thread)."""
    if path is None:
        return None
    try:
        return HistoryStore(path)
    except VldeskError as exc:
        log.warning("batch captions will not go to history: %s", exc)
        message = f"Captions are not saved to the history: {exc}"
        send(BatchProgress(BatchEventKind.WARNING, 0, 0, 0, 0, 0, error=message))
        return None
