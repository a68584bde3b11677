"""Widgets on their own: viewer zoom, prompt keys, answer rendering, settings dialog, banner."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtGui import QGuiApplication, QImage, QWheelEvent
from PySide6.QtWidgets import QAbstractButton, QApplication, QLineEdit, QPlainTextEdit
from pytestqt.qtbot import QtBot

from tests.gui.conftest import AppFactory, make_image, open_image, wait_idle
from vldesk.core.presets import PRESETS
from vldesk.core.settings import Settings
from vldesk.gui.app import DesktopApp
from vldesk.gui.dialogs.settings_dialog import SettingsDialog
from vldesk.gui.widgets.answer_view import AnswerView
from vldesk.gui.widgets.image_viewer import ImageViewer
from vldesk.gui.widgets.message_banner import Level, MessageBanner
from vldesk.gui.widgets.prompt_panel import PromptPanel
from vldesk.gui.widgets.status_panel import StatusPanel
from vldesk.gui.workers.image_loader import decode


def _image(width: int, height: int) -> QImage:
    image = QImage(width, height, QImage.Format.Format_RGB32)
    image.fill(Qt.GlobalColor.darkCyan)
    return image


def test_viewer_fits_zooms_and_shows_actual_size(qtbot: QtBot) -> None:
    viewer = ImageViewer()
    qtbot.addWidget(viewer)
    viewer.resize(400, 300)
    viewer.show()
    viewer.set_image(_image(2000, 1000))
    fitted = viewer.zoom()
    assert 0.15 < fitted < 0.25
    viewer.zoom_in()
    assert viewer.zoom() > fitted
    viewer.zoom_out()
    viewer.zoom_out()
    assert viewer.zoom() < fitted
    viewer.actual_size()
    assert viewer.zoom() == 1.0
    viewer.fit_to_window()
    assert abs(viewer.zoom() - fitted) < 1e-6
    # The wheel zooms in by a step per notch.
    before = viewer.zoom()
    center = QPointF(viewer.viewport().rect().center())
    wheel = QWheelEvent(
        center,
        viewer.mapToGlobal(center),
        QPoint(0, 0),
        QPoint(0, 120),
        Qt.MouseButton.NoButton,
        Qt.KeyboardModifier.NoModifier,
        Qt.ScrollPhase.NoScrollPhase,
        False,
    )
    QApplication.sendEvent(viewer.viewport(), wheel)
    assert viewer.zoom() > before
    # Small images are not blown up.
    viewer.set_image(_image(50, 40))
    assert viewer.zoom() == 1.0


def test_viewer_draws_large_images_from_the_preview_when_zoomed_out(
    qtbot: QtBot, tmp_path: Path
) -> None:
    from PIL import Image

    path = tmp_path / "large.png"
    Image.new("RGB", (4000, 3000), (90, 140, 30)).save(path)
    decoded = decode(1, path)
    assert decoded.preview is not None
    assert max(decoded.preview.width(), decoded.preview.height()) == 2048
    assert decoded.display.size().toTuple() == (4000, 3000)
    assert decoded.thumbnail.size == (256, 192)
    viewer = ImageViewer()
    qtbot.addWidget(viewer)
    viewer.resize(600, 400)
    viewer.show()
    viewer.set_image(decoded.display, decoded.preview)
    shot = viewer.grab().toImage()
    center = shot.pixelColor(shot.width() // 2, shot.height() // 2)
    assert (center.red(), center.green(), center.blue()) == (90, 140, 30)


def test_zoom_shortcuts_act_on_the_viewer(
    make_app: AppFactory, qtbot: QtBot, tmp_path: Path
) -> None:
    app = make_app(start=False)
    open_image(qtbot, app, make_image(tmp_path / "wide.png", (3000, 1000)))
    viewer = app.window.viewer
    viewer.setFocus()
    fitted = viewer.zoom()
    qtbot.keyClick(viewer, Qt.Key.Key_Equal, Qt.KeyboardModifier.ControlModifier)
    assert viewer.zoom() > fitted
    qtbot.keyClick(viewer, Qt.Key.Key_1, Qt.KeyboardModifier.ControlModifier)
    assert viewer.zoom() == 1.0
    assert "100%" in app.window.image_info.text()
    qtbot.keyClick(viewer, Qt.Key.Key_0, Qt.KeyboardModifier.ControlModifier)
    assert abs(viewer.zoom() - fitted) < 1e-6
    qtbot.keyClick(viewer, Qt.Key.Key_Minus, Qt.KeyboardModifier.ControlModifier)
    assert viewer.zoom() < fitted
    assert "3000 × 1000 px" in app.window.image_info.text()


def test_enter_sends_and_shift_enter_adds_a_line(qtbot: QtBot) -> None:
    panel = PromptPanel()
    qtbot.addWidget(panel)
    with qtbot.waitActive(panel):  # Esc is a window shortcut: the window must be active
        panel.show()
        panel.activateWindow()
    panel.set_presets(PRESETS, "en")
    panel.set_can_ask(True)
    edit = panel.prompt_edit
    qtbot.keyClicks(edit, "first line")
    qtbot.keyClick(edit, Qt.Key.Key_Return, Qt.KeyboardModifier.ShiftModifier)
    qtbot.keyClicks(edit, "second line")
    assert edit.toPlainText() == "first line\nsecond line"
    with qtbot.waitSignal(panel.prompt_submitted) as sent:
        qtbot.keyClick(edit, Qt.Key.Key_Return)
    assert sent.args == ["first line\nsecond line"]
    # While an answer streams nothing else is sent; Stop is the only way forward.
    panel.set_busy(True)
    assert panel.stop_button.isEnabled()
    assert not panel.send_button.isEnabled()
    with qtbot.assertNotEmitted(panel.prompt_submitted):
        qtbot.keyClick(edit, Qt.Key.Key_Return)
    with qtbot.waitSignal(panel.stop_requested):
        qtbot.keyClick(edit, Qt.Key.Key_Escape)


def test_presets_follow_the_preset_language(qtbot: QtBot) -> None:
    panel = PromptPanel()
    qtbot.addWidget(panel)
    panel.set_presets(PRESETS, "zh")
    assert panel.preset_button("ocr").text() == "识别文字"
    panel.set_presets(PRESETS, "en")
    assert panel.preset_button("ocr").text() == "Read all text"
    panel.set_can_ask(True)
    with qtbot.waitSignal(panel.preset_clicked) as clicked:
        qtbot.mouseClick(panel.preset_button("alt"), Qt.MouseButton.LeftButton)
    assert clicked.args == ["alt"]


def test_answer_view_throttles_rendering_and_renders_markdown(qtbot: QtBot) -> None:
    view = AnswerView()
    qtbot.addWidget(view)
    view.begin_answer("What is it?")
    view.append_text("# A title\n\n")
    view.append_text("Some **bold** text")
    assert "A title" not in view.browser.toPlainText()  # not rendered yet: throttled
    qtbot.waitUntil(lambda: "A title" in view.browser.toPlainText(), timeout=5000)
    plain = view.browser.toPlainText()
    assert "A title" in plain
    assert "Some bold text" in plain
    # An unclosed code fence in one answer does not swallow the next exchange.
    view.finish_answer("```python\nprint(1)")
    view.begin_answer("And then?")
    view.finish_answer("Done.")
    html = view.browser.toHtml()
    assert "And then?" in view.browser.toPlainText()
    assert "Done." in html
    view.copy_answer()
    assert QGuiApplication.clipboard().text() == "Done."


def test_answer_view_counts_the_seconds_until_the_first_words(qtbot: QtBot) -> None:
    # Reading a photo takes half a minute on a small CPU: the pane shows that it is working.
    view = AnswerView()
    qtbot.addWidget(view)
    view.begin_answer("What is it?")
    assert "reading the image and the question…" in view.browser.toPlainText()
    qtbot.waitUntil(lambda: "question… 1 s" in view.browser.toPlainText(), timeout=3000)
    view.set_token_count(3)  # tokens, but no words yet: a reasoning block is held back
    qtbot.waitUntil(lambda: "thinking… " in view.browser.toPlainText(), timeout=1000)
    view.append_text("A red square.")
    qtbot.waitUntil(lambda: "answering…" in view.browser.toPlainText(), timeout=1000)
    assert "thinking" not in view.browser.toPlainText()
    view.finish_answer("A red square.")
    assert not view.streaming
    assert "answering" not in view.browser.toPlainText()
    # A question that fails before any words stops counting too.
    view.begin_answer("And now?")
    assert view.streaming
    view.fail_answer()
    assert not view.streaming
    assert "And now?" not in view.browser.toPlainText()


def test_the_status_bar_gives_memory_in_the_units_of_the_model_manager(qtbot: QtBot) -> None:
    panel = StatusPanel()
    qtbot.addWidget(panel)
    panel.set_memory(4_255_000_000)
    assert panel.memory_label.text() == "4.3 GB in use"  # decimal, as download sizes are
    panel.set_memory(1_500_000)
    assert panel.memory_label.text() == "1.5 MB in use"
    panel.set_memory(None)
    assert panel.memory_label.text() == ""


def test_settings_dialog_edits_a_copy(qtbot: QtBot) -> None:
    settings = Settings(model="Qwen/Qwen3-VL-2B-Instruct", extra={"kept": True})
    dialog = SettingsDialog(settings, [("Qwen3-VL 2B", "Qwen/Qwen3-VL-2B-Instruct")])
    qtbot.addWidget(dialog)
    assert not dialog.temperature_spin.isEnabled()  # greedy by default
    dialog.greedy_check.setChecked(False)
    assert dialog.temperature_spin.isEnabled()
    dialog.temperature_spin.setValue(0.3)
    dialog.max_tokens_spin.setValue(900)
    dialog.image_tokens_spin.setValue(512)
    dialog.device_combo.setCurrentIndex(dialog.device_combo.findData("cpu"))
    assert dialog.weights_combo.currentData() == "full"
    dialog.weights_combo.setCurrentIndex(dialog.weights_combo.findData("int8"))
    dialog.language_combo.setCurrentIndex(dialog.language_combo.findData("zh"))
    edited = dialog.settings()
    assert edited.greedy is False
    assert edited.temperature == 0.3
    assert edited.max_new_tokens == 900
    assert edited.max_image_tokens == 512
    assert edited.device == "cpu"
    assert edited.weights == "int8"
    assert edited.preset_language == "zh"
    assert edited.model == settings.model
    assert edited.extra == {"kept": True}
    assert settings.max_new_tokens == 512  # the original is untouched


def test_banner_actions_run_and_hide_it(qtbot: QtBot) -> None:
    banner = MessageBanner()
    qtbot.addWidget(banner)
    clicked: list[str] = []
    banner.show_message("Out of memory.", Level.ERROR, [("Retry", lambda: clicked.append("x"))])
    assert banner.isVisible()
    banner.action_buttons[0].click()
    assert clicked == ["x"]
    assert not banner.isVisible()


def test_paste_an_image_from_the_clipboard(
    make_app: AppFactory, qtbot: QtBot, tmp_path: Path
) -> None:
    app = make_app(start=False)
    QGuiApplication.clipboard().setImage(_image(320, 200))
    app.window.paste_action.trigger()
    qtbot.waitUntil(lambda: app.session.image is not None, timeout=10_000)
    assert app.session.image is not None
    assert app.session.image.path is None
    assert app.session.image.loaded.size == (320, 200)
    assert "pasted image" in app.window.image_info.text()
    QGuiApplication.clipboard().setText("just text")
    app.window.paste_action.trigger()
    assert "no image" in app.window.banner.text
    # Pasting an image while typing a question opens it too; text still pastes as text.
    QGuiApplication.clipboard().setImage(_image(120, 90))
    app.window.prompt_panel.prompt_edit.paste()
    qtbot.waitUntil(lambda: app.session.image.loaded.size == (120, 90), timeout=10_000)  # type: ignore[union-attr]
    QGuiApplication.clipboard().setText("typed")
    app.window.prompt_panel.prompt_edit.paste()
    assert app.window.prompt_panel.prompt_edit.toPlainText() == "typed"


def test_every_control_has_an_accessible_name(make_app: AppFactory) -> None:
    app = make_app(start=False)
    unnamed = [
        widget
        for kind in (QAbstractButton, QLineEdit, QPlainTextEdit)
        for widget in app.window.findChildren(kind)
        if widget.isVisibleTo(app.window)
        and not widget.accessibleName()
        and not (isinstance(widget, QAbstractButton) and widget.text())
    ]
    assert not unnamed, [type(w).__name__ + ":" + w.objectName() for w in unnamed]


def test_export_the_answer_and_copy_the_conversation(
    fake_app: DesktopApp, qtbot: QtBot, tmp_path: Path
) -> None:
    app = fake_app
    assert not app.window.export_answer_action.isEnabled()
    open_image(qtbot, app, make_image(tmp_path / "pic.png"))
    assert app.chat.ask_preset("brief")
    wait_idle(qtbot, app)
    assert app.chat.ask("Shorter?")
    wait_idle(qtbot, app)
    assert app.window.export_answer_action.isEnabled()
    target = tmp_path / "answer.md"
    assert app.history.export_answer(target)
    text = target.read_text(encoding="utf-8")
    assert "> Shorter?" in text
    assert "Describe this image" not in text  # only the last exchange
    assert "**Model:** `fake-qwen3-vl`" in text
    app.window.copy_conversation_action.trigger()
    copied = QGuiApplication.clipboard().text()
    assert "> Describe this image in one or two sentences." in copied
    assert "> Shorter?" in copied
    # A name without .txt/.md is refused with a clear message, the app carries on.
    assert not app.history.export_answer(tmp_path / "answer.docx")
    assert "must end in .txt or .md" in app.window.banner.text


def test_a_long_file_name_is_shortened_instead_of_widening_the_window(
    make_app: AppFactory, qtbot: QtBot, tmp_path: Path
) -> None:
    app = make_app(start=False)
    open_image(qtbot, app, make_image(tmp_path / "short.png", (640, 480)))
    usual = app.window.minimumSizeHint().width()
    name = "holiday-" + "x" * 200 + "-final.png"
    open_image(qtbot, app, make_image(tmp_path / name, (640, 480)))
    info = app.window.image_info
    assert app.window.minimumSizeHint().width() == usual
    assert info.text().startswith(name)  # the whole line stays available (tooltip, Copy)
    assert info.toolTip() == info.text()
    info.resize(400, info.height())
    shown = info.shown_text()
    assert "…" in shown
    assert shown.startswith("holiday-")
    assert "-final.png" in shown
    figures = info.text().partition("  ·  ")[2]
    assert "640 × 480 px" in figures
    assert shown.endswith(figures)
    assert info.fontMetrics().horizontalAdvance(shown) <= info.contentsRect().width()
    info.actions()[0].trigger()
    assert QGuiApplication.clipboard().text() == info.text()
