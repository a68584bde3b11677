"""The tiny model the real-vLLM checks serve: built with or without the real model files."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from safetensors.torch import load_file

from tests.helpers.real_models import reference_or_none
from vldesk.bench.vllm_server import build_vllm_model
from vldesk.core.models.catalog import Family


@pytest.mark.parametrize("real_files", [False, True], ids=["synthetic", "real"])
def test_only_word_tokens_can_be_chosen(tmp_path: Path, real_files: bool) -> None:
    """Every output row but the words' is zero, with or without the real files (CI machines
    without ../shared build the synthetic tokenizer, which has no vocab.json)."""
    reference = reference_or_none(Family.QWEN3_VL) if real_files else None
    if real_files and reference is None:
        pytest.skip("the real model files are not here")
    folder = build_vllm_model(tmp_path / "model", reference)
    vocab_file = folder / "vocab.json"
    vocabulary: dict[str, int] = (
        json.loads(vocab_file.read_text("utf-8"))
        if vocab_file.is_file()
        else json.loads((folder / "tokenizer.json").read_text("utf-8"))["model"]["vocab"]
    )
    words = {i for token, i in vocabulary.items() if re.search("[A-Za-z0-9]", token)}
    tensors = load_file(next(folder.glob("*.safetensors")))
    head = next(t for k, t in tensors.items() if k.endswith("embed_tokens.weight"))
    nonzero = {int(i) for i in head.abs().sum(dim=1).nonzero().flatten()}
    assert nonzero
    assert nonzero <= words
