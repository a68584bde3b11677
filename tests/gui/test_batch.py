"""Describe a folder from the GUI: dialog, progress, failures, pause, cancel, resume, retry."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest
from PySide6.QtCore import Qt, QThread, QTimer
from PySide6.QtWidgets import QApplication, QMessageBox
from pytestqt.qtbot import QtBot

from tests.gui.conftest import ManualClock, make_image, shown_dialogs
from vldesk.core.batch import (
    BatchEventKind,
    BatchProgress,
    BatchSummary,
    default_jobs_dir,
    find_job,
)
from vldesk.core.batch.journal import read_journal
from vldesk.core.generation import GenerationSettings
from vldesk.gui.app import DesktopApp
from vldesk.gui.controllers.batch import BatchState
from vldesk.gui.dialogs.batch_dialog import BatchDialog
from vldesk.gui.widgets.message_banner import Level
from vldesk.gui.workers.throttle import CHUNK_INTERVAL_S, ProgressThrottle

GOOD = ("a.png", "b.png", "c.jpg", "d.png", "e.png")
#: Tokens per caption in the pause/cancel test: long enough to act while one is written.
LONG_CAPTION = 300
COLORS = ((200, 40, 40), (40, 200, 40), (40, 40, 200), (220, 220, 40), (120, 60, 160))


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    """Five small images and one corrupt file."""
    root = tmp_path / "photos"
    for index, (name, color) in enumerate(zip(GOOD, COLORS, strict=True)):
        make_image(root / name, (64 + 16 * index, 48 + 8 * index), color)
    (root / "broken.png").write_bytes(b"this is not a PNG at all")
    return root


def open_dialog(app: DesktopApp, folder: Path, *, tokens: int = 4) -> BatchDialog:
    app.window.describe_folder_action.trigger()
    [dialog] = shown_dialogs(app, BatchDialog)
    dialog.folder_edit.setText(str(folder))
    dialog.max_tokens_spin.setValue(tokens)
    dialog.image_tokens_spin.setValue(16)
    return dialog


def wait_for_end(qtbot: QtBot, app: DesktopApp, timeout: int = 60_000) -> BatchSummary:
    qtbot.waitUntil(lambda: not app.batch.running, timeout=timeout)
    summary = app.batch.summary
    assert summary is not None
    return summary


def results_per_image(app: DesktopApp) -> Counter[tuple[str, str]]:
    """(image, status) -> how many result records the job's journal holds."""
    plan = app.batch.plan
    assert plan is not None
    records, _length = read_journal(default_jobs_dir() / plan.options.job_id() / "journal.jsonl")
    return Counter((r["image"], r["status"]) for r in records if r.get("kind") == "result")


def test_describe_a_folder_then_retry_the_failure(
    ready_app: DesktopApp, qtbot: QtBot, folder: Path
) -> None:
    app = ready_app
    window = app.window
    window.resize(1200, 800)
    dialog = open_dialog(app, folder)
    assert dialog.preset_combo.currentData() == "brief"
    assert "one or two sentences" in dialog.prompt_edit.toPlainText()
    dialog.outputs_box.extension_edit.setText(".caption")
    dialog.outputs_box.prefix_edit.setText("photo, ")
    for check in dialog.outputs_box.report_checks.values():
        check.setChecked(True)
    dialog.batch_size_spin.setValue(0)  # Auto
    assert dialog.batch_size_spin.text() == "Auto"

    # A bad extension is refused inside the dialog.
    dialog.outputs_box.extension_edit.setText(".png")
    dialog.start_button.click()
    assert dialog.isVisible()
    assert "image type" in dialog.error_label.text()
    dialog.outputs_box.extension_edit.setText(".caption")

    dialog.start_button.click()
    qtbot.waitUntil(lambda: not shown_dialogs(app, BatchDialog), timeout=2000)
    assert app.batch.running
    assert app.window.batch_dock.isVisible()
    toggle = app.window.batch_dock.toggleViewAction()
    assert toggle in window.view_menu.actions()
    assert toggle.isChecked()
    # The worker serves the batch only: asking is off, and the UI says why.
    panel = window.prompt_panel
    assert not panel.send_button.isEnabled()
    assert "busy describing a folder" in panel.send_button.toolTip()
    assert "busy describing a folder" in panel.prompt_edit.placeholderText()

    summary = wait_for_end(qtbot, app)
    assert not summary.cancelled
    assert (summary.total, summary.captioned, summary.failed) == (6, 5, 1)
    for name in GOOD:
        caption = (folder / name).with_suffix(".caption").read_text(encoding="utf-8")
        assert caption.startswith("photo, ")
    assert not (folder / "broken.caption").exists()
    for suffix in (".jsonl", ".csv", ".md"):
        assert (folder / f"vldesk-captions{suffix}").is_file()

    view = app.window.batch_view
    rows = view.failure_rows
    assert [image for image, _reason in rows] == ["broken.png"]
    assert rows[0][1]  # with its reason
    assert "Finished" in view.notice
    assert "1 failed" in view.notice
    assert view.retry_button.isEnabled()
    assert not view.pause_button.isEnabled()
    assert "Finished describing photos" in window.banner.text
    # The batch went to history as one entry (its folder), not one per caption.
    assert app.history.model.rowCount() == 1
    # Asking works again.
    assert panel.send_button.toolTip() == "Ask the question (Enter)"

    # Retry failed: the image was fixed meanwhile.
    make_image(folder / "broken.png", (80, 60))
    qtbot.mouseClick(view.retry_button, Qt.MouseButton.LeftButton)
    assert app.batch.running
    summary = wait_for_end(qtbot, app)
    assert (summary.captioned, summary.failed, summary.total) == (6, 0, 6)
    assert (folder / "broken.caption").is_file()
    assert view.failure_rows == []
    assert not view.retry_button.isEnabled()
    counts = results_per_image(app)
    assert counts[("broken.png", "failed")] == 1
    assert counts[("broken.png", "captioned")] == 1
    assert all(counts[(name, "captioned")] == 1 for name in GOOD)  # not captioned twice


def click_in_message_box(qtbot: QtBot, label: str, seen: list[str]) -> None:
    """Answer the next message box by clicking the button with ``label`` (once it shows)."""

    def answer() -> None:
        box = QApplication.activeModalWidget()
        if not isinstance(box, QMessageBox):
            QTimer.singleShot(20, answer)
            return
        seen.append(box.text() + "\n" + box.informativeText())
        for button in box.buttons():
            if button.text().replace("&", "") == label:
                button.click()
                return
        raise AssertionError(f"no button {label} in {[b.text() for b in box.buttons()]}")

    QTimer.singleShot(20, answer)


def long_captions(app: DesktopApp, monkeypatch: pytest.MonkeyPatch) -> None:
    """Captions that always run to their token limit, so a batch takes a while."""
    base = app.chat.generation_settings()
    long = GenerationSettings(**{**base.to_dict(), "ignore_eos": True})
    monkeypatch.setattr(app.chat, "generation_settings", lambda preset_tokens=None: long)


def test_pause_resume_cancel_then_resume_the_job(
    ready_app: DesktopApp,
    qtbot: QtBot,
    folder: Path,
    tiny_dir: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    app = ready_app
    window = app.window
    window.resize(1200, 800)
    long_captions(app, monkeypatch)
    dialog = open_dialog(app, folder, tokens=LONG_CAPTION)
    dialog.batch_size_spin.setValue(1)  # streams each caption
    events: list[BatchProgress] = []
    threads: list[QThread] = []
    app.batch.progress.connect(events.append)
    app.batch.progress.connect(lambda _event: threads.append(QThread.currentThread()))

    def done() -> int:
        return events[-1].done if events else 0

    dialog.start_button.click()
    view = app.window.batch_view
    qtbot.waitUntil(lambda: bool(view.caption_view.toPlainText()), timeout=30_000)
    # The viewer still opens images while captions stream (how long the GUI thread may stall
    # meanwhile is measured by benchmarks/gui_stall.py).
    app.open_paths([str(folder / "c.jpg")])
    qtbot.waitUntil(lambda: "c.jpg" in window.image_info.text(), timeout=10_000)
    assert window.viewer.has_image
    assert app.batch.running

    # Events reach the GUI thread (the controller's slots run there).
    assert all(thread is QThread.currentThread() for thread in threads)
    assert threads

    # Pause: nothing moves until Resume.
    qtbot.waitUntil(lambda: done() >= 1, timeout=30_000)
    qtbot.mouseClick(view.pause_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: app.batch.state is BatchState.PAUSED, timeout=30_000)
    paused_at = len(events)
    assert events[-1].kind is BatchEventKind.PAUSED
    assert "Paused" in view.stats_label.text()
    assert "paused" in app.window.batch_status.text()
    assert view.resume_button.isEnabled()
    assert not window.prompt_panel.send_button.isEnabled()  # the model stays reserved
    # While paused, images can still be viewed, and the model cannot be changed under the
    # batch (the app says why).
    app.open_paths([str(folder / "d.png")])
    qtbot.waitUntil(lambda: "d.png" in window.image_info.text(), timeout=10_000)
    assert not app.models.load_model(str(tiny_dir))
    assert "busy describing a folder" in window.banner.text
    qtbot.mouseClick(view.resume_button, Qt.MouseButton.LeftButton)
    assert app.batch.state is BatchState.RUNNING
    qtbot.waitUntil(lambda: len(events) > paused_at, timeout=30_000)
    assert events[paused_at].kind is BatchEventKind.RESUMED  # nothing came while paused
    assert events[paused_at].done == events[paused_at - 1].done
    qtbot.waitUntil(lambda: done() > events[paused_at - 1].done, timeout=30_000)

    # Cancel: what is done is kept.
    qtbot.mouseClick(view.cancel_button, Qt.MouseButton.LeftButton)
    summary = wait_for_end(qtbot, app)
    assert summary.cancelled
    assert summary.done < summary.total
    assert "Cancelled" in view.notice
    assert view.resume_button.isEnabled()
    done_before = {p.name for p in folder.glob("*.txt")}
    assert len(done_before) == summary.captioned

    # Describe Folder again with the same options: the dialog offers to resume.
    dialog = app.batch_panel.open_dialog()
    assert dialog is not None
    assert dialog.folder_edit.text() == str(folder)  # the last batch's options
    assert dialog.max_tokens_spin.value() == LONG_CAPTION
    seen: list[str] = []
    click_in_message_box(qtbot, "Resume", seen)
    dialog.start_button.click()
    assert seen
    assert f"{summary.done} images done" in seen[0]
    assert app.batch.plan is not None
    assert app.batch.plan.resume
    summary = wait_for_end(qtbot, app)
    assert not summary.cancelled
    assert (summary.captioned, summary.failed) == (5, 1)
    counts = results_per_image(app)
    assert all(counts[(name, "captioned")] == 1 for name in GOOD)  # none captioned twice
    # Each caption file holds exactly the one caption the journal recorded.
    plan = app.batch.plan
    assert plan is not None
    job_dir = default_jobs_dir() / plan.options.job_id()
    records, _length = read_journal(job_dir / "journal.jsonl")
    captions = {r["image"]: r["caption"] for r in records if r.get("status") == "captioned"}
    for name in GOOD:
        data = (folder / name).with_suffix(".txt").read_bytes()
        assert data == (captions[name] + "\n").encode("utf-8")


def test_closing_the_window_mid_batch_stops_it_resumably(
    ready_app: DesktopApp, qtbot: QtBot, folder: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = ready_app
    long_captions(app, monkeypatch)
    dialog = open_dialog(app, folder, tokens=LONG_CAPTION)
    dialog.batch_size_spin.setValue(1)
    dialog.start_button.click()
    qtbot.waitUntil(lambda: bool(app.window.batch_view.caption_view.toPlainText()), timeout=30_000)
    plan = app.batch.plan
    assert plan is not None
    app.window.close()
    # Closing cancelled the batch (at the next token) and waited for the worker to end.
    assert not app.inference.worker_thread.isRunning()
    job = find_job(plan.options)
    assert job is not None
    assert not job.finished  # Describe Folder offers to resume it next time


def test_progress_events_are_throttled_but_none_that_matter_is_lost() -> None:
    sent: list[BatchProgress] = []
    clock = ManualClock()
    throttle = ProgressThrottle(sent.append, clock)

    def event(kind: BatchEventKind, done: int) -> BatchProgress:
        return BatchProgress(kind, done=done, total=1000, captioned=0, failed=0, skipped=done)

    throttle(event(BatchEventKind.STARTED, 0))
    for done in range(1, 900):  # a burst of skipped images within one interval: held back
        throttle(event(BatchEventKind.IMAGE_SKIPPED, done))
    assert [e.done for e in sent] == [0]
    clock.advance(CHUNK_INTERVAL_S)  # the next one goes, and starts a new interval
    throttle(event(BatchEventKind.IMAGE_SKIPPED, 900))
    throttle(event(BatchEventKind.IMAGE_SKIPPED, 901))
    assert [e.done for e in sent] == [0, 900]
    # One that matters goes at once, after the latest held-back event.
    throttle(event(BatchEventKind.IMAGE_FAILED, 902))
    throttle(event(BatchEventKind.FINISHED, 1000))
    assert [(e.kind, e.done) for e in sent] == [
        (BatchEventKind.STARTED, 0),
        (BatchEventKind.IMAGE_SKIPPED, 900),
        (BatchEventKind.IMAGE_SKIPPED, 901),
        (BatchEventKind.IMAGE_FAILED, 902),
        (BatchEventKind.FINISHED, 1000),
    ]
    # The latest held-back event stands for the ones before it; the batch's end flushes it.
    throttle(event(BatchEventKind.CHECKPOINT, 998))
    throttle(event(BatchEventKind.CHECKPOINT, 999))
    assert len(sent) == 5
    throttle.flush()
    assert [(e.kind, e.done) for e in sent[5:]] == [(BatchEventKind.CHECKPOINT, 999)]


def test_a_folder_without_images_says_so_and_leaves_the_folder_panel(
    ready_app: DesktopApp, qtbot: QtBot, folder: Path, tmp_path: Path
) -> None:
    app = ready_app
    app.folder.open_folder(folder)
    qtbot.waitUntil(lambda: app.folder.model.rowCount() == 6, timeout=10_000)
    empty = tmp_path / "empty"
    empty.mkdir()
    (empty / "notes.txt").write_text("no pictures here", encoding="utf-8")
    open_dialog(app, empty).start_button.click()
    summary = wait_for_end(qtbot, app)
    assert summary.found_no_images
    # A warning that says why, not "Finished describing empty: 0 captioned, 0 failed".
    banner = app.window.banner
    assert "There are no images" in banner.text
    assert "Finished" not in banner.text
    assert banner.level is Level.WARNING
    assert app.folder.model.rowCount() == 6  # the panel still shows the folder it had
