"""GGUF folder detection and which engine ``load_engine`` picks (no llama.cpp needed)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from vldesk.core.errors import ModelLoadError
from vldesk.core.inference.engine import LoadRequest, load_engine
from vldesk.core.inference.llamacpp.engine import LlamaCppEngine
from vldesk.core.inference.llamacpp.folder import holds_gguf, inspect_gguf_folder
from vldesk.core.inference.transformers_engine import TransformersEngine
from vldesk.core.models.folder_check import validate_model_folder

TF, LLAMA = "transformers", "llama.cpp"


def folder_with(tmp_path: Path, *names: str) -> Path:
    for name in names:
        (tmp_path / name).write_bytes(b"GGUF")
    return tmp_path


def test_a_gguf_folder_names_its_model_and_projector(tmp_path: Path) -> None:
    folder = folder_with(tmp_path, "Qwen3-VL-2B-Instruct-Q4_K_M.gguf", "mmproj-F16.gguf")
    found = inspect_gguf_folder(folder, "qwen3-vl-2b")
    assert holds_gguf(folder)
    assert found.model.name == "Qwen3-VL-2B-Instruct-Q4_K_M.gguf"
    assert found.projector.name == "mmproj-F16.gguf"
    assert found.name == "qwen3-vl-2b"


def test_several_quantizations_are_chosen_by_the_requested_weights(tmp_path: Path) -> None:
    folder = folder_with(
        tmp_path,
        "model-Q4_K_M.gguf",
        "model-Q8_0.gguf",
        "model-F16.gguf",
        "mmproj-model-BF16.gguf",
        "mmproj-model-F16.gguf",
    )
    assert inspect_gguf_folder(folder, weights="int4").model.name == "model-Q4_K_M.gguf"
    assert inspect_gguf_folder(folder, weights="int8").model.name == "model-Q8_0.gguf"
    assert inspect_gguf_folder(folder, weights="full").model.name == "model-F16.gguf"
    assert inspect_gguf_folder(folder).projector.name == "mmproj-model-F16.gguf"


def test_several_models_and_none_of_the_requested_bits_is_an_error(tmp_path: Path) -> None:
    folder = folder_with(tmp_path, "model-Q4_K_M.gguf", "model-Q5_K_M.gguf", "mmproj-F16.gguf")
    with pytest.raises(ModelLoadError, match="several GGUF models"):
        inspect_gguf_folder(folder, weights="int8")


def test_a_projector_alone_is_not_a_gguf_model(tmp_path: Path) -> None:
    folder = folder_with(tmp_path, "mmproj-F16.gguf", "config.json")
    assert not holds_gguf(folder)
    with pytest.raises(ModelLoadError, match="No GGUF model"):
        inspect_gguf_folder(folder)


@pytest.fixture
def loaders(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, Path]]:
    """Both engines' ``load`` replaced by recorders: which one ``load_engine`` called, with what."""
    calls: list[tuple[str, Path]] = []

    def recorder(backend: str) -> Any:
        def load(model_dir: Path, **_options: Any) -> Any:
            calls.append((backend, Path(model_dir)))
            return backend

        return classmethod(lambda _cls, model_dir, **options: load(model_dir, **options))

    monkeypatch.setattr(TransformersEngine, "load", recorder("transformers"))
    monkeypatch.setattr(LlamaCppEngine, "load", recorder("llama.cpp"))
    return calls


def test_load_engine_sends_safetensors_to_transformers(
    tmp_path: Path, loaders: list[tuple[str, Path]]
) -> None:
    folder = folder_with(tmp_path, "config.json", "model.safetensors")
    load_engine(LoadRequest(folder, "tiny"))
    assert loaders == [("transformers", folder)]


def test_load_engine_sends_a_gguf_model_and_projector_to_llama_cpp(
    tmp_path: Path, loaders: list[tuple[str, Path]]
) -> None:
    folder = folder_with(tmp_path, "model-Q8_0.gguf", "mmproj-F16.gguf", "config.json")
    load_engine(LoadRequest(folder, "tiny", weights="int8"))
    assert loaders == [("llama.cpp", folder)]


def test_a_gguf_without_its_projector_is_a_clear_load_error(tmp_path: Path) -> None:
    folder = folder_with(tmp_path, "Qwen3-VL-2B-Instruct-Q4_K_M.gguf")
    with pytest.raises(ModelLoadError, match=r"no vision projector \(an mmproj\*\.gguf file\)"):
        load_engine(LoadRequest(folder, "tiny"))


@pytest.mark.parametrize(
    ("files", "engine"),
    [
        # A Hugging Face model with llama.cpp's converted copy beside it.
        (("config.json", "model.safetensors", "model-Q4_K_M.gguf", "mmproj-F16.gguf"), TF),
        (("config.json", "model.safetensors"), TF),
        (("model-Q4_K_M.gguf", "mmproj-F16.gguf"), LLAMA),
        (("model-Q4_K_M.gguf.part", "mmproj-F16.gguf"), LLAMA),
        (("mmproj-F16.gguf", "config.json"), LLAMA),
    ],
)
def test_the_store_check_and_load_engine_agree_on_a_folders_engine(
    tmp_path: Path, loaders: list[tuple[str, Path]], files: tuple[str, ...], engine: str
) -> None:
    folder = folder_with(tmp_path, *files)
    assert validate_model_folder(folder).engine == engine
    load_engine(LoadRequest(folder, "tiny"))
    assert loaders == [(engine, folder)]
