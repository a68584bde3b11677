"""A GGUF model folder: which file is the language model and which the vision projector."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from vldesk.core.errors import ModelLoadError
from vldesk.core.models.gguf_check import ARCHITECTURES as ARCHITECTURES
from vldesk.core.models.gguf_check import FILE_TYPES as FILE_TYPES

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
