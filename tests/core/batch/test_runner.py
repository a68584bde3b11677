"""The batch runner on tiny models: outputs, failures, batching, pause/resume/cancel, history."""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from PIL import Image, ImageDraw

from vldesk.core.batch import (
    BatchControl,
    BatchEventKind,
    BatchJob,
    BatchOptions,
    BatchProgress,
    BatchRunner,
    BatchSummary,
    CaptionMode,
    ImageStatus,
    ReportPaths,
)
from vldesk.core.batch.journal import read_journal
from vldesk.core.errors import GenerationError, OutOfMemoryError
from vldesk.core.generation import GenerationSettings
from vldesk.core.history import HistoryStore
from vldesk.core.images import LoadedImage, budget_size
from vldesk.core.inference.transformers_engine import TransformersEngine
from vldesk.core.models.catalog import FAMILY_TRAITS, Family

pytestmark = pytest.mark.model

SETTINGS = GenerationSettings(max_new_tokens=6, max_image_tokens=32)
GOOD = ("a.png", "b.png", "c.jpg", "d.png", "sub/deeper/e.webp", "子目录/猫 photo.png")
BAD = ("corrupt.png", "empty.png", "truncated.jpg")
SIZES = ((64, 64), (96, 64), (64, 128), (200, 100))


def lively_model_dir(tmp_path_factory: pytest.TempPathFactory, family: Family) -> Path:
    """A tiny model whose larger random weights make captions depend on the image.

    The shared tiny models (initializer range 0.02) answer every image with the same repeated
    token, which would make caption comparisons meaningless. Built once per test session.
    """
    from vldesk.bench.synthetic import build_model_folder, tiny_config

    folder = tmp_path_factory.getbasetemp() / "batch-lively-models" / family.value
    if not (folder / "built").is_file():
        config = tiny_config(family)
        for section in (config, config.get("text_config"), config.get("vision_config")):
            if isinstance(section, dict):
                section["initializer_range"] = 0.2
        build_model_folder(family, folder, config, seed=1)
        (folder / "built").touch()
    return folder


def distinct_pictures() -> list[LoadedImage]:
    """Three small pictures that differ in size and colour, for answers that differ."""
    pictures = []
    for index, size in enumerate([(64, 64), (96, 64), (64, 128)]):
        image = Image.new("RGB", size, (index * 80 % 256, 200 - index * 50, 90))
        ImageDraw.Draw(image).ellipse((4, 4, size[0] // 2, size[1] - 4), fill=(250, 20, index))
        pictures.append(LoadedImage(image, f"p{index}.png", size))
    return pictures


@pytest.fixture(scope="module")
def engine(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TransformersEngine]:
    loaded = TransformersEngine.load(
        lively_model_dir(tmp_path_factory, Family.QWEN3_VL), device="cpu", name="lively"
    )
    yield loaded
    loaded.unload()


def picture(path: Path, size: tuple[int, int], seed: int) -> None:
    image = Image.new("RGB", size, (seed * 37 % 256, seed * 91 % 256, seed * 53 % 256))
    draw = ImageDraw.Draw(image)
    draw.rectangle((0, 0, size[0] // 2, size[1] // 3), fill=(255 - seed * 20, 10, 60))
    draw.ellipse((size[0] // 3, size[1] // 3, size[0] - 2, size[1] - 2), fill=(0, seed * 30, 200))
    path.parent.mkdir(parents=True, exist_ok=True)
    image.save(path)


def make_tree(folder: Path) -> Path:
    """Good images of several sizes, nested and unicode names, broken files and non-images."""
    for index, name in enumerate(GOOD):
        picture(folder / name, SIZES[index % len(SIZES)], index + 1)
    (folder / "corrupt.png").write_bytes(b"this is not a PNG at all")
    (folder / "empty.png").write_bytes(b"")
    jpeg = folder / "tmp.jpg"
    picture(jpeg, (120, 90), 9)
    data = jpeg.read_bytes()
    jpeg.unlink()
    (folder / "truncated.jpg").write_bytes(data[: len(data) // 2])
    (folder / "notes.md").write_text("not an image", encoding="utf-8")
    (folder / "b.txt").write_text("an existing caption", encoding="utf-8")
    return folder


def options_for(folder: Path, **changes: Any) -> BatchOptions:
    base: dict[str, Any] = {
        "folder": folder,
        "prompt": "Describe this image.",
        "model": "lively",
        "settings": SETTINGS,
        "recursive": True,
    }
    return BatchOptions(**{**base, **changes})


def run_job(
    engine: Any,
    options: BatchOptions,
    *,
    jobs_dir: Path,
    resume: bool = False,
    retry_failed: bool = False,
    also: Callable[[BatchProgress], None] | None = None,
    **runner_args: Any,
) -> tuple[BatchSummary, list[BatchProgress], dict[str, str]]:
    """Run a job; returns the summary, the events and each image's latest caption or error."""
    events: list[BatchProgress] = []

    def on_progress(event: BatchProgress) -> None:
        events.append(event)
        if also is not None:
            also(event)

    opener = BatchJob.resume if resume else BatchJob.create
    with opener(options, jobs_dir=jobs_dir) as job:
        runner = BatchRunner(engine, job, on_progress=on_progress, **runner_args)
        summary = runner.run(retry_failed=retry_failed)
        outcome = {
            image: r.caption if r.status is not ImageStatus.FAILED else f"FAILED {r.error}"
            for image, r in job.state.results.items()
        }
    return summary, events, outcome


def result_records(jobs_dir: Path, options: BatchOptions) -> list[dict[str, Any]]:
    records, _ = read_journal(jobs_dir / options.job_id() / "journal.jsonl")
    return [r for r in records if r["kind"] == "result"]


def test_captions_failures_and_reports(tmp_path: Path, engine: TransformersEngine) -> None:
    folder = make_tree(tmp_path / "photos")
    reports = ReportPaths(tmp_path / "r.jsonl", tmp_path / "r.csv", tmp_path / "r.md")
    options = options_for(folder, reports=reports)
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
    assert {image for image, _ in summary.failures} == set(BAD)
    reasons = dict(summary.failures)
    assert "empty" in reasons["empty.png"]
    assert "truncated" in reasons["truncated.jpg"]
    assert "not an image" in reasons["corrupt.png"].lower()

    # A caption file next to each new image, holding exactly the recorded caption.
    for image in GOOD:
        caption_file = folder / Path(image).with_suffix(".txt")
        if image == "b.png":
            assert caption_file.read_text(encoding="utf-8") == "an existing caption"
            assert outcome[image] == "an existing caption"
        else:
            assert caption_file.read_text(encoding="utf-8") == outcome[image] + "\n"
            assert outcome[image].strip()
    for image in BAD:
        assert not (folder / Path(image).with_suffix(".txt")).exists()
    assert (folder / "notes.md").read_text(encoding="utf-8") == "not an image"

    # Reports: exactly one row per image, failures with their reasons.
    import csv
    import json

    jsonl = [json.loads(line) for line in reports.jsonl.read_text(encoding="utf-8").splitlines()]  # type: ignore[union-attr]
    assert sorted(r["image"] for r in jsonl) == sorted(all_images)
    by_image = {r["image"]: r for r in jsonl}
    assert by_image["corrupt.png"]["status"] == "failed"
    assert by_image["corrupt.png"]["error"] == reasons["corrupt.png"]
    assert by_image["子目录/猫 photo.png"]["caption"] == outcome["子目录/猫 photo.png"]
    assert by_image["a.png"]["model"] == "lively"
    assert by_image["a.png"]["settings"] == SETTINGS.to_dict()
    assert by_image["a.png"]["seconds"] > 0
    with open(reports.csv, encoding="utf-8-sig", newline="") as handle:  # type: ignore[arg-type]
        rows = list(csv.DictReader(handle))
    assert sorted(r["image"] for r in rows) == sorted(all_images)
    assert {r["image"]: r["caption"] for r in rows}["a.png"] == outcome["a.png"]
    markdown = reports.markdown.read_text(encoding="utf-8")  # type: ignore[union-attr]
    assert sum(1 for line in markdown.splitlines() if line.startswith("| ")) == 2 + len(all_images)

    # Progress events: totals, a checkpoint, the failures as they happened.
    assert events[0].kind is BatchEventKind.STARTED
    assert events[0].total == len(all_images)
    assert events[-1].kind is BatchEventKind.FINISHED
    assert events[-1].done == events[-1].total
    failed_events = {e.image for e in events if e.kind is BatchEventKind.IMAGE_FAILED}
    assert failed_events == set(BAD)
    assert any(e.kind is BatchEventKind.CHECKPOINT for e in events)
    assert any(e.images_per_minute for e in events if e.kind is BatchEventKind.IMAGE_DONE)

    # History: one conversation per new caption (prompt, answer), openable in the chat view.
    assert set(stored) == {str(folder / image) for image in GOOD if image != "b.png"}
    conversation = stored[str(folder / "a.png")]
    assert conversation is not None
    assert conversation.thumbnail
    assert [(m.role, m.text) for m in conversation.messages] == [
        ("user", "Describe this image."),
        ("assistant", outcome["a.png"]),
    ]


def test_overwrite_append_prefix_suffix_and_extension(
    tmp_path: Path, engine: TransformersEngine
) -> None:
    folder = tmp_path / "photos"
    for index, name in enumerate(("a.png", "b.png", "c.png")):
        picture(folder / name, SIZES[index], index)
    (folder / "a.caption").write_text("old a", encoding="utf-8")
    (folder / "b.caption").write_text("old b\n", encoding="utf-8")

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
    assert second == first  # greedy: the same captions again
    assert (folder / "a.caption").read_text(encoding="utf-8") == f"old a\n{first['a.png']}, photo\n"
    assert (folder / "c.caption").read_text(encoding="utf-8") == (
        f"sks, {first['c.png']}\n{first['c.png']}, photo\n"
    )
    # Running the finished job again resumes it: nothing is appended twice.
    summary, events, _ = run_job(engine, append, jobs_dir=tmp_path / "jobs", resume=True)
    assert summary.complete
    assert not [e for e in events if e.kind is BatchEventKind.BATCH_STARTED]
    assert (folder / "c.caption").read_text(encoding="utf-8").count(", photo") == 1


def _capture_generations(
    engine: TransformersEngine, monkeypatch: pytest.MonkeyPatch
) -> list[list[list[int]]]:
    """Record the new token ids of every row of every ``model.generate`` call."""
    calls: list[list[list[int]]] = []
    original = engine._run_generate
    stop_ids = set(engine._stop_ids)

    def wrapper(inputs: Any, settings: Any, cancel: Any, **extra: Any) -> Any:
        output = original(inputs, settings, cancel, **extra)
        width = int(inputs["input_ids"].shape[1])
        rows = []
        for row in range(output.shape[0]):
            ids = [int(t) for t in output[row, width:]]
            end = next((i + 1 for i, t in enumerate(ids) if t in stop_ids), len(ids))
            rows.append(ids[:end])
        calls.append(rows)
        return output

    monkeypatch.setattr(engine, "_run_generate", wrapper)
    return calls


@pytest.mark.parametrize("family", list(Family), ids=lambda f: f.value)
def test_batched_greedy_captions_equal_one_at_a_time(
    tmp_path: Path,
    tmp_path_factory: pytest.TempPathFactory,
    monkeypatch: pytest.MonkeyPatch,
    family: Family,
) -> None:
    folder = tmp_path / "photos"
    names = [f"img{i}.png" for i in range(8)]
    for index, name in enumerate(names):
        picture(folder / name, SIZES[index % len(SIZES)], index)
    # Overwrite: the second run must caption again, not skip what the first one wrote.
    options = options_for(
        folder,
        settings=GenerationSettings(max_new_tokens=8, max_image_tokens=32),
        mode=CaptionMode.OVERWRITE,
    )
    model = TransformersEngine.load(
        lively_model_dir(tmp_path_factory, family), device="cpu", name="lively"
    )
    try:
        tokens: dict[int, dict[str, list[int]]] = {}
        captions: dict[int, dict[str, str]] = {}
        batches: dict[int, list[tuple[str, ...]]] = {}
        for size in (1, 4):
            calls = _capture_generations(model, monkeypatch)
            _, events, outcome = run_job(
                model, options, jobs_dir=tmp_path / f"jobs{size}", batch_size=size
            )
            monkeypatch.undo()
            started = [e.batch for e in events if e.kind is BatchEventKind.BATCH_STARTED]
            assert len(started) == len(calls)
            assert [len(rows) for rows in calls] == [len(batch) for batch in started]
            tokens[size] = {
                image: ids
                for batch, rows in zip(started, calls, strict=True)
                for image, ids in zip(batch, rows, strict=True)
            }
            captions[size] = outcome
            batches[size] = started
    finally:
        model.unload()

    assert all(len(batch) == 1 for batch in batches[1])
    assert max(len(batch) for batch in batches[4]) == 4
    # Padding was exercised: some batch mixes images of different token counts.
    factor = FAMILY_TRAITS[family].patch_factor
    token_counts = {
        name: budget_size(SIZES[i % len(SIZES)], factor, 32) for i, name in enumerate(names)
    }
    assert any(len({token_counts[i] for i in batch}) > 1 for batch in batches[4])
    # Token for token, not just after decoding.
    assert tokens[4] == tokens[1]
    assert captions[4] == captions[1]
    assert len(Counter(map(tuple, tokens[1].values()))) > 1  # the captions differ per image


def test_pause_resume_and_cancel_from_another_thread(
    tmp_path: Path, engine: TransformersEngine
) -> None:
    folder = tmp_path / "photos"
    names = [f"img{i:02d}.png" for i in range(10)]
    for index, name in enumerate(names):
        picture(folder / name, SIZES[index % len(SIZES)], index)
    options = options_for(
        folder, settings=GenerationSettings(max_new_tokens=8, max_image_tokens=32)
    )
    jobs = tmp_path / "jobs"
    control = BatchControl()
    events: list[BatchProgress] = []
    first_done, let_go = threading.Event(), threading.Event()
    paused, resumed = threading.Event(), threading.Event()

    def on_progress(event: BatchProgress) -> None:
        events.append(event)
        if event.kind is BatchEventKind.IMAGE_DONE and not first_done.is_set():
            first_done.set()
            let_go.wait(30)  # hold the runner until the test thread has asked for a pause
        elif event.kind is BatchEventKind.PAUSED:
            paused.set()
        elif event.kind is BatchEventKind.RESUMED:
            resumed.set()

    def done_count() -> int:
        return sum(1 for e in list(events) if e.kind is BatchEventKind.IMAGE_DONE)

    summaries: list[BatchSummary] = []
    with BatchJob.create(options, jobs_dir=jobs) as job:
        runner = BatchRunner(engine, job, control=control, on_progress=on_progress, batch_size=1)
        thread = threading.Thread(target=lambda: summaries.append(runner.run()))
        thread.start()
        try:
            assert first_done.wait(60)
            control.pause()
            let_go.set()
            assert paused.wait(30)
            held = done_count()
            time.sleep(0.5)
            assert thread.is_alive()
            assert done_count() == held  # nothing finishes while paused
            control.resume()
            assert resumed.wait(30)
            deadline = time.monotonic() + 60
            while done_count() <= held and time.monotonic() < deadline:
                time.sleep(0.01)
            assert done_count() > held
            control.cancel()
        finally:
            control.cancel()
            let_go.set()
            thread.join(60)
        assert not thread.is_alive()
    (summary,) = summaries
    assert summary.cancelled
    assert 1 <= summary.done < len(names)
    assert events[-1].kind is BatchEventKind.CANCELLED
    assert events[-1].done == summary.done
    # Streaming: the caption of the current image arrives token by token.
    assert any(e.kind is BatchEventKind.CAPTION_TEXT and e.caption for e in events)

    # Resume: the rest is done, no image twice.
    resumed_summary, resumed_events, outcome = run_job(
        engine, options, jobs_dir=jobs, resume=True, batch_size=2
    )
    assert resumed_summary.complete
    assert resumed_events[0].done == summary.done
    started = [i for e in resumed_events if e.kind is BatchEventKind.BATCH_STARTED for i in e.batch]
    assert len(started) == len(names) - summary.done
    records = result_records(jobs, options)
    assert sorted(r["image"] for r in records) == names  # exactly one result per image
    for name in names:
        text = (folder / name).with_suffix(".txt").read_text(encoding="utf-8")
        assert text == outcome[name] + "\n"


def test_pausing_between_batches(tmp_path: Path, engine: TransformersEngine) -> None:
    folder = tmp_path / "photos"
    for index in range(6):
        picture(folder / f"img{index}.png", (64, 64), index)
    control = BatchControl()

    def on_progress(event: BatchProgress) -> None:
        if event.kind is BatchEventKind.IMAGE_DONE and event.done == 2:
            control.pause()
            threading.Timer(0.3, control.resume).start()  # another thread resumes

    summary, events, _ = run_job(
        engine,
        options_for(folder),
        jobs_dir=tmp_path / "jobs",
        batch_size=2,
        control=control,
        also=on_progress,
    )
    kinds = [e.kind for e in events]
    assert summary.complete
    assert BatchEventKind.PAUSED in kinds
    assert BatchEventKind.RESUMED in kinds
    paused_at = kinds.index(BatchEventKind.PAUSED)
    # The pause came between batches: the batch in progress had finished.
    assert events[paused_at].done == 2
    assert events[paused_at].image is None


def test_a_failing_image_does_not_stop_the_batch_and_retry_reruns_only_failures(
    tmp_path: Path, engine: TransformersEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = make_tree(tmp_path / "photos")
    options = options_for(folder, reports=ReportPaths(jsonl=tmp_path / "r.jsonl"))
    jobs = tmp_path / "jobs"
    original_generate, original_batch = engine.generate, engine.generate_batch

    def poisoned(conversation: Any) -> bool:
        return any(image.name == "d.png" for image in conversation.images)

    def generate(conversation: Any, *args: Any, **kwargs: Any) -> Any:
        if poisoned(conversation):
            raise GenerationError("Generation failed: a simulated fault.")
        return original_generate(conversation, *args, **kwargs)

    def generate_batch(conversations: Any, *args: Any, **kwargs: Any) -> Any:
        if any(poisoned(c) for c in conversations):
            raise GenerationError("Generation failed: a simulated fault.")
        return original_batch(conversations, *args, **kwargs)

    monkeypatch.setattr(engine, "generate", generate)
    monkeypatch.setattr(engine, "generate_batch", generate_batch)
    summary, _, first = run_job(engine, options, jobs_dir=jobs, batch_size=3)
    assert first["d.png"] == "FAILED Generation failed: a simulated fault."
    assert summary.failed == len(BAD) + 1
    assert summary.captioned == len(GOOD) - 2  # d failed, b skipped
    assert summary.complete

    monkeypatch.undo()
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


def test_out_of_memory_halves_the_batch(
    tmp_path: Path, engine: TransformersEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "photos"
    for index in range(5):
        picture(folder / f"img{index}.png", (64, 64), index)
    original = engine.generate_batch
    sizes: list[int] = []

    def generate_batch(conversations: Any, *args: Any, **kwargs: Any) -> Any:
        sizes.append(len(conversations))
        if len(conversations) > 2:
            raise OutOfMemoryError("Out of memory while answering on cpu.")
        return original(conversations, *args, **kwargs)

    monkeypatch.setattr(engine, "generate_batch", generate_batch)
    summary, events, _ = run_job(
        engine, options_for(folder), jobs_dir=tmp_path / "jobs", batch_size=4
    )
    assert summary.captioned == 5
    assert sizes[0] == 4
    assert max(sizes[1:]) <= 2
    warnings = [e.error or "" for e in events if e.kind is BatchEventKind.WARNING]
    assert any("Out of memory" in w for w in warnings)
