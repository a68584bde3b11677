"""Synthetic weights on disk: the released tensor names and shards, and the extra MTP tensors."""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from vldesk.core.models.catalog import Family

_WEIGHTS_INDEX = "model.safetensors.index.json"


def text_config(config: Mapping[str, Any]) -> Any:
    """The text part of a config.json: nested in ``text_config``, or flat (Qwen2.5-VL as
    released)."""
    nested = config.get("text_config")
    return nested if isinstance(nested, Mapping) else config


def write_json(path: Path, data: Mapping[str, Any]) -> None:
    path.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


def transformers_name(name: str) -> str:
    """A tensor's name as transformers 5 keeps it (``model.language_model.*``,
    ``model.visual.*``), from the released Qwen2.5-VL names (``model.*``, ``visual.*``)."""
    if name.startswith("visual."):
        return "model." + name
    if name.startswith("model.") and not name.startswith(
        ("model.language_model.", "model.visual.")
    ):
        return "model.language_model." + name.removeprefix("model.")
    return name


def released_name(family: Family, name: str) -> str:
    """A tensor's name in the family's released checkpoints: Qwen2.5-VL keeps the names of
    transformers 4.49 (``model.layers.*``, ``visual.*``), the newer families transformers 5's."""
    name = transformers_name(name)
    if family is not Family.QWEN2_5_VL:
        return name
    if name.startswith("model.language_model."):
        return "model." + name.removeprefix("model.language_model.")
    if name.startswith("model.visual."):
        return name.removeprefix("model.")
    return name


def save_weights(tensors: Mapping[str, Any], out_dir: Path, shards: int) -> None:
    """Write safetensors files as ``save_pretrained`` names them: one ``model.safetensors``, or
    ``shards`` files split by size with a ``model.safetensors.index.json``."""
    from safetensors.torch import save_file

    names = sorted(tensors)
    sizes = {name: tensors[name].numel() * tensors[name].element_size() for name in names}
    if shards <= 1:
        save_file(
            {n: tensors[n] for n in names}, str(out_dir / "model.safetensors"), {"format": "pt"}
        )
        return
    total = sum(sizes.values())
    groups: list[list[str]] = [[] for _ in range(shards)]
    done = 0
    for name in names:
        groups[min(shards - 1, done * shards // total)].append(name)
        done += sizes[name]
    weight_map = {}
    for number, group in enumerate(groups, start=1):
        file = f"model-{number:05d}-of-{shards:05d}.safetensors"
        save_file({n: tensors[n] for n in group}, str(out_dir / file), {"format": "pt"})
        weight_map.update(dict.fromkeys(group, file))
    write_json(
        out_dir / _WEIGHTS_INDEX, {"metadata": {"total_size": total}, "weight_map": weight_map}
    )


def read_weights(folder: Path) -> dict[str, Any]:
    from safetensors.torch import load_file

    tensors: dict[str, Any] = {}
    for file in sorted(folder.glob("*.safetensors")):
        tensors.update(load_file(str(file)))
    return tensors


def _mtp_tensors(model: Any, config: Mapping[str, Any], seed: int) -> dict[str, Any]:
    """Qwen3.5's multi-token-prediction layer, as the real checkpoints carry it (transformers
    does not load it): a full-attention decoder layer, a 2h -> h projection and three norms."""
    import torch

    text = text_config(config)
    layers = int(text.get("mtp_num_hidden_layers") or 0)
    if not layers:
        return {}
    hidden = int(text["hidden_size"])
    kinds = list(text.get("layer_types") or [])
    full = kinds.index("full_attention") if "full_attention" in kinds else 0
    prefix = f"model.language_model.layers.{full}."
    shapes = {
        name.removeprefix(prefix): tuple(tensor.shape)
        for name, tensor in model.state_dict().items()
        if name.startswith(prefix)
    }
    generator = torch.Generator().manual_seed(seed)
    tensors: dict[str, Any] = {}
    for layer in range(layers):
        for name, shape in shapes.items():
            tensors[f"mtp.layers.{layer}.{name}"] = torch.randn(shape, generator=generator)
    tensors["mtp.fc.weight"] = torch.randn((hidden, 2 * hidden), generator=generator)
    for norm in ("norm", "pre_fc_norm_embedding", "pre_fc_norm_hidden"):
        tensors[f"mtp.{norm}.weight"] = torch.ones(hidden)
    return {name: (tensor * 0.02).to(torch.bfloat16) for name, tensor in tensors.items()}


def write_released_weights(
    family: Family, model: Any, config: Mapping[str, Any], out_dir: Path, seed: int
) -> None:
    """The weights as the released checkpoints lay them out (see :func:`released_name`); tied
    output weights are stored once, as the embedding."""
    tied = bool(config.get("tie_word_embeddings") or text_config(config).get("tie_word_embeddings"))
    tensors = {
        released_name(family, name): tensor.contiguous()
        for name, tensor in model.state_dict().items()
        if not (tied and name == "lm_head.weight")
    }
    if family is Family.QWEN3_5:
        tensors.update(_mtp_tensors(model, config, seed))
    save_weights(tensors, out_dir, shards=2 if family is Family.QWEN2_5_VL else 1)
