"""Interface languages: tr() everywhere, a complete Chinese catalog, the choice, screenshots."""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import QCoreApplication, QTranslator
from PySide6.QtGui import QFontDatabase
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from tests.gui.conftest import AppFactory, open_image, wait_idle
from vldesk.core.settings import Settings, load_settings, save_settings
from vldesk.gui import i18n
from vldesk.gui.dialogs.about_dialog import AboutDialog
from vldesk.gui.dialogs.settings_dialog import SettingsDialog
from vldesk.gui.i18n_catalog import (
    Catalog,
    catalog_file,
    catalog_problems,
    extract,
    placeholders,
    untranslated_literals,
)
from vldesk.gui.main_window import MainWindow

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"
HOW_TO_FIX = "run `python -m vldesk.gui.i18n_catalog`, then translate the new strings in {}"


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
    assert stale == [], "the .qm is out of date: run `python -m vldesk.gui.i18n_catalog`\n" + (
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


@pytest.mark.parametrize("language", ["en", "zh"])
def test_screenshots_in_english_and_chinese(
    language: str, make_app: AppFactory, tiny_dir: Path, qtbot: QtBot, tmp_path: Path
) -> None:
    """The main window with an answer, and the settings and about dialogs, for review."""
    from tests.gui.conftest import SAMPLING, make_image, wait_for_model

    installed = i18n.install_translators(qt_app(), language)
    try:
        app = make_app(tiny_dir, preset_language=language, max_new_tokens=24, **SAMPLING)
        wait_for_model(qtbot, app)
        app.window.resize(1280, 800)
        open_image(qtbot, app, make_image(tmp_path / "街景 street.png", (640, 420)))
        app.ask_preset("alt")
        wait_idle(qtbot, app)
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        qtbot.wait(50)
        assert app.window.grab().save(str(ARTIFACTS / f"main-window-{language}.png"))
        chinese_fonts = QFontDatabase.families(QFontDatabase.WritingSystem.SimplifiedChinese)
        if language == "zh" and not chinese_fonts:
            warnings.warn(
                "no font with Chinese glyphs: the zh screenshots show boxes "
                "(install fonts-noto-cjk)",
                stacklevel=1,
            )

        settings = SettingsDialog(app.settings, [("Qwen3-VL tiny", str(tiny_dir))], app.window)
        qtbot.addWidget(settings)
        settings.show()
        qtbot.wait(20)
        assert settings.grab().save(str(ARTIFACTS / f"settings-{language}.png"))

        about = AboutDialog(app.paths, app.window)
        qtbot.addWidget(about)
        about.show()
        assert about.wait_for_disk_use()
        qtbot.waitUntil(lambda: any(ch.isdigit() for ch in about.disk_use.text()))
        assert about.grab().save(str(ARTIFACTS / f"about-{language}.png"))
        if language == "zh":
            assert app.window.prompt_panel.preset_button("alt").text() == "无障碍替代文本"
            assert app.window.menuBar().actions()[0].text() == "文件(&F)"
    finally:
        i18n.remove_translators(qt_app(), installed)


def test_the_model_manager_words_fit_hints_and_summaries_in_the_interface_language(
    chinese: list[QTranslator],
) -> None:
    from vldesk.core.catalog import CATALOG, Precision
    from vldesk.core.machine import fit_hint
    from vldesk.gui.models.catalog_model import CATALOG_SUMMARIES, hint_text

    spec = CATALOG[0]
    hint = fit_hint(spec, 64 * 1024**3, cpu_precision=Precision.BFLOAT16)
    assert "内存" in hint_text(hint)
    assert "GPU" in hint_text(fit_hint(spec, None, 64 * 1024**3))
    assert spec.summary in CATALOG_SUMMARIES
    assert QCoreApplication.translate("Catalog", spec.summary) != spec.summary
