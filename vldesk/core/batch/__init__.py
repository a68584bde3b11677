"""Batch-describe a folder: caption files next to images, reports, a resumable job journal."""

# A Qt worker or the CLI does:
#
#     job = BatchJob.create(options)  # or BatchJob.resume(options), BatchJob.resume(job_id)
#     runner = BatchRunner(engine, job, control=control, on_progress=callback, history=store)
#     summary = runner.run()  # blocks; control.pause()/resume()/cancel() from other threads
#     job.close()

from vldesk.core.batch.events import (
    BatchControl,
    BatchEventKind,
    BatchProgress,
    BatchSummary,
    ProgressCallback,
)
from vldesk.core.batch.journal import (
    BatchJob,
    JobSummary,
    default_jobs_dir,
    delete_job,
    find_job,
    list_jobs,
)
from vldesk.core.batch.options import BatchOptions, BoxFormat, CaptionMode, ReportPaths
from vldesk.core.batch.records import CaptionWrite, ImageResult, ImageStatus, WriteOp
from vldesk.core.batch.runner import BatchRunner
from vldesk.core.batch.scan import ScanResult, scan_images

__all__ = [
    "BatchControl",
    "BatchEventKind",
    "BatchJob",
    "BatchOptions",
    "BatchProgress",
    "BatchRunner",
    "BatchSummary",
    "BoxFormat",
    "CaptionMode",
    "CaptionWrite",
    "ImageResult",
    "ImageStatus",
    "JobSummary",
    "ProgressCallback",
    "ReportPaths",
    "ScanResult",
    "WriteOp",
    "default_jobs_dir",
    "delete_job",
    "find_job",
    "list_jobs",
    "scan_images",
]
