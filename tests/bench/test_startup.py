"""Start-up timing of the desktop app from outside, through ``VLDESK_STARTUP_REPORT``."""

from __future__ import annotations

from pathlib import Path

import pytest

from vldesk.core.models.catalog import Family

pytest.importorskip("PySide6")


@pytest.mark.model
def test_app_reports_window_and_model_then_quits(tiny_model_dirs: dict[Family, Path]) -> None:
    from vldesk.bench.startup import measure_startup

    result = measure_startup(tiny_model_dirs[Family.QWEN3_VL], runs=1, timeout=120)
    assert "error" not in result, result
    run = result["runs"][0]
    assert run["exit_code"] == 0
    assert 0 < result["window_shown_s"] < result["model_ready_s"]


def test_missing_report_is_an_error_not_a_hang() -> None:
    import sys

    from vldesk.bench.startup import measure_startup

    result = measure_startup(None, runs=1, timeout=60, command=[sys.executable, "-c", "pass"])
    assert "no start-up report" in result["error"]
