"""Describe Folder → Run on servers: a batch through two real ``vldesk serve`` servers, with the
journal, caption files, reports, cancel and continue as on this computer."""

from __future__ import annotations

import logging
import os
import threading
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
from pytestqt.qtbot import QtBot

from tests.core.inference.remote.servers import MODEL, shade_answer, shade_image, slow_engine
from tests.gui.conftest import AppFactory, make_image, open_image, shown_dialogs
from tests.gui.test_batch import results_per_image, wait_for_end
from tests.helpers.fake_engine import FakeEngine
from tests.server.conftest import StartServer, start_server
from vldesk.core.batch import BatchEventKind
from vldesk.core.batch.journal import default_jobs_dir, read_journal
from vldesk.core.inference.remote.saved import SavedServers
from vldesk.core.paths import app_paths
from vldesk.gui.app import DesktopApp
from vldesk.gui.controllers.batch import BatchState
from vldesk.gui.dialogs.batch_dialog import BatchDialog

__all__ = ["start_server"]

KEY = "sk-batch-0123456789-secret"
SHADES = range(1, 9)


@pytest.fixture
def shades(tmp_path: Path) -> Path:
    """Eight images whose grey level names them, and one broken file."""
    root = tmp_path / "shades"
    root.mkdir()
    for shade in SHADES:
        shade_image(root / f"s{shade}.png", shade)
    (root / "broken.png").write_bytes(b"not an image")
    return root


@pytest.fixture
def release() -> Iterator[threading.Event]:
    """Set to let :func:`held_engine`'s answers go; set after the test in any case (a server
    still holding answers would not stop)."""
    event = threading.Event()
    yield event
    event.set()


def held_engine(release: threading.Event) -> FakeEngine:
    """Names each image's shade, but only once ``release`` is set: until then a batch on its
    server cannot end (a busy GPU box, captioning for hours)."""
    return FakeEngine(name=MODEL, answer=shade_answer, before_word=lambda index: release.wait(60))


def servers_dialog(app: DesktopApp, folder: Path, urls: list[str], concurrency: int) -> BatchDialog:
    app.window.describe_folder_action.trigger()
    [dialog] = shown_dialogs(app, BatchDialog)
    dialog.folder_edit.setText(str(folder))
    dialog.outputs_box.report_checks["jsonl"].setChecked(True)
    run_on = dialog.run_on
    assert run_on is not None
    assert run_on.local_radio.isChecked()  # a local model is loaded: it is the default
    run_on.servers_radio.setChecked(True)
    run_on.servers_edit.setPlainText("\n".join(urls))
    run_on.key_edit.setText(KEY)
    run_on.concurrency_spin.setValue(concurrency)
    return dialog


def local_engine(app: DesktopApp) -> FakeEngine:
    engine = app.inference.worker._engine
    assert isinstance(engine, FakeEngine)
    return engine


def test_a_folder_is_described_through_two_servers(
    fake_app: DesktopApp,
    start_server: StartServer,
    qtbot: QtBot,
    shades: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    app = fake_app
    engines = [slow_engine(0.01), slow_engine(0.01)]
    urls = [start_server(engine, api_key=KEY).url + "/v1" for engine in engines]
    dialog = servers_dialog(app, shades, urls, concurrency=2)
    dialog.start_button.click()  # checks the servers for their model first, then starts
    qtbot.waitUntil(lambda: not shown_dialogs(app, BatchDialog), timeout=20_000)
    plan = app.batch.plan
    assert plan is not None
    assert plan.servers is not None
    assert plan.options.model == MODEL  # the job is named after the served model

    summary = wait_for_end(qtbot, app)
    assert (summary.total, summary.captioned, summary.failed) == (9, 8, 1)
    for shade in SHADES:
        assert (shades / f"s{shade}.txt").read_text(encoding="utf-8").strip() == f"shade {shade}"
    assert (shades / "vldesk-captions.jsonl").is_file()
    # Both servers answered, every image once; the local model was asked nothing.
    asked = [len(engine.asked) for engine in engines]
    assert sum(asked) == len(SHADES)
    assert min(asked) >= 1
    assert local_engine(app).asked == []
    assert all(count == 1 for count in results_per_image(app).values())
    # The local model is still loaded for chat afterwards.
    assert app.session.model_name is not None
    assert app.models.server is None
    # The servers are remembered for the next batch; the key is in no file.
    assert SavedServers(app_paths().config_dir).batch_servers() == urls
    for root in (Path(os.environ["VLDESK_HOME"]), shades):
        for path in root.rglob("*"):
            if path.is_file():
                assert KEY.encode() not in path.read_bytes(), path
    assert all(KEY not in record.getMessage() for record in caplog.records)


def test_a_server_batch_cancels_and_continues_without_asking_twice(
    fake_app: DesktopApp, start_server: StartServer, qtbot: QtBot, shades: Path
) -> None:
    app = fake_app
    engine = slow_engine(0.1)
    url = start_server(engine, api_key=KEY).url + "/v1"
    dialog = servers_dialog(app, shades, [url], concurrency=0)  # Auto: probed
    assert dialog.run_on is not None
    assert dialog.run_on.concurrency_spin.text() == "Auto"
    seen: list[BatchEventKind] = []
    app.batch.progress.connect(lambda event: seen.append(event.kind))
    dialog.start_button.click()
    qtbot.waitUntil(lambda: BatchEventKind.IMAGE_DONE in seen, timeout=30_000)
    app.batch.cancel()
    summary = wait_for_end(qtbot, app)
    assert summary.cancelled
    assert summary.captioned < len(SHADES)

    app.window.batch_view.resume_requested.emit()  # Continue, as its button does
    assert app.batch.running
    summary = wait_for_end(qtbot, app)
    assert not summary.cancelled
    counts = results_per_image(app)
    assert Counter(status for (_image, status) in counts.elements()) == Counter(
        {"captioned": len(SHADES), "failed": 1}
    )
    for shade in SHADES:
        assert (shades / f"s{shade}.txt").read_text(encoding="utf-8").strip() == f"shade {shade}"


def test_unchecked_or_bad_servers_are_said_in_the_dialog(
    fake_app: DesktopApp, qtbot: QtBot, shades: Path
) -> None:
    dialog = servers_dialog(fake_app, shades, ["ftp://nowhere"], concurrency=1)
    dialog.start_button.click()
    assert dialog.isVisible()
    assert dialog.run_on is not None
    assert "not an http:// or https:// URL" in dialog.run_on.status_label.text()
    dialog.run_on.servers_edit.setPlainText("http://127.0.0.1:9/v1")
    dialog.start_button.click()
    qtbot.waitUntil(
        lambda: (
            "did not answer" in dialog.run_on.status_label.text()  # type: ignore[union-attr]
            and dialog.run_on.check_button.isEnabled()
        ),  # type: ignore[union-attr]
        timeout=20_000,
    )
    assert dialog.isVisible()  # nothing to run on: no batch
    assert not fake_app.batch.running
    dialog.run_on.servers_edit.setPlainText("http://192.0.2.9:8000/v1")
    assert "Plain http://" in dialog.run_on.status_label.text()
    dialog.reject()


def test_without_a_local_model_a_folder_runs_on_servers(
    make_app: AppFactory, start_server: StartServer, qtbot: QtBot, shades: Path
) -> None:
    app = make_app()  # no model is installed
    assert app.models.info is None
    engine = slow_engine(0.0)
    url = start_server(engine).url + "/v1"
    app.window.describe_folder_action.trigger()
    [dialog] = shown_dialogs(app, BatchDialog)
    run_on = dialog.run_on
    assert run_on is not None
    assert not run_on.local_radio.isEnabled()
    assert run_on.servers_radio.isChecked()
    dialog.folder_edit.setText(str(shades))
    run_on.servers_edit.setPlainText(url)
    run_on.concurrency_spin.setValue(2)
    dialog.start_button.click()
    qtbot.waitUntil(lambda: not shown_dialogs(app, BatchDialog), timeout=20_000)
    summary = wait_for_end(qtbot, app)
    assert (summary.captioned, summary.failed) == (len(SHADES), 1)
    assert len(engine.asked) == len(SHADES)


def test_a_bad_port_among_the_servers_is_said_without_the_key(
    fake_app: DesktopApp, qtbot: QtBot, shades: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    dialog = servers_dialog(fake_app, shades, [], concurrency=1)
    assert dialog.run_on is not None
    qtbot.keyClicks(dialog.run_on.servers_edit, "http://gpu1:sk-live-SECRET")
    dialog.start_button.click()
    assert dialog.isVisible()
    assert "not valid" in dialog.run_on.status_label.text()
    assert "SECRET" not in dialog.run_on.status_label.text() + caplog.text
    assert not fake_app.batch.running
    dialog.reject()


def test_cancel_works_while_the_servers_are_probed(
    fake_app: DesktopApp, qtbot: QtBot, shades: Path
) -> None:
    import threading

    from tests.core.inference.remote.servers import completion, stand_in

    release = threading.Event()

    def held(count: int) -> tuple[int, dict[str, str], bytes]:
        release.wait(30)  # the probe's first request hangs: a busy or stuck server
        return 200, {"Content-Type": "application/json"}, completion("ok")

    with stand_in(held) as server:
        try:
            dialog = servers_dialog(fake_app, shades, [server.url], concurrency=0)  # Auto
            dialog.start_button.click()
            qtbot.waitUntil(lambda: server.chats >= 1, timeout=20_000)  # probing
            fake_app.batch.cancel()
            summary = wait_for_end(qtbot, fake_app, timeout=15_000)
            assert not release.is_set()  # it ended while the probe's request was still out
            assert summary.captioned == 0
        finally:
            release.set()


def test_chat_and_the_api_are_answered_while_a_server_batch_runs(
    fake_app: DesktopApp,
    start_server: StartServer,
    qtbot: QtBot,
    shades: Path,
    tmp_path: Path,
    release: threading.Event,
) -> None:
    app = fake_app
    engine = held_engine(release)
    url = start_server(engine).url + "/v1"
    open_image(qtbot, app, make_image(tmp_path / "photos" / "red.png"))
    servers_dialog(app, shades, [url], concurrency=2).start_button.click()
    qtbot.waitUntil(lambda: bool(engine.asked), timeout=30_000)  # the server holds them
    assert app.batch.running
    assert not app.batch.holds_model

    # The question goes to the local model through the prompt box, as typed.
    panel = app.window.prompt_panel
    assert "busy" not in panel.prompt_edit.placeholderText()
    qtbot.keyClicks(panel.prompt_edit, "What is this?")
    assert panel.send_button.isEnabled()
    with qtbot.waitSignal(app.session.answer_finished, timeout=30_000) as answered:
        panel.send_button.click()
    assert answered.args[0].text == "A red square."
    # Serve on This Computer's requests take the same path to the local model.
    future = app.inference.call_engine(lambda local: None if local is None else local.name)
    assert future.result(timeout=30) == local_engine(app).name
    assert app.batch.running  # all of it happened while the batch waited for its server
    assert not release.is_set()
    # Still one batch at a time: Describe Folder shows the running one.
    assert app.batch_panel.open_dialog() is None
    assert app.window.batch_dock.isVisible()

    release.set()
    summary = wait_for_end(qtbot, app)
    assert (summary.captioned, summary.failed) == (len(SHADES), 1)
    assert all(count == 1 for count in results_per_image(app).values())
    # The local model saw the photo (read ahead while typing, then asked), no batch image.
    sources = {image.source for c in local_engine(app).asked for image in c.images}
    assert sources == {str(tmp_path / "photos" / "red.png")}


def test_the_local_model_changes_while_a_server_batch_runs(
    fake_app: DesktopApp,
    start_server: StartServer,
    qtbot: QtBot,
    shades: Path,
    release: threading.Event,
) -> None:
    app = fake_app
    engine = held_engine(release)
    url = start_server(engine).url + "/v1"
    servers_dialog(app, shades, [url], concurrency=2).start_button.click()
    qtbot.waitUntil(lambda: bool(engine.asked), timeout=30_000)
    first = local_engine(app)

    app.window.unload_model_action.trigger()  # not refused as "busy describing a folder"
    qtbot.waitUntil(lambda: app.session.model_name is None, timeout=30_000)
    assert first.unloaded
    app.models.reload()
    qtbot.waitUntil(lambda: app.session.model_name is not None, timeout=30_000)
    assert local_engine(app) is not first
    assert app.batch.running

    release.set()
    summary = wait_for_end(qtbot, app)
    assert (summary.captioned, summary.failed) == (len(SHADES), 1)
    for shade in SHADES:
        assert (shades / f"s{shade}.txt").read_text(encoding="utf-8").strip() == f"shade {shade}"


def test_a_server_batch_pauses_and_resumes_while_chat_goes_on(
    fake_app: DesktopApp,
    start_server: StartServer,
    qtbot: QtBot,
    shades: Path,
    tmp_path: Path,
    release: threading.Event,
) -> None:
    app = fake_app
    engine = held_engine(release)
    url = start_server(engine).url + "/v1"
    open_image(qtbot, app, make_image(tmp_path / "photos" / "red.png"))
    servers_dialog(app, shades, [url], concurrency=1).start_button.click()  # one at a time
    qtbot.waitUntil(lambda: bool(engine.asked), timeout=30_000)
    app.window.batch_view.pause_requested.emit()  # Pause, as its button does
    assert app.batch.state is BatchState.PAUSING
    release.set()  # the caption under way streams its first word, and the batch holds there
    qtbot.waitUntil(lambda: app.batch.state is BatchState.PAUSED, timeout=30_000)
    asked = len(engine.asked)

    with qtbot.waitSignal(app.session.answer_finished, timeout=30_000):
        assert app.chat.ask("And now?")
    assert app.batch.state is BatchState.PAUSED
    assert len(engine.asked) == asked  # nothing more went to the server while paused

    app.window.batch_view.resume_requested.emit()  # Resume, as its button does
    summary = wait_for_end(qtbot, app)
    assert not summary.cancelled
    assert (summary.captioned, summary.failed) == (len(SHADES), 1)
    assert all(count == 1 for count in results_per_image(app).values())


def test_quitting_mid_server_batch_does_not_wait_for_the_servers(
    fake_app: DesktopApp,
    start_server: StartServer,
    qtbot: QtBot,
    shades: Path,
    release: threading.Event,
) -> None:
    app = fake_app
    engine = slow_engine(0.0)
    held = held_engine(release)
    urls = [start_server(engine).url + "/v1", start_server(held).url + "/v1"]
    servers_dialog(app, shades, urls, concurrency=1).start_button.click()
    qtbot.waitUntil(lambda: bool(held.asked) and bool(engine.asked), timeout=30_000)
    plan = app.batch.plan
    assert plan is not None

    app.window.close()  # as quitting does: the batch is cancelled, its job closed
    assert not app.batch._servers.busy  # its thread ended; it was not left behind
    assert not release.is_set()  # the held answer never came

    # The journal is whole and resumable: at most one result per image, none twice.
    records, _length = read_journal(default_jobs_dir() / plan.options.job_id() / "journal.jsonl")
    results = Counter(r["image"] for r in records if r.get("kind") == "result")
    assert all(count == 1 for count in results.values())
    assert len(results) < len(SHADES) + 1
