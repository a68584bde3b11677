"""GGUF model folders in the store: complete files, a supported model, its own projector."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.helpers.gguf_files import gguf_bytes, gguf_folder, model_gguf, projector_gguf
from vldesk.core.errors import ModelLoadError
from vldesk.core.models.catalog import Family
from vldesk.core.models.folder_check import validate_model_folder
from vldesk.core.models.gguf_header import GgufHeaderError, read_gguf_header
from vldesk.core.models.store import ModelStore

MODEL = "Qwen3VL-2B-Instruct-Q4_K_M.gguf"
PROJECTOR = "mmproj-Qwen3VL-2B-Instruct-F16.gguf"


def test_a_model_and_its_projector_pass_with_family_and_quant(tmp_path: Path) -> None:
    check = validate_model_folder(gguf_folder(tmp_path / "m"))
    assert check.ok, check.reason
    assert (check.format, check.engine) == ("gguf", "llama.cpp")
    assert check.family is Family.QWEN3_VL
    assert check.model_type == "qwen3vl"
    assert check.quants == ("Q4_K_M",)
    assert check.weights_bytes == (tmp_path / "m" / MODEL).stat().st_size


@pytest.mark.parametrize(
    ("architecture", "family"),
    [("qwen2vl", Family.QWEN2_5_VL), ("qwen3vl", Family.QWEN3_VL), ("qwen35", Family.QWEN3_5)],
)
def test_each_family_is_read_from_the_architecture(
    tmp_path: Path, architecture: str, family: Family
) -> None:
    folder = gguf_folder(tmp_path / architecture, architecture=architecture)
    if family is Family.QWEN2_5_VL:
        (folder / PROJECTOR).write_bytes(projector_gguf(projector_type="qwen2.5vl_merger"))
    assert validate_model_folder(folder).family is family


def test_the_header_reader_agrees_with_gguf_py(tmp_path: Path) -> None:
    gguf = pytest.importorskip("gguf", reason="gguf is not installed (pip install 'vldesk[peer]')")
    import numpy as np

    path = tmp_path / "written-by-gguf-py.gguf"
    writer = gguf.GGUFWriter(str(path), "qwen3vl")
    writer.add_uint32("general.file_type", 7)
    writer.add_embedding_length(48)
    writer.add_token_list(["a", "b", "c"])
    writer.add_tensor("a", np.ones((3, 5), dtype=np.float32))
    writer.add_tensor("b", np.ones((64,), dtype=np.float16))
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()

    header = read_gguf_header(path)
    reader = gguf.GGUFReader(str(path))
    assert header.tensor_count == len(reader.tensors) == 2
    last = max(reader.tensors, key=lambda t: t.data_offset)
    assert header.data_end == last.data_offset + last.n_bytes
    assert header.data_end <= path.stat().st_size <= header.padded_end
    assert header.text("general.architecture") == "qwen3vl"
    assert header.number("qwen3vl.embedding_length") == 48
    check = validate_model_folder(tmp_path)
    assert check.quants == ("Q8_0",)


def test_a_half_downloaded_model_is_incomplete_with_its_sizes(tmp_path: Path) -> None:
    folder = gguf_folder(tmp_path / "m")
    whole = (folder / MODEL).read_bytes()
    (folder / MODEL).write_bytes(whole[: len(whole) - 1000])
    check = validate_model_folder(folder)
    assert check.problems == (
        f"The GGUF file {MODEL} is incomplete: it has {len(whole) - 1000:,} bytes where its "
        f"header says {len(whole):,} (the download may have stopped part-way).",
    )
    (folder / MODEL).write_bytes(whole[:40])  # cut inside the header
    assert "incomplete: it ends inside its header" in validate_model_folder(folder).reason


def test_a_file_longer_than_its_header_says_is_damaged(tmp_path: Path) -> None:
    folder = gguf_folder(tmp_path / "m")
    with (folder / PROJECTOR).open("ab") as handle:
        handle.write(b"\0" * 64)
    assert f"The GGUF file {PROJECTOR} is damaged" in validate_model_folder(folder).reason


def test_a_file_that_is_not_gguf_is_named(tmp_path: Path) -> None:
    folder = gguf_folder(tmp_path / "m")
    (folder / MODEL).write_bytes(b"<html>404</html>")
    assert (
        f"The GGUF file {MODEL} is not usable: it is not a GGUF file"
        in validate_model_folder(folder).reason
    )


def test_a_projector_of_another_model_is_a_mismatch(tmp_path: Path) -> None:
    folder = gguf_folder(tmp_path / "width", width=64, projector_width=96)
    assert "gives 96-wide image features where the model takes 64" in (
        validate_model_folder(folder).reason
    )
    folder = gguf_folder(tmp_path / "kind", architecture="qwen2vl")
    reason = validate_model_folder(folder).reason
    assert f"The vision projector {PROJECTOR} does not belong to the model" in reason
    assert "it is a qwen3vl_merger projector and the model is qwen2_5_vl" in reason


def test_a_missing_half_of_the_pair_is_named(tmp_path: Path) -> None:
    folder = gguf_folder(tmp_path / "m")
    (folder / PROJECTOR).unlink()
    assert "There is no vision projector (an mmproj*.gguf file)" in (
        validate_model_folder(folder).reason
    )
    folder = gguf_folder(tmp_path / "p")
    (folder / MODEL).rename(folder / f"{MODEL}.incomplete")
    assert validate_model_folder(folder).problems == ("The GGUF model is still being downloaded.",)
    (folder / f"{MODEL}.incomplete").unlink()
    assert "no GGUF model file in it (only a vision projector)" in (
        validate_model_folder(folder).reason
    )


def test_another_architecture_and_a_non_vision_projector_are_refused(tmp_path: Path) -> None:
    folder = gguf_folder(tmp_path / "m", architecture="llama")
    assert f"{MODEL} is a 'llama' model; vldesk runs" in validate_model_folder(folder).reason
    folder = gguf_folder(tmp_path / "t")
    (folder / PROJECTOR).write_bytes(model_gguf())
    assert f"{PROJECTOR} is not a vision projector." in validate_model_folder(folder).reason


def test_a_damaged_header_is_refused_not_read_forever(tmp_path: Path) -> None:
    path = tmp_path / "x.gguf"
    path.write_bytes(b"GGUF" + (3).to_bytes(4, "little") + (10**12).to_bytes(8, "little"))
    with pytest.raises(GgufHeaderError, match="damaged"):
        read_gguf_header(path)
    path.write_bytes(gguf_bytes({"general.architecture": "clip"}, {})[:4] + b"\x09\0\0\0")
    with pytest.raises(GgufHeaderError, match="version 9"):
        read_gguf_header(path)


def test_the_store_imports_lists_and_resolves_a_gguf_folder(tmp_path: Path) -> None:
    store = ModelStore(tmp_path / "models")
    folder = gguf_folder(tmp_path / "qwen3vl-gguf")
    imported = store.import_folder(folder, name="qwen-gguf")
    assert imported.model_type == "qwen3vl"
    assert [m.name for m in store.installed()] == ["qwen-gguf"]
    assert store.resolve("qwen-gguf") == folder.resolve()
    assert store.resolve(str(folder)) == folder.resolve()

    (folder / PROJECTOR).write_bytes(projector_gguf(width=32))
    with pytest.raises(ModelLoadError, match="does not belong to the model"):
        store.resolve("qwen-gguf")
    broken = gguf_folder(tmp_path / "broken")
    (broken / MODEL).write_bytes((broken / MODEL).read_bytes()[:-5])
    with pytest.raises(ModelLoadError, match="is incomplete"):
        store.import_folder(broken)


def test_pickled_weights_stay_refused_beside_gguf(tmp_path: Path) -> None:
    folder = tmp_path / "pickles"
    folder.mkdir()
    (folder / "pytorch_model.bin").write_bytes(b"pickle")
    (folder / "config.json").write_text('{"model_type": "qwen3_vl"}')
    check = validate_model_folder(folder)
    assert check.format == "safetensors"
    assert "safetensors weights only" in check.reason
