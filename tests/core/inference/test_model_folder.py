"""Reading a model folder without loading it: the element types its weights are stored in."""

from __future__ import annotations

import json
import struct
from pathlib import Path

from vldesk.core.inference.model_folder import stored_dtypes, stored_in_bfloat16


def _write_weights(path: Path, dtypes: dict[str, str]) -> None:
    """A .safetensors file whose header names ``dtypes`` (tensor name: element type)."""
    header: dict[str, object] = {"__metadata__": {"format": "pt"}}
    offset = 0
    for name, dtype in dtypes.items():
        header[name] = {"dtype": dtype, "shape": [2], "data_offsets": [offset, offset + 8]}
        offset += 8
    text = json.dumps(header).encode()
    path.write_bytes(struct.pack("<Q", len(text)) + text + bytes(offset))


def test_a_bfloat16_checkpoint_is_told_from_its_headers(tmp_path: Path) -> None:
    _write_weights(tmp_path / "model-00001-of-00002.safetensors", {"a": "BF16", "ids": "I64"})
    _write_weights(tmp_path / "model-00002-of-00002.safetensors", {"b": "BF16"})
    assert stored_dtypes(tmp_path) == {"BF16", "I64"}
    assert stored_in_bfloat16(tmp_path)


def test_one_float32_or_float16_tensor_makes_it_no_bfloat16_checkpoint(tmp_path: Path) -> None:
    for other in ("F32", "F16"):
        folder = tmp_path / other
        folder.mkdir()
        _write_weights(folder / "model.safetensors", {"a": "BF16", "norm": other})
        assert not stored_in_bfloat16(folder)


def test_unreadable_or_missing_weights_are_no_bfloat16_checkpoint(tmp_path: Path) -> None:
    assert stored_dtypes(tmp_path) == frozenset()
    assert not stored_in_bfloat16(tmp_path)
    (tmp_path / "model.safetensors").write_bytes(b"\x05")
    assert stored_dtypes(tmp_path) == frozenset()
    assert not stored_in_bfloat16(tmp_path)


def test_a_damaged_header_length_is_no_bfloat16_checkpoint_and_no_crash(tmp_path: Path) -> None:
    """A garbage length (2**62, 2**64-1) would ask read() for exabytes: MemoryError or
    OverflowError before the load could say what is wrong with the file."""
    for length in (2**62, 2**64 - 1, 10**9):
        (tmp_path / "model.safetensors").write_bytes(struct.pack("<Q", length) + b"{}")
        assert stored_dtypes(tmp_path) == frozenset()
        assert not stored_in_bfloat16(tmp_path)
