"""``vldesk bench --model GGUF_FOLDER``: llama.cpp's phases only, and the engine in the output."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.helpers.gguf_files import gguf_folder
from vldesk.bench import worker
from vldesk.bench.report import format_table
from vldesk.bench.runner import BenchOptions, run_bench


def test_a_gguf_folder_runs_the_phases_llama_cpp_can(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ran: list[tuple[str, str]] = []

    def run_phase(phase: str, spec: Any, *, isolate: bool) -> dict[str, Any]:
        ran.append((phase, spec.model_dir))
        return {"engine": "llama.cpp", "device": "cpu", "dtype": "", "weights": "Q4_K_M"}

    monkeypatch.setattr(worker, "run_phase", run_phase)
    folder = gguf_folder(tmp_path / "gguf")
    notes: list[str] = []
    options = BenchOptions(model=str(folder), work_dir=tmp_path / "work", images=1)
    report = run_bench(options, notes.append)
    assert [phase for phase, _ in ran] == ["interactive", "batch"]
    assert {model for _, model in ran} == {str(folder.resolve())}
    assert "A GGUF model: measuring llama.cpp's interactive and batch phases only." in notes
    assert "baseline" not in report
    assert format_table(report).startswith(f"{folder.resolve()} on llama.cpp, cpu")
