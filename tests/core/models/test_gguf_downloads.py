"""GGUF variants download from ModelScope through the same manager: chosen files, resume, verify."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.core.models.test_downloads import _isolated, pauses  # noqa: F401 (autouse fixtures)
from tests.helpers.fake_modelscope import FakeModelScope
from tests.helpers.gguf_files import model_gguf, projector_gguf
from vldesk.cli import run_cli
from vldesk.core.errors import DownloadCancelled, DownloadError
from vldesk.core.models.catalog import find_gguf_variant, find_model, gguf_variant
from vldesk.core.models.downloads import download_model
from vldesk.core.models.folder_check import validate_model_folder
from vldesk.core.models.store import MANIFEST_NAME, InstallState, ModelStore
from vldesk.core.paths import app_paths

BASE = find_model("Qwen/Qwen3-VL-2B-Instruct")
assert BASE is not None
assert BASE.gguf is not None
REPO = BASE.gguf.repo
Q4 = gguf_variant(BASE, "Q4_K_M")
MODEL, PROJECTOR = Q4.gguf_files
#: The repository as Qwen publishes it: three quantizations, two projectors, a README.
FILES = {
    "Qwen3VL-2B-Instruct-Q4_K_M.gguf": model_gguf(rows=8192),  # 2 MB
    "Qwen3VL-2B-Instruct-Q8_0.gguf": model_gguf(file_type=7, rows=16),
    "Qwen3VL-2B-Instruct-F16.gguf": model_gguf(file_type=1, rows=16),
    "mmproj-Qwen3VL-2B-Instruct-F16.gguf": projector_gguf(),
    "mmproj-Qwen3VL-2B-Instruct-Q8_0.gguf": projector_gguf(),
    "README.md": b"# Qwen3-VL-2B-Instruct-GGUF\n",
    ".gitattributes": b"*.gguf filter=lfs diff=lfs merge=lfs -text\n",
}


@pytest.fixture
def hub() -> Iterator[FakeModelScope]:
    with FakeModelScope() as server:
        server.add_repo(REPO, FILES)
        yield server


@pytest.fixture
def store(tmp_path: Path) -> ModelStore:
    return ModelStore(tmp_path / "models")


def test_the_catalog_names_qwen_s_gguf_files() -> None:
    assert Q4.id == "Qwen/Qwen3-VL-2B-Instruct-GGUF"
    assert Q4.gguf_files == (
        "Qwen3VL-2B-Instruct-Q4_K_M.gguf",
        "mmproj-Qwen3VL-2B-Instruct-F16.gguf",
    )
    assert [q.name for q in BASE.gguf.quants] == ["Q4_K_M", "Q8_0", "F16"]
    assert Q4.ref == "Qwen/Qwen3-VL-2B-Instruct-GGUF:Q4_K_M"
    assert Q4.folder_name == "Qwen--Qwen3-VL-2B-Instruct-GGUF--Q4_K_M"
    assert find_gguf_variant("qwen/qwen3-vl-2b-instruct-gguf:q8_0") == gguf_variant(BASE, "Q8_0")
    assert find_gguf_variant("Qwen/Qwen3-VL-2B-Instruct:F16") == gguf_variant(BASE, "F16")
    assert find_gguf_variant("Qwen/Qwen3-VL-2B-Instruct-GGUF:Q2_K") is None
    with pytest.raises(ValueError, match="has no Q2_K file; it offers Q4_K_M, Q8_0, F16"):
        gguf_variant(BASE, "Q2_K")


def test_only_the_chosen_quant_and_its_projector_are_downloaded(
    hub: FakeModelScope, store: ModelStore
) -> None:
    folder = download_model(Q4, store, endpoint=hub.endpoint)

    assert folder == store.folder_for(Q4)
    assert {p.name for p in folder.iterdir()} == {MODEL, PROJECTOR, MANIFEST_NAME}
    assert sorted(r.file or "" for r in hub.file_requests()) == [MODEL, PROJECTOR]
    manifest = store.read_manifest(Q4)
    assert manifest is not None
    assert manifest.model_id == REPO
    assert {f.path for f in manifest.files} == {MODEL, PROJECTOR}
    assert store.is_installed(Q4)
    assert not store.is_installed(gguf_variant(BASE, "Q8_0"))
    check = validate_model_folder(folder)
    assert check.ok
    assert check.engine == "llama.cpp"
    assert check.quants == ("Q4_K_M",)
    assert Q4.ref in [m.name for m in store.installed()]
    assert store.resolve(Q4.ref) == folder
    assert store.downloaded_by_id() == []  # listed with the catalog, not as a stranger


def test_a_half_download_resumes_with_a_range_request(
    hub: FakeModelScope, store: ModelStore
) -> None:
    hub.faults.pause_once[MODEL] = 1_000_000
    cancel = threading.Event()

    def cancel_when_paused() -> None:
        if hub.paused.wait(timeout=20):
            partial = store.folder_for(Q4) / f"{MODEL}.incomplete"
            for _ in range(2000):
                if partial.is_file() and partial.stat().st_size >= 1_000_000:
                    break
                threading.Event().wait(0.01)
            cancel.set()

    threading.Thread(target=cancel_when_paused, daemon=True).start()
    with pytest.raises(DownloadCancelled):
        download_model(Q4, store, endpoint=hub.endpoint, cancel=cancel)
    hub.release.set()
    assert store.status(Q4).state is InstallState.PARTIAL
    assert "still being downloaded" in validate_model_folder(store.folder_for(Q4)).reason
    with pytest.raises(Exception, match="only partly downloaded"):
        store.resolve(Q4.ref)

    download_model(Q4, store, endpoint=hub.endpoint)
    assert [r.range for r in hub.cdn_requests(MODEL)] == [None, "bytes=1000000-"]
    assert (store.folder_for(Q4) / MODEL).read_bytes() == FILES[MODEL]
    assert store.is_installed(Q4)


def test_a_quant_the_repository_lacks_is_refused_before_any_download(
    hub: FakeModelScope, store: ModelStore
) -> None:
    hub.add_repo(REPO, {k: v for k, v in FILES.items() if k != MODEL})
    with pytest.raises(DownloadError, match=f"ModelScope lists no {MODEL} in {REPO}"):
        download_model(Q4, store, endpoint=hub.endpoint)
    assert hub.file_requests() == []


def test_a_mismatched_pair_upstream_is_not_installed(
    hub: FakeModelScope, store: ModelStore
) -> None:
    hub.add_repo(REPO, {**FILES, PROJECTOR: projector_gguf(width=96)})
    with pytest.raises(DownloadError, match="does not belong to the model"):
        download_model(Q4, store, endpoint=hub.endpoint)
    assert not store.is_installed(Q4)
    assert store.read_manifest(Q4) is None


def test_another_family_upstream_is_not_installed(hub: FakeModelScope, store: ModelStore) -> None:
    files = {**FILES, MODEL: model_gguf("qwen35"), PROJECTOR: projector_gguf()}
    hub.add_repo(REPO, files)
    with pytest.raises(DownloadError, match="is now a qwen3_5 model, not the qwen3_vl model"):
        download_model(Q4, store, endpoint=hub.endpoint)
    assert not store.is_installed(Q4)


def test_cli_downloads_a_quant_by_flag_or_by_ref(
    hub: FakeModelScope, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("VLDESK_MODELSCOPE_ENDPOINT", hub.endpoint)
    assert run_cli(["models", "download", BASE.id, "--gguf", "q4_k_m", "-q"]) == 0
    assert f"{Q4.ref} is installed in" in capsys.readouterr().out
    assert run_cli(["models", "download", Q4.ref]) == 0
    assert "already installed" in capsys.readouterr().out
    assert run_cli(["models", "download", BASE.id, "--gguf", "Q2_K"]) == 1
    assert "has no Q2_K file; it offers Q4_K_M, Q8_0, F16" in capsys.readouterr().err
    folder = ModelStore(app_paths().models_dir).folder_for(Q4)
    assert (folder / MODEL).read_bytes() == FILES[MODEL]
    assert run_cli(["models", "remove", Q4.ref, "--yes"]) == 0
    assert capsys.readouterr().out.startswith(f"Removed {Q4.ref} (")
    assert not folder.exists()


def test_cli_lists_the_variant_with_its_engine_and_the_cpu_advice(
    hub: FakeModelScope, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("VLDESK_MODELSCOPE_ENDPOINT", hub.endpoint)
    monkeypatch.setenv("VLDESK_CPU_CAPS", "avx2")
    assert run_cli(["models", "download", Q4.ref, "-q"]) == 0
    capsys.readouterr()

    assert run_cli(["models", "list"]) == 0
    out = capsys.readouterr().out
    row = next(line for line in out.splitlines() if Q4.ref in line)
    assert row.split()[1:2] == ["installed"]
    assert "llama.cpp" in row
    base_row = next(line for line in out.splitlines() if f"{BASE.id} " in line)
    assert "transformers" in base_row
    assert "Faster engine here: llama.cpp" in out
    assert "measured on AMD Zen 3 (issue 13)" in out

    assert run_cli(["models", "list", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    (listed,) = [entry for entry in data["catalog"] if entry["id"] == Q4.ref]
    assert (listed["engine"], listed["state"]) == ("llama.cpp", "installed")
    assert data["cpu_speed"]["kind"] == "AVX2 only"
    assert data["cpu_speed"]["faster_engine"] == "llama.cpp"
