"""Desktop integration: the Linux desktop entry and icons, Open With, the Qt library check."""

from __future__ import annotations

import ctypes.util
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers import PROJECT_ROOT
from vldesk.__main__ import main
from vldesk.core.images import IMAGE_EXTENSIONS
from vldesk.gui import desktop_entry, system_libs
from vldesk.gui.desktop_entry import EntryPaths, exec_quote

ROOT = PROJECT_ROOT
linux_only = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="Linux desktops")

#: The MIME type of each extension the app opens (what the desktop file must declare).
MIME_TYPES = {
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".jfif": "image/jpeg",
    ".png": "image/png",
    ".webp": "image/webp",
    ".bmp": "image/bmp",
    ".gif": "image/gif",
    ".tif": "image/tiff",
    ".tiff": "image/tiff",
    ".ppm": "image/x-portable-pixmap",
    ".pgm": "image/x-portable-graymap",
    ".tga": "image/x-tga",
    ".ico": "image/vnd.microsoft.icon",
}


def _entry(text: str) -> dict[str, str]:
    lines = text.splitlines()
    assert lines[0] == "[Desktop Entry]"
    return dict(line.split("=", 1) for line in lines[1:] if line and not line.startswith("#"))


@pytest.fixture
def xdg(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A private XDG_DATA_HOME, and a fake update-desktop-database that records its calls."""
    data_home = tmp_path / "share"
    tools = tmp_path / "bin"
    tools.mkdir()
    tool = tools / "update-desktop-database"
    tool.write_text(f'#!/bin/sh\necho "$@" >> "{tmp_path / "calls.txt"}"\n', encoding="utf-8")
    tool.chmod(tool.stat().st_mode | stat.S_IXUSR)
    monkeypatch.setenv("XDG_DATA_HOME", str(data_home))
    monkeypatch.setenv("PATH", f"{tools}{os.pathsep}{os.environ.get('PATH', '')}")
    return data_home


def test_the_packaged_entry_matches_the_packaging_copy() -> None:
    packaged = (ROOT / "vldesk" / "assets" / "vldesk.desktop").read_text(encoding="utf-8")
    assert (ROOT / "packaging" / "linux" / "vldesk.desktop").read_text(encoding="utf-8") == packaged
    entry = _entry(packaged)
    assert entry["Exec"] == "vldesk %F"
    assert entry["Terminal"] == "false"
    declared = set(entry["MimeType"].rstrip(";").split(";"))
    assert {MIME_TYPES[ext] for ext in IMAGE_EXTENSIONS} <= declared


@linux_only
def test_install_and_uninstall_in_the_user_data_folder(
    xdg: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from PySide6.QtGui import QImage

    assert main(["--install-desktop-entry"]) == 0
    paths = EntryPaths(xdg)
    entry = _entry(paths.desktop_file.read_text(encoding="utf-8"))
    command = desktop_entry.launcher_command()
    assert entry["Exec"] == " ".join(exec_quote(part) for part in command) + " %F"
    assert Path(command[0]).is_absolute()
    assert entry["Icon"] == "vldesk"
    assert paths.svg_icon.read_bytes() == (ROOT / "vldesk" / "assets" / "vldesk.svg").read_bytes()
    for size in desktop_entry.PNG_SIZES:
        image = QImage(str(paths.png_icon(size)))
        assert (image.width(), image.height()) == (size, size)
        assert image.pixelColor(size // 2, size // 2).alpha() == 255  # drawn, not blank
    assert f"-q {paths.applications}" in (xdg.parent / "calls.txt").read_text(encoding="utf-8")
    assert str(paths.desktop_file) in capsys.readouterr().out

    assert main(["--uninstall-desktop-entry"]) == 0
    assert [path for path in paths.all_files() if path.exists()] == []
    assert main(["--uninstall-desktop-entry"]) == 0
    assert "No vldesk desktop entry" in capsys.readouterr().out


@linux_only
def test_the_command_line_flag_works_without_a_display(xdg: Path) -> None:
    env = {**os.environ, "QT_QPA_PLATFORM": "", "DISPLAY": "", "WAYLAND_DISPLAY": ""}
    result = subprocess.run(
        [sys.executable, "-m", "vldesk", "--install-desktop-entry"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert (xdg / "icons" / "hicolor" / "256x256" / "apps" / "vldesk.png").is_file()


def test_the_launcher_is_the_installed_script(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    script = tmp_path / "my venv" / "bin" / "vldesk"
    script.parent.mkdir(parents=True)
    script.write_text("#!/bin/sh\n", encoding="utf-8")
    script.chmod(0o755)
    monkeypatch.setattr(sys, "argv", [str(script)])
    assert desktop_entry.launcher_command() == [str(script)]
    # Started some other way, with no script next to Python: python -m vldesk.
    monkeypatch.setattr(sys, "argv", [str(tmp_path / "elsewhere.py")])
    monkeypatch.setattr(sys, "executable", str(tmp_path / "python3"))
    assert desktop_entry.launcher_command() == [str(tmp_path / "python3"), "-m", "vldesk"]
    # An app folder (PyInstaller): the windowed program, also when run as vldesk-cli.
    (tmp_path / "vldesk").write_bytes(b"")
    monkeypatch.setattr(sys, "frozen", True, raising=False)
    monkeypatch.setattr(sys, "executable", str(tmp_path / "vldesk-cli"))
    assert desktop_entry.launcher_command() == [str(tmp_path / "vldesk")]


@pytest.mark.parametrize(
    ("argument", "quoted"),
    [
        ("/usr/bin/vldesk", "/usr/bin/vldesk"),
        ("/home/a b/venv/bin/vldesk", '"/home/a b/venv/bin/vldesk"'),
        ('/opt/it"s$/vldesk', '"/opt/it\\\\"s\\\\$/vldesk"'),
        ("/opt/100%/vldesk", "/opt/100%%/vldesk"),
    ],
)
def test_exec_arguments_are_quoted_as_the_spec_says(argument: str, quoted: str) -> None:
    assert exec_quote(argument) == quoted


def test_the_entry_paths_follow_xdg(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("XDG_DATA_HOME", "relative/ignored")
    monkeypatch.setenv("HOME", str(tmp_path))
    assert EntryPaths.from_environment().data_home == Path.home() / ".local" / "share"
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    assert EntryPaths.from_environment().desktop_file == (
        tmp_path / "data" / "applications" / "vldesk.desktop"
    )


def test_files_opened_from_the_desktop_reach_the_viewer(qapp: object, tmp_path: Path) -> None:
    """macOS delivers Finder's Open With as an event, not as arguments."""
    from PySide6.QtGui import QFileOpenEvent
    from PySide6.QtWidgets import QApplication

    from vldesk.gui.open_events import FileOpenFilter

    opened: list[list[str]] = []
    app = QApplication.instance()
    assert app is not None
    event_filter = FileOpenFilter(opened.append)
    app.installEventFilter(event_filter)
    try:
        QApplication.sendEvent(app, QFileOpenEvent(str(tmp_path / "a b.png")))
    finally:
        app.removeEventFilter(event_filter)
    assert opened == [[str(tmp_path / "a b.png")]]


# --- the start-up check for Qt's system libraries --------------------------------------------


def _pretend_missing(monkeypatch: pytest.MonkeyPatch, *missing: str) -> None:
    real = {lib.name for lib in (*system_libs.QT_GUI_LIBRARIES, *system_libs.XCB_LIBRARIES)}
    monkeypatch.setattr(
        ctypes.util,
        "find_library",
        lambda name: None if name in missing else f"lib{name}.so" if name in real else None,
    )
    monkeypatch.setattr(system_libs, "_loadable", lambda soname: False)
    monkeypatch.setattr(sys, "platform", "linux")


def test_a_missing_xcb_library_is_named_with_its_package(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    _pretend_missing(monkeypatch, "xcb-cursor")
    monkeypatch.setenv("QT_QPA_PLATFORM", "xcb")
    monkeypatch.setenv("DISPLAY", "localhost:10.0")  # a display Qt could reach (SSH forwarding)
    monkeypatch.delitem(sys.modules, "vldesk.gui.launch", raising=False)
    assert main([]) == 1
    message = capsys.readouterr().err
    assert "libxcb-cursor.so.0" in message
    assert "sudo apt install libxcb-cursor0\n" in message
    assert "sudo dnf install xcb-util-cursor\n" in message
    assert "vldesk.gui.launch" not in sys.modules  # Qt's window code was never started
    log_dir = Path(os.environ["VLDESK_HOME"]) / "logs"
    assert "libxcb-cursor0" in (log_dir / "vldesk.log").read_text(encoding="utf-8")


def test_xcb_libraries_are_only_needed_for_xcb(monkeypatch: pytest.MonkeyPatch) -> None:
    _pretend_missing(monkeypatch, "xcb-cursor", "xcb-icccm")
    for platform in ("offscreen", "wayland", "vnc"):
        assert (
            system_libs.startup_problem([], {"QT_QPA_PLATFORM": platform, "DISPLAY": ":0"}) is None
        )
    problem = system_libs.startup_problem(["-platform", "xcb"], {"DISPLAY": "host:0"})
    assert problem is not None
    assert "sudo apt install libxcb-cursor0 libxcb-icccm4\n" in problem
    assert system_libs.startup_problem([], {"VLDESK_SKIP_LIBRARY_CHECK": "1"}) is None


def test_libraries_every_platform_needs_are_checked_too(monkeypatch: pytest.MonkeyPatch) -> None:
    _pretend_missing(monkeypatch, "EGL")
    problem = system_libs.startup_problem([], {"QT_QPA_PLATFORM": "offscreen"})
    assert problem is not None
    assert "sudo apt install libegl1" in problem


def test_a_library_the_cache_misses_but_the_loader_finds_is_fine(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _pretend_missing(monkeypatch, "xcb-cursor")
    monkeypatch.setattr(system_libs, "_loadable", lambda soname: soname == "libxcb-cursor.so.0")
    assert system_libs.startup_problem([], {"QT_QPA_PLATFORM": "xcb", "DISPLAY": "host:0"}) is None


def test_libraries_inside_an_app_bundle_count(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    _pretend_missing(monkeypatch, "xcb-cursor")
    (tmp_path / "libxcb-cursor.so.0").write_bytes(b"")
    monkeypatch.setattr(sys, "frozen", True, raising=False)
    monkeypatch.setattr(sys, "_MEIPASS", str(tmp_path), raising=False)
    assert system_libs.startup_problem([], {"QT_QPA_PLATFORM": "xcb", "DISPLAY": "host:0"}) is None


@pytest.mark.parametrize(
    ("argv", "env", "platform"),
    [
        ([], {}, "xcb"),
        ([], {"XDG_SESSION_TYPE": "wayland", "WAYLAND_DISPLAY": "wayland-0"}, "wayland"),
        ([], {"QT_QPA_PLATFORM": "offscreen"}, "offscreen"),
        ([], {"QT_QPA_PLATFORM": "wayland;xcb"}, "wayland"),
        (["-platform", "xcb:dpitest"], {"QT_QPA_PLATFORM": "offscreen"}, "xcb"),
    ],
)
def test_the_platform_qt_will_use(argv: list[str], env: dict[str, str], platform: str) -> None:
    assert system_libs.qt_platform(argv, env) == platform
