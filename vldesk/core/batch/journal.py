"""The job journal: an append-only, fsynced JSON Lines file recording each finished image."""

# A job lives in ``<data dir>/jobs/<job id>/``: ``spec.json`` (the options, written atomically),
# ``journal.jsonl`` (one JSON object per line, appended and fsynced record by record) and ``lock``
# (held while a runner uses the job, so two windows or processes never run it at once).
#
# Records, each with a ``kind``:
#
# * ``job``: the first line; format version and job id.
# * ``session``: a run started (``retry_failed`` says whether failed images were re-queued).
# * ``result``: an image is finished: captioned, failed or skipped. A captioned image's record
#   carries the exact caption file change (``write``: file, operation, text, and for appends the
#   size and SHA-256 of the file before) and is written *before* the caption file is touched.
# * ``applied``: the caption file change of result ``seq`` is on disk.
# * ``history-entry``: the job's one history entry (its folder and prompt) was created.
# * ``history``: result ``seq`` was saved as a conversation of its own (jobs before the entry).
# * ``finished``: every image of the job has a result.
#
# A line only counts once it ends in a newline, so a record torn by a crash is ignored (and cut off
# before the next append). The latest ``result`` for an image wins: "retry failed" adds new ones.

from __future__ import annotations

import contextlib
import json
import logging
import os
import shutil
import time
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import IO, Any

from vldesk.core.atomic import atomic_write_text
from vldesk.core.batch.options import BatchOptions
from vldesk.core.batch.records import (
    CaptionWrite,
    ImageResult,
    ImageStatus,
    JobState,
    WriteOp,
    iter_results,
    replay,
)
from vldesk.core.errors import VldeskError, WriteError
from vldesk.core.messages import core_text
from vldesk.core.paths import app_paths

log = logging.getLogger(__name__)

JOURNAL_VERSION = 1
SPEC_FILE = "spec.json"
JOURNAL_FILE = "journal.jsonl"
LOCK_FILE = "lock"


def default_jobs_dir() -> Path:
    """Where batch jobs are kept: ``jobs`` in the user data folder (``VLDESK_HOME`` in tests)."""
    return app_paths().data_dir / "jobs"


def read_journal(path: Path) -> tuple[list[dict[str, Any]], int]:
    """The complete records of a journal and the byte length they take (a torn tail excluded)."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return [], 0
    except OSError as exc:
        raise VldeskError(
            f"The batch job journal {path} cannot be read ({exc.strerror})."
        ) from None
    end = data.rfind(b"\n") + 1  # a last line without its newline was torn by a crash
    records: list[dict[str, Any]] = []
    for number, line in enumerate(data[:end].splitlines(), start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line.decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError):
            log.warning("skipping unreadable line %d of %s", number, path)
            continue
        if isinstance(record, dict):
            records.append(record)
    return records, end


class Journal:
    """Appends records to the journal file; each :meth:`append` is on disk when it returns."""

    def __init__(self, path: Path, valid_length: int) -> None:
        self.path = path
        try:
            # Cut a torn tail first, so the next record starts on a line of its own.
            if path.exists() and path.stat().st_size != valid_length:
                with open(path, "r+b") as handle:
                    handle.truncate(valid_length)
                    os.fsync(handle.fileno())
            self._fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | _O_BINARY, 0o644)
        except OSError as exc:
            raise _journal_error(path, exc) from exc

    def append(self, *records: Mapping[str, Any]) -> None:
        """Write whole lines and fsync them.

        Raises:
            WriteError: the disk is full or the file cannot be written; nothing is half-recorded
                (a partial line is cut off when the journal is next opened).
        """
        if not records:
            return
        data = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records).encode()
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(self._fd, view) :]
            os.fsync(self._fd)
        except OSError as exc:
            raise _journal_error(self.path, exc) from exc

    def close(self) -> None:
        if self._fd >= 0:
            with contextlib.suppress(OSError):
                os.close(self._fd)
            self._fd = -1


_O_BINARY = getattr(os, "O_BINARY", 0)


def _journal_error(path: Path, exc: OSError) -> WriteError:
    detail = exc.strerror or str(exc)
    return WriteError(
        core_text(
            "Batch",
            "Could not record progress in the batch job journal {path} ({reason}); the job "
            "stopped and can be resumed once the problem is fixed.",
            path=str(path),
            reason=detail,
        )
    )


class _JobLock:
    """An exclusive lock on a file, released by the OS when the process dies (even kill -9)."""

    def __init__(self, path: Path) -> None:
        self._handle: IO[bytes] | None = open(path, "a+b")  # noqa: SIM115 - held while locked
        try:
            self._lock(self._handle)
        except OSError:
            self._handle.close()
            self._handle = None
            raise VldeskError(
                "This batch job is already running in another vldesk window or process."
            ) from None

    @staticmethod
    def _lock(handle: IO[bytes]) -> None:
        if os.name == "nt":
            import msvcrt

            handle.seek(0)
            msvcrt.locking(handle.fileno(), msvcrt.LK_NBLCK, 1)  # type: ignore[attr-defined,unused-ignore]
        else:
            import fcntl

            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)

    def release(self) -> None:
        if self._handle is not None:
            self._handle.close()  # closing the file releases the lock
            self._handle = None


@dataclass(frozen=True)
class JobSummary:
    """A job as listed for "resume an interrupted job": its options and how far it got."""

    job_id: str
    folder: Path
    options: BatchOptions
    captioned: int
    failed: int
    skipped: int
    finished: bool
    #: When its journal last changed (seconds since the epoch).
    updated: float

    @property
    def done(self) -> int:
        return self.captioned + self.failed + self.skipped


class BatchJob:
    """A batch job's files: options, journal and lock. Use :meth:`create` or :meth:`resume`.

    Holds the job's lock until :meth:`close`; not thread-safe (one runner thread uses it).
    """

    def __init__(self, directory: Path, options: BatchOptions, *, state: JobState) -> None:
        self.directory = directory
        self.options = options
        self.state = state
        self._lock: _JobLock | None = None
        self._journal: Journal | None = None

    @property
    def job_id(self) -> str:
        return self.directory.name

    @property
    def journal_path(self) -> Path:
        return self.directory / JOURNAL_FILE

    # -- opening ------------------------------------------------------------------------------

    @classmethod
    def create(cls, options: BatchOptions, *, jobs_dir: Path | None = None) -> BatchJob:
        """Start a job afresh, forgetting any earlier run with the same options.

        Raises:
            VldeskError: the job is running elsewhere, or its folder cannot be written.
        """
        directory = (jobs_dir or default_jobs_dir()) / options.job_id()
        _make_dir(directory)
        job = cls(directory, options, state=JobState())
        job._acquire()
        try:
            # Journal first: a crash in between leaves an empty journal, which is a fresh job.
            with contextlib.suppress(FileNotFoundError):
                job.journal_path.unlink()
            job._write_spec()
            job._open_journal(0)
            job.record({"kind": "job", "version": JOURNAL_VERSION, "job_id": job.job_id})
        except BaseException:
            job.close()
            raise
        return job

    @classmethod
    def resume(cls, options_or_id: BatchOptions | str, *, jobs_dir: Path | None = None) -> BatchJob:
        """Open an existing job to continue it (or to retry its failures).

        Given options, the job must have been started with the same ones; given an id (from
        :func:`list_jobs`), its saved options are used. New report paths replace the saved
        ones; none keeps them.

        Raises:
            VldeskError: there is no such job, it is running elsewhere, or it cannot be read.
        """
        root = jobs_dir or default_jobs_dir()
        if isinstance(options_or_id, BatchOptions):
            directory = root / options_or_id.job_id()
            if not (directory / SPEC_FILE).is_file():
                raise VldeskError(
                    core_text(
                        "Batch",
                        "No earlier batch job matches this folder and these options; start it "
                        "without resuming (the prompt, model, settings and caption options must "
                        "be the same to resume).",
                    )
                )
        else:
            directory = root / options_or_id
            if not (directory / SPEC_FILE).is_file():
                raise VldeskError(
                    core_text("Batch", "There is no batch job {job}.", job=str(options_or_id))
                )
        saved = _read_spec(directory)
        options = options_or_id if isinstance(options_or_id, BatchOptions) else saved
        if not options.reports.any():
            # Resumed without naming reports: keep maintaining the ones it had.
            options = replace(options, reports=saved.reports)
        job = cls(directory, options, state=JobState())
        job._acquire()
        try:
            records, length = read_journal(job.journal_path)
            job.state = replay(records)
            job._open_journal(length)
            if not records:
                job.record({"kind": "job", "version": JOURNAL_VERSION, "job_id": job.job_id})
            if options.reports != saved.reports:
                job._write_spec()
        except BaseException:
            job.close()
            raise
        return job

    def _acquire(self) -> None:
        self._lock = _JobLock(self.directory / LOCK_FILE)

    def _open_journal(self, valid_length: int) -> None:
        self._journal = Journal(self.journal_path, valid_length)

    def _write_spec(self) -> None:
        spec = {
            "version": JOURNAL_VERSION,
            "job_id": self.job_id,
            "created": time.time(),
            "options": self.options.to_dict(),
        }
        atomic_write_text(
            self.directory / SPEC_FILE, json.dumps(spec, indent=2, ensure_ascii=False) + "\n"
        )

    # -- recording ----------------------------------------------------------------------------

    def record(self, *records: Mapping[str, Any]) -> None:
        """Append records to the journal (on disk when this returns) and to :attr:`state`."""
        if self._journal is None:
            raise VldeskError("The batch job is closed.")
        stamped = [{**r, "at": r.get("at", time.time())} for r in records]
        self._journal.append(*stamped)
        for record in stamped:
            self.state.add(record)

    def record_results(self, *results: ImageResult) -> list[ImageResult]:
        """Journal finished images; returns them with their sequence numbers set."""
        numbered = []
        seq = self.state.next_seq
        for result in results:
            numbered.append(_with_seq(result, seq))
            seq += 1
        self.record(*(r.to_record() for r in numbered))
        return numbered

    def close(self) -> None:
        """Close the journal and release the lock (idempotent)."""
        if self._journal is not None:
            self._journal.close()
            self._journal = None
        if self._lock is not None:
            self._lock.release()
            self._lock = None

    def __enter__(self) -> BatchJob:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


def _with_seq(result: ImageResult, seq: int) -> ImageResult:
    return replace(result, seq=seq)


def _make_dir(directory: Path) -> None:
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise WriteError(
            f"Could not create the batch job folder {directory} ({exc.strerror})."
        ) from exc


def _read_spec(directory: Path) -> BatchOptions:
    try:
        spec = json.loads((directory / SPEC_FILE).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise VldeskError(
            core_text(
                "Batch",
                "The batch job in {folder} cannot be read ({reason}).",
                folder=str(directory),
                reason=str(exc),
            )
        ) from None
    if not isinstance(spec, dict) or not isinstance(spec.get("options"), dict):
        raise VldeskError(
            core_text(
                "Batch",
                "The batch job in {folder} cannot be read (no options).",
                folder=str(directory),
            )
        )
    return BatchOptions.from_dict(spec["options"])


def find_job(options: BatchOptions, *, jobs_dir: Path | None = None) -> JobSummary | None:
    """The earlier job with exactly these options, if any (finished or not)."""
    directory = (jobs_dir or default_jobs_dir()) / options.job_id()
    return _summary(directory) if (directory / SPEC_FILE).is_file() else None


def list_jobs(*, jobs_dir: Path | None = None) -> list[JobSummary]:
    """Every readable job, most recently active first; unreadable folders are skipped."""
    root = jobs_dir or default_jobs_dir()
    try:
        folders = [p for p in root.iterdir() if (p / SPEC_FILE).is_file()]
    except OSError:
        return []
    summaries = []
    for folder in folders:
        try:
            summaries.append(_summary(folder))
        except VldeskError as exc:
            log.warning("skipping batch job %s: %s", folder.name, exc)
    return sorted(summaries, key=lambda s: s.updated, reverse=True)


def _summary(directory: Path) -> JobSummary:
    options = _read_spec(directory)
    state = replay(read_journal(directory / JOURNAL_FILE)[0])
    return JobSummary(
        job_id=directory.name,
        folder=options.folder,
        options=options,
        captioned=state.count(ImageStatus.CAPTIONED),
        failed=state.count(ImageStatus.FAILED),
        skipped=state.count(ImageStatus.SKIPPED),
        finished=state.finished,
        updated=state.updated,
    )


def delete_job(job_id: str, *, jobs_dir: Path | None = None) -> None:
    """Forget a job (its journal and options); caption files and reports are not touched."""
    directory = (jobs_dir or default_jobs_dir()) / job_id
    if not directory.is_dir():
        return
    _JobLock(directory / LOCK_FILE).release()  # refuses while the job is running
    try:
        shutil.rmtree(directory)
    except OSError as exc:
        raise VldeskError(
            core_text(
                "Batch",
                "Could not delete the batch job {job} ({reason}).",
                job=job_id,
                reason=str(exc.strerror or exc),
            )
        ) from None


__all__ = [
    "JOURNAL_FILE",
    "BatchJob",
    "CaptionWrite",
    "ImageResult",
    "ImageStatus",
    "JobState",
    "JobSummary",
    "Journal",
    "WriteOp",
    "default_jobs_dir",
    "delete_job",
    "find_job",
    "iter_results",
    "list_jobs",
    "read_journal",
    "replay",
]
