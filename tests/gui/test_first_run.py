"""The first run: one button downloads the default model into a folder the user can change;
the models folder is a setting the app, the store and the CLI all follow."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtWidgets import QFileDialog
from pytestqt.qtbot import QtBot

from tests.core.models.test_gguf_downloads import FILES as GGUF_FILES
from tests.gui.conftest import AppFactory, shown_dialogs
from tests.helpers.fake_modelscope import FakeModelScope, model_files
from tests.helpers.netguard import no_network
from vldesk.cli import run_cli
from vldesk.core.inference import engine_choice
from vldesk.core.inference.cpu.capabilities import CAPS_ENV
from vldesk.core.models import downloads
from vldesk.core.models.catalog import default_model, gguf_variant
from vldesk.core.models.files import free_space
from vldesk.core.paths import app_paths
from vldesk.core.settings import load_settings
from vldesk.core.units import format_bytes
from vldesk.gui.app import DesktopApp
from vldesk.gui.dialogs.model_dialog import ModelDialog
from vldesk.gui.models import gguf_rows

SPEC = default_model()


@pytest.fixture
def hub(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeModelScope]:
    """The local replay ModelScope with the default model; nothing else can be reached."""
    monkeypatch.setenv("MODELSCOPE_CACHE", str(tmp_path / "ms-cache"))
    monkeypatch.setenv("MODELSCOPE_HOME", str(tmp_path / "ms-home"))
    monkeypatch.delenv("MODELSCOPE_API_TOKEN", raising=False)
    downloads._hub()
    with no_network(monkeypatch) as attempts, FakeModelScope() as server:
        server.add_repo(SPEC.id, model_files())
        monkeypatch.setenv("VLDESK_MODELSCOPE_ENDPOINT", server.endpoint)
        yield server
    assert attempts == []


def first_run_dialog(make_app: AppFactory) -> tuple[DesktopApp, ModelDialog]:
    app = make_app()  # no model installed: the model manager opens in its first-run form
    [dialog] = shown_dialogs(app, ModelDialog)
    assert dialog.first_download is not None
    return app, dialog


def test_the_first_run_offers_the_default_model_with_its_size_folder_and_free_space(
    make_app: AppFactory,
) -> None:
    _app, dialog = first_run_dialog(make_app)
    assert dialog.first_download is not None
    text = dialog.first_download.download_button.text()
    folder = app_paths().models_dir
    free = free_space(folder)
    assert free is not None
    assert text.startswith(f"Download {SPEC.display_name} ({format_bytes(SPEC.download_bytes)})")
    assert folder.name in text  # a deep path is shortened in the middle
    assert text.endswith(f"{format_bytes(free)} free")
    assert dialog.first_download.download_button.toolTip() == str(folder)


def test_choosing_another_folder_then_downloading_puts_the_model_there(
    make_app: AppFactory,
    qtbot: QtBot,
    tmp_path: Path,
    hub: FakeModelScope,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    app, dialog = first_run_dialog(make_app)
    panel = dialog.first_download
    assert panel is not None
    chosen = tmp_path / "big-disk" / "models"
    chosen.mkdir(parents=True)
    monkeypatch.setattr(QFileDialog, "getExistingDirectory", lambda *args: str(chosen))
    panel.folder_button.click()
    assert panel.download_button.toolTip() == str(chosen)
    assert app.store.models_dir == chosen
    assert load_settings(app_paths().settings_file).models_dir == str(chosen)
    worker = dialog._worker
    with qtbot.waitSignal(worker.finished, timeout=30_000) as finished:
        panel.download_button.click()
    assert finished.args is not None
    assert Path(finished.args[1]).parent == chosen
    assert (chosen / SPEC.folder_name / "config.json").is_file()
    assert not (app_paths().models_dir / SPEC.folder_name).exists()


def test_the_models_folder_set_in_the_settings_is_used_at_once(
    make_app: AppFactory, tmp_path: Path
) -> None:
    app = make_app(start=False)
    folder = tmp_path / "elsewhere"
    app.apply_settings(app.settings.replace(models_dir=str(folder)))
    assert app.store.models_dir == folder
    assert app.downloads._store.models_dir == folder  # the downloads go there too
    app.apply_settings(app.settings.replace(models_dir=None))
    assert app.store.models_dir == app_paths().models_dir


def test_the_cli_follows_the_models_folder_setting(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = tmp_path / "cli-models"
    settings_file = app_paths().settings_file
    settings_file.parent.mkdir(parents=True, exist_ok=True)
    settings_file.write_text(json.dumps({"models_dir": str(folder)}), encoding="utf-8")
    assert run_cli(["models", "list", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["models_dir"] == str(folder)


def test_where_llama_cpp_is_faster_the_first_run_offers_the_gguf_version(
    make_app: AppFactory,
    qtbot: QtBot,
    hub: FakeModelScope,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """An AVX2-only CPU with llama.cpp installed and no GPU: the one button downloads the 8-bit
    GGUF version, which llama.cpp decodes several times faster than float32 transformers."""
    monkeypatch.setenv(CAPS_ENV, "avx2")
    for module in (engine_choice, gguf_rows):
        monkeypatch.setattr(module, "llama_cpp_installed", lambda: True)
    monkeypatch.setattr(engine_choice, "gpu_present", lambda: False)
    assert SPEC.gguf is not None
    hub.add_repo(SPEC.gguf.repo, GGUF_FILES)
    q8 = gguf_variant(SPEC, "Q8_0")
    _app, dialog = first_run_dialog(make_app)
    panel = dialog.first_download
    assert panel is not None
    assert panel.download_button.text().startswith(
        f"Download {q8.display_name} ({format_bytes(q8.download_bytes)})"
    )
    with qtbot.waitSignal(dialog._worker.finished, timeout=30_000) as finished:
        panel.download_button.click()
    assert finished.args is not None
    assert finished.args[0] == q8.ref
    assert {p.name for p in Path(finished.args[1]).glob("*.gguf")} == set(q8.gguf_files)


def test_with_a_bfloat16_cpu_or_without_llama_cpp_the_first_run_offers_the_model_itself(
    make_app: AppFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(CAPS_ENV, "avx512_bf16")
    for module in (engine_choice, gguf_rows):
        monkeypatch.setattr(module, "llama_cpp_installed", lambda: True)
    monkeypatch.setattr(engine_choice, "gpu_present", lambda: False)
    _app, dialog = first_run_dialog(make_app)
    assert dialog.first_download is not None
    assert dialog.first_download.download_button.text().startswith(
        f"Download {SPEC.display_name} ("
    )
