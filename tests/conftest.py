"""Shared test setup: headless Qt, no hub access, a private VLDESK_HOME, tiny Qwen VL models."""

from __future__ import annotations

import os

# Before anything imports Qt or the hub libraries, which read these once.
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["TRANSFORMERS_OFFLINE"] = "1"
os.environ["HF_HUB_DISABLE_TELEMETRY"] = "1"

from pathlib import Path

import pytest

from vldesk.core.catalog import Family


@pytest.fixture(autouse=True)
def _private_vldesk_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every test gets its own settings, data and models folders, never the user's."""
    monkeypatch.setenv("VLDESK_HOME", str(tmp_path / "vldesk-home"))


@pytest.fixture(scope="session")
def tiny_model_dirs(tmp_path_factory: pytest.TempPathFactory) -> dict[Family, Path]:
    """A tiny random-weight model folder of each family, built once per session."""
    from vldesk.core.synthetic import build_synthetic_model

    root = tmp_path_factory.mktemp("tiny-models")
    return {family: build_synthetic_model(family, root / family.value) for family in Family}


@pytest.fixture(params=list(Family), ids=lambda family: family.value)
def tiny_model(
    request: pytest.FixtureRequest, tiny_model_dirs: dict[Family, Path]
) -> tuple[Family, Path]:
    """``(family, folder)`` for each family in turn."""
    family: Family = request.param
    return family, tiny_model_dirs[family]
