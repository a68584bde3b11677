"""The look: light, dark or the system's colours, the font size, focus rings, the drop frame,
and a window that fits half a 1920-pixel screen."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import QMimeData, QPointF, Qt, QUrl
from PySide6.QtGui import (
    QColor,
    QDragEnterEvent,
    QDragLeaveEvent,
    QDropEvent,
    QImage,
    QPainter,
    QPalette,
)
from PySide6.QtWidgets import QApplication, QPushButton, QStyle, QStyleFactory, QStyleOptionButton
from pytestqt.qtbot import QtBot

from tests.gui.conftest import AppFactory, make_image, open_image, wait_idle
from vldesk.core.settings import Settings
from vldesk.gui import appearance, i18n
from vldesk.gui.app import DesktopApp
from vldesk.gui.appearance import FocusRingStyle, is_dark
from vldesk.gui.dialogs.settings_dialog import SettingsDialog


def qt_app() -> QApplication:
    app = QApplication.instance()
    assert isinstance(app, QApplication)
    return app


@pytest.fixture
def restore_look() -> Iterator[None]:
    """Each test starts from and returns to the platform's look."""
    app = qt_app()
    style, palette, font = app.style().name(), QPalette(app.palette()), app.font()
    yield
    appearance.apply_appearance(app, "system", 0)
    app.setStyle(QStyleFactory.create(style))
    app.setPalette(palette)
    app.setFont(font)


def test_the_colours_and_the_font_size_change_at_once_and_go_back(
    make_app: AppFactory, qtbot: QtBot, restore_look: None
) -> None:
    """Open windows follow (Qt tells each widget in posted events)."""
    app = make_app(start=False)
    system_window = app.window.palette().color(QPalette.ColorRole.Window)
    system_size = qt_app().font().pointSize()
    app.apply_settings(app.settings.replace(theme="dark", font_size=system_size + 5))
    qtbot.waitUntil(lambda: is_dark(app.window.palette()))
    qtbot.waitUntil(lambda: app.window.font().pointSize() == system_size + 5)
    assert isinstance(qt_app().style(), FocusRingStyle)
    app.apply_settings(app.settings.replace(theme="light"))
    qtbot.waitUntil(lambda: not is_dark(app.window.palette()))
    app.apply_settings(app.settings.replace(theme="system", font_size=0))
    qtbot.waitUntil(lambda: app.window.palette().color(QPalette.ColorRole.Window) == system_window)
    assert qt_app().font().pointSize() == system_size


def test_the_look_is_applied_at_start_from_the_settings(
    make_app: AppFactory, qtbot: QtBot, restore_look: None
) -> None:
    app = make_app(start=False, theme="dark")
    qtbot.waitUntil(lambda: is_dark(app.window.palette()))


def focus_pixels(style: QStyle, focused: bool) -> int:
    """Pixels in the highlight colour when ``style`` paints a button, focused or not."""
    button = QPushButton("OK")
    option = QStyleOptionButton()
    option.initFrom(button)
    option.rect = button.rect().adjusted(0, 0, 0, 0)
    option.rect.setSize(button.sizeHint())
    option.text = "OK"
    option.state |= QStyle.StateFlag.State_Enabled
    if focused:
        option.state |= QStyle.StateFlag.State_HasFocus | QStyle.StateFlag.State_KeyboardFocusChange
    image = QImage(option.rect.size(), QImage.Format.Format_ARGB32)
    image.fill(QColor("white"))
    painter = QPainter(image)
    style.drawControl(QStyle.ControlElement.CE_PushButton, option, painter, button)
    painter.end()
    highlight = option.palette.color(QPalette.ColorRole.Highlight)
    return sum(
        1
        for y in range(image.height())
        for x in range(image.width())
        if QColor(image.pixel(x, y)).rgb() == highlight.rgb()
    )


def test_keyboard_focus_is_drawn_as_a_ring_in_the_highlight_colour(qtbot: QtBot) -> None:
    style = FocusRingStyle(QStyleFactory.create("Fusion"))
    assert focus_pixels(style, focused=False) == 0
    assert focus_pixels(style, focused=True) > 40  # a ring around the button, not a dot


def test_dragging_files_over_the_window_highlights_it(
    make_app: AppFactory, qtbot: QtBot, tmp_path: Path
) -> None:
    app = make_app(start=False)
    highlight = app.window.drop_highlight
    target = app.window.viewer.viewport()
    mime = QMimeData()  # kept here: the events do not own it
    mime.setUrls([QUrl.fromLocalFile(str(make_image(tmp_path / "a.png")))])
    centre = target.rect().center()
    buttons, modifiers = Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier
    action = Qt.DropAction.CopyAction

    def enter() -> None:
        QApplication.sendEvent(target, QDragEnterEvent(centre, action, mime, buttons, modifiers))

    enter()
    assert highlight.isVisible()
    assert highlight.geometry() == app.window.centralWidget().rect()
    QApplication.sendEvent(target, QDragLeaveEvent())
    qtbot.waitUntil(lambda: not highlight.isVisible(), timeout=2000)
    enter()
    QApplication.sendEvent(target, QDropEvent(QPointF(centre), action, mime, buttons, modifiers))
    qtbot.waitUntil(lambda: not highlight.isVisible(), timeout=2000)
    qtbot.waitUntil(lambda: app.session.image is not None, timeout=10_000)


@pytest.mark.parametrize("language", ["en", "zh"])
def test_the_window_fits_half_a_1920_pixel_screen(
    language: str, fake_app: DesktopApp, qtbot: QtBot, tmp_path: Path
) -> None:
    """With a model, an image and an answer: the figures that held the window at 1024 px
    wide give way."""
    installed = i18n.install_translators(qt_app(), language)
    try:
        open_image(qtbot, fake_app, make_image(tmp_path / "street-at-night.png", (4000, 3000)))
        fake_app.chat.ask_preset("detailed")
        wait_idle(qtbot, fake_app)
        assert fake_app.window.minimumSizeHint().width() <= 900
        fake_app.window.resize(900, 700)
        assert fake_app.window.width() <= 900
    finally:
        i18n.remove_translators(qt_app(), installed)


def test_the_settings_edit_the_look_and_the_models_folder(qtbot: QtBot, tmp_path: Path) -> None:
    dialog = SettingsDialog(Settings(theme="dark", font_size=14), [])
    qtbot.addWidget(dialog)
    assert dialog.theme_combo.currentData() == "dark"
    assert dialog.font_size_spin.value() == 14
    assert dialog.models_folder.folder() is None
    dialog.theme_combo.setCurrentIndex(dialog.theme_combo.findData("system"))
    dialog.font_size_spin.setValue(dialog.font_size_spin.minimum())  # "As the system"
    dialog.models_folder.edit.setText(str(tmp_path / "models"))
    edited = dialog.settings()
    assert (edited.theme, edited.font_size) == ("system", 0)
    assert edited.models_dir == str(tmp_path / "models")
