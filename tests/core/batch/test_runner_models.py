"""The batch runner end to end on tiny models: batching changes no token, and pause, resume and
cancel from another thread."""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.core.batch.jobs import (
    SIZES,
    lively_model_dir,
    options_for,
    picture,
    result_records,
    run_job,
)
from vldesk.core.batch import (
    BatchControl,
    BatchEventKind,
    BatchJob,
    BatchProgress,
    BatchRunner,
    BatchSummary,
    CaptionMode,
)
from vldesk.core.generation import GenerationSettings
from vldesk.core.images import budget_size
from vldesk.core.inference.transformers_engine import TransformersEngine
from vldesk.core.models.catalog import FAMILY_TRAITS, Family


@pytest.fixture(scope="module")
def engine(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TransformersEngine]:
    loaded = TransformersEngine.load(
        lively_model_dir(tmp_path_factory, Family.QWEN3_VL), device="cpu", name="lively"
    )
    yield loaded
    loaded.unload()


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
