"""Prompt presets exist in English and Chinese."""

from __future__ import annotations

import pytest

from vldesk.core.presets import LANGUAGES, PRESETS, get_preset, preset_names


def test_the_seven_presets() -> None:
    assert preset_names() == ["brief", "detailed", "ocr", "markdown", "json", "alt", "find"]


@pytest.mark.parametrize("preset", PRESETS, ids=lambda p: p.name)
@pytest.mark.parametrize("language", LANGUAGES)
def test_every_preset_in_every_language(preset, language) -> None:  # type: ignore[no-untyped-def]
    assert preset.titles[language].strip()
    assert preset.prompts[language].strip()
    if language == "zh":
        assert any("\u4e00" <= ch <= "\u9fff" for ch in preset.prompt(language))


def test_unknown_preset_lists_the_valid_ones() -> None:
    with pytest.raises(KeyError, match="brief"):
        get_preset("poem")
    assert get_preset(" OCR ").name == "ocr"
