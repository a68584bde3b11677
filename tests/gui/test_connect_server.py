"""Model → Connect to a Server: chat through a real ``vldesk serve`` on 127.0.0.1, then back."""

from __future__ import annotations

import logging
import os
import shutil
import stat
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from tests.core.inference.remote.servers import MODEL, shade_answer, shade_image
from tests.gui.conftest import AppFactory, open_image, shown_dialogs, wait_for_model, wait_idle
from tests.helpers.fake_engine import FakeEngine, FakeEngineLoader
from tests.server.conftest import StartServer, start_server
from vldesk.core.inference.remote.saved import KEYS_FILE, RECENT_FILE, ChatServer, SavedServers
from vldesk.core.models.catalog import Family
from vldesk.core.paths import app_paths
from vldesk.gui.app import DesktopApp
from vldesk.gui.dialogs.connect_dialog import ConnectDialog
from vldesk.gui.dialogs.model_dialog import ModelDialog

__all__ = ["start_server"]

KEY = "sk-test-0123456789-secret"


def connect_through_dialog(
    qtbot: QtBot, app: DesktopApp, url: str, key: str = "", *, remember: bool | None = None
) -> ConnectDialog:
    app.window.connect_server_action.trigger()
    (dialog,) = shown_dialogs(app, ConnectDialog)
    dialog.address_combo.setEditText(url)
    if key:
        qtbot.keyClicks(dialog.key_edit, key)
    if remember is not None:
        dialog.remember_key_check.setChecked(remember)
    qtbot.mouseClick(dialog.list_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: dialog.model_combo.count() > 0, timeout=20_000)
    assert dialog.connect_button.isEnabled()
    qtbot.mouseClick(dialog.connect_button, Qt.MouseButton.LeftButton)
    return dialog


def test_chat_with_a_served_model_then_disconnect_back_to_the_local_one(
    fake_app: DesktopApp,
    start_server: StartServer,
    qtbot: QtBot,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    app = fake_app
    window = app.window
    local = app.session.model_name
    served = FakeEngine(name=MODEL, answer=shade_answer)
    server = start_server(served, api_key=KEY)

    address = server.url + "/v1"
    connect_through_dialog(qtbot, app, server.url, KEY, remember=True)
    qtbot.waitUntil(lambda: app.models.server is not None, timeout=20_000)
    assert app.models.server == address
    assert app.session.model_name == MODEL
    # The status bar names the served model and its server.
    assert MODEL in window.status_panel.model_label.text()
    assert window.status_panel.device_label.text() == address
    assert window.disconnect_server_action.isEnabled()

    image = tmp_path / "grey.png"
    shade_image(image, 5)
    open_image(qtbot, app, image)
    qtbot.mouseClick(window.prompt_panel.preset_button("brief"), Qt.MouseButton.LeftButton)
    wait_idle(qtbot, app)
    assert window.answer_view.current_answer() == "shade 5"
    # This app's memory is not what the served answer used: none is shown.
    assert window.status_panel.memory_label.text() == ""
    # A follow-up sends the whole conversation again (the server keeps no cache of it).
    edit = window.prompt_panel.prompt_edit
    qtbot.keyClicks(edit, "And again?")
    qtbot.keyClick(edit, Qt.Key.Key_Return)
    wait_idle(qtbot, app)
    assert [t.role for t in app.session.conversation.turns] == ["user", "assistant"] * 2
    assert len(served.asked) == 2
    assert [t.text for t in served.asked[1].turns][-1] == "And again?"
    assert app.history.model.rowCount() >= 1

    # Disconnect: the local model answers again.
    window.disconnect_server_action.trigger()
    qtbot.waitUntil(lambda: app.session.model_name == local, timeout=20_000)
    assert app.models.server is None
    assert not window.disconnect_server_action.isEnabled()

    # Connected again, choosing the local model in the Model menu also comes back (twice: the
    # second time it is the very model chosen before connecting).
    for _ in range(2):
        dialog = connect_through_dialog(qtbot, app, address)
        assert dialog.key_edit.text() == ""  # the saved key is used, not shown
        assert dialog.remember_key_check.isChecked()  # and stays saved
        qtbot.waitUntil(lambda: app.models.server is not None, timeout=20_000)
        (local_action,) = window.model_group.actions()  # the one local model
        assert not local_action.isChecked()
        local_action.trigger()
        qtbot.waitUntil(lambda: app.models.server is None, timeout=20_000)
        qtbot.waitUntil(lambda: app.session.model_name == local, timeout=20_000)

    # The server is remembered, its key only in the private keys file.
    saved = SavedServers(app_paths().config_dir)
    assert saved.recent() == [address]
    keys_file = app_paths().config_dir / KEYS_FILE
    assert stat.S_IMODE(keys_file.stat().st_mode) == 0o600
    assert saved.key_for(address) == KEY
    app.shut_down()
    home = Path(os.environ["VLDESK_HOME"])
    for path in home.rglob("*"):
        if path.is_file() and path != keys_file:
            assert KEY.encode() not in path.read_bytes(), path
    assert (app_paths().config_dir / RECENT_FILE).is_file()
    assert all(KEY not in record.getMessage() for record in caplog.records)
    assert saved.chat_server() is None  # it quit on the local model: that one loads next time


def test_a_wrong_key_or_no_server_is_said_in_the_dialog(
    fake_app: DesktopApp, start_server: StartServer, qtbot: QtBot
) -> None:
    server = start_server(FakeEngine(name=MODEL), api_key=KEY)
    fake_app.window.connect_server_action.trigger()
    (dialog,) = shown_dialogs(fake_app, ConnectDialog)
    dialog.address_combo.setEditText(server.url)
    dialog.key_edit.setText("wrong")
    dialog.list_models()
    qtbot.waitUntil(lambda: "refused the API key" in dialog.status_label.text(), timeout=20_000)
    assert not dialog.connect_button.isEnabled()

    dialog.address_combo.setEditText("http://127.0.0.1:9/v1")
    dialog.list_models()
    qtbot.waitUntil(lambda: "did not answer" in dialog.status_label.text(), timeout=20_000)
    dialog.address_combo.setEditText("ftp://example.org")
    dialog.list_models()
    assert "not an http:// or https:// URL" in dialog.status_label.text()
    assert fake_app.models.server is None  # nothing changed
    dialog.reject()


def test_plain_http_to_another_computer_is_warned_about(fake_app: DesktopApp) -> None:
    dialog = ConnectDialog(SavedServers(app_paths().config_dir), fake_app.window)
    dialog.address_combo.setEditText("http://192.0.2.7:8000/v1")
    assert not dialog.warning_label.isHidden()
    assert "API key" not in dialog.warning_label.text()
    dialog.key_edit.setText(KEY)
    assert "API key" in dialog.warning_label.text()
    dialog.address_combo.setEditText("https://192.0.2.7/v1")
    assert dialog.warning_label.isHidden()
    dialog.address_combo.setEditText("http://127.0.0.1:8000/v1")
    assert dialog.warning_label.isHidden()
    dialog.reject()


def test_a_key_typed_where_the_port_goes_is_said_inline_and_never_echoed(
    fake_app: DesktopApp, qtbot: QtBot, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    dialog = ConnectDialog(SavedServers(app_paths().config_dir), fake_app.window)
    line = dialog.address_combo.lineEdit()
    assert line is not None
    qtbot.keyClicks(line, "http://gpu1:sk-live-SECRET")  # each keystroke parses the address
    qtbot.keyClick(line, Qt.Key.Key_Return)  # lists the models
    assert "not valid" in dialog.status_label.text()
    assert "SECRET" not in dialog.status_label.text()
    assert dialog.list_button.isEnabled()
    dialog.address_combo.setEditText("http://[::1:8000")  # an unclosed IPv6 bracket
    dialog.accept()
    assert "not valid" in dialog.status_label.text()
    assert dialog.request is None
    assert "SECRET" not in caplog.text
    dialog.reject()


def connected_then_quit(
    make_app: AppFactory,
    model_dir: Path,
    qtbot: QtBot,
    url: str,
    key: str,
    *,
    remember: bool = True,
) -> DesktopApp:
    """An app on the local model that connects to ``url`` (remembering ``key`` unless told
    not to), then quits."""
    app = make_app(model_dir, engine_loader=FakeEngineLoader())
    wait_for_model(qtbot, app)
    connect_through_dialog(qtbot, app, url, key, remember=remember)
    qtbot.waitUntil(lambda: app.models.server is not None, timeout=20_000)
    app.window.close()
    return app


def test_the_server_connected_at_quit_is_connected_again_at_the_next_start(
    make_app: AppFactory, fake_model_dir: Path, start_server: StartServer, qtbot: QtBot
) -> None:
    served = FakeEngine(name=MODEL, answer=shade_answer)
    address = start_server(served, api_key=KEY).url + "/v1"
    connected_then_quit(make_app, fake_model_dir, qtbot, address, KEY)
    saved = SavedServers(app_paths().config_dir)
    assert saved.chat_server() == ChatServer(address, MODEL, Family.QWEN3_VL)

    loader = FakeEngineLoader()
    app = make_app(fake_model_dir, engine_loader=loader)
    assert app.models.info is None  # connecting in the background, not "no model"
    assert "No model is available" not in app.window.answer_view.browser.toPlainText()
    qtbot.waitUntil(lambda: app.models.server == address, timeout=20_000)  # the saved key
    assert app.session.model_name == MODEL
    assert loader.requests == []  # the local model was not loaded first
    assert not shown_dialogs(app, ModelDialog)
    assert not shown_dialogs(app, ConnectDialog)
    assert app.window.disconnect_server_action.isEnabled()
    # Disconnected, it quits on the local model: the next start stays here.
    app.window.disconnect_server_action.trigger()
    qtbot.waitUntil(lambda: app.session.model_name is not None and app.models.server is None)
    assert len(loader.requests) == 1
    app.window.close()
    assert saved.chat_server() is None


def test_a_server_gone_at_the_next_start_leaves_the_local_model_without_a_dialog(
    make_app: AppFactory, fake_model_dir: Path, start_server: StartServer, qtbot: QtBot
) -> None:
    server = start_server(FakeEngine(name=MODEL), api_key=KEY)
    address = server.url + "/v1"
    connected_then_quit(make_app, fake_model_dir, qtbot, address, KEY)
    server.stop()

    loader = FakeEngineLoader()
    app = make_app(fake_model_dir, engine_loader=loader)
    wait_for_model(qtbot, app)  # the local model, once the server did not answer
    assert app.models.server is None
    assert len(loader.requests) == 1
    banner = app.window.banner
    assert banner.isVisible()
    assert address in banner.text
    assert "the model on this computer is used" in banner.text
    assert not shown_dialogs(app, ConnectDialog)
    assert not shown_dialogs(app, ModelDialog)
    # Still remembered: the server may be back at the next start. Choosing a model forgets it.
    app.window.close()
    saved = SavedServers(app_paths().config_dir)
    assert saved.chat_server() == ChatServer(address, MODEL, Family.QWEN3_VL)
    app = make_app(fake_model_dir, engine_loader=FakeEngineLoader())
    wait_for_model(qtbot, app)
    assert address in app.window.banner.text
    app.models.reload()  # as choosing it in the Model menu does
    qtbot.waitUntil(lambda: app.session.model_name is not None, timeout=20_000)
    app.window.close()
    assert saved.chat_server() is None


def test_a_server_gone_at_the_next_start_with_no_local_model_opens_the_first_run_form(
    make_app: AppFactory, fake_model_dir: Path, start_server: StartServer, qtbot: QtBot
) -> None:
    server = start_server(FakeEngine(name=MODEL), api_key=KEY)
    address = server.url + "/v1"
    connected_then_quit(make_app, fake_model_dir, qtbot, address, KEY)
    server.stop()
    shutil.rmtree(fake_model_dir)  # the model used last is gone, and none is installed

    app = make_app()
    qtbot.waitUntil(lambda: bool(shown_dialogs(app, ModelDialog)), timeout=20_000)
    [dialog] = shown_dialogs(app, ModelDialog)
    assert dialog.first_download is not None
    assert address in app.window.banner.text
    assert app.models.server is None


def test_a_server_whose_key_is_not_kept_is_not_connected_again_at_the_next_start(
    make_app: AppFactory,
    fake_model_dir: Path,
    start_server: StartServer,
    qtbot: QtBot,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    address = start_server(FakeEngine(name=MODEL), api_key=KEY).url + "/v1"
    saved = SavedServers(app_paths().config_dir)
    connected_then_quit(make_app, fake_model_dir, qtbot, address, KEY, remember=False)
    assert saved.chat_server() is None  # the next start would be refused (401)
    # The same key in VLDESK_API_KEY is there at the next start: the server is kept.
    monkeypatch.setenv("VLDESK_API_KEY", KEY)
    connected_then_quit(make_app, fake_model_dir, qtbot, address, KEY, remember=False)
    assert saved.chat_server() == ChatServer(address, MODEL, Family.QWEN3_VL)
