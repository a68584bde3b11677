"""GGUF models in the app: the manager's quantization rows, the CPU speed note, the engine shown."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from tests.core.inference.test_engine_choice import install
from tests.gui.conftest import AppFactory, wait_for_model
from tests.helpers.fake_engine import FakeEngineLoader
from tests.helpers.gguf_files import gguf_folder
from vldesk.core.inference.cpu.capabilities import CpuCapabilities
from vldesk.core.inference.engine_choice import CPU_SPEEDS
from vldesk.core.models.catalog import (
    LLAMA_CPP_OVERHEAD_BYTES,
    ModelSpec,
    Precision,
    find_model,
    gguf_variant,
)
from vldesk.core.models.store import ModelStore
from vldesk.core.units import format_bytes
from vldesk.gui.models.catalog_model import CatalogModel, collect_rows, hint_text
from vldesk.gui.models.gguf_rows import SPEED_WORDS, cpu_speed_text
from vldesk.gui.widgets.status_panel import StatusPanel

_FOUND = find_model("Qwen/Qwen3-VL-2B-Instruct")
assert _FOUND is not None
BASE: ModelSpec = _FOUND
Q4 = gguf_variant(BASE, "Q4_K_M")


def test_the_manager_lists_a_downloaded_quant_after_its_model(tmp_path: Path) -> None:
    store = ModelStore(tmp_path / "models")
    install(store, Q4)
    rows = collect_rows(store, 32 * 1024**3, None, Precision.BFLOAT16, all_gguf=False)
    refs = [row.ref for row in rows]
    assert refs.index(Q4.ref) == refs.index(BASE.id) + 1
    row = rows[refs.index(Q4.ref)]
    assert row.usable
    assert row.title == "Qwen3-VL 2B Instruct GGUF Q4_K_M (llama.cpp)"
    assert row.summary == "Qwen3-VL 2B Instruct as GGUF Q4_K_M, run by llama.cpp on the CPU."
    assert row.spec == Q4
    assert len([r for r in rows if r.spec is not None and r.spec.is_gguf]) == 1


def test_every_quant_is_offered_where_llama_cpp_is_the_faster_engine(tmp_path: Path) -> None:
    rows = collect_rows(ModelStore(tmp_path / "m"), None, None, all_gguf=True)
    offered = [row.ref for row in rows if row.spec is not None and row.spec.is_gguf]
    assert offered[:3] == [
        "Qwen/Qwen3-VL-2B-Instruct-GGUF:Q4_K_M",
        "Qwen/Qwen3-VL-2B-Instruct-GGUF:Q8_0",
        "Qwen/Qwen3-VL-2B-Instruct-GGUF:F16",
    ]
    assert len(offered) == 9  # Qwen3-VL 2B, 4B and 8B


def test_the_cpu_speed_note_names_the_kind_the_figures_and_what_to_do() -> None:
    avx2 = cpu_speed_text(CpuCapabilities.at_level("avx2"), installed=False)
    assert avx2.startswith("This CPU: AVX2 only. Qwen3-VL-2B decodes at transformers 0.04-0.24x")
    assert "(measured on AMD Zen 3 (issue 13)). Faster here: llama.cpp." in avx2
    assert avx2.endswith("Install llama.cpp for vldesk to use it: pip install 'vldesk[peer]'")
    zen4 = cpu_speed_text(CpuCapabilities.at_level("avx512_bf16"), installed=True)
    assert "llama.cpp 11.8 tokens/s F16, 14.2 Q8_0, 26.6 Q4_K_M" in zen4
    assert zen4.endswith("Faster here: transformers.")
    words = {w for row in CPU_SPEEDS for w in (row.kind, row.machine, row.transformers)}
    assert words | {row.llama_cpp for row in CPU_SPEEDS} <= set(SPEED_WORDS)


def test_the_status_bar_names_llama_cpp(qtbot: QtBot) -> None:
    panel = StatusPanel()
    qtbot.addWidget(panel)
    panel.set_model("q", "cpu", "", "a GGUF model", "Q4_K_M", "llama.cpp")
    assert panel.device_label.text() == "llama.cpp · cpu · Q4_K_M"
    assert panel.device_label.toolTip() == "llama.cpp: a GGUF model"
    panel.set_model("q", "cpu", "bfloat16", "fast bf16", "full", "transformers")
    assert panel.device_label.text() == "cpu · bfloat16"
    assert panel.device_label.toolTip() == "transformers: fast bf16"


def test_the_app_loads_the_gguf_variant_when_the_engine_setting_says_llama_cpp(
    make_app: AppFactory, qtbot: QtBot, fake_model_dir: Path
) -> None:
    from vldesk.core.paths import app_paths

    store = ModelStore(app_paths().models_dir)
    install(store, BASE)  # on this CPU "auto" may pick either: the setting decides
    folder = install(store, Q4)
    loader = FakeEngineLoader()
    app = make_app(model=None, engine_loader=loader, engine="llama.cpp", last_model=BASE.id)
    wait_for_model(qtbot, app)
    (request,) = loader.requests
    assert (request.model_dir, request.name) == (folder, Q4.ref)


def test_a_gguf_folder_opens_from_the_model_menu(
    make_app: AppFactory, qtbot: QtBot, tmp_path: Path
) -> None:
    loader = FakeEngineLoader()
    app = make_app(engine_loader=loader, start=False)
    folder = gguf_folder(tmp_path / "my-gguf")
    assert app.models.open_model_folder(folder)
    wait_for_model(qtbot, app)
    assert loader.requests[-1].model_dir == folder.resolve()


def test_the_settings_dialog_sets_the_engine(qtbot: QtBot) -> None:
    from vldesk.core.settings import Settings
    from vldesk.gui.dialogs.settings_dialog import SettingsDialog

    dialog = SettingsDialog(Settings(engine="llama.cpp"), [])
    qtbot.addWidget(dialog)
    assert dialog.engine_combo.currentData() == "llama.cpp"
    dialog.engine_combo.setCurrentIndex(dialog.engine_combo.findData("transformers"))
    assert dialog.settings().engine == "transformers"


def test_a_quant_rows_memory_hint_names_the_quant_and_its_files_size(tmp_path: Path) -> None:
    store = ModelStore(tmp_path / "models")
    folder = install(store, Q4)
    on_disk = sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())
    rows = collect_rows(store, 32 * 1024**3, None, Precision.FLOAT32, all_gguf=True)
    by_ref = {row.ref: row for row in rows}
    q8 = gguf_variant(BASE, "Q8_0")
    installed, offered = by_ref[Q4.ref], by_ref[q8.ref]
    model = CatalogModel()
    model.set_rows(rows)
    tip = model.data(model.index(rows.index(installed), 2), Qt.ItemDataRole.ToolTipRole)
    need = format_bytes(on_disk + LLAMA_CPP_OVERHEAD_BYTES)
    assert tip == f"Fits: needs ~{need} (Q4_K_M) of {format_bytes(32 * 1024**3)} RAM."
    assert offered.hint is not None
    assert offered.hint.need_bytes == q8.download_bytes + LLAMA_CPP_OVERHEAD_BYTES
    assert "(Q8_0)" in hint_text(offered.hint)
