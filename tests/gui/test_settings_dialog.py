"""The Settings dialog shows the model's own sampling values; only values the user changes stay."""

from __future__ import annotations

import json
from pathlib import Path

from pytestqt.qtbot import QtBot

from vldesk.core.models.catalog import Family
from vldesk.core.settings import Settings
from vldesk.gui.dialogs.settings_dialog import SettingsDialog

QWEN3_VL = "Qwen/Qwen3-VL-2B-Instruct"


def _shown(dialog: SettingsDialog) -> tuple[float, float, int, float]:
    return (
        dialog.temperature_spin.value(),
        dialog.top_p_spin.value(),
        dialog.top_k_spin.value(),
        dialog.repetition_spin.value(),
    )


def test_a_catalog_models_recommended_values_are_shown_and_followed(qtbot: QtBot) -> None:
    dialog = SettingsDialog(Settings(model=QWEN3_VL), [("Qwen3-VL 2B", QWEN3_VL)])
    qtbot.addWidget(dialog)
    # Not downloaded: the catalog's record of Qwen3-VL's generation_config.json.
    assert _shown(dialog) == (0.7, 0.8, 20, 1.0)
    assert "repetition penalty 1." in dialog.model_sampling_label.text()
    dialog.greedy_check.setChecked(False)
    edited = dialog.settings()
    assert edited.greedy is False
    # Nothing changed: every sampling value keeps following the model.
    assert (edited.temperature, edited.top_p, edited.top_k, edited.repetition_penalty) == (
        None,
        None,
        None,
        None,
    )


def test_an_installed_folders_own_values_and_the_users_choices(
    qtbot: QtBot, tiny_model_dirs: dict[Family, Path]
) -> None:
    folder = tiny_model_dirs[Family.QWEN2_5_VL]
    generation = json.loads((folder / "generation_config.json").read_text())
    settings = Settings(model=str(folder), temperature=0.3)
    dialog = SettingsDialog(settings, [("Qwen3-VL 2B", QWEN3_VL), ("mine", str(folder))])
    qtbot.addWidget(dialog)
    # The folder's generation_config.json (Qwen2.5-VL: 1.05); the user's temperature stays.
    assert dialog.repetition_spin.value() == generation["repetition_penalty"] == 1.05
    assert dialog.temperature_spin.value() == 0.3
    assert "repetition penalty 1.05" in dialog.model_sampling_label.text()
    dialog.model_combo.setCurrentIndex(dialog.model_combo.findData(QWEN3_VL))
    assert dialog.repetition_spin.value() == 1.0  # follows the newly chosen model
    assert dialog.temperature_spin.value() == 0.3  # the user's own
    dialog.top_k_spin.setValue(7)
    edited = dialog.settings()
    assert (edited.temperature, edited.top_k, edited.repetition_penalty) == (0.3, 7, None)
    dialog.use_model_sampling()
    assert _shown(dialog) == (0.7, 0.8, 20, 1.0)
    edited = dialog.settings()
    assert (edited.temperature, edited.top_k, edited.repetition_penalty) == (None, None, None)
