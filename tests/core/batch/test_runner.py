"""The batch runner's job semantics on a fake engine: outputs, failures, batching, pausing,
cancelling, history, empty answers and empty folders (the tiny-model runs are in
test_runner_models.py)."""

from __future__ import annotations

import csv
import json
import threading
from collections.abc import Sequence
from pathlib import Path

import pytest

from tests.core.batch.jobs import (
    BAD,
    GOOD,
    SETTINGS,
    SIZES,
    distinct_pictures,
    lively_model_dir,
    make_tree,
    options_for,
    picture,
    result_records,
    run_job,
)
from tests.helpers.fake_engine import FakeEngine, echo_answer
from vldesk.core.batch import (
    BatchControl,
    BatchEventKind,
    BatchProgress,
    CaptionMode,
    ReportPaths,
)
from vldesk.core.batch.runner import EMPTY_ANSWER
from vldesk.core.errors import GenerationError, OutOfMemoryError
from vldesk.core.generation import Conversation, GenerationResult, GenerationSettings
from vldesk.core.history import HistoryStore

# Other test modules take these from here.
__all__ = ["distinct_pictures", "lively_model_dir", "make_tree", "options_for", "run_job"]


def test_captions_failures_and_reports(tmp_path: Path) -> None:
    folder = make_tree(tmp_path / "photos")
    reports = ReportPaths(tmp_path / "r.jsonl", tmp_path / "r.csv", tmp_path / "r.md")
    options = options_for(folder, reports=reports)
    engine = FakeEngine(name="lively")
    history = HistoryStore(tmp_path / "history.sqlite3")
    try:
        summary, events, outcome = run_job(
            engine, options, jobs_dir=tmp_path / "jobs", batch_size=3, history=history
        )
        conversations = history.list_conversations(limit=100)
        stored = {c.image_path: history.get_conversation(c.id) for c in conversations}
    finally:
        history.close()

    all_images = {*GOOD, *BAD}
    assert summary.total == len(all_images)
    assert (summary.captioned, summary.skipped, summary.failed) == (len(GOOD) - 1, 1, len(BAD))
    assert summary.complete
    assert not summary.found_no_images
    assert {image for image, _ in summary.failures} == set(BAD)
    reasons = dict(summary.failures)
    assert "empty" in reasons["empty.png"]
    assert "truncated" in reasons["truncated.jpg"]
    assert "not an image" in reasons["corrupt.png"].lower()
    # The broken files never reach the model; the skipped one neither.
    asked = {Path(c.images[0].source).relative_to(folder).as_posix() for c in engine.asked}
    assert asked == set(GOOD) - {"b.png"}
    assert max(engine.batches) == 3
    assert len(engine.threads) == 1  # one owner thread calls the engine

    # A caption file next to each new image, holding exactly the recorded caption.
    for image in GOOD:
        caption_file = folder / Path(image).with_suffix(".txt")
        if image == "b.png":
            assert caption_file.read_text(encoding="utf-8") == "an existing caption"
            assert outcome[image] == "an existing caption"
        else:
            assert outcome[image] == f"Describe this image. | {folder / image}"
            assert caption_file.read_text(encoding="utf-8") == outcome[image] + "\n"
    for image in BAD:
        assert not (folder / Path(image).with_suffix(".txt")).exists()
    assert (folder / "notes.md").read_text(encoding="utf-8") == "not an image"

    # Reports: exactly one row per image, failures with their reasons.
    assert reports.jsonl is not None
    assert reports.csv is not None
    assert reports.markdown is not None
    jsonl = [json.loads(line) for line in reports.jsonl.read_text(encoding="utf-8").splitlines()]
    assert sorted(r["image"] for r in jsonl) == sorted(all_images)
    by_image = {r["image"]: r for r in jsonl}
    assert by_image["corrupt.png"]["status"] == "failed"
    assert by_image["corrupt.png"]["error"] == reasons["corrupt.png"]
    assert by_image["子目录/猫 photo.png"]["caption"] == outcome["子目录/猫 photo.png"]
    assert by_image["a.png"]["model"] == "lively"
    assert by_image["a.png"]["settings"] == SETTINGS.to_dict()
    with open(reports.csv, encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert sorted(r["image"] for r in rows) == sorted(all_images)
    assert {r["image"]: r["caption"] for r in rows}["a.png"] == outcome["a.png"]
    markdown = reports.markdown.read_text(encoding="utf-8")
    assert sum(1 for line in markdown.splitlines() if line.startswith("| ")) == 2 + len(all_images)

    # Progress events: totals, a checkpoint, the failures as they happened.
    assert events[0].kind is BatchEventKind.STARTED
    assert events[0].total == len(all_images)
    assert events[-1].kind is BatchEventKind.FINISHED
    assert events[-1].done == events[-1].total
    failed_events = {e.image for e in events if e.kind is BatchEventKind.IMAGE_FAILED}
    assert failed_events == set(BAD)
    assert any(e.kind is BatchEventKind.CHECKPOINT for e in events)

    # History: one entry for the job (its folder, the prompt and how far it got), not one
    # conversation per image.
    assert list(stored) == [str(folder)]
    conversation = stored[str(folder)]
    assert conversation is not None
    assert conversation.thumbnail
    assert [m.role for m in conversation.messages] == ["user", "assistant"]
    assert conversation.messages[0].text == "Describe this image."
    counts = f"{len(GOOD) - 1} captioned, {len(BAD)} failed, 1 skipped"
    assert counts in conversation.messages[1].text


def test_overwrite_append_prefix_suffix_and_extension(tmp_path: Path) -> None:
    folder = tmp_path / "photos"
    for index, name in enumerate(("a.png", "b.png", "c.png")):
        picture(folder / name, SIZES[index], index)
    (folder / "a.caption").write_text("old a", encoding="utf-8")
    (folder / "b.caption").write_text("old b\n", encoding="utf-8")
    engine = FakeEngine()

    overwrite = options_for(
        folder, mode=CaptionMode.OVERWRITE, caption_extension="caption", prefix="sks, "
    )
    _, _, first = run_job(engine, overwrite, jobs_dir=tmp_path / "jobs", batch_size=2)
    for name in ("a", "b", "c"):
        text = (folder / f"{name}.caption").read_text(encoding="utf-8")
        assert text == f"sks, {first[name + '.png']}\n"
    assert not list(folder.glob("*.txt"))

    (folder / "a.caption").write_text("old a", encoding="utf-8")
    append = options_for(
        folder, mode=CaptionMode.APPEND, caption_extension=".caption", suffix=", photo"
    )
    _, _, second = run_job(engine, append, jobs_dir=tmp_path / "jobs", batch_size=2)
    assert second == first
    assert (folder / "a.caption").read_text(encoding="utf-8") == f"old a\n{first['a.png']}, photo\n"
    assert (folder / "c.caption").read_text(encoding="utf-8") == (
        f"sks, {first['c.png']}\n{first['c.png']}, photo\n"
    )
    # Running the finished job again resumes it: nothing is appended twice.
    asked = len(engine.asked)
    summary, events, _ = run_job(engine, append, jobs_dir=tmp_path / "jobs", resume=True)
    assert summary.complete
    assert not [e for e in events if e.kind is BatchEventKind.BATCH_STARTED]
    assert len(engine.asked) == asked
    assert (folder / "c.caption").read_text(encoding="utf-8").count(", photo") == 1


def test_pausing_between_batches(tmp_path: Path) -> None:
    folder = tmp_path / "photos"
    for index in range(6):
        picture(folder / f"img{index}.png", (64, 64), index)
    control = BatchControl()

    def on_progress(event: BatchProgress) -> None:
        if event.kind is BatchEventKind.IMAGE_DONE and event.done == 2:
            control.pause()
            threading.Timer(0.3, control.resume).start()  # another thread resumes

    summary, events, _ = run_job(
        FakeEngine(),
        options_for(folder),
        jobs_dir=tmp_path / "jobs",
        batch_size=2,
        control=control,
        also=on_progress,
    )
    kinds = [e.kind for e in events]
    assert summary.complete
    assert summary.captioned == 6
    assert BatchEventKind.PAUSED in kinds
    assert BatchEventKind.RESUMED in kinds
    paused_at = kinds.index(BatchEventKind.PAUSED)
    # The pause came between batches: the batch in progress had finished.
    assert events[paused_at].done == 2
    assert events[paused_at].image is None


def test_pausing_while_streaming_holds_the_caption_between_words(tmp_path: Path) -> None:
    folder = tmp_path / "photos"
    for index in range(3):
        picture(folder / f"img{index}.png", (64, 64), index)
    control = BatchControl()
    engine = FakeEngine()

    def on_progress(event: BatchProgress) -> None:
        second_image_first_word = event.done == 1 and event.caption == "Describe"
        if event.kind is BatchEventKind.CAPTION_TEXT and second_image_first_word:
            control.pause()
            threading.Timer(0.2, control.resume).start()

    summary, events, _ = run_job(
        engine,
        options_for(folder),
        jobs_dir=tmp_path / "jobs",
        batch_size=1,
        control=control,
        also=on_progress,
    )
    assert summary.complete
    kinds = [e.kind for e in events]
    paused_at = kinds.index(BatchEventKind.PAUSED)
    assert events[paused_at].image == "img1.png"
    assert kinds[paused_at + 1] is BatchEventKind.RESUMED
    # Held after the first word, then the same caption went on with its second.
    after = events[paused_at + 2]
    assert (after.kind, after.image, after.caption) == (
        BatchEventKind.CAPTION_TEXT,
        "img1.png",
        "Describe this",
    )
    assert engine.batches == []  # batch size 1 streams through generate


def test_cancel_mid_caption_drops_it_and_resume_finishes_the_rest(tmp_path: Path) -> None:
    folder = tmp_path / "photos"
    names = [f"img{i}.png" for i in range(4)]
    for index, name in enumerate(names):
        picture(folder / name, (64, 64), index)
    options = options_for(folder)
    control = BatchControl()
    words: list[int] = []

    def before_word(index: int) -> None:
        words.append(index)
        if len(words) == 6:  # the first word of the second caption (each has five)
            control.cancel()

    cancelled, events, outcome = run_job(
        FakeEngine(before_word=before_word),
        options,
        jobs_dir=tmp_path / "jobs",
        batch_size=1,
        control=control,
    )
    assert cancelled.cancelled
    assert (cancelled.done, cancelled.captioned) == (1, 1)
    assert events[-1].kind is BatchEventKind.CANCELLED
    assert not (folder / "img1.txt").exists()  # the unfinished caption is not written

    summary, _, outcome = run_job(FakeEngine(), options, jobs_dir=tmp_path / "jobs", resume=True)
    assert summary.complete
    assert sorted(r["image"] for r in result_records(tmp_path / "jobs", options)) == names
    for name in names:
        assert (folder / name).with_suffix(".txt").read_text(encoding="utf-8") == (
            outcome[name] + "\n"
        )


def test_a_failing_image_does_not_stop_the_batch_and_retry_reruns_only_failures(
    tmp_path: Path,
) -> None:
    folder = make_tree(tmp_path / "photos")
    options = options_for(folder, reports=ReportPaths(jsonl=tmp_path / "r.jsonl"))
    jobs = tmp_path / "jobs"

    def poisoned(conversation: Conversation) -> str:
        if any(image.name == "d.png" for image in conversation.images):
            raise GenerationError("Generation failed: a simulated fault.")
        return echo_answer(conversation)

    faulty = FakeEngine(answer=poisoned)
    summary, _, first = run_job(faulty, options, jobs_dir=jobs, batch_size=3)
    assert first["d.png"] == "FAILED Generation failed: a simulated fault."
    assert summary.failed == len(BAD) + 1
    assert summary.captioned == len(GOOD) - 2  # d failed, b skipped
    assert summary.complete
    # The failing batch was answered again one image at a time.
    assert sum(1 for c in faulty.asked if c.images[0].name == "d.png") == 2

    engine = FakeEngine()
    retry, events, second = run_job(engine, options, jobs_dir=jobs, resume=True, retry_failed=True)
    started = [i for e in events if e.kind is BatchEventKind.BATCH_STARTED for i in e.batch]
    assert started == ["d.png"]  # the unreadable files fail again before the model
    assert {e.image for e in events if e.kind is BatchEventKind.IMAGE_FAILED} == set(BAD)
    assert retry.failed == len(BAD)
    assert not second["d.png"].startswith("FAILED")
    assert {k: v for k, v in second.items() if k != "d.png"} == {
        k: v for k, v in first.items() if k != "d.png"
    }
    lines = (tmp_path / "r.jsonl").read_text(encoding="utf-8").splitlines()
    assert len(lines) == len(GOOD) + len(BAD)


class _RunsOutOfMemoryAbove(FakeEngine):
    """Runs out of memory on batches larger than ``limit``."""

    limit: int = 2

    def generate_batch(
        self,
        conversations: Sequence[Conversation],
        settings: GenerationSettings | None = None,
        *,
        cancel: threading.Event | None = None,
    ) -> list[GenerationResult]:
        if len(conversations) > self.limit:
            self.batches.append(len(conversations))
            raise OutOfMemoryError("Out of memory while answering on cpu.")
        return super().generate_batch(conversations, settings, cancel=cancel)


def test_out_of_memory_halves_the_batch(tmp_path: Path) -> None:
    folder = tmp_path / "photos"
    for index in range(5):
        picture(folder / f"img{index}.png", (64, 64), index)
    engine = _RunsOutOfMemoryAbove()
    summary, events, _ = run_job(
        engine, options_for(folder), jobs_dir=tmp_path / "jobs", batch_size=4
    )
    assert summary.captioned == 5
    assert engine.batches[0] == 4
    assert max(engine.batches[1:]) <= 2
    warnings = [e.error or "" for e in events if e.kind is BatchEventKind.WARNING]
    assert any("Out of memory" in w for w in warnings)


@pytest.mark.parametrize("batch_size", [1, 3])
def test_a_whitespace_answer_is_a_failure_not_a_caption(tmp_path: Path, batch_size: int) -> None:
    folder = tmp_path / "photos"
    for index in range(3):
        picture(folder / f"img{index}.png", (64, 64), index)
    picture(folder / "fine.png", (64, 64), 7)

    def blank_unless_fine(conversation: Conversation) -> str:
        if conversation.images[0].name == "fine.png":
            return "a fine picture"
        return " \n\t "

    summary, events, outcome = run_job(
        FakeEngine(answer=blank_unless_fine),
        options_for(folder),
        jobs_dir=tmp_path / "jobs",
        batch_size=batch_size,
    )
    assert (summary.captioned, summary.failed) == (1, 3)
    assert dict(summary.failures) == {f"img{i}.png": EMPTY_ANSWER for i in range(3)}
    assert sorted(p.name for p in folder.glob("*.txt")) == ["fine.txt"]
    assert outcome["fine.png"] == "a fine picture"
    failed = {e.image: e.error for e in events if e.kind is BatchEventKind.IMAGE_FAILED}
    assert failed == {f"img{i}.png": "The model gave an empty answer." for i in range(3)}


@pytest.mark.parametrize("recursive", [False, True])
def test_a_folder_without_images_ends_with_a_warning(tmp_path: Path, recursive: bool) -> None:
    folder = tmp_path / "photos"
    folder.mkdir()
    (folder / "notes.md").write_text("not an image", encoding="utf-8")
    engine = FakeEngine()
    summary, events, _ = run_job(
        engine, options_for(folder, recursive=recursive), jobs_dir=tmp_path / "jobs"
    )
    assert summary.found_no_images
    assert summary.total == 0
    (warning,) = summary.warnings
    assert f"There are no images in {folder}" in warning
    assert ("subfolders were not searched" in warning) is not recursive
    assert [e.error for e in events if e.kind is BatchEventKind.WARNING] == [warning]
    assert not engine.asked
