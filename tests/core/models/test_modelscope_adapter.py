"""The modelscope_hub client still has every private hook vldesk's adapter relies on."""

from __future__ import annotations

import ast

import pytest

from tests.helpers import PROJECT_ROOT
from vldesk.core.models import modelscope_adapter

ROOT = PROJECT_ROOT


def test_the_installed_client_has_every_hook_vldesk_uses() -> None:
    modelscope_adapter.load_client()
    problems = modelscope_adapter.client_problems()
    assert problems == [], (
        f"modelscope-hub {modelscope_adapter.client_version()} changed what "
        "vldesk/core/models/modelscope_adapter.py relies on:\n  - "
        + "\n  - ".join(problems)
        + "\nAdapt the adapter (and its tests), then move pyproject's upper bound."
    )


def test_a_missing_hook_is_reported(monkeypatch: pytest.MonkeyPatch) -> None:
    import modelscope_hub._download as client_download

    def download_file(self: object, repo_id: str, repo_type: str, file_path: str) -> None:
        pass

    monkeypatch.setattr(client_download.DownloadManager, "download_file", download_file)
    monkeypatch.delattr(client_download, "DOWNLOAD_PART_SIZE")
    problems = modelscope_adapter.client_problems()
    assert any("_cancel_event" in p for p in problems)
    assert "_download.DOWNLOAD_PART_SIZE is gone" in problems


def test_a_client_outside_the_tested_series_is_reported(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(modelscope_adapter, "client_version", lambda: "0.6.0")
    assert modelscope_adapter.client_problems()[0] == (
        "version 0.6.0 is not the 0.5.x series vldesk was tested with"
    )


def test_only_the_adapter_imports_the_client() -> None:
    # Every use of the client, private parts included, goes through one module.
    importers = []
    for path in sorted((ROOT / "vldesk").rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            names = (
                [alias.name for alias in node.names]
                if isinstance(node, ast.Import)
                else [node.module or ""]
                if isinstance(node, ast.ImportFrom)
                else []
            )
            if any(name.split(".")[0] in ("modelscope_hub", "modelscope") for name in names):
                importers.append(path.relative_to(ROOT).as_posix())
    assert sorted(set(importers)) == ["vldesk/core/models/modelscope_adapter.py"]
