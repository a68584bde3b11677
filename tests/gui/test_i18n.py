"""Interface languages: tr() everywhere, a complete Chinese catalog, the choice, what is shown."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import QCoreApplication, QTranslator
from PySide6.QtWidgets import (
    QAbstractButton,
    QApplication,
    QComboBox,
    QDockWidget,
    QGroupBox,
    QLabel,
    QLineEdit,
    QMainWindow,
    QMenu,
    QPlainTextEdit,
    QStatusBar,
    QTabWidget,
    QTextEdit,
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
from tools.i18n_catalog import (
    Catalog,
    catalog_file,
    catalog_problems,
    extract,
    placeholders,
    untranslated_literals,
)
from vldesk.core.settings import Settings, load_settings, save_settings
from vldesk.gui import i18n
from vldesk.gui.dialogs.about_dialog import AboutDialog
from vldesk.gui.dialogs.settings_dialog import SettingsDialog
from vldesk.gui.main_window import MainWindow

HOW_TO_FIX = "run `python -m tools.i18n_catalog`, then translate the new strings in {}"


def qt_app() -> QApplication:
    app = QApplication.instance()
    assert isinstance(app, QApplication)
    return app


@pytest.fixture
def chinese() -> Iterator[list[QTranslator]]:
    """The Chinese interface for one test (installed before the widgets are built)."""
    installed = i18n.install_translators(qt_app(), "zh")
    yield installed
    i18n.remove_translators(qt_app(), installed)


def test_every_user_visible_literal_goes_through_tr() -> None:
    problems = [str(problem) for problem in untranslated_literals()]
    assert problems == [], "wrap these in self.tr() / QCoreApplication.translate():\n" + "\n".join(
        problems
    )


def test_the_chinese_catalog_is_complete() -> None:
    messages, problems = extract()
    assert problems == []
    assert len(messages) > 150  # the extractor found the app's strings
    ts_file = catalog_file("zh")
    missing = catalog_problems(messages, Catalog.read(ts_file))
    assert missing == [], HOW_TO_FIX.format(ts_file) + "\n" + "\n".join(missing)


def test_the_compiled_catalog_matches_the_ts_file() -> None:
    catalog = Catalog.read(catalog_file("zh"))
    translator = QTranslator()
    assert translator.load(str(catalog_file("zh", ".qm")))
    stale = [
        f"[{context}] {source!r}"
        for (context, source), text in catalog.translations.items()
        if text and translator.translate(context, source) != text
    ]
    assert stale == [], "the .qm is out of date: run `python -m tools.i18n_catalog`\n" + (
        "\n".join(stale[:20])
    )


def test_placeholders_are_compared_with_their_format() -> None:
    assert placeholders("{0} of {1:.1f} {name}") == [("0", ""), ("1", ".1f"), ("name", "")]
    assert placeholders("no fields") == []


@pytest.mark.parametrize(
    ("setting", "system", "expected"),
    [
        ("auto", ["zh-Hans-CN", "en-US"], "zh"),
        ("auto", ["zh-TW"], "zh"),
        ("auto", ["de-DE", "en-GB"], "en"),
        ("auto", ["fr-FR"], "en"),
        ("auto", [], "en"),
        ("zh", ["en-US"], "zh"),
        ("zh_CN", ["en-US"], "zh"),
        ("en", ["zh-CN"], "en"),
        ("de", ["zh-CN"], "en"),  # a language we do not have: the source language
    ],
)
def test_the_language_follows_the_setting_then_the_system(
    setting: str, system: list[str], expected: str
) -> None:
    assert i18n.resolve_language(setting, system) == expected


def test_the_chinese_interface_translates_menus_and_qt_buttons(
    qtbot: QtBot, chinese: list[QTranslator]
) -> None:
    assert i18n.current_language() == "zh"
    assert len(chinese) == 2  # ours and Qt's own (dialog buttons)
    window = MainWindow()
    qtbot.addWidget(window)
    menus = [action.text() for action in window.menuBar().actions()]
    assert menus[0] == "文件(&F)"
    assert "帮助(&H)" in menus
    assert qt_app().translate("QPlatformTheme", "Cancel") == "取消"


def test_first_start_in_chinese_sets_chinese_presets(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    installed: list[str] = []
    monkeypatch.setattr(i18n, "resolve_language", lambda setting, languages=None: "zh")
    monkeypatch.setattr(i18n, "install_translators", lambda app, lang: installed.append(lang))
    settings_file = tmp_path / "settings.json"
    i18n.setup_interface_language(qt_app(), settings_file)
    assert installed == ["zh"]
    assert load_settings(settings_file).preset_language == "zh"
    # Later starts keep what the user chose.
    save_settings(Settings(preset_language="en"), settings_file)
    i18n.setup_interface_language(qt_app(), settings_file)
    assert load_settings(settings_file).preset_language == "en"


def test_settings_offer_the_interface_language(qtbot: QtBot) -> None:
    dialog = SettingsDialog(Settings(ui_language="auto"), [])
    qtbot.addWidget(dialog)
    combo = dialog.ui_language_combo
    assert [combo.itemData(i) for i in range(combo.count())] == ["auto", "en", "zh"]
    combo.setCurrentIndex(combo.findData("zh"))
    assert dialog.settings().ui_language == "zh"


def test_changing_the_language_says_when_it_applies(make_app: AppFactory) -> None:
    app = make_app(start=False)
    app.apply_settings(app.settings.replace(ui_language="zh"))
    assert app.settings.ui_language == "zh"
    assert "next start" in app.window.banner.text


def visible_texts(root: QWidget) -> list[str]:
    """What a person can read in ``root`` and its visible children: titles, labels, buttons,
    placeholders, tool tips, list entries, the status bar and the menus."""
    texts = [root.windowTitle()]
    for widget in [root, *root.findChildren(QWidget)]:
        if not widget.isVisible():
            continue
        texts.append(widget.toolTip())
        if isinstance(widget, QLabel | QAbstractButton):
            texts.append(widget.text())
        if isinstance(widget, QLineEdit | QPlainTextEdit | QTextEdit):
            texts.append(widget.placeholderText())
        if isinstance(widget, QGroupBox):
            texts.append(widget.title())
        if isinstance(widget, QDockWidget):
            texts.append(widget.windowTitle())
        if isinstance(widget, QComboBox):
            texts.extend(widget.itemText(index) for index in range(widget.count()))
        if isinstance(widget, QTabWidget):
            texts.extend(widget.tabText(index) for index in range(widget.count()))
        if isinstance(widget, QStatusBar):
            texts.append(widget.currentMessage())
    if isinstance(root, QMainWindow):
        menus = [action.menu() for action in root.menuBar().actions()]
        texts.extend(action.text() for action in root.menuBar().actions())
        while menus:
            menu = menus.pop()
            if isinstance(menu, QMenu):
                for action in menu.actions():
                    texts.extend((action.text(), action.statusTip()))
                    menus.append(action.menu())
    return [text for text in texts if text.strip()]


def has_chinese(text: str) -> bool:
    return any("\u4e00" <= char <= "\u9fff" for char in text)


@pytest.mark.parametrize("language", ["en", "zh"])
def test_the_window_and_dialogs_show_only_the_interface_language(
    language: str, make_app: AppFactory, fake_model_dir: Path, qtbot: QtBot, tmp_path: Path
) -> None:
    """After an answer (whose figures and messages are set as it runs), every text on the
    window, the settings and the about dialog is in the interface language."""
    installed = i18n.install_translators(qt_app(), language)
    try:
        loader = FakeEngineLoader(make=lambda request: EngineStandIn(request, device="cpu"))
        app = make_app(fake_model_dir, engine_loader=loader, preset_language=language)
        wait_for_model(qtbot, app)
        open_image(qtbot, app, make_image(tmp_path / "street.png", (640, 420)))
        app.chat.ask_preset("alt")
        wait_idle(qtbot, app)
        settings = SettingsDialog(
            app.settings, [("Qwen3-VL tiny", str(fake_model_dir))], app.window
        )
        qtbot.addWidget(settings)
        settings.show()
        about = AboutDialog(app.paths, app.window)
        qtbot.addWidget(about)
        about.show()
        assert about.wait_for_disk_use()
        qtbot.waitUntil(lambda: any(ch.isdigit() for ch in about.disk_use.text()))
        texts = [*visible_texts(app.window), *visible_texts(settings), *visible_texts(about)]
        # Languages are offered by their own names, whatever the interface language.
        native_names = set(i18n.LANGUAGE_CHOICES.values())
        texts = [text for text in texts if text not in native_names]
        if language == "zh":
            catalog = Catalog.read(catalog_file("zh"))
            translated = {
                source for (_context, source), text in catalog.translations.items() if text
            }
            translated -= set(catalog.translations.values())  # the same in both languages
            assert [text for text in texts if text in translated] == []
            assert app.window.prompt_panel.preset_button("alt").text() == "无障碍替代文本"
            assert app.window.menuBar().actions()[0].text() == "文件(&F)"
            assert settings.windowTitle() != "Settings"
        else:
            assert [text for text in texts if has_chinese(text)] == []
            assert app.window.prompt_panel.preset_button("alt").text() != "无障碍替代文本"
    finally:
        i18n.remove_translators(qt_app(), installed)


def test_the_model_manager_words_fit_hints_and_summaries_in_the_interface_language(
    chinese: list[QTranslator],
) -> None:
    from vldesk.core.models.catalog import CATALOG, Precision
    from vldesk.core.models.machine import fit_hint
    from vldesk.gui.models.catalog_model import CATALOG_SUMMARIES, hint_text

    spec = CATALOG[0]
    hint = fit_hint(spec, 64 * 1024**3, cpu_precision=Precision.BFLOAT16)
    assert "内存" in hint_text(hint)
    assert "GPU" in hint_text(fit_hint(spec, None, 64 * 1024**3))
    assert spec.summary in CATALOG_SUMMARIES
    assert QCoreApplication.translate("Catalog", spec.summary) != spec.summary
