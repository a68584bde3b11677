"""The model manager in the app: first run, the menu, choosing, auto-load, closing mid-download."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtWidgets import QLabel
from pytestqt.qtbot import QtBot

from tests.gui.conftest import OFFSCREEN_NOISE, AppFactory, shown_dialogs, wait_for_model
from tests.helpers.fake_modelscope import FakeModelScope, model_files
from tests.helpers.netguard import no_network
from vldesk.core.inference.cpu.quantized_weights import WeightFormat
from vldesk.core.models import downloads
from vldesk.core.models.catalog import Precision, default_model
from vldesk.core.settings import load_settings
from vldesk.core.units import format_bytes
from vldesk.gui.app import DesktopApp
from vldesk.gui.dialogs.model_dialog import ModelDialog
from vldesk.gui.workers.inference import ModelLoadedInfo

SPEC = default_model()


@pytest.fixture(autouse=True)
def _isolated_hub_client(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("MODELSCOPE_CACHE", str(tmp_path / "ms-cache"))
    monkeypatch.setenv("MODELSCOPE_HOME", str(tmp_path / "ms-home"))
    monkeypatch.delenv("MODELSCOPE_API_TOKEN", raising=False)
    downloads._hub()
    import modelscope_hub._download as client_download

    monkeypatch.setattr(client_download, "DOWNLOAD_RETRY_TIMES", 1)
    with no_network(monkeypatch) as attempts:
        yield
    assert attempts == []


@pytest.fixture
def hub(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeModelScope]:
    with FakeModelScope() as server:
        monkeypatch.setenv("VLDESK_MODELSCOPE_ENDPOINT", server.endpoint)
        yield server


def test_first_run_opens_the_manager_and_the_chosen_model_is_loaded_and_remembered(
    make_app: AppFactory, qtbot: QtBot, tiny_dir: Path
) -> None:
    app = make_app()
    # The window says how to get a model, and the manager is open beside it, not modal.
    text = app.window.answer_view.browser.toPlainText()
    assert "No model is available yet" in text
    assert "Model → Manage Models…" in text
    [dialog] = shown_dialogs(app, ModelDialog)
    assert not dialog.isModal()
    labels = [label.text() for label in dialog.findChildren(QLabel)]
    assert any("No model is installed yet" in text for text in labels)

    assert dialog.import_folder(tiny_dir)
    row = dialog.selected_row()
    assert row is not None
    ref = row.ref
    dialog.use_button.click()
    wait_for_model(qtbot, app)
    assert "qwen3_vl" in app.window.status_panel.model_label.text()
    assert shown_dialogs(app, ModelDialog) == []  # "Use this model" closes it
    assert app.settings.model == ref
    saved = load_settings(app.paths.settings_file)
    assert saved.model == ref
    assert saved.last_model == ref
    checked = [a.data() for a in app.window.model_group.actions() if a.isChecked()]
    assert checked == [ref]


@pytest.mark.qt_log_ignore(OFFSCREEN_NOISE, "This plugin does not support raise")
def test_manage_models_from_the_menu(fake_app: DesktopApp, qtbot: QtBot) -> None:
    app = fake_app
    window = app.window
    assert shown_dialogs(app, ModelDialog) == []  # a model loads: no first-run dialog
    action = window.manage_models_action
    assert action in window.model_menu.actions()
    assert action.shortcut().toString() == "Ctrl+M"
    action.trigger()
    [dialog] = shown_dialogs(app, ModelDialog)
    action.trigger()  # again: the same dialog comes to the front
    assert shown_dialogs(app, ModelDialog) == [dialog]
    dialog.close()
    qtbot.waitUntil(lambda: not shown_dialogs(app, ModelDialog), timeout=2000)


@pytest.mark.parametrize("dtype", ["float32", "bfloat16"])
def test_memory_estimates_use_the_precision_the_model_runs_at(
    make_app: AppFactory, qtbot: QtBot, tiny_dir: Path, dtype: str
) -> None:
    # A bfloat16 CPU needs about half the memory of float32: estimating float32 there called
    # the 4B model "Tight" and the 8B one "Too big" on machines that run them.
    app = make_app(tiny_dir, dtype=dtype)
    wait_for_model(qtbot, app)
    assert app.window.status_panel.device_label.text() == f"cpu · {dtype}"
    dialog = app.models.open_model_dialog()
    hint = dialog.model.row_at(0).hint  # type: ignore[union-attr]
    assert hint is not None
    assert f"({dtype})" in hint.text
    assert "RAM" in hint.text
    spec = default_model()
    assert format_bytes(spec.memory_needed_bytes(Precision(dtype))) in hint.text
    dialog.close()
    qtbot.waitUntil(lambda: not shown_dialogs(app, ModelDialog), timeout=2000)

    # A model on a GPU (as the worker reports one): the estimates compare with its memory.
    on_gpu = ModelLoadedInfo(
        name="tiny",
        path=tiny_dir,
        family="qwen3_vl",
        device="cuda:0",
        dtype="bfloat16",
        reason="a 24 GB GPU",
        load_seconds=1.0,
        memory_bytes=None,
        device_total_bytes=24 * 1024**3,
    )
    app.inference.model_loaded.emit(on_gpu)
    assert app.window.status_panel.device_label.text() == "cuda:0 · bfloat16"
    dialog = app.models.open_model_dialog()
    hint = dialog.model.row_at(0).hint  # type: ignore[union-attr]
    assert hint is not None
    assert "GPU memory" in hint.text
    assert "(bfloat16)" in hint.text
    dialog.close()


@pytest.mark.parametrize(
    ("dtype", "weights", "shown"),
    [
        ("float32", "full", "float32"),
        ("bfloat16", "full", "bfloat16"),
        ("float32", "int8", "float32, int8"),
        ("bfloat16", "int4", "bfloat16, int4"),
    ],
)
def test_before_a_model_loads_the_estimate_follows_the_settings(
    make_app: AppFactory, tmp_path: Path, dtype: str, weights: str, shown: str
) -> None:
    # Settings -> Weights on the CPU: int8 and int4 need much less memory than full weights.
    app = make_app(tmp_path / "no-model-here", start=False, dtype=dtype, weights=weights)
    dialog = app.models.open_model_dialog()
    hint = dialog.model.row_at(0).hint  # type: ignore[union-attr]
    assert hint is not None
    assert f"({shown})" in hint.text
    need = default_model().memory_needed_bytes(Precision(dtype), WeightFormat(weights))
    assert format_bytes(need) in hint.text
    dialog.close()


def test_a_loaded_models_weight_format_sets_the_estimate(
    make_app: AppFactory, tmp_path: Path
) -> None:
    # The loaded model's format, as the worker reports it, wins over the settings'.
    app = make_app(tmp_path / "no-model-here", start=False, dtype="float32", weights="full")
    on_cpu = ModelLoadedInfo(
        name="tiny",
        path=tmp_path,
        family="qwen3_vl",
        device="cpu",
        dtype="float32",
        reason="no GPU",
        load_seconds=1.0,
        memory_bytes=None,
        weights="int4",
    )
    app.inference.model_loaded.emit(on_cpu)
    dialog = app.models.open_model_dialog()
    hint = dialog.model.row_at(0).hint  # type: ignore[union-attr]
    assert hint is not None
    assert "(float32, int4)" in hint.text
    need = default_model().memory_needed_bytes(Precision.FLOAT32, WeightFormat.INT4)
    assert format_bytes(need) in hint.text
    dialog.close()


def test_a_download_that_finishes_with_nothing_loaded_is_loaded(
    make_app: AppFactory, qtbot: QtBot, hub: FakeModelScope, tiny_dir: Path
) -> None:
    # The hub serves the tiny model's files under the default model's id.
    hub.add_repo(SPEC.id, {p.name: p.read_bytes() for p in tiny_dir.iterdir() if p.is_file()})
    app = make_app()
    [dialog] = shown_dialogs(app, ModelDialog)
    dialog.select(SPEC.id)
    dialog.download_button.click()
    dialog.close()  # the download goes on without the dialog
    wait_for_model(qtbot, app, timeout=90_000)
    assert app.settings.last_model == SPEC.id
    assert load_settings(app.paths.settings_file).model == SPEC.id
    assert not app.downloads.busy


def test_closing_the_app_mid_download_does_not_hang(
    make_app: AppFactory, qtbot: QtBot, hub: FakeModelScope
) -> None:
    files = model_files()
    hub.add_repo(SPEC.id, files)
    hub.faults.pause_once["model.safetensors"] = len(files["model.safetensors"]) // 2
    app = make_app()
    [dialog] = shown_dialogs(app, ModelDialog)
    dialog.select(SPEC.id)
    dialog.download_button.click()
    assert hub.paused.wait(30)
    assert app.downloads.busy
    app.window.close()
    # Closing cancelled the download and waited for it to stop (a paused transfer included).
    assert not app.downloads.busy
    assert not app.inference.worker_thread.isRunning()
