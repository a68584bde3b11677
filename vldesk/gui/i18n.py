"""The interface language: chosen from the settings or the system locale, loaded as Qt .qm files."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from importlib import resources
from pathlib import Path

from PySide6.QtCore import QCoreApplication, QLibraryInfo, QLocale, QTranslator

from vldesk.core.errors import VldeskError
from vldesk.core.messages import Text, message_of
from vldesk.core.presets import LANGUAGES
from vldesk.core.settings import load_settings, save_settings

log = logging.getLogger(__name__)

#: Interface languages: English is the source text, the others have a catalog.
UI_LANGUAGES = ("en", "zh")
#: The ``ui_language`` setting's choices, with their names in their own language.
LANGUAGE_CHOICES = {"auto": "", "en": "English", "zh": "中文 (简体)"}
#: Qt's locale name of each translation (the .qm files are named after it).
QT_LOCALES = {"zh": "zh_CN"}

_current = "en"


def mark_translatable(context: str, text: str) -> str:
    """Return ``text`` unchanged; the catalog tool picks it up (``QT_TRANSLATE_NOOP``, typed).

    For strings kept in tables and translated later with ``QCoreApplication.translate``.
    """
    return text


def translated(text: object) -> str:
    """``text`` in the interface language: a core :class:`Text` is looked up in the catalog
    by its context and template (its values too, when they are Texts); anything else is shown
    as it is."""
    if not isinstance(text, Text):
        return str(text)
    values = {
        name: translated(value) if isinstance(value, Text) else value
        for name, value in text.values.items()
    }
    template = QCoreApplication.translate(text.context, text.template)
    try:
        return template.format(**values)
    except (KeyError, IndexError, ValueError):  # a broken translation: the English is right
        log.warning("bad translation of %r: %r", text.template, template)
        return str(text)


def error_text(error: BaseException) -> str:
    """An error's message for a dialog or banner, in the interface language when the core
    raised it with a :class:`Text`."""
    return translated(message_of(error))


def resolve_language(setting: str, ui_languages: Sequence[str] | None = None) -> str:
    """``"en"`` or ``"zh"`` for the ``ui_language`` setting; ``"auto"`` follows the system.

    ``ui_languages`` are the system's preferred languages, best first (``QLocale``'s
    ``uiLanguages()``, e.g. ``["zh-Hans-CN", "en-US"]``); the first one we have wins.
    Any Chinese locale gets the Simplified Chinese interface.
    """
    choice = setting.strip().lower().replace("-", "_")
    if choice != "auto":
        code = choice.split("_")[0]
        return code if code in UI_LANGUAGES else "en"
    if ui_languages is None:
        ui_languages = QLocale.system().uiLanguages()
    for name in ui_languages:
        code = name.replace("-", "_").split("_")[0].lower()
        if code in UI_LANGUAGES:
            return code
    return "en"


def current_language() -> str:
    """The language :func:`install_translators` last installed (``"en"`` before that)."""
    return _current


def _load_qt_catalogs(language: str, parent: QCoreApplication) -> list[QTranslator]:
    """Qt's own strings (dialog buttons, context menus), shipped with PySide6."""
    folder = QLibraryInfo.path(QLibraryInfo.LibraryPath.TranslationsPath)
    loaded = []
    translator = QTranslator(parent)
    if translator.load(f"qtbase_{QT_LOCALES[language]}", folder):
        loaded.append(translator)
    else:
        log.info("Qt's own %s translation is not available in %s", language, folder)
    return loaded


def install_translators(app: QCoreApplication, language: str) -> list[QTranslator]:
    """Install vldesk's catalog (and Qt's) for ``language``; returns them for removal.

    English needs nothing. A missing catalog is logged and the interface stays English.
    """
    global _current
    _current = "en"
    if language not in QT_LOCALES:
        return []
    installed: list[QTranslator] = []
    ours = QTranslator(app)
    catalog = resources.files("vldesk") / "assets" / "i18n" / f"vldesk_{QT_LOCALES[language]}.qm"
    with resources.as_file(catalog) as path:
        ok = ours.load(str(path))
    if not ok:
        log.warning("The %s interface translation %s could not be loaded.", language, catalog)
        return []
    for translator in (ours, *_load_qt_catalogs(language, app)):
        app.installTranslator(translator)
        installed.append(translator)
    _current = language
    log.info("interface language: %s", language)
    return installed


def remove_translators(app: QCoreApplication, translators: Sequence[QTranslator]) -> None:
    global _current
    for translator in translators:
        app.removeTranslator(translator)
    _current = "en"


def setup_interface_language(app: QCoreApplication, settings_file: Path) -> str:
    """At start-up: install the language the settings (or the system) ask for; returns it.

    On the very first start (no settings file yet) in Chinese, the presets' prompts are set to
    Chinese too, so the buttons and answers match the interface.
    """
    settings = load_settings(settings_file)
    language = resolve_language(settings.ui_language)
    if language != "en" and language in LANGUAGES and not settings_file.exists():
        try:
            save_settings(settings.replace(preset_language=language), settings_file)
        except VldeskError as exc:
            log.warning("could not save the first-run settings: %s", exc)
    install_translators(app, language)
    return current_language()
