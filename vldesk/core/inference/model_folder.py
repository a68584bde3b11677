"""A model folder's contents, read from its config.json without loading weights."""

from __future__ import annotations

import json
import struct
from dataclasses import dataclass
from pathlib import Path

from vldesk.core.errors import ModelLoadError
from vldesk.core.models.catalog import FAMILY_TRAITS, Family, FamilyTraits, family_of_model_type


@dataclass(frozen=True)
class ModelInfo:
    """What a model folder contains, read from its config.json without loading weights."""

    path: Path
    family: Family
    name: str

    @property
    def traits(self) -> FamilyTraits:
        return FAMILY_TRAITS[self.family]


def inspect_model_folder(path: Path, name: str | None = None) -> ModelInfo:
    """Check a folder holds a supported model, or raise :class:`ModelLoadError` saying why."""
    if not path.is_dir():
        raise ModelLoadError(f"The model folder {path} does not exist.")
    config_file = path / "config.json"
    if not config_file.is_file():
        raise ModelLoadError(f"{path} is not a model folder: config.json is missing.")
    try:
        config = json.loads(config_file.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ModelLoadError(f"The model's config.json cannot be read: {exc}") from None
    model_type = str(config.get("model_type", "")) if isinstance(config, dict) else ""
    family = family_of_model_type(model_type)
    if family is None:
        raise ModelLoadError(
            f"Unsupported model type '{model_type or 'unknown'}' in {path}: vldesk runs "
            "Qwen2.5-VL, Qwen3-VL and Qwen3.5 models."
        )
    if not any(path.glob("*.safetensors")):
        raise ModelLoadError(
            f"No .safetensors weights in {path}; vldesk loads safetensors only "
            "(the download may be incomplete)."
        )
    return ModelInfo(path, family, name or path.name)


#: safetensors' names of floating-point element types.
_FLOATING = ("F", "BF")
#: safetensors refuses headers larger than this (100 MB); a larger length is a damaged file.
_MAX_HEADER = 100_000_000


def stored_dtypes(path: Path) -> frozenset[str]:
    """The element types (safetensors' names: ``BF16``, ``F32``...) of the tensors in a model
    folder's .safetensors files, read from their headers; empty where one cannot be read."""
    found: set[str] = set()
    for weights in sorted(Path(path).glob("*.safetensors")):
        try:
            with weights.open("rb") as file:
                (length,) = struct.unpack("<Q", file.read(8))
                if length > min(_MAX_HEADER, weights.stat().st_size):
                    return frozenset()  # damaged: the load itself says what is wrong
                header = json.loads(file.read(length))
        except (OSError, struct.error, UnicodeDecodeError, json.JSONDecodeError):
            return frozenset()
        if not isinstance(header, dict):
            return frozenset()
        for name, entry in header.items():
            if name != "__metadata__" and isinstance(entry, dict):
                found.add(str(entry.get("dtype", "")))
    return frozenset(found)


def stored_in_bfloat16(path: Path) -> bool:
    """Whether every floating-point tensor of a model folder's weights is stored in bfloat16
    (as the catalog's models are): then loading it in bfloat16 changes no number."""
    floating = {dtype for dtype in stored_dtypes(path) if dtype.startswith(_FLOATING)}
    return floating == {"BF16"}
