"""One app per user: a second launch hands its files over and exits; one process remains."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from PySide6.QtNetwork import QLocalSocket
from pytestqt.qtbot import QtBot

from tests.gui.conftest import OFFSCREEN_NOISE, AppFactory, make_image
from tests.helpers import PROJECT_ROOT
from vldesk.core.paths import app_paths
from vldesk.gui.launch import bring_forward
from vldesk.gui.single_instance import HandOver, InstanceServer, hand_over, server_name

HAND_OVER = (
    "import sys; from vldesk.gui.single_instance import hand_over;"
    "print(hand_over(sys.argv[1], sys.argv[2:]).name)"
)


def _hand_over_from_another_process(name: str, *paths: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-c", HAND_OVER, name, *paths],
        cwd=PROJECT_ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )


# Offscreen Qt cannot raise a window; a real desktop does.
@pytest.mark.qt_log_ignore(OFFSCREEN_NOISE, "This plugin does not support raise")
def test_files_handed_over_open_in_the_running_window(
    qtbot: QtBot, make_app: AppFactory, tmp_path: Path
) -> None:
    app = make_app()
    picture = make_image(tmp_path / "from-the-second-launch.png")
    server = InstanceServer(server_name(app_paths().data_dir))
    assert server.listen()
    server.paths_received.connect(lambda paths: bring_forward(app, paths))
    try:
        with qtbot.waitSignal(server.paths_received, timeout=20_000) as received:
            second = _hand_over_from_another_process(server.name, str(picture))
        assert received.args == [[str(picture)]]
        qtbot.waitUntil(lambda: "from-the-second-launch.png" in app.window.windowTitle())
        stdout, _ = second.communicate(timeout=30)
        assert stdout.strip() == HandOver.DELIVERED.name
    finally:
        server.close()


def test_no_app_listening_means_this_launch_is_the_app(tmp_path: Path) -> None:
    assert hand_over(str(tmp_path / "nobody.sock"), ["a.png"], timeout_ms=500) is HandOver.NO_APP


def test_a_socket_left_by_a_crashed_app_is_replaced(qtbot: QtBot, tmp_path: Path) -> None:
    name = str(tmp_path / "stale.sock")
    # A killed app leaves its socket file behind with nobody listening on it.
    crashed = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    crashed.bind(name)
    crashed.close()
    assert Path(name).exists()
    assert hand_over(name, [], timeout_ms=500) is HandOver.NO_APP
    server = InstanceServer(name)
    assert server.listen()
    try:
        with qtbot.waitSignal(server.paths_received, timeout=20_000):
            second = _hand_over_from_another_process(name)
        stdout, _ = second.communicate(timeout=30)
        assert stdout.strip() == HandOver.DELIVERED.name
    finally:
        server.close()


def test_a_malformed_message_is_ignored_and_the_next_one_served(
    qtbot: QtBot, tmp_path: Path
) -> None:
    name = str(tmp_path / "app.sock")
    server = InstanceServer(name)
    assert server.listen()
    received: list[list[str]] = []
    server.paths_received.connect(received.append)
    try:
        rogue = QLocalSocket()
        rogue.connectToServer(name)
        assert rogue.waitForConnected(5000)
        rogue.write(b'{"open": "not a list"}\n')
        rogue.flush()
        qtbot.waitUntil(lambda: rogue.bytesAvailable() > 0 or rogue.waitForReadyRead(50))
        rogue.abort()
        with qtbot.waitSignal(server.paths_received, timeout=20_000):
            second = _hand_over_from_another_process(name, "b.png")
        second.communicate(timeout=30)
        assert received == [[str(PROJECT_ROOT / "b.png")]]
    finally:
        server.close()


def _log_lines(log_file: Path) -> list[str]:
    return log_file.read_text(encoding="utf-8").splitlines() if log_file.exists() else []


def _wait_for_log(log_file: Path, text: str, process: subprocess.Popen[str]) -> None:
    deadline = time.monotonic() + 120  # a hang guard, not a measurement
    while not any(text in line for line in _log_lines(log_file)):
        if process.poll() is not None:
            pytest.fail(f"the app exited ({process.returncode}) before logging {text!r}")
        if time.monotonic() > deadline:
            pytest.fail(f"the app never logged {text!r}: {_log_lines(log_file)[-20:]}")
        time.sleep(0.1)


def test_a_second_launch_exits_and_only_the_first_app_remains(tmp_path: Path) -> None:
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    env.pop("VLDESK_NEW_INSTANCE", None)
    log_file = app_paths().log_dir / "vldesk.log"
    first = subprocess.Popen(
        [sys.executable, "-m", "vldesk"],
        cwd=PROJECT_ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        _wait_for_log(log_file, "listening for other launches", first)
        picture = make_image(tmp_path / "second.png")
        second = subprocess.run(
            [sys.executable, "-m", "vldesk", str(picture)],
            cwd=PROJECT_ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert second.returncode == 0, second.stdout + second.stderr
        _wait_for_log(log_file, "another launch asked to open 1 path(s)", first)
        assert first.poll() is None, "the running app must stay"
        handed = [line for line in _log_lines(log_file) if "handed 1 path(s)" in line]
        assert len(handed) == 1
        # The second launch never built a window or a history of its own.
        starts = [line for line in _log_lines(log_file) if "starting (Python" in line]
        assert len(starts) == 2
        assert sum("listening for other" in line for line in _log_lines(log_file)) == 1
    finally:
        first.terminate()
        first.wait(timeout=60)
