"""Out of memory while answering: the app offers a smaller image budget and, on a GPU, the CPU;
retrying on the CPU reloads the model there and answers the same question."""

from __future__ import annotations

from pathlib import Path

from pytestqt.qtbot import QtBot

from tests.gui.conftest import (
    SAMPLING,
    AppFactory,
    EngineStandIn,
    make_image,
    open_image,
    wait_for_model,
)
from vldesk.core.inference.engine import LoadRequest
from vldesk.gui.app import DesktopApp
from vldesk.gui.widgets.message_banner import Level

QUESTION = "What is in the corner?"


class SmallGpuMachine:
    """An engine loader: a GPU too small for any question unless the CPU is asked for, where
    the model answers. Its lists are filled on the worker thread and read after the signal
    that follows."""

    def __init__(self) -> None:
        self.requests: list[LoadRequest] = []
        self.gpus: list[EngineStandIn] = []

    def __call__(self, request: LoadRequest) -> EngineStandIn:
        self.requests.append(request)
        if request.device == "cpu":
            return EngineStandIn(request, device="cpu")
        self.gpus.append(EngineStandIn(request, answer=None))
        return self.gpus[-1]


def ask_until_out_of_memory(qtbot: QtBot, app: DesktopApp, tmp_path: Path) -> None:
    open_image(qtbot, app, make_image(tmp_path / "photo.png"))
    assert app.chat.ask(QUESTION)
    banner = app.window.banner
    qtbot.waitUntil(lambda: banner.isVisible() and "Out of memory" in banner.text, timeout=10_000)
    qtbot.waitUntil(lambda: not app.session.busy, timeout=10_000)
    assert banner.level is Level.ERROR


def test_retry_on_the_cpu_after_running_out_of_memory_on_a_gpu(
    make_app: AppFactory, fake_model_dir: Path, qtbot: QtBot, tmp_path: Path
) -> None:
    machine = SmallGpuMachine()
    app = make_app(fake_model_dir, engine_loader=machine, max_image_tokens=256, **SAMPLING)
    wait_for_model(qtbot, app)
    assert "cuda:0" in app.window.status_panel.device_label.text()
    ask_until_out_of_memory(qtbot, app, tmp_path)
    buttons = {button.text(): button for button in app.window.banner.action_buttons}
    assert set(buttons) == {"Retry with 128 image tokens", "Retry on the CPU"}

    buttons["Retry on the CPU"].click()
    assert not app.window.banner.isVisible()
    qtbot.waitUntil(lambda: app.session.last_result is not None, timeout=60_000)
    assert [request.device for request in machine.requests] == ["auto", "cpu"]
    assert machine.gpus[0].unloaded
    assert machine.gpus[0].asked_with_budget == [(QUESTION, 256)]
    assert "cpu" in app.window.status_panel.device_label.text()
    # The same question was answered, once, on the CPU, and history holds it once.
    assert [e.question for e in app.window.answer_view.exchanges] == [QUESTION]
    assert [t.role for t in app.session.conversation.turns] == ["user", "assistant"]
    assert app.session.conversation.turns[0].text == QUESTION
    assert app.history.store is not None
    entry = app.history.store.get_conversation(app.session.history_id or -1)
    assert entry is not None
    assert [m.role for m in entry.messages] == ["user", "assistant"]
    assert entry.messages[0].text == QUESTION


def test_retry_with_a_smaller_image_budget_stays_on_the_gpu(
    make_app: AppFactory, fake_model_dir: Path, qtbot: QtBot, tmp_path: Path
) -> None:
    machine = SmallGpuMachine()
    app = make_app(fake_model_dir, engine_loader=machine, max_image_tokens=256, **SAMPLING)
    wait_for_model(qtbot, app)
    ask_until_out_of_memory(qtbot, app, tmp_path)
    buttons = {button.text(): button for button in app.window.banner.action_buttons}
    buttons["Retry with 128 image tokens"].click()
    qtbot.waitUntil(lambda: len(machine.gpus[0].asked_with_budget) == 2, timeout=10_000)
    assert machine.gpus[0].asked_with_budget == [(QUESTION, 256), (QUESTION, 128)]
    assert app.settings.max_image_tokens == 128  # remembered for the next questions
    # Out of memory again: the next offer halves the budget again.
    banner = app.window.banner
    qtbot.waitUntil(lambda: banner.isVisible() and "Out of memory" in banner.text, timeout=10_000)
    labels = [button.text() for button in banner.action_buttons]
    assert labels == ["Retry with 64 image tokens", "Retry on the CPU"]
    assert len(machine.requests) == 1  # no reload


def test_on_the_cpu_there_is_no_cpu_to_retry_on(
    make_app: AppFactory, fake_model_dir: Path, qtbot: QtBot, tmp_path: Path
) -> None:
    def small_cpu(request: LoadRequest) -> EngineStandIn:
        return EngineStandIn(request, device="cpu", answer=None)

    app = make_app(fake_model_dir, engine_loader=small_cpu, max_image_tokens=64, **SAMPLING)
    wait_for_model(qtbot, app)
    ask_until_out_of_memory(qtbot, app, tmp_path)
    # The budget is already the smallest a retry goes down to: nothing to offer but the text.
    assert app.window.banner.action_buttons == []
