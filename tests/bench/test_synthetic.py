"""Random-weight models: folders of the real architectures, in every layout, that load offline."""

from __future__ import annotations

import json
import subprocess
import sys
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from tests.helpers.netguard import no_network
from tests.helpers.real_models import reference
from vldesk.bench.synthetic import (
    FIRST_ADDED_ID,
    REAL_MODEL_NAMES,
    Layout,
    build_model_folder,
    build_synthetic_model,
    chat_template,
    real_config,
    tiny_config,
)
from vldesk.bench.synthetic_tokenizer import build_tokenizer
from vldesk.bench.synthetic_weights import released_name, transformers_name
from vldesk.core.models.catalog import FAMILY_TRAITS, Family, find_model

MODEL_CLASSES = {
    Family.QWEN2_5_VL: "Qwen2_5_VLForConditionalGeneration",
    Family.QWEN3_VL: "Qwen3VLForConditionalGeneration",
    Family.QWEN3_5: "Qwen3_5ForConditionalGeneration",
}
PROCESSOR_CLASSES = {
    Family.QWEN2_5_VL: "Qwen2_5_VLProcessor",
    Family.QWEN3_VL: "Qwen3VLProcessor",
    Family.QWEN3_5: "Qwen3VLProcessor",
}
TOKENIZER_CLASSES = {
    Family.QWEN2_5_VL: "Qwen2Tokenizer",
    Family.QWEN3_VL: "Qwen2Tokenizer",
    Family.QWEN3_5: "Qwen3_5Tokenizer",
}
#: The files of a self-built folder (the benchmarks' models): a real download's, with
#: tokenizer.json holding the self-built tokenizer.
SELF_BUILT_FILES = {
    Family.QWEN2_5_VL: {
        "chat_template.json",
        "model-00001-of-00002.safetensors",
        "model-00002-of-00002.safetensors",
        "model.safetensors.index.json",
    },
    Family.QWEN3_VL: {"chat_template.json", "model.safetensors", "video_preprocessor_config.json"},
    Family.QWEN3_5: {"chat_template.jinja", "model.safetensors", "video_preprocessor_config.json"},
}
COMMON_FILES = {
    "config.json",
    "generation_config.json",
    "preprocessor_config.json",
    "tokenizer.json",
    "tokenizer_config.json",
}
CLIP_MEAN = [0.48145466, 0.4578275, 0.40821073]


@cache
def _loaded(path: Path) -> tuple[Any, Any]:
    """Model and processor loaded the way the engine loads a download (cached per folder)."""
    import torch
    from transformers import AutoModelForImageTextToText, AutoProcessor

    model = AutoModelForImageTextToText.from_pretrained(
        path, local_files_only=True, use_safetensors=True, dtype=torch.float32
    )
    processor = AutoProcessor.from_pretrained(path, local_files_only=True)
    return model.eval(), processor


def _text_config(config: dict[str, Any], family: Family) -> dict[str, Any]:
    """The text part of a config.json: flat in Qwen2.5-VL, nested in the others."""
    return config if family is Family.QWEN2_5_VL else config["text_config"]


def _prompt_inputs(processor: Any, image: Image.Image, factor: int, **template: Any) -> Any:
    """The engine's call: a PIL image, sanitized control tokens, a capped pixel budget."""
    messages = [
        {
            "role": "user",
            "content": [{"type": "image", "image": image}, {"type": "text", "text": "Describe."}],
        }
    ]
    return processor.apply_chat_template(
        messages,
        add_generation_prompt=True,
        tokenize=True,
        return_dict=True,
        return_tensors="pt",
        sanitize_control_tokens=True,
        processor_kwargs={
            "size": {"longest_edge": 64 * factor * factor, "shortest_edge": 4 * factor * factor}
        },
        **template,
    )


@pytest.mark.model
@pytest.mark.parametrize("family", list(Family), ids=lambda f: f.value)
def test_a_self_built_folder_has_the_real_ids_and_files(family: Family, tmp_path: Path) -> None:
    """Without the real files (the benchmarks on a user's machine) the folder is self-built:
    its control tokens still have the real ids, so a published config fits it unchanged."""
    folder = build_model_folder(
        family, tmp_path / family.value, tiny_config(family, real_config(family))
    )
    assert {p.name for p in folder.iterdir()} == COMMON_FILES | SELF_BUILT_FILES[family]
    model, processor = _loaded(folder)
    tokenizer = processor.tokenizer
    first = FIRST_ADDED_ID[family]
    assert tokenizer.convert_tokens_to_ids(["<|endoftext|>", "<|im_start|>", "<|image_pad|>"]) == [
        first,
        first + 1,
        first + 12,
    ]
    published = real_config(family)
    assert model.config.image_token_id == published["image_token_id"] == first + 12
    generation = json.loads((folder / "generation_config.json").read_text())
    assert generation["eos_token_id"] == [first + 2, first]
    spec = find_model(f"Qwen/{REAL_MODEL_NAMES[family]}")
    assert spec is not None
    sampling = {key: generation[key] for key in spec.sampling.to_dict()}
    assert sampling == spec.sampling.to_dict()
    assert type(tokenizer).__name__ == TOKENIZER_CLASSES[family]
    assert processor.chat_template == chat_template(family)


@pytest.mark.model
def test_a_compact_folder_moves_the_configs_token_ids(tmp_path: Path) -> None:
    """A config without a vocabulary size (``tiny_config``'s default) gets a compact vocabulary
    and token ids that point at it, each family's fields as in its real config."""
    config = tiny_config(Family.QWEN3_5)
    assert "vocab_size" not in config["text_config"]
    folder = build_synthetic_model(Family.QWEN3_5, tmp_path / "compact")
    model, processor = _loaded(folder)
    tokenizer = processor.tokenizer
    end_of_text, image_pad = tokenizer.convert_tokens_to_ids(["<|endoftext|>", "<|image_pad|>"])
    assert end_of_text < 1000
    assert model.config.image_token_id == image_pad == end_of_text + 12
    written = json.loads((folder / "config.json").read_text())
    assert written["text_config"]["eos_token_id"] == end_of_text  # Qwen3.5's real choice
    assert written["text_config"]["vocab_size"] == 896
    inputs = _prompt_inputs(
        processor, Image.new("RGB", (64, 64)), FAMILY_TRAITS[Family.QWEN3_5].patch_factor
    )
    assert int((inputs["input_ids"] == image_pad).sum()) == 4


@pytest.mark.model
def test_loads_offline_with_the_auto_classes(
    tiny_model: tuple[Family, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    import torch
    from transformers import AutoModelForImageTextToText, AutoProcessor

    family, path = tiny_model
    with no_network(monkeypatch) as attempts:
        model = AutoModelForImageTextToText.from_pretrained(
            path, local_files_only=True, use_safetensors=True, dtype=torch.float32
        )
        processor = AutoProcessor.from_pretrained(path, local_files_only=True)
    assert attempts == []
    assert type(model).__name__ == MODEL_CLASSES[family]
    assert type(processor).__name__ == PROCESSOR_CLASSES[family]
    assert type(processor.tokenizer).__name__ == TOKENIZER_CLASSES[family]
    assert model.dtype == torch.float32
    # Tied embeddings, as in the 2B/3B models: no separate lm_head in the file.
    assert model.config.tie_word_embeddings
    assert model.lm_head.weight.data_ptr() == model.get_input_embeddings().weight.data_ptr()


@pytest.mark.model
def test_config_has_the_real_structure(tiny_model: tuple[Family, Path]) -> None:
    family, path = tiny_model
    model, _ = _loaded(path)
    config = model.config
    text, vision = config.text_config, config.vision_config
    assert config.model_type == family.value
    assert vision.patch_size == FAMILY_TRAITS[family].patch_size
    assert vision.spatial_merge_size == FAMILY_TRAITS[family].spatial_merge_size == 2
    rope = text.rope_parameters
    head_dim = getattr(text, "head_dim", None) or text.hidden_size // text.num_attention_heads
    rotary_dim = int(head_dim * rope.get("partial_rotary_factor", 1.0))
    assert sum(rope["mrope_section"]) == rotary_dim // 2
    if family is Family.QWEN2_5_VL:
        assert vision.fullatt_block_indexes
        assert max(vision.fullatt_block_indexes) < vision.depth
        assert len(vision.fullatt_block_indexes) < vision.depth  # some blocks use windows
        assert vision.window_size == 112
    elif family is Family.QWEN3_VL:
        assert rope["mrope_interleaved"]
        assert vision.deepstack_visual_indexes
        assert max(vision.deepstack_visual_indexes) < vision.depth
        assert len(vision.deepstack_visual_indexes) <= text.num_hidden_layers
    else:
        assert rope["mrope_interleaved"]
        assert rope["partial_rotary_factor"] == 0.25
        assert text.layer_types == ["linear_attention"] * 3 + ["full_attention"]
        assert vision.deepstack_visual_indexes == []


@pytest.mark.model
def test_token_ids_agree_everywhere(tiny_model: tuple[Family, Path]) -> None:
    family, path = tiny_model
    reference(family)  # built from the real files
    config = json.loads((path / "config.json").read_text())
    generation = json.loads((path / "generation_config.json").read_text())
    tokenizer = _loaded(path)[1].tokenizer

    def tid(token: str) -> int:
        return int(tokenizer.convert_tokens_to_ids(token))

    assert config["image_token_id"] == tid("<|image_pad|>")
    assert config["video_token_id"] == tid("<|video_pad|>")
    assert config["vision_start_token_id"] == tid("<|vision_start|>")
    assert config["vision_end_token_id"] == tid("<|vision_end|>")
    text = _text_config(config, family)
    # Qwen3.5's config names the document end as eos; the others the turn end.
    end = "<|endoftext|>" if family is Family.QWEN3_5 else "<|im_end|>"
    assert text["eos_token_id"] == tid(end)
    assert generation["eos_token_id"] == [tid("<|im_end|>"), tid("<|endoftext|>")]
    assert generation["pad_token_id"] == tid("<|endoftext|>")
    # The real vocabulary sizes, and the real ids of the added tokens.
    assert text["vocab_size"] == (248320 if family is Family.QWEN3_5 else 151936)
    assert len(tokenizer) <= text["vocab_size"]
    assert tokenizer.eos_token == "<|im_end|>"
    assert tokenizer.pad_token == "<|endoftext|>"
    base = tid("<|endoftext|>")
    assert base == FIRST_ADDED_ID[family]
    assert tid("<|im_start|>") == base + 1
    assert tid("<|image_pad|>") == base + 12
    assert len(tokenizer) == base + (26 if family is not Family.QWEN2_5_VL else 22)
    if family is not Family.QWEN2_5_VL:
        assert tid("<think>") == base + 24
        assert tid("</think>") == base + 25
    specials = {t.content for t in tokenizer.added_tokens_decoder.values() if t.special}
    assert {"<|im_start|>", "<|im_end|>", "<|vision_pad|>", "<|image_pad|>"} <= specials
    assert "<think>" not in specials  # an ordinary added token in the real tokenizers


@pytest.mark.model
def test_image_processor_settings_are_the_real_ones(tiny_model: tuple[Family, Path]) -> None:
    family, path = tiny_model
    image_processor = _loaded(path)[1].image_processor
    assert image_processor.patch_size == FAMILY_TRAITS[family].patch_size
    assert image_processor.merge_size == 2
    assert image_processor.temporal_patch_size == 2
    if family is Family.QWEN2_5_VL:
        assert list(image_processor.image_mean) == CLIP_MEAN
        assert image_processor.size == {"shortest_edge": 3136, "longest_edge": 12845056}
    else:
        assert list(image_processor.image_mean) == [0.5, 0.5, 0.5]
        assert list(image_processor.image_std) == [0.5, 0.5, 0.5]
        assert image_processor.size == {"shortest_edge": 65536, "longest_edge": 16777216}


@pytest.mark.model
def test_chat_template_is_the_families_own(tiny_model: tuple[Family, Path]) -> None:
    family, path = tiny_model
    processor = _loaded(path)[1]
    assert processor.chat_template == chat_template(family)
    messages = [{"role": "user", "content": [{"type": "text", "text": "Hi"}]}]
    prompt = processor.apply_chat_template(messages, add_generation_prompt=True)
    if family is Family.QWEN2_5_VL:
        assert prompt.startswith("<|im_start|>system\nYou are a helpful assistant.<|im_end|>")
    else:
        assert prompt.startswith("<|im_start|>user\nHi<|im_end|>")
    if family is Family.QWEN3_5:
        # The 2B template: thinking only when asked for; vldesk always passes False.
        off = processor.apply_chat_template(
            messages, add_generation_prompt=True, enable_thinking=False
        )
        on = processor.apply_chat_template(
            messages, add_generation_prompt=True, enable_thinking=True
        )
        assert prompt.endswith("<|im_start|>assistant\n<think>\n\n</think>\n\n")
        assert off == prompt
        assert on.endswith("<|im_start|>assistant\n<think>\n")
    else:
        assert "enable_thinking" not in processor.chat_template
        assert prompt.endswith("<|im_start|>assistant\n")


@pytest.mark.model
def test_image_prompt_and_generate(tiny_model: tuple[Family, Path]) -> None:
    import torch

    family, path = tiny_model
    model, processor = _loaded(path)
    factor = FAMILY_TRAITS[family].patch_factor
    template = {"enable_thinking": False} if family is Family.QWEN3_5 else {}
    inputs = _prompt_inputs(
        processor, Image.new("RGB", (400, 300), (200, 30, 30)), factor, **template
    )
    grid = inputs["image_grid_thw"]
    image_tokens = int((inputs["input_ids"] == model.config.image_token_id).sum())
    assert image_tokens == int(grid.prod()) // 4
    assert 4 <= image_tokens <= 64
    assert inputs["pixel_values"].shape[1] == 3 * 2 * FAMILY_TRAITS[family].patch_size ** 2
    with torch.inference_mode():
        out = model.generate(**inputs, max_new_tokens=5, min_new_tokens=5, do_sample=False)
    assert out.shape[1] == inputs["input_ids"].shape[1] + 5


def test_tensor_names_as_released() -> None:
    assert released_name(Family.QWEN2_5_VL, "model.language_model.layers.0.mlp.up_proj.weight") == (
        "model.layers.0.mlp.up_proj.weight"
    )
    assert released_name(Family.QWEN2_5_VL, "model.visual.blocks.0.attn.qkv.weight") == (
        "visual.blocks.0.attn.qkv.weight"
    )
    assert released_name(Family.QWEN2_5_VL, "lm_head.weight") == "lm_head.weight"
    assert released_name(Family.QWEN3_VL, "model.visual.merger.norm.weight") == (
        "model.visual.merger.norm.weight"
    )
    assert transformers_name("model.norm.weight") == "model.language_model.norm.weight"
    assert transformers_name("visual.merger.norm.weight") == "model.visual.merger.norm.weight"
    assert transformers_name("mtp.fc.weight") == "mtp.fc.weight"


def _tensor_names(folder: Path) -> set[str]:
    from safetensors import safe_open

    names: set[str] = set()
    for file in folder.glob("*.safetensors"):
        with safe_open(str(file), "pt") as handle:
            names.update(handle.keys())
    return names


def _weights(folder: Path) -> dict[str, Any]:
    """The parameters transformers loads from ``folder``, whatever the tensors are called."""
    import torch
    from transformers import AutoModelForImageTextToText

    model = AutoModelForImageTextToText.from_pretrained(
        folder, local_files_only=True, use_safetensors=True, dtype=torch.bfloat16
    )
    return dict(model.state_dict())


@pytest.mark.model
def test_each_layout_has_its_own_files_and_names_and_the_same_weights(
    model_layouts: dict[tuple[Family, str], Path],
) -> None:
    import torch

    for family in Family:
        download, saved, legacy = (model_layouts[family, layout.value] for layout in Layout)
        names = _tensor_names(download)
        prefixes = {name.split(".")[0] + "." + name.split(".")[1] for name in names}
        if family is Family.QWEN2_5_VL:
            # As released: transformers 4.49's names, in two shards with an index.
            assert {"model.layers", "model.embed_tokens", "visual.blocks"} <= prefixes
            index = json.loads((download / "model.safetensors.index.json").read_text())
            assert set(index["weight_map"]) == names
            assert len(set(index["weight_map"].values())) == 2
        else:
            assert {"model.language_model", "model.visual"} <= prefixes
        # The multi-token-prediction layer of the real Qwen3.5 checkpoints.
        assert any(name.startswith("mtp.") for name in names) is (family is Family.QWEN3_5)
        legacy_names = _tensor_names(legacy)
        assert all(
            name.startswith(("model.language_model.", "model.visual.")) for name in legacy_names
        )
        settings = json.loads((legacy / "preprocessor_config.json").read_text())
        legacy_class = (
            "Qwen2_5_VLImageProcessor"
            if family is Family.QWEN2_5_VL
            else "Qwen2VLImageProcessorFast"
        )
        assert settings["image_processor_type"] == legacy_class
        assert (legacy / "chat_template.jinja").is_file()
        # transformers 5's save: the image processor inside processor_config.json.
        files = {p.name for p in saved.iterdir()}
        assert "preprocessor_config.json" not in files
        assert "image_processor" in json.loads((saved / "processor_config.json").read_text())
        weights = [_weights(folder) for folder in (download, saved, legacy)]
        for name, tensor in weights[0].items():
            assert torch.equal(tensor, weights[1][name]), name
            assert torch.equal(tensor, weights[2][name]), name


@pytest.mark.model
def test_same_seed_same_files_other_seed_other_weights(tmp_path: Path) -> None:
    first = build_synthetic_model(Family.QWEN3_VL, tmp_path / "a", seed=1)
    again = build_synthetic_model(Family.QWEN3_VL, tmp_path / "b", seed=1)
    other = build_synthetic_model(Family.QWEN3_VL, tmp_path / "c", seed=2)
    for name in ("model.safetensors", "tokenizer.json", "config.json"):
        assert (first / name).read_bytes() == (again / name).read_bytes(), name
    assert (first / "model.safetensors").read_bytes() != (other / "model.safetensors").read_bytes()
    assert (first / "tokenizer.json").read_bytes() == (other / "tokenizer.json").read_bytes()


@pytest.mark.model
@pytest.mark.parametrize("family", [Family.QWEN3_VL, Family.QWEN3_5], ids=lambda f: f.value)
def test_tokenizer_encodes_typical_text_in_few_tokens(family: Family) -> None:
    tokenizer = build_tokenizer(family)
    assert len(tokenizer("Describe this image in detail.")["input_ids"]) <= 8
    assert len(tokenizer("请详细描述这张图片。")["input_ids"]) <= 6
    for text in ("Hello, world! 123", "naïve café 🙂 €", "第一行\n第二行"):
        assert tokenizer.decode(tokenizer(text)["input_ids"]) == text


@pytest.mark.parametrize("family", list(Family), ids=lambda f: f.value)
def test_real_configs_are_kept_as_published(family: Family) -> None:
    config = real_config(family)
    assert config["model_type"] == family.value
    text = _text_config(config, family)
    vision = config["vision_config"]
    assert vision["patch_size"] == FAMILY_TRAITS[family].patch_size
    assert config["tie_word_embeddings"]
    if family is Family.QWEN2_5_VL:
        assert (text["hidden_size"], text["num_hidden_layers"], text["vocab_size"]) == (
            2048,
            36,
            151936,
        )
        assert vision["fullatt_block_indexes"] == [7, 15, 23, 31]
    elif family is Family.QWEN3_VL:
        assert (text["hidden_size"], text["num_hidden_layers"]) == (2048, 28)
        assert vision["deepstack_visual_indexes"] == [5, 11, 17]
    else:
        assert (text["hidden_size"], text["num_hidden_layers"], text["vocab_size"]) == (
            2048,
            24,
            248320,
        )
        assert text["layer_types"] == (["linear_attention"] * 3 + ["full_attention"]) * 6
    assert REAL_MODEL_NAMES[family]


def test_importing_the_modules_stays_light() -> None:
    # torch and transformers load only when a model is built or a processor loaded.
    code = (
        "import sys, vldesk.bench.synthetic, vldesk.core.inference.processor_loading;"
        "heavy = [m for m in ('torch', 'transformers', 'tokenizers') if m in sys.modules];"
        "print(heavy); sys.exit(1 if heavy else 0)"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
