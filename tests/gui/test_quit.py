"""Closing the window: prompt when idle (no bounded wait runs out), restart on request."""

from __future__ import annotations

import logging
import sys

import pytest
from pytestqt.qtbot import QtBot

from tests.gui.conftest import AppFactory
from vldesk.gui import launch, restart
from vldesk.gui.app import DesktopApp
from vldesk.gui.workers import background, inference
from vldesk.gui.workers.inference_client import InferenceClient


def test_closing_an_idle_window_runs_out_no_wait_and_collects_no_garbage(
    fake_app: DesktopApp, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each step of closing waits a bounded time; idle, every one ends before its bound, and
    the model is let go without the collector runs that kept the window up for seconds."""
    runner_results: list[bool] = []
    thread_results: list[bool] = []
    collections: list[int] = []
    runner_shut_down = background.BackgroundRunner.shut_down
    wait_until_stopped = InferenceClient.wait_until_stopped

    def spy_runner(self: background.BackgroundRunner, *args: object, **kwargs: object) -> bool:
        result = runner_shut_down(self, *args, **kwargs)  # type: ignore[arg-type]
        runner_results.append(result)
        return result

    def spy_thread(self: InferenceClient, timeout_ms: int | None = None) -> bool:
        result = wait_until_stopped(self, timeout_ms)
        thread_results.append(result)
        return result

    monkeypatch.setattr(background.BackgroundRunner, "shut_down", spy_runner)
    monkeypatch.setattr(InferenceClient, "wait_until_stopped", spy_thread)
    monkeypatch.setattr(inference.gc, "collect", lambda *args: collections.append(1) or 0)
    assert fake_app.window.close()
    assert thread_results == [True]
    assert len(runner_results) >= 2  # the downloads' and the image decoders'
    assert all(runner_results)
    assert collections == []
    assert not fake_app.inference.worker_thread.isRunning()


def test_the_process_ends_without_teardown_once_everything_is_saved(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    ended: list[int] = []
    flushed: list[bool] = []
    monkeypatch.setattr(logging, "shutdown", lambda: flushed.append(True))

    def fake_exit(code: int) -> None:
        ended.append(code)
        raise SystemExit(code)

    monkeypatch.setattr(launch.os, "_exit", fake_exit)
    with pytest.raises(SystemExit):
        launch.end_process(3)
    assert ended == [3]
    assert flushed == [True]


def test_restart_now_after_changing_the_language_closes_and_asks_for_a_restart(
    make_app: AppFactory, qtbot: QtBot
) -> None:
    app = make_app(start=False)
    app.apply_settings(app.settings.replace(ui_language="zh"))
    [button] = app.window.banner.action_buttons
    assert button.text() == "Restart now"
    button.click()
    assert app.restart_requested
    assert not app.window.isVisible()
    assert not app.inference.worker_thread.isRunning()


def test_the_restart_repeats_the_command_line(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "orig_argv", ["/usr/bin/python3", "-m", "vldesk", "a.png"])
    assert restart.restart_command() == (sys.executable, ["-m", "vldesk", "a.png"])
    monkeypatch.setattr(sys, "frozen", True, raising=False)
    monkeypatch.setattr(sys, "argv", ["/opt/vldesk/vldesk", "b.png"])
    assert restart.restart_command() == (sys.executable, ["b.png"])


def test_a_restart_starts_the_same_command_detached(monkeypatch: pytest.MonkeyPatch) -> None:
    started: list[tuple[str, list[str]]] = []

    def start_detached(program: str, arguments: list[str]) -> tuple[bool, int]:
        started.append((program, arguments))
        return True, 42

    monkeypatch.setattr(restart, "restart_command", lambda: ("/bin/prog", ["x"]))
    monkeypatch.setattr(restart.QProcess, "startDetached", staticmethod(start_detached))
    assert restart.start_again()
    assert started == [("/bin/prog", ["x"])]
