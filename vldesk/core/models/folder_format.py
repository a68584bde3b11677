"""Which engine's weights a model folder holds: one rule for the store's check and the loader."""

from __future__ import annotations

from pathlib import Path

from vldesk.core.models.gguf_check import DOWNLOADING_SUFFIXES

#: Hugging Face weights, run by transformers.
SAFETENSORS = "safetensors"
#: llama.cpp's single-file weights (a model and its ``mmproj*.gguf`` vision projector).
GGUF = "gguf"


def folder_format(path: Path) -> str:
    """:data:`GGUF` where the folder holds GGUF files (whole or being downloaded) and no
    safetensors weights, else :data:`SAFETENSORS`.

    A folder with both is a Hugging Face model with a GGUF copy beside it (llama.cpp's converter
    writes its output next to the model by default): it loads with transformers, as the model
    manager checks it, and the GGUF copy runs from a folder of its own.
    """
    path = Path(path)
    if not path.is_dir() or any(path.glob("*.safetensors")):
        return SAFETENSORS
    whole = any(path.glob("*.gguf"))
    downloading = any(any(path.glob(f"*.gguf{suffix}")) for suffix in DOWNLOADING_SUFFIXES)
    return GGUF if whole or downloading else SAFETENSORS
