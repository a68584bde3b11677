"""A GGUF model folder: which file is the language model and which the vision projector."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from vldesk.core.errors import ModelLoadError
from vldesk.core.models.catalog import Family

#: llama.cpp's architecture names of the families vldesk runs.
ARCHITECTURES = {
    "qwen2vl": Family.QWEN2_5_VL,
    "qwen3vl": Family.QWEN3_VL,
    "qwen3vlmoe": Family.QWEN3_VL,
    "qwen35": Family.QWEN3_5,
    "qwen35moe": Family.QWEN3_5,
}

#: llama.cpp's file types (``enum llama_ftype``), as GGUF repositories name their files.
FILE_TYPES = {
    0: "F32",
    1: "F16",
    2: "Q4_0",
    3: "Q4_1",
    7: "Q8_0",
    8: "Q5_0",
    9: "Q5_1",
    10: "Q2_K",
    11: "Q3_K_S",
    12: "Q3_K_M",
    13: "Q3_K_L",
    14: "Q4_K_S",
    15: "Q4_K_M",
    16: "Q5_K_S",
    17: "Q5_K_M",
    18: "Q6_K",
    32: "BF16",
    38: "MXFP4",
}

#: vldesk's weight formats and the GGUF file types that stand for them, best first.
_WANTED_TYPES = {
    "full": ("F16", "BF16", "F32"),
    "int8": ("Q8_0",),
    "int4": ("Q4_K_M", "Q4_K_S", "Q4_0"),
}


@dataclass(frozen=True)
class GgufFolder:
    """The files of a GGUF model folder, checked to exist."""

    path: Path
    name: str
    model: Path
    projector: Path


def _projectors(path: Path) -> list[Path]:
    return sorted(p for p in path.glob("*.gguf") if p.name.lower().startswith("mmproj"))


def _models(path: Path) -> list[Path]:
    return sorted(
        p
        for p in path.glob("*.gguf")
        if not p.name.lower().startswith("mmproj") and not p.name.endswith(".part")
    )


def holds_gguf(path: Path) -> bool:
    """The folder holds a GGUF language model (with or without its projector)."""
    return Path(path).is_dir() and bool(_models(Path(path)))


def _named(files: list[Path], kinds: tuple[str, ...]) -> Path | None:
    """The first file whose name carries one of ``kinds`` as a word ("model-Q8_0.gguf")."""
    for kind in kinds:
        pattern = re.compile(rf"(?:^|[-_.]){re.escape(kind)}(?:$|[-_.])", re.IGNORECASE)
        for file in files:
            if pattern.search(file.stem):
                return file
    return None


def inspect_gguf_folder(path: Path, name: str | None = None, weights: str = "full") -> GgufFolder:
    """The folder's model and projector files, or :class:`ModelLoadError` saying what is missing.

    Where the folder holds several quantizations, ``weights`` (vldesk's ``full``/``int8``/``int4``)
    picks the file of about the same bits.
    """
    path = Path(path)
    models = _models(path) if path.is_dir() else []
    if not models:
        raise ModelLoadError(f"No GGUF model file in {path}.")
    projectors = _projectors(path)
    if not projectors:
        raise ModelLoadError(
            f"{path} holds a GGUF model but no vision projector (an mmproj*.gguf file): "
            "vldesk needs both to read images. Download the projector from the same repository."
        )
    model = models[0] if len(models) == 1 else _named(models, _WANTED_TYPES.get(weights, ()))
    if model is None:
        names = ", ".join(m.name for m in models)
        raise ModelLoadError(
            f"{path} holds several GGUF models ({names}) and none matches {weights} weights."
        )
    projector = _named(projectors, ("F16", "BF16", "F32")) or projectors[0]
    return GgufFolder(path, name or path.name, model, projector)
