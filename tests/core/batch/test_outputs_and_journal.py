"""Batch jobs without a model: options, folder scans, the journal, caption writes and reports."""

from __future__ import annotations

import csv
import io
import json
import os
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from vldesk.core.batch import (
    BatchJob,
    BatchOptions,
    BatchRunner,
    CaptionMode,
    ImageResult,
    ImageStatus,
    ReportPaths,
    WriteOp,
    delete_job,
    find_job,
    list_jobs,
    scan_images,
)
from vldesk.core.batch.journal import JOURNAL_FILE, read_journal, replay
from vldesk.core.batch.outputs import (
    CaptionChangedError,
    apply_write,
    plan_write,
    render_csv,
    render_jsonl,
    render_markdown,
)
from vldesk.core.errors import VldeskError
from vldesk.core.generation import GenerationSettings


def options_for(folder: Path, **changes: Any) -> BatchOptions:
    base: dict[str, Any] = {
        "folder": folder,
        "prompt": "Describe this image.",
        "model": "tiny",
        "settings": GenerationSettings(max_new_tokens=4, max_image_tokens=16),
    }
    return BatchOptions(**{**base, **changes})


def make_png(path: Path, size: tuple[int, int] = (40, 30)) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new("RGB", size, (120, 30, 200)).save(path)
    return path


# -- options -------------------------------------------------------------------------------------


def test_job_id_depends_on_what_is_written_not_on_report_paths(tmp_path: Path) -> None:
    a = options_for(tmp_path)
    assert a.job_id() == options_for(tmp_path, reports=ReportPaths(tmp_path / "r.csv")).job_id()
    assert a.job_id() != options_for(tmp_path, prompt="Other").job_id()
    assert a.job_id() != options_for(tmp_path, mode=CaptionMode.APPEND).job_id()
    assert a.job_id() != options_for(tmp_path, prefix="sks, ").job_id()
    settings = GenerationSettings(max_new_tokens=5, max_image_tokens=16)
    assert a.job_id() != options_for(tmp_path, settings=settings).job_id()
    assert BatchOptions.from_dict(a.to_dict()) == a


@pytest.mark.parametrize("ext", [".png", "jpg", "", ".", "../x", ".t t", "a/b"])
def test_caption_extensions_that_could_hurt_are_refused(tmp_path: Path, ext: str) -> None:
    with pytest.raises(VldeskError):
        options_for(tmp_path, caption_extension=ext)


def test_caption_extension_and_types_are_normalised(tmp_path: Path) -> None:
    options = options_for(tmp_path, caption_extension="caption", types=("JPG", ".png"))
    assert options.caption_extension == ".caption"
    assert options.types == (".jfif", ".jpeg", ".jpg", ".png")
    with pytest.raises(VldeskError, match="not an image type"):
        options_for(tmp_path, types=("pdf",))
    with pytest.raises(VldeskError, match="prompt is empty"):
        options_for(tmp_path, prompt="  ")


# -- scanning ------------------------------------------------------------------------------------


def test_scan_finds_images_by_type_in_a_stable_order(tmp_path: Path) -> None:
    for name in ("b.png", "a.JPG", "子目录/猫 photo.png", "sub/deeper/c.webp", "sub/d.png"):
        make_png(tmp_path / name)
    (tmp_path / "notes.txt").write_text("not an image")
    (tmp_path / ".hidden.png").write_bytes(b"x")
    make_png(tmp_path / ".cache" / "e.png")
    (tmp_path / "folder.png").mkdir()  # a folder with an image name is not an image
    flat = scan_images(tmp_path, recursive=False, types=(".png", ".jpg"))
    assert flat.images == ("a.JPG", "b.png")
    deep = scan_images(tmp_path, recursive=True, types=(".png", ".jpg", ".webp"))
    assert deep.images == (
        "a.JPG",
        "b.png",
        "sub/d.png",
        "sub/deeper/c.webp",
        "子目录/猫 photo.png",
    )
    assert deep.problems == ()


def test_scan_refuses_a_missing_folder(tmp_path: Path) -> None:
    with pytest.raises(VldeskError, match="does not exist"):
        scan_images(tmp_path / "nope", recursive=True, types=(".png",))


# -- the journal ---------------------------------------------------------------------------------


def test_a_torn_last_record_is_ignored_and_cut_off(tmp_path: Path) -> None:
    options = options_for(tmp_path)
    with BatchJob.create(options, jobs_dir=tmp_path / "jobs") as job:
        job.record_results(ImageResult("a.png", ImageStatus.FAILED, error="Broken."))
        journal = job.journal_path
    with open(journal, "ab") as handle:
        handle.write(b'{"kind": "result", "seq": 9, "image": "b.p')  # the crash came mid-line
    records, _ = read_journal(journal)
    assert [r["kind"] for r in records] == ["job", "result"]
    with BatchJob.resume(options, jobs_dir=tmp_path / "jobs") as job:
        assert set(job.state.results) == {"a.png"}
        job.record_results(ImageResult("b.png", ImageStatus.SKIPPED, caption="old"))
    records, _ = read_journal(journal)
    assert [r["kind"] for r in records] == ["job", "result", "result"]
    assert journal.read_bytes().count(b"\n") == 3
    state = replay(records)
    assert state.results["b.png"].seq == 1


def test_the_latest_result_for_an_image_wins(tmp_path: Path) -> None:
    with BatchJob.create(options_for(tmp_path), jobs_dir=tmp_path / "jobs") as job:
        job.record_results(ImageResult("a.png", ImageStatus.FAILED, error="Out of memory."))
        job.record_results(ImageResult("a.png", ImageStatus.CAPTIONED, caption="A cat."))
        assert job.state.results["a.png"].caption == "A cat."
        assert job.state.count(ImageStatus.FAILED) == 0


def test_a_running_job_is_locked(tmp_path: Path) -> None:
    options = options_for(tmp_path)
    jobs = tmp_path / "jobs"
    with BatchJob.create(options, jobs_dir=jobs):
        with pytest.raises(VldeskError, match="already running"):
            BatchJob.resume(options, jobs_dir=jobs)
        with pytest.raises(VldeskError, match="already running"):
            delete_job(options.job_id(), jobs_dir=jobs)
    with BatchJob.resume(options, jobs_dir=jobs):
        pass


def test_jobs_are_found_listed_and_deleted(tmp_path: Path) -> None:
    jobs = tmp_path / "jobs"
    options = options_for(tmp_path)
    assert find_job(options, jobs_dir=jobs) is None
    with pytest.raises(VldeskError, match="No earlier batch job"):
        BatchJob.resume(options, jobs_dir=jobs)
    with BatchJob.create(options, jobs_dir=jobs) as job:
        job.record_results(
            ImageResult("a.png", ImageStatus.CAPTIONED, caption="x"),
            ImageResult("b.png", ImageStatus.FAILED, error="Bad."),
        )
    found = find_job(options, jobs_dir=jobs)
    assert found is not None
    assert (found.captioned, found.failed, found.done, found.finished) == (1, 1, 2, False)
    assert [s.job_id for s in list_jobs(jobs_dir=jobs)] == [options.job_id()]
    # Resuming by id uses the saved options.
    with BatchJob.resume(options.job_id(), jobs_dir=jobs) as job:
        assert job.options == options
    delete_job(options.job_id(), jobs_dir=jobs)
    assert list_jobs(jobs_dir=jobs) == []


def test_jobs_live_in_the_user_data_folder(tmp_path: Path) -> None:
    with BatchJob.create(options_for(tmp_path)) as job:
        home = Path(os.environ["VLDESK_HOME"])
        assert job.directory.parent == home / "data" / "jobs"
        assert (job.directory / JOURNAL_FILE).is_file()


# -- caption writes ------------------------------------------------------------------------------


def test_append_is_idempotent_after_a_crash_at_any_point(tmp_path: Path) -> None:
    options = options_for(tmp_path, mode=CaptionMode.APPEND, prefix="sks, ", suffix=" END")
    caption_file = tmp_path / "a.txt"
    caption_file.write_text("old caption")  # no final newline
    write = plan_write(options, "a.png", "A cat.")
    assert write.op is WriteOp.APPEND
    assert write.text == "\nsks, A cat. END\n"
    assert apply_write(tmp_path, write) is True
    assert caption_file.read_text() == "old caption\nsks, A cat. END\n"
    # Resuming after a crash between the write and its journal record: nothing more is added.
    assert apply_write(tmp_path, write) is False
    assert caption_file.read_text() == "old caption\nsks, A cat. END\n"
    # The same text appended on purpose by a new job is a new append (sizes tell them apart).
    again = plan_write(options, "a.png", "A cat.")
    assert apply_write(tmp_path, again) is True
    assert caption_file.read_text().count("sks, A cat. END") == 2


def test_a_pending_append_to_a_file_changed_since_is_not_made(tmp_path: Path) -> None:
    options = options_for(tmp_path, mode=CaptionMode.APPEND)
    (tmp_path / "a.txt").write_text("old\n")
    write = plan_write(options, "a.png", "A cat.")
    (tmp_path / "a.txt").write_text("edited by hand\n")
    with pytest.raises(CaptionChangedError):
        apply_write(tmp_path, write)
    assert (tmp_path / "a.txt").read_text() == "edited by hand\n"


def test_create_and_replace_write_the_whole_caption(tmp_path: Path) -> None:
    write = plan_write(options_for(tmp_path, caption_extension=".caption"), "sub/a.png", "Hi")
    assert (write.file, write.op, write.text) == ("sub/a.caption", WriteOp.CREATE, "Hi\n")
    (tmp_path / "sub").mkdir()
    assert apply_write(tmp_path, write) is True
    assert apply_write(tmp_path, write) is False
    overwrite = plan_write(options_for(tmp_path, mode=CaptionMode.OVERWRITE), "a.png", "New")
    (tmp_path / "a.txt").write_text("Old")
    apply_write(tmp_path, overwrite)
    assert (tmp_path / "a.txt").read_text() == "New\n"
    assert not [p for p in tmp_path.rglob("*.tmp")]


class _NoModel:
    """Stands in for the engine where the runner must not need one."""

    name = "tiny"

    def __getattr__(self, name: str) -> Any:
        raise AssertionError(f"the model was used ({name})")


@pytest.mark.parametrize("already_appended", [False, True])
def test_resume_finishes_a_journaled_caption_write_exactly_once(
    tmp_path: Path, already_appended: bool
) -> None:
    folder = tmp_path / "images"
    make_png(folder / "a.png")
    (folder / "a.txt").write_text("old\n")
    options = options_for(
        folder, mode=CaptionMode.APPEND, reports=ReportPaths(tmp_path / "r.jsonl")
    )
    jobs = tmp_path / "jobs"
    with BatchJob.create(options, jobs_dir=jobs) as job:
        write = plan_write(options, "a.png", "A cat.")
        job.record_results(
            ImageResult("a.png", ImageStatus.CAPTIONED, caption="A cat.", write=write)
        )
        if already_appended:
            apply_write(folder, write)
        # ... and the process dies here, before the "applied" record, maybe mid-way through
        # the atomic write (which leaves its temporary file behind).
    (folder / ".a.txt.k1l2m3.tmp").write_text("old\nA c")
    (tmp_path / ".r.jsonl.x9y8.tmp").write_text('{"image": ')
    with BatchJob.resume(options, jobs_dir=jobs) as job:
        summary = BatchRunner(_NoModel(), job).run()
        assert job.state.pending_writes() == []
    assert (folder / "a.txt").read_text() == "old\nA cat.\n"
    assert not list(tmp_path.rglob("*.tmp"))
    assert (summary.captioned, summary.total, summary.complete) == (1, 1, True)
    rows = [json.loads(line) for line in (tmp_path / "r.jsonl").read_text().splitlines()]
    assert [(r["image"], r["caption"]) for r in rows] == [("a.png", "A cat.")]


# -- reports -------------------------------------------------------------------------------------


def _results() -> list[ImageResult]:
    return [
        ImageResult("a.png", ImageStatus.CAPTIONED, caption='A "cat", on a mat.\nLine | two <b>'),
        ImageResult("猫 photo.png", ImageStatus.FAILED, error="The file is truncated."),
        ImageResult("c.png", ImageStatus.SKIPPED, caption="existing\x07"),
    ]


def test_reports_have_one_row_per_image_in_every_format(tmp_path: Path) -> None:
    options = options_for(tmp_path)
    jsonl = [json.loads(line) for line in render_jsonl(options, _results()).splitlines()]
    assert [(r["image"], r["status"]) for r in jsonl] == [
        ("a.png", "captioned"),
        ("猫 photo.png", "failed"),
        ("c.png", "skipped"),
    ]
    assert jsonl[1]["error"] == "The file is truncated."
    assert jsonl[0]["settings"]["max_new_tokens"] == 4
    rows = list(csv.DictReader(io.StringIO(render_csv(options, _results()))))
    assert [r["image"] for r in rows] == ["a.png", "猫 photo.png", "c.png"]
    assert rows[0]["caption"] == 'A "cat", on a mat.\nLine | two <b>'
    assert rows[1]["error"] == "The file is truncated."
    markdown = render_markdown(options, _results())
    table = [line for line in markdown.splitlines() if line.startswith("| ")]
    assert len(table) == 2 + 3  # header, rule and one row each
    assert "Line \\| two &lt;b&gt;" in markdown
    assert "\x07" not in markdown


def test_images_sharing_a_caption_file_are_not_both_captioned(tmp_path: Path) -> None:
    folder = tmp_path / "images"
    make_png(folder / "a.png")
    make_png(folder / "a.jpg")
    (folder / "a.txt").write_text("existing")
    with BatchJob.create(options_for(folder), jobs_dir=tmp_path / "jobs") as job:
        summary = BatchRunner(_NoModel(), job).run()
        results = job.state.results
    assert results["a.jpg"].status is ImageStatus.SKIPPED
    assert results["a.png"].status is ImageStatus.FAILED
    assert "a.txt is also the caption file of a.jpg" in (results["a.png"].error or "")
    assert (summary.skipped, summary.failed, summary.complete) == (1, 1, True)
    assert (folder / "a.txt").read_text() == "existing"
