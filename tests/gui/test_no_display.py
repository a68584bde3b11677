"""No display: a message on stderr and a non-zero exit, never a silent abort."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers import PROJECT_ROOT
from vldesk.gui import system_libs
from vldesk.gui.system_libs import no_display_problem, startup_problem


@pytest.fixture
def x11_sockets(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "x11"
    folder.mkdir()
    monkeypatch.setattr(system_libs, "X11_SOCKETS", folder)
    return folder


def test_no_display_variable_is_explained(x11_sockets: Path) -> None:
    problem = no_display_problem({})
    assert problem is not None
    assert "DISPLAY is empty" in problem
    assert "vldesk describe IMAGE" in problem


def test_a_local_display_without_an_x_server_is_explained(x11_sockets: Path) -> None:
    problem = no_display_problem({"DISPLAY": ":97"})
    assert problem is not None
    assert "no X server answers on display :97" in problem
    (x11_sockets / "X97").touch()
    assert no_display_problem({"DISPLAY": ":97.0"}) is None


def test_remote_displays_are_left_to_qt(x11_sockets: Path) -> None:
    assert no_display_problem({"DISPLAY": "localhost:10.0"}) is None


def test_other_platforms_need_no_display(x11_sockets: Path) -> None:
    assert startup_problem([], {"QT_QPA_PLATFORM": "offscreen"}) is None
    wayland = {"XDG_SESSION_TYPE": "wayland", "WAYLAND_DISPLAY": "wayland-0"}
    assert startup_problem([], wayland) is None or "DISPLAY" not in str(
        startup_problem([], wayland)
    )
    assert "DISPLAY is empty" in str(startup_problem([], {}))


def test_vldesk_without_a_display_says_so_and_exits_non_zero() -> None:
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM", "XDG_SESSION_TYPE")
    }
    result = subprocess.run(
        [sys.executable, "-m", "vldesk"],
        cwd=PROJECT_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 1, result.stdout + result.stderr
    assert "needs a graphical session" in result.stderr
    assert "Traceback" not in result.stderr
