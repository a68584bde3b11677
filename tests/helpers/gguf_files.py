"""Tiny GGUF files written byte by byte (GGUF version 3), for tests without gguf-py."""

from __future__ import annotations

import struct
from pathlib import Path

ALIGNMENT = 32


def _string(text: str) -> bytes:
    data = text.encode("utf-8")
    return struct.pack("<Q", len(data)) + data


def _value(value: object) -> bytes:
    if isinstance(value, bool):
        return struct.pack("<I?", 7, value)
    if isinstance(value, int):
        return struct.pack("<Iq", 11, value) if value < 0 else struct.pack("<IQ", 10, value)
    if isinstance(value, float):
        return struct.pack("<If", 6, value)
    if isinstance(value, str):
        return struct.pack("<I", 8) + _string(value)
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return struct.pack("<IIQ", 9, 8, len(value)) + b"".join(_string(v) for v in value)
    if isinstance(value, list):
        return struct.pack("<IIQ", 9, 5, len(value)) + b"".join(struct.pack("<i", v) for v in value)
    raise TypeError(value)


def gguf_bytes(metadata: dict[str, object], tensors: dict[str, tuple[int, ...]]) -> bytes:
    """A GGUF file with ``metadata`` and float32 ``tensors`` (name -> shape) filled with ones."""
    header = b"GGUF" + struct.pack("<IQQ", 3, len(tensors), len(metadata))
    for key, value in metadata.items():
        header += _string(key) + _value(value)
    data = b""
    for name, shape in tensors.items():
        offset = len(data)
        header += _string(name) + struct.pack("<I", len(shape))
        header += b"".join(struct.pack("<Q", d) for d in shape) + struct.pack("<IQ", 0, offset)
        count = 1
        for dim in shape:
            count *= dim
        data += struct.pack(f"<{count}f", *([1.0] * count))
        data += b"\0" * (-len(data) % ALIGNMENT)
    header += b"\0" * (-len(header) % ALIGNMENT)
    return header + data


def model_gguf(
    architecture: str = "qwen3vl", width: int = 64, file_type: int = 15, rows: int = 8
) -> bytes:
    """A language model's GGUF: its architecture, width, file type and a vocabulary array;
    ``rows`` sets the size (``width * rows * 4`` bytes of embeddings)."""
    return gguf_bytes(
        {
            "general.architecture": architecture,
            "general.file_type": file_type,
            "general.name": "tiny",
            f"{architecture}.embedding_length": width,
            "tokenizer.ggml.tokens": [f"t{i}" for i in range(300)],
        },
        {"token_embd.weight": (width, rows), "output_norm.weight": (width,)},
    )


def projector_gguf(width: int = 64, projector_type: str = "qwen3vl_merger") -> bytes:
    """A vision projector's GGUF (architecture ``clip``) giving ``width``-wide features."""
    return gguf_bytes(
        {
            "general.architecture": "clip",
            "general.file_type": 1,
            "clip.has_vision_encoder": True,
            "clip.projector_type": projector_type,
            "clip.vision.projection_dim": width,
        },
        {"v.patch_embd.weight": (16, 16)},
    )


def gguf_folder(
    folder: Path,
    *,
    model: str = "Qwen3VL-2B-Instruct-Q4_K_M.gguf",
    projector: str = "mmproj-Qwen3VL-2B-Instruct-F16.gguf",
    architecture: str = "qwen3vl",
    width: int = 64,
    projector_width: int | None = None,
) -> Path:
    """A folder with one model GGUF and its projector, as a GGUF repository ships them."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / model).write_bytes(model_gguf(architecture, width))
    (folder / projector).write_bytes(projector_gguf(projector_width or width))
    return folder
