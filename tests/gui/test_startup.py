"""Start-up: the window before torch, the remembered model, the error hook and the log file."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtGui import QGuiApplication
from pytestqt.qtbot import QtBot

from tests.gui.conftest import AppFactory
from vldesk.core.errors import ModelLoadError
from vldesk.core.paths import app_paths
from vldesk.core.settings import Settings, load_settings, save_settings
from vldesk.gui.crash import ExceptionHook
from vldesk.gui.launch import guard_std_streams, setup_logging

ROOT = Path(__file__).resolve().parents[2]

# Runs the real entry point; reports whether torch was loaded when the window was first shown,
# then closes the window once the model has loaded.
STARTUP_SCRIPT = """
import sys
from PySide6.QtCore import QObject, QTimer, Slot
from vldesk.gui import app as app_module, main_window

original_show = main_window.MainWindow.showEvent
def show_event(self, event):
    print("SHOWN torch=%s" % ("torch" in sys.modules), flush=True)
    original_show(self, event)
main_window.MainWindow.showEvent = show_event

class Watcher(QObject):
    def __init__(self, app):
        super().__init__(app)
        self.app = app
        app.inference.model_loaded.connect(self.loaded)

    @Slot(object)
    def loaded(self, info):
        print("LOADED %s torch=%s" % (info.name, "torch" in sys.modules), flush=True)
        QTimer.singleShot(0, self.app.window.close)

original_start = app_module.DesktopApp.start
def start(self, paths=()):
    self.watcher = Watcher(self)
    original_start(self, paths)
app_module.DesktopApp.start = start

from vldesk.__main__ import main
sys.exit(main([]))
"""


def test_window_shows_before_torch_and_the_model_is_remembered(tiny_dir: Path) -> None:
    paths = app_paths()
    settings = Settings(model=str(tiny_dir)).replace(extra={"from_a_newer_version": 42})
    save_settings(settings, paths.settings_file)
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    result = subprocess.run(
        [sys.executable, "-c", STARTUP_SCRIPT],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    lines = result.stdout.splitlines()
    assert lines[0] == "SHOWN torch=False", output
    assert any(line.startswith("LOADED qwen3_vl torch=True") for line in lines), output
    # The model is remembered; what the app does not know is kept, not wiped.
    saved = json.loads(paths.settings_file.read_text(encoding="utf-8"))
    assert saved["last_model"] == str(tiny_dir)
    assert saved["from_a_newer_version"] == 42
    log_text = (paths.log_dir / "vldesk.log").read_text(encoding="utf-8")
    assert "loaded qwen3_vl" in log_text


def test_start_remembers_the_last_model(
    make_app: AppFactory, fake_model_dir: Path, qtbot: QtBot
) -> None:
    from tests.gui.conftest import wait_for_model
    from tests.helpers.fake_engine import FakeEngineLoader

    app = make_app(fake_model_dir, engine_loader=FakeEngineLoader())
    wait_for_model(qtbot, app)
    assert load_settings(app.paths.settings_file).last_model == str(fake_model_dir)


@pytest.fixture
def file_logging(tmp_path: Path) -> Iterator[Path]:
    root = logging.getLogger()
    before = list(root.handlers)
    log_file = setup_logging(tmp_path / "logs")
    assert log_file is not None
    yield log_file
    for handler in root.handlers[:]:
        if handler not in before:
            root.removeHandler(handler)
            handler.close()


def test_uncaught_error_shows_a_dialog_and_is_logged(qtbot: QtBot, file_logging: Path) -> None:
    hook = ExceptionHook(file_logging)
    try:
        raise ModelLoadError("The model folder is missing its weights.")
    except ModelLoadError as exc:
        hook.handle(type(exc), exc, exc.__traceback__)
    qtbot.waitUntil(lambda: len(hook.dialogs) == 1, timeout=2000)
    dialog = hook.dialogs[0]
    qtbot.addWidget(dialog)
    assert dialog.isVisible()
    assert dialog.message_label.text() == "The model folder is missing its weights."
    dialog.copy_button.click()
    copied = QGuiApplication.clipboard().text()
    assert "Traceback" in copied
    assert "ModelLoadError" in copied
    logged = file_logging.read_text(encoding="utf-8")
    assert "uncaught exception" in logged
    assert "ModelLoadError: The model folder is missing its weights." in logged
    dialog.reject()
    qtbot.waitUntil(lambda: not hook.dialogs, timeout=2000)


def test_errors_in_other_threads_reach_the_dialog(qtbot: QtBot, file_logging: Path) -> None:
    import threading

    hook = ExceptionHook(file_logging)
    hook.install()
    try:

        def boom() -> None:
            raise RuntimeError("worker exploded")

        thread = threading.Thread(target=boom)
        thread.start()
        thread.join()
        qtbot.waitUntil(lambda: len(hook.dialogs) == 1, timeout=2000)
    finally:
        hook.uninstall()
    dialog = hook.dialogs[0]
    qtbot.addWidget(dialog)
    assert "worker exploded" in dialog.message_label.text()
    dialog.reject()


def test_missing_stderr_goes_to_the_log_file(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    log_file = tmp_path / "vldesk.log"
    monkeypatch.setattr(sys, "stderr", None)
    guard_std_streams(log_file)
    stream = sys.stderr
    assert stream is not None
    print("a library complains", file=stream)
    stream.close()
    assert "a library complains" in log_file.read_text(encoding="utf-8")


def test_settings_changes_are_saved_and_applied(
    make_app: AppFactory, tiny_model_dirs: dict, qtbot: QtBot
) -> None:
    from tests.gui.conftest import wait_for_model
    from vldesk.core.models.catalog import Family

    app = make_app(tiny_model_dirs[Family.QWEN3_VL])
    wait_for_model(qtbot, app)
    other = str(tiny_model_dirs[Family.QWEN3_5])
    app.apply_settings(
        app.settings.replace(preset_language="zh", max_new_tokens=64, model=other, last_model=other)
    )
    # The prompts follow the preset language; the titles, the (English) interface.
    brief = app.window.prompt_panel.preset_button("brief")
    assert brief.text() == "Describe briefly"
    assert brief.toolTip().split("\n\n")[0] == "用一两句话描述这张图片。"
    qtbot.waitUntil(lambda: app.session.model_name == "qwen3_5", timeout=60_000)
    saved = load_settings(app.paths.settings_file)
    assert saved.preset_language == "zh"
    assert saved.max_new_tokens == 64
    assert saved.last_model == other
    assert app.chat.generation_settings().max_new_tokens == 64
    # Presets that need long answers get them even when the setting is lower.
    assert app.chat.generation_settings(preset_tokens=1024).max_new_tokens == 1024


def test_window_layout_is_restored_from_qsettings(make_app: AppFactory) -> None:
    first = make_app(start=False)
    first.window.resize(700, 500)
    first.window.history_dock.hide()
    first.shut_down()
    assert (first.paths.config_dir / "window.ini").is_file()
    second = make_app(start=False)
    # Not the default 1200 x 760 (the offscreen screen is 800 x 600, so exact sizes vary).
    assert second.window.height() == 500
    assert second.window.width() < 800
    assert not second.window.history_dock.isVisible()


def test_quantized_weights_chosen_in_settings_reload_the_model(
    make_app: AppFactory, tiny_model_dirs: dict, qtbot: QtBot
) -> None:
    """The tiny models' layers are too narrow for the int8 kernel except the wider ones; the
    status bar says int8 when the engine ran with it, and the choice is saved."""
    from tests.gui.conftest import wait_for_model
    from vldesk.core.models.catalog import Family

    app = make_app(tiny_model_dirs[Family.QWEN3_VL])
    wait_for_model(qtbot, app)
    assert "int8" not in app.window.status_panel.device_label.text()
    app.apply_settings(app.settings.replace(weights="int8"))
    qtbot.waitUntil(lambda: "int8" in app.window.status_panel.device_label.text(), timeout=60_000)
    assert load_settings(app.paths.settings_file).weights == "int8"
