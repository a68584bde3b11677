"""Every text a person can read in the Chinese interface is Chinese: each window and dialog
is walked widget by widget (names such as vldesk, Qwen or GB, file names and paths aside)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import QTranslator
from PySide6.QtWidgets import (
    QAbstractButton,
    QApplication,
    QComboBox,
    QFileDialog,
    QGroupBox,
    QLabel,
    QLineEdit,
    QMainWindow,
    QMenu,
    QPlainTextEdit,
    QSpinBox,
    QTabWidget,
    QTextEdit,
    QTreeWidget,
    QWidget,
)
from pytestqt.qtbot import QtBot

from tests.gui.conftest import (
    AppFactory,
    EngineStandIn,
    make_image,
    open_image,
    wait_for_model,
    wait_idle,
)
from tests.helpers.fake_engine import FakeEngineLoader
from vldesk.gui import i18n
from vldesk.gui.app import DesktopApp
from vldesk.gui.dialogs.about_dialog import AboutDialog
from vldesk.gui.dialogs.model_dialog import ModelDialog
from vldesk.gui.dialogs.settings_dialog import SettingsDialog
from vldesk.gui.dialogs.shortcuts_dialog import ShortcutsDialog

#: Words that are names, units or formats, the same in Chinese.
NAMES = frozenset(
    {
        "vldesk",
        "Qwen",
        "VL",
        "Instruct",
        "GB",
        "MB",
        "kB",
        "TB",
        "px",
        "pt",
        "JSON",
        "Markdown",
        "CPU",
        "GPU",
        "RAM",
        "OCR",
        "ModelScope",
        "token",
        "tokens",
        "Top",
        "bfloat",
        "float",
        "int",
        "CUDA",
        "PyTorch",
        "Python",
        "PySide",
        "Qt",
        "Transformers",
        "transformers",
        "torch",
        "torchvision",
        "llama",
        "cpp",
        "Pillow",
        "XMP",
        "COCO",
        "YOLO",
        "Ctrl",
        "Shift",
        "Alt",
        "Enter",
        "Esc",
        "Del",
        "Delete",
        "Tab",
        "PgUp",
        "PgDown",
        "Home",
        "End",
        "Space",
        "Backspace",
        "Ins",
        "English",
        "auto",
        "cpu",
        "cuda",
        "mps",
        "bfloat16",
        "float16",
        "float32",
        "JPEG",
        "PNG",
        "WebP",
        "GIF",
        "BMP",
        "TIFF",
        "JSONL",
        "CSV",
        "CPython",
        "Linux",
        # Programs, servers, formats and CPU features, named as their makers name them.
        "OpenAI",
        "API",
        "vLLM",
        "SGLang",
        "serve",
        "safetensors",
        "GGUF",
        "AMX",
        "AVX",
        "AMD",
        "EPYC",
        "Zen",
        "digiKam",
        "darktable",
        "Lightroom",
    }
)
#: What the test itself names: its stand-in model and device.
#: (The stand-in engine is called "fake"; the tip names it before its description.)
TEST_DATA = frozenset({"Qwen3-VL tiny", "a test stand-in", "fake：a test stand-in"})
#: Paths, file names, model ids and versions: data, not language.
_DATA = re.compile(r'"[^"]*"|\S*[/\\]\S*|\S*\.[A-Za-z0-9]{1,8}\b|\b[\w.-]+-[\w.-]+\b|\w*[_\d]\w*')


def english_words(text: str) -> list[str]:
    text = _DATA.sub(" ", re.sub(r"&(?=\w)", "", text))  # mnemonics: "文件(&F)"
    return [word for word in re.findall(r"[A-Za-z]{2,}", text) if word not in NAMES]


def visible_texts(root: QWidget) -> Iterator[tuple[str, str]]:
    """``(where, text)`` for every text a person can read in ``root`` and its visible
    children: titles, labels, buttons, placeholders, tool tips, lists, spin boxes, menus."""
    yield "title", root.windowTitle()
    for widget in [root, *root.findChildren(QWidget)]:
        if not widget.isVisible():
            continue
        name = type(widget).__name__
        yield f"{name} tooltip", widget.toolTip()
        yield f"{name} accessible", widget.accessibleName()
        if isinstance(widget, QLabel | QAbstractButton):
            yield name, widget.text()
        if isinstance(widget, QLineEdit | QPlainTextEdit | QTextEdit):
            yield f"{name} placeholder", widget.placeholderText()
        if isinstance(widget, QGroupBox):
            yield name, widget.title()
        if isinstance(widget, QComboBox):
            for index in range(widget.count()):
                yield name, widget.itemText(index)
        if isinstance(widget, QSpinBox):
            yield name, widget.text()
        if isinstance(widget, QTabWidget):
            for index in range(widget.count()):
                yield name, widget.tabText(index)
        if isinstance(widget, QTreeWidget):
            header = widget.headerItem()
            for column in range(header.columnCount()):
                yield f"{name} header", header.text(column)
    if isinstance(root, QMainWindow):
        yield "status bar", root.statusBar().currentMessage()
        menus = [action.menu() for action in root.menuBar().actions()]
        for action in root.menuBar().actions():
            yield "menu", action.text()
        while menus:
            menu = menus.pop()
            if isinstance(menu, QMenu):
                for action in menu.actions():
                    yield "menu", action.text()
                    yield "menu tip", action.statusTip()
                    menus.append(action.menu())


def untranslated(root: QWidget) -> list[str]:
    return [
        f"{where}: {text!r}"
        for where, text in visible_texts(root)
        if text.strip() and text not in TEST_DATA and english_words(text)
    ]


@pytest.fixture
def chinese(qapp: QApplication) -> Iterator[list[QTranslator]]:
    installed = i18n.install_translators(qapp, "zh")
    yield installed
    i18n.remove_translators(qapp, installed)


@pytest.fixture
def answered(
    chinese: list[QTranslator],
    make_app: AppFactory,
    fake_model_dir: Path,
    qtbot: QtBot,
    tmp_path: Path,
) -> DesktopApp:
    """The Chinese window after a question about an image, a model loaded."""
    loader = FakeEngineLoader(make=lambda request: EngineStandIn(request, device="cpu"))
    app = make_app(fake_model_dir, engine_loader=loader, preset_language="zh")
    wait_for_model(qtbot, app)
    open_image(qtbot, app, make_image(tmp_path / "street.png", (640, 420)))
    app.chat.ask_preset("alt")
    wait_idle(qtbot, app)
    return app


def test_the_main_window_is_all_chinese(answered: DesktopApp) -> None:
    found = untranslated(answered.window)
    assert found == [], "\n".join(found)


def test_every_dialog_is_all_chinese(
    answered: DesktopApp, qtbot: QtBot, fake_model_dir: Path, tmp_path: Path
) -> None:
    window = answered.window
    settings = SettingsDialog(answered.settings, [("Qwen3-VL tiny", str(fake_model_dir))], window)
    about = AboutDialog(answered.paths, window)
    shortcuts = ShortcutsDialog(window.actions(), window)
    models = ModelDialog(answered.store, answered.downloads, parent=window)
    first_run = ModelDialog(answered.store, answered.downloads, first_run=True, parent=window)
    dialogs: list[QWidget] = [settings, about, shortcuts, models, first_run]
    for dialog in dialogs:
        qtbot.addWidget(dialog)
        dialog.show()
    assert about.wait_for_disk_use()
    qtbot.waitUntil(lambda: any(ch.isdigit() for ch in about.disk_use.text()))
    batch = answered.batch_panel.open_dialog()
    assert batch is not None
    dialogs.append(batch)
    found = [
        f"{type(dialog).__name__} {text}" for dialog in dialogs for text in untranslated(dialog)
    ]
    assert found == [], "\n".join(found)
    batch.close()


def test_the_folder_batch_view_is_all_chinese(answered: DesktopApp) -> None:
    answered.window.show_batch_view()
    found = untranslated(answered.window)
    assert found == [], "\n".join(found)


def test_qts_file_dialog_is_all_chinese(chinese: list[QTranslator], qtbot: QtBot) -> None:
    """Qt's own catalog lacks its newer wording ("&Look in:"): ours fills it in."""
    dialog = QFileDialog(None, "打开图片")
    dialog.setOption(QFileDialog.Option.DontUseNativeDialog)
    qtbot.addWidget(dialog)
    dialog.show()
    found = untranslated(dialog)
    assert found == [], "\n".join(found)
    assert dialog.labelText(QFileDialog.DialogLabel.LookIn) == "查找范围(&L)："


def test_the_allowlist_lets_names_through_but_not_english() -> None:
    assert english_words("下载 Qwen3-VL 2B Instruct（4.3 GB）到 /tmp/x/Models") == []
    assert english_words("文件(&F)") == []
    assert english_words("模型 fake 已加载") == ["fake"]
    assert english_words("Download") == ["Download"]
