"""Accessibility: named controls, Tab order, visible focus, shortcuts, announcements, alt text."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest
from PySide6.QtCore import QObject, Qt
from PySide6.QtGui import QAccessible, QGuiApplication
from PySide6.QtWidgets import (
    QAbstractButton,
    QAbstractItemView,
    QAbstractSlider,
    QAbstractSpinBox,
    QApplication,
    QComboBox,
    QDialog,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QTextEdit,
    QWidget,
)
from pytestqt.qtbot import QtBot

from tests.gui.conftest import AppFactory, shown_dialogs
from vldesk.core.models.store import ModelStore
from vldesk.core.presets import PRESETS
from vldesk.core.settings import Settings
from vldesk.gui.app import DesktopApp
from vldesk.gui.dialogs.about_dialog import AboutDialog
from vldesk.gui.dialogs.batch_dialog import BatchDialog
from vldesk.gui.dialogs.error_dialog import ErrorDialog
from vldesk.gui.dialogs.model_dialog import ModelDialog
from vldesk.gui.dialogs.serve_dialog import ServeDialog
from vldesk.gui.dialogs.settings_dialog import SettingsDialog
from vldesk.gui.dialogs.shortcuts_dialog import ShortcutsDialog, action_label
from vldesk.gui.widgets import answer_view
from vldesk.gui.workers.download import DownloadWorker

#: The kinds of control a screen reader must be able to name.
CONTROLS = (
    QAbstractButton,
    QLineEdit,
    QTextEdit,
    QPlainTextEdit,
    QComboBox,
    QAbstractSpinBox,
    QAbstractItemView,
    QAbstractSlider,
)


#: Qt's private helper buttons; Qt names them itself (Close, Float, Clear).
QT_PARTS = ("QDockWidgetTitleButton", "QLineEditIconButton")


def _is_internal(widget: QWidget, root: QWidget) -> bool:
    """Parts Qt builds inside a composite control (a spin box's line edit, a combo box's list,
    a view's scroll bars) or its own helper buttons: the composite carries the name."""
    if widget.metaObject().className() in QT_PARTS or widget.objectName().startswith("qt_"):
        return True
    parent = widget.parentWidget()
    while parent is not None and parent is not root:
        if isinstance(parent, CONTROLS) or parent.objectName().startswith("qt_"):
            return True
        parent = parent.parentWidget()
    return False


def _label_for(widget: QWidget, root: QWidget) -> str:
    for label in root.findChildren(QLabel):
        if label.buddy() is widget and label.text().strip():
            return label.text()
    return ""


def unnamed_controls(root: QWidget) -> list[str]:
    """Controls under ``root`` with neither an accessible name, nor text, nor a buddy label."""
    problems = []
    for widget in root.findChildren(QWidget):
        if not isinstance(widget, CONTROLS) or _is_internal(widget, root):
            continue
        text = widget.text() if isinstance(widget, QAbstractButton) else ""
        name = widget.accessibleName() or text.replace("&", "").strip()
        if not name and not _label_for(widget, root):
            problems.append(f"{type(widget).__name__} {widget.objectName()!r} in {root!r}")
    return problems


def _dialogs(app: DesktopApp, tmp_path: Path) -> list[QDialog]:
    store = ModelStore(tmp_path / "models")
    return [
        SettingsDialog(Settings(), [("A model", "a")], app.window),
        AboutDialog(app.paths, app.window),
        ShortcutsDialog(app.window.actions(), app.window),
        ModelDialog(store, DownloadWorker(store, app.window), parent=app.window),
        ErrorDialog("Something failed.", "Traceback …", tmp_path / "vldesk.log", app.window),
        BatchDialog(
            model="a",
            model_name="A model",
            settings=app.chat.generation_settings(),
            presets=PRESETS,
            language="en",
            parent=app.window,
        ),
        ServeDialog("192.168.1.20", app.window),
    ]


def test_every_control_has_a_name(make_app: AppFactory, qtbot: QtBot, tmp_path: Path) -> None:
    app = make_app(start=False)
    app.window.prompt_panel.system_toggle.setChecked(True)
    app.window.show_message("A message with an action", actions=[("Retry", lambda: None)])
    problems = unnamed_controls(app.window)
    dialogs = _dialogs(app, tmp_path)
    for dialog in dialogs:
        qtbot.addWidget(dialog)
        problems += unnamed_controls(dialog)
    assert problems == []
    about = dialogs[1]
    assert isinstance(about, AboutDialog)
    assert about.wait_for_disk_use()


def test_menu_commands_have_text_and_shortcuts_are_listed(make_app: AppFactory) -> None:
    app = make_app(start=False)
    window = app.window
    dialog = ShortcutsDialog(window.actions(), window)
    listed = {what for what, _keys in dialog.rows}
    for menu_action in window.menuBar().actions():
        menu = menu_action.menu()
        assert menu is not None
        assert menu_action.text()
        for action in menu.actions():
            if action.isSeparator() or action.menu() is not None:
                continue
            assert action.text(), f"an unnamed command in {menu_action.text()}"
            if action.shortcuts():
                assert action_label(action) in listed
    assert dialog.table.rowCount() == len(dialog.rows) > 20
    dialog.deleteLater()


def _tab_chain(start: QWidget) -> list[QWidget]:
    """Widgets Tab visits from ``start`` until it comes back (visible, enabled, tab-focusable)."""
    chain = [start]
    widget = start.nextInFocusChain()
    while widget is not start and len(chain) < 500:
        if (
            widget.isVisibleTo(widget.window())
            and widget.isEnabled()
            and widget.focusPolicy() & Qt.FocusPolicy.TabFocus
            and widget.focusProxy() is None
        ):
            chain.append(widget)
        widget = widget.nextInFocusChain()
    return chain


def test_tab_follows_the_layout(make_app: AppFactory, qtbot: QtBot) -> None:
    app = make_app(start=False)
    w = app.window
    app.window.prompt_panel.set_can_ask(True)
    panel = w.prompt_panel
    chain = _tab_chain(w.viewer)
    expected_order = [
        w.viewer,
        w.answer_view.browser,
        panel.preset_button("brief"),
        panel.preset_button("alt"),
        panel.prompt_edit,
        panel.system_toggle,
        panel.send_button,
        w.history_panel.search_edit,
    ]
    positions = [chain.index(widget) for widget in expected_order]
    assert positions == sorted(positions), [type(chain[i]).__name__ for i in positions]
    # Rebuilding the presets (another language) keeps them in place.
    panel.set_presets(PRESETS, "zh")
    panel.set_can_ask(True)
    qtbot.waitUntil(panel.preset_button("brief").isVisible)  # shown by a queued call
    chain = _tab_chain(w.viewer)
    assert chain.index(panel.preset_button("brief")) < chain.index(panel.prompt_edit)
    assert chain.index(w.answer_view.browser) < chain.index(panel.preset_button("brief"))


def test_keyboard_focus_on_the_image_is_visible(make_app: AppFactory, qtbot: QtBot) -> None:
    app = make_app(start=False)
    viewer = app.window.viewer
    app.window.activateWindow()
    app.window.prompt_panel.prompt_edit.setFocus()
    qtbot.waitUntil(lambda: not viewer.hasFocus())
    unfocused = viewer.grab().toImage()
    viewer.setFocus(Qt.FocusReason.TabFocusReason)
    qtbot.waitUntil(viewer.hasFocus)
    focused = viewer.grab().toImage()
    assert focused != unfocused
    highlight = viewer.palette().color(viewer.palette().ColorRole.Highlight)
    assert focused.pixelColor(1, focused.height() // 2) == highlight


def test_alt_text_copies_plain_text(make_app: AppFactory, qtbot: QtBot) -> None:
    app = make_app(start=False)
    view = app.window.answer_view
    action = app.window.copy_alt_text_action
    view.begin_answer("Write alt text")
    view.finish_answer('Alt text: "A **red** bicycle\nleaning on a `brick` wall."')
    assert view.alt_text_button.isEnabled()
    with qtbot.waitSignal(view.copied):
        view.alt_text_button.click()
    assert QGuiApplication.clipboard().text() == "A red bicycle leaning on a brick wall."
    QGuiApplication.clipboard().clear()
    view.copy_alt_text()  # what Edit → Copy as Alt Text (Ctrl+Alt+C) runs
    assert QGuiApplication.clipboard().text() == "A red bicycle leaning on a brick wall."
    assert action.shortcut().toString() == "Ctrl+Alt+C"


def test_a_finished_answer_is_announced_to_screen_readers(
    make_app: AppFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = make_app(start=False)
    announced: list[tuple[QObject, str]] = []

    def record(event: object) -> None:
        announced.append((event.object(), event.message()))  # type: ignore[attr-defined]

    monkeypatch.setattr(QAccessible, "isActive", staticmethod(lambda: True))
    monkeypatch.setattr(answer_view.QAccessible, "updateAccessibility", staticmethod(record))
    view = app.window.answer_view
    view.begin_answer("What is it?")
    view.finish_answer("A **cat** on a mat.")
    view.begin_answer("More?")
    view.finish_answer("word " * 200)
    assert announced == [
        (view.browser, "Answer: A cat on a mat."),
        (view.browser, "The answer is complete."),
    ]
    assert view.browser.accessibleName() == "Answer"
    assert view.browser.textInteractionFlags() & Qt.TextInteractionFlag.TextSelectableByKeyboard


def test_help_menu_opens_the_data_folder_and_about(
    make_app: AppFactory, qtbot: QtBot, monkeypatch: pytest.MonkeyPatch
) -> None:
    from vldesk.gui.dialogs import about_dialog

    opened: list[str] = []
    monkeypatch.setattr(
        about_dialog.QDesktopServices, "openUrl", staticmethod(lambda url: opened.append(url))
    )
    app = make_app(start=False)
    app.window.open_data_folder_action.trigger()
    assert [url.toLocalFile() for url in opened] == [str(app.paths.data_dir)]
    app.window.about_action.trigger()
    [about] = shown_dialogs(app, AboutDialog)
    assert about.wait_for_disk_use()
    qtbot.waitUntil(lambda: about.disk_use.text() != "counting…")
    details = about.details()
    for name in ("vldesk", "Python", "Qt", "PySide6", "PyTorch", "transformers"):
        assert f"\n{name}:" in f"\n{details}"
    if importlib.util.find_spec("torch") is not None:  # the CUDA build torch was made for
        assert "\nCUDA:" in f"\n{details}"
    assert str(app.paths.models_dir) in details
    about.copy_details()
    assert QApplication.clipboard().text() == details
    about.close()
    app.window.shortcuts_action.trigger()
    shortcuts = [w for w in QApplication.topLevelWidgets() if isinstance(w, ShortcutsDialog)]
    assert shortcuts
    assert shortcuts[-1].isVisible()
    shortcuts[-1].close()
