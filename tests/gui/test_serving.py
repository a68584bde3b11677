"""Model → Serve on This Computer…: the app's own model answers the ``openai`` client, taking
turns with the window's questions; no key, no model, stopping and quitting."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import openai
import pytest
from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from tests.gui.conftest import AppFactory, make_image, open_image, wait_for_model, wait_idle
from tests.helpers.fake_engine import FakeEngine, FakeEngineLoader
from tests.server.conftest import data_url
from vldesk.gui.app import DesktopApp
from vldesk.gui.dialogs.serve_dialog import ServeDialog
from vldesk.server.runner import Server


def answer_words(conversation: object) -> str:
    """Twelve words naming the question: long enough to be cut when stopped."""
    question = conversation.turns[-1].text  # type: ignore[attr-defined]
    return " ".join([question, *(f"w{i}" for i in range(11))])


def serve_app(
    make_app: AppFactory,
    model_dir: Path,
    qtbot: QtBot,
    engine: FakeEngine | None,
    **settings: object,
) -> tuple[DesktopApp, ServeDialog]:
    """An app with ``engine`` loaded (``None``: a new FakeEngine at each load), serving on
    127.0.0.1 (a free port) from the dialog."""
    loader = FakeEngineLoader(make=None if engine is None else (lambda request: engine))
    app = make_app(model_dir, engine_loader=loader, **settings)
    wait_for_model(qtbot, app)
    app.window.serve_action.trigger()
    dialog = app.serving.dialog
    assert dialog is not None
    assert dialog.isVisible()
    dialog.port_box.setValue(0)  # "Any free port"
    qtbot.mouseClick(dialog.start_button, Qt.MouseButton.LeftButton)
    assert app.serving.server is not None, dialog.error_label.text()
    return app, dialog


def server_of(app: DesktopApp) -> Server:
    server = app.serving.server
    assert server is not None
    return server


#: The clients a test made: closed after it, so no socket is left for the garbage collector.
_clients: list[openai.OpenAI] = []


@pytest.fixture(autouse=True)
def _close_clients() -> Iterator[None]:
    yield
    while _clients:
        _clients.pop().close()


def client(app: DesktopApp, key: str = "unused") -> openai.OpenAI:
    made = openai.OpenAI(
        base_url=f"{server_of(app).url}/v1", api_key=key, max_retries=0, timeout=60
    )
    _clients.append(made)
    return made


def ask(text: str) -> list[dict[str, object]]:
    return [{"role": "user", "content": text}]


def in_thread(work: Callable[[], object]) -> tuple[threading.Thread, list[object]]:
    """Run ``work`` on a thread (the GUI thread must stay free); its result or error lands in
    the list."""
    out: list[object] = []

    def run() -> None:
        try:
            out.append(work())
        except Exception as exc:  # the test looks at it
            out.append(exc)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread, out


def test_the_dialog_serves_the_apps_loaded_model_to_the_openai_client(
    make_app: AppFactory, fake_model_dir: Path, qtbot: QtBot, tmp_path: Path
) -> None:
    engine = FakeEngine(name="shared-model")
    app, dialog = serve_app(make_app, fake_model_dir, qtbot, engine)
    url = server_of(app).url
    assert url.startswith("http://127.0.0.1:")
    assert url in dialog.status_label.text()
    assert app.serving.status_button.isVisible()
    assert app.serving.status_button.text() == "Serving"

    api = client(app)
    assert [model.id for model in api.models.list()] == ["shared-model"]
    reply = api.chat.completions.create(model="shared-model", messages=ask("what is this"))
    assert reply.choices[0].message.content == "what is this | no image"
    # The app's one model, on the app's one inference thread.
    assert app.serving.server is not None
    assert len(engine.threads) == 1
    assert threading.get_ident() not in engine.threads

    # The window's own questions are answered by the same engine on the same thread.
    open_image(qtbot, app, make_image(tmp_path / "photo.png"))
    assert app.chat.ask("and in the window?")
    wait_idle(qtbot, app)
    assert [c.turns[-1].text for c in engine.asked] == ["what is this", "and in the window?"]
    assert len(engine.threads) == 1


def test_a_window_question_waits_for_one_api_answer_not_the_whole_backlog(
    make_app: AppFactory, fake_model_dir: Path, qtbot: QtBot, tmp_path: Path
) -> None:
    first_word = threading.Event()
    release = threading.Event()
    calls = {"words": 0}

    def hold_the_first_answer(index: int) -> None:
        calls["words"] += 1
        if calls["words"] == 1:
            first_word.set()
            release.wait(60)

    # One answer per call: no batching, so each API request is its own turn.
    engine = FakeEngine(max_batch=1, before_word=hold_the_first_answer)
    app, _dialog = serve_app(make_app, fake_model_dir, qtbot, engine)
    open_image(qtbot, app, make_image(tmp_path / "photo.png"))
    api = client(app)

    def request(text: str) -> Callable[[], object]:
        return lambda: api.chat.completions.create(model="", messages=ask(text))

    threads = [in_thread(request("api 0"))]
    qtbot.waitUntil(first_word.is_set, timeout=30_000)
    for number in range(1, 5):
        threads.append(in_thread(request(f"api {number}")))
    scheduler = server_of(app).scheduler
    qtbot.waitUntil(lambda: scheduler.in_flight() == 5, timeout=30_000)
    app.serving.refresh_status()
    assert app.serving.status_button.text() == "Serving · 5 in flight"

    assert app.chat.ask("gui question")
    release.set()
    wait_idle(qtbot, app)
    for thread, _out in threads:
        thread.join(60)
    assert all(not isinstance(out[0], Exception) for _thread, out in threads)

    order = [conversation.turns[-1].text for conversation in engine.asked]
    # The window's question came right after the answer under way, before the 4 waiting.
    assert order[:2] == ["api 0", "gui question"]
    assert sorted(order[2:]) == ["api 1", "api 2", "api 3", "api 4"]
    qtbot.waitUntil(lambda: scheduler.in_flight() == 0, timeout=10_000)
    app.serving.refresh_status()
    assert app.serving.status_button.text() == "Serving"


def test_api_requests_take_turns_with_window_questions_round_robin(
    make_app: AppFactory, fake_model_dir: Path, qtbot: QtBot, tmp_path: Path
) -> None:
    """Two window questions asked while API requests wait each get the next turn."""
    started = threading.Semaphore(0)
    gates = [threading.Event() for _ in range(8)]
    calls = {"answers": 0}

    def hold_each_answer(index: int) -> None:
        if index == 0:
            number = calls["answers"]
            calls["answers"] += 1
            started.release()
            gates[number].wait(60)

    engine = FakeEngine(max_batch=1, before_word=hold_each_answer)
    app, _dialog = serve_app(make_app, fake_model_dir, qtbot, engine)
    open_image(qtbot, app, make_image(tmp_path / "photo.png"))
    api = client(app)
    threads = [
        in_thread(lambda n=n: api.chat.completions.create(model="", messages=ask(f"api {n}")))
        for n in range(3)
    ]
    qtbot.waitUntil(lambda: server_of(app).scheduler.in_flight() == 3, timeout=30_000)
    assert started.acquire(timeout=30)
    assert app.chat.ask("gui 1")  # waits behind the API answer under way
    gates[0].set()
    assert started.acquire(timeout=30)  # the window's question is being answered
    gates[1].set()
    wait_idle(qtbot, app)
    assert started.acquire(timeout=30)  # the next API request
    assert app.chat.ask("gui 2")
    for gate in gates[2:]:
        gate.set()
    wait_idle(qtbot, app)
    for thread, _out in threads:
        thread.join(60)
    order = [conversation.turns[-1].text for conversation in engine.asked]
    assert [text.split()[0] for text in order] == ["api", "gui", "api", "gui", "api"]


def test_listening_beyond_this_computer_needs_a_key(
    make_app: AppFactory, fake_model_dir: Path, qtbot: QtBot
) -> None:
    app = make_app(fake_model_dir, engine_loader=FakeEngineLoader())
    dialog = app.serving.open_dialog()
    dialog.host_box.setCurrentText("0.0.0.0")
    assert len(dialog.api_key()) >= 32  # one was made for it
    dialog.key_edit.clear()
    qtbot.mouseClick(dialog.start_button, Qt.MouseButton.LeftButton)
    assert app.serving.server is None
    assert dialog.error_label.isVisible()
    assert "API key" in dialog.error_label.text()
    assert not app.serving.status_button.isVisible()


def test_with_a_key_other_addresses_are_shown_with_the_phone_url(qtbot: QtBot) -> None:
    from vldesk.server.addresses import addresses_for

    dialog = ServeDialog("192.168.1.20")
    qtbot.addWidget(dialog)
    dialog.show_serving(addresses_for("0.0.0.0", 8765, lan="192.168.1.20"), has_key=True)
    text = dialog.status_label.text()
    assert "http://127.0.0.1:8765" in text
    assert "http://192.168.1.20:8765/" in text
    assert "Bearer" in text


def test_without_a_model_the_server_answers_503_and_follows_unload_and_reload(
    make_app: AppFactory, fake_model_dir: Path, qtbot: QtBot
) -> None:
    app, _dialog = serve_app(make_app, fake_model_dir, qtbot, None)
    api = client(app)
    assert api.chat.completions.create(model="", messages=ask("hello")).choices
    with qtbot.waitSignal(app.inference.model_unloaded, timeout=10_000):
        app.models.unload_model()
    with pytest.raises(openai.APIStatusError) as refused:
        api.chat.completions.create(model="", messages=ask("hello"))
    assert refused.value.status_code == 503
    assert "No model is loaded" in refused.value.message
    assert api.models.list().data == []

    with qtbot.waitSignal(app.inference.model_loaded, timeout=10_000):
        app.models.reload()
    reply = api.chat.completions.create(model="", messages=ask("back again"))
    assert reply.choices[0].message.content == "back again | no image"


def test_a_server_started_before_any_model_answers_503(make_app: AppFactory, qtbot: QtBot) -> None:
    app = make_app(start=False)
    assert app.serving.start("127.0.0.1", 0, "")
    response = httpx.post(
        f"{server_of(app).url}/v1/chat/completions",
        json={"model": "", "messages": ask("anyone there?")},
    )
    assert response.status_code == 503
    assert response.headers["Retry-After"]


def slow_engine() -> FakeEngine:
    return FakeEngine(answer=answer_words, before_word=lambda index: time.sleep(0.2))


def test_stopping_cancels_the_answer_under_way_and_answers_the_waiting(
    make_app: AppFactory, fake_model_dir: Path, qtbot: QtBot
) -> None:
    engine = slow_engine()
    app, dialog = serve_app(make_app, fake_model_dir, qtbot, engine)
    server = server_of(app)
    api = client(app)
    running = in_thread(lambda: api.chat.completions.create(model="", messages=ask("first")))
    qtbot.waitUntil(lambda: len(engine.asked) == 1, timeout=30_000)
    stream = api.chat.completions.create(model="", messages=ask("second"), stream=True)
    waiting = in_thread(lambda: [chunk for chunk in stream])
    qtbot.waitUntil(lambda: server.scheduler.in_flight() == 2, timeout=30_000)

    qtbot.mouseClick(dialog.start_button, Qt.MouseButton.LeftButton)  # now "Stop"
    assert app.serving.server is None
    assert not server.running
    assert not app.serving.status_button.isVisible()
    assert dialog.start_button.text().replace("&", "") == "Start"
    for thread, _out in (running, waiting):
        thread.join(30)
        assert not thread.is_alive()
    # The answer under way stopped early; the waiting one never reached the model.
    assert [c.turns[-1].text for c in engine.asked] == ["first"]
    assert len(engine.threads) == 1
    # The app's model stays loaded: the window can still ask.
    assert app.session.model_name is not None
    assert not engine.unloaded


def test_quitting_the_app_stops_the_server(
    make_app: AppFactory, fake_model_dir: Path, qtbot: QtBot
) -> None:
    engine = slow_engine()
    app, _dialog = serve_app(make_app, fake_model_dir, qtbot, engine)
    server = server_of(app)
    api = client(app)
    running = in_thread(lambda: api.chat.completions.create(model="", messages=ask("first")))
    qtbot.waitUntil(lambda: len(engine.asked) == 1, timeout=30_000)
    app.window.close()
    assert not server.running
    assert not app.inference.worker_thread.isRunning()
    running[0].join(30)
    assert not running[0].is_alive()
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"{server.url}/v1/models")


def test_the_web_page_follows_the_preset_language(
    make_app: AppFactory, fake_model_dir: Path, qtbot: QtBot
) -> None:
    app, _dialog = serve_app(make_app, fake_model_dir, qtbot, FakeEngine(), preset_language="zh")
    page = httpx.get(f"{server_of(app).url}/").text
    assert "简要描述" in page
    assert "用一两句话描述这张图片。" in page
    assert "Describe briefly" not in page


def test_a_port_in_use_is_refused_with_a_clear_message(
    make_app: AppFactory, fake_model_dir: Path, qtbot: QtBot
) -> None:
    app = make_app(fake_model_dir, engine_loader=FakeEngineLoader())
    taken = socket.socket()
    taken.bind(("127.0.0.1", 0))
    taken.listen(1)
    try:
        dialog = app.serving.open_dialog()
        dialog.port_box.setValue(taken.getsockname()[1])
        qtbot.mouseClick(dialog.start_button, Qt.MouseButton.LeftButton)
        assert app.serving.server is None
        assert dialog.error_label.text().startswith("Cannot listen on 127.0.0.1:")
        assert dialog.start_button.text().replace("&", "") == "Start"
    finally:
        taken.close()


def test_the_tiny_model_loaded_in_the_app_answers_api_requests_alone_and_together(
    ready_app: DesktopApp, qtbot: QtBot
) -> None:
    app = ready_app
    app.window.serve_action.trigger()
    assert app.serving.start("127.0.0.1", 0, "")
    api = client(app)
    image = {"type": "image_url", "image_url": {"url": data_url()}}
    messages = [{"role": "user", "content": [{"type": "text", "text": "What is it?"}, image]}]
    reply = api.chat.completions.create(model="", messages=messages, max_tokens=4)
    assert reply.usage is not None
    assert 0 < reply.usage.completion_tokens <= 4
    assert reply.model == app.session.model_name
    # Two at once: unstreamed requests that wait together may share one batch call.
    both = [
        in_thread(lambda: api.chat.completions.create(model="", messages=messages, max_tokens=4))
        for _ in range(2)
    ]
    for thread, out in both:
        thread.join(120)
        assert not isinstance(out[0], Exception)
