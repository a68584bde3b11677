"""Random-weight models of the real Qwen VL architectures, in the layouts real folders have."""

from __future__ import annotations

import json
import logging
import math
import shutil
import tempfile
from collections.abc import Mapping
from enum import Enum
from importlib import resources
from pathlib import Path
from typing import Any

from vldesk.bench.family_files import FAMILY_FILES, LEGACY_IMAGE_PROCESSORS
from vldesk.bench.synthetic_tokenizer import build_tokenizer
from vldesk.bench.synthetic_weights import (
    read_weights,
    save_weights,
    text_config,
    transformers_name,
    write_json,
    write_released_weights,
)
from vldesk.core.models.catalog import FAMILY_TRAITS, Family, find_model

log = logging.getLogger(__name__)

#: The published model whose config.json is kept in ``vldesk/data/configs`` for each family.
REAL_MODEL_NAMES: dict[Family, str] = {
    Family.QWEN2_5_VL: "Qwen2.5-VL-3B-Instruct",
    Family.QWEN3_VL: "Qwen3-VL-2B-Instruct",
    Family.QWEN3_5: "Qwen3.5-2B",
}
#: The folder of each family's real non-weight files in a reference collection (the tests use
#: ``../shared/real-models``): a real download, less its weights.
REFERENCE_FOLDERS: dict[Family, str] = {
    Family.QWEN2_5_VL: "Qwen--Qwen2.5-VL-3B-Instruct",
    Family.QWEN3_VL: "Qwen--Qwen3-VL-2B-Instruct",
    Family.QWEN3_5: "Qwen--Qwen3.5-0.8B",
}
#: The real id of ``<|endoftext|>``, the first of Qwen's added tokens: 151643 in the Qwen2
#: vocabulary that Qwen2.5-VL and Qwen3-VL share, 248044 in Qwen3.5's.
FIRST_ADDED_ID: dict[Family, int] = {
    Family.QWEN2_5_VL: 151643,
    Family.QWEN3_VL: 151643,
    Family.QWEN3_5: 248044,
}


class Layout(str, Enum):
    """How a model folder came to be; transformers loads all of them."""

    #: As ModelScope serves the released model (Qwen2.5-VL: ``model.layers.*`` and
    #: ``visual.*`` tensors in two shards with an index).
    DOWNLOAD = "download"
    #: Written by transformers 5's ``save_pretrained`` (processor_config.json with the image
    #: processor inside, tokenizer.json, no preprocessor_config.json).
    SAVED = "saved"
    #: A fine-tune saved by transformers 4.50-4.57: the image processor class named as it was
    #: then (Qwen2.5-VL's ``Qwen2_5_VLImageProcessor`` is gone from transformers 5), tensors
    #: under ``model.language_model.*`` and ``model.visual.*``, chat_template.jinja.
    LEGACY = "legacy"


def chat_template(family: Family) -> str:
    """The family's real chat template, shipped as package data."""
    path = resources.files("vldesk") / "data" / "chat_templates" / f"{family.value}.jinja"
    return path.read_text(encoding="utf-8")


def real_config(family: Family) -> dict[str, Any]:
    """The published config.json of the family's reference model (see :data:`REAL_MODEL_NAMES`)."""
    name = REAL_MODEL_NAMES[family]
    path = resources.files("vldesk") / "data" / "configs" / f"{name}.json"
    config: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return config


def reference_folder(root: Path, family: Family) -> Path | None:
    """``family``'s folder of real non-weight files under ``root``, if it is there."""
    folder = Path(root) / REFERENCE_FOLDERS[family]
    return folder if (folder / "config.json").is_file() else None


def tiny_config(family: Family, base: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """``base`` with tiny dimensions and the real structure; its token ids and vocabulary size
    stay. Without ``base``: the family's published config.json with no vocabulary size, for a
    compact vocabulary (see :func:`build_model_folder`)."""
    config: dict[str, Any] = json.loads(
        json.dumps(base if base is not None else real_config(family))
    )
    if base is None:
        config.pop("vocab_size", None)
        config.get("text_config", {}).pop("vocab_size", None)
    patch = FAMILY_TRAITS[family].patch_size
    if family is Family.QWEN2_5_VL:
        config.update(
            hidden_size=64,
            intermediate_size=128,
            num_hidden_layers=4,
            num_attention_heads=4,
            num_key_value_heads=2,
            max_window_layers=4,
            # head_dim 16 -> 8 rotary frequencies, split like the real [16, 24, 24] of 64.
            rope_scaling={"type": "mrope", "mrope_section": [2, 3, 3]},
        )
        config["vision_config"].update(
            depth=4,
            hidden_size=32,
            intermediate_size=64,
            num_heads=2,
            out_hidden_size=64,
            patch_size=patch,
            spatial_patch_size=patch,
            # Full attention in every second block, window attention elsewhere (real: 7,15,23,31).
            fullatt_block_indexes=[1, 3],
        )
        return config
    text = config["text_config"]
    text.update(
        hidden_size=64,
        intermediate_size=128,
        num_hidden_layers=4,
        num_attention_heads=4,
        num_key_value_heads=2,
    )
    vision = config["vision_config"]
    vision.update(
        depth=4,
        hidden_size=32,
        intermediate_size=64,
        num_heads=2,
        out_hidden_size=64,
        num_position_embeddings=64,
        patch_size=patch,
    )
    if family is Family.QWEN3_VL:
        # head_dim 16 -> 8 rotary frequencies, interleaved like the real [24, 20, 20] of 64.
        text.update(head_dim=16)
        text["rope_scaling"] = {**text["rope_scaling"], "mrope_section": [4, 2, 2]}
        # Vision layers whose features are added to the first three text layers (real: 5, 11, 17).
        vision.update(deepstack_visual_indexes=[1, 2, 3])
    else:
        # head_dim 64 with partial rotary 0.25 -> 8 frequencies, like the real [11, 11, 10] of 32.
        text.update(
            head_dim=64,
            layer_types=["linear_attention"] * 3 + ["full_attention"],
            linear_key_head_dim=16,
            linear_value_head_dim=16,
            linear_num_key_heads=2,
            linear_num_value_heads=2,
        )
        text["rope_parameters"] = {**text["rope_parameters"], "mrope_section": [3, 3, 2]}
    return config


# ----------------------------------------------------------------------------------------------
# Tokenizer
# ----------------------------------------------------------------------------------------------


def _read_json(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))


def write_tokenizer(family: Family, out_dir: Path, *, real_ids: bool = True) -> Any:
    """Write a small self-built tokenizer and load it.

    For a family whose real vocabulary is not at hand: the ordinary tokens are a small BPE.
    ``real_ids``: it is padded with never-produced filler tokens up to the real id of
    ``<|endoftext|>``, so every control token (``<|im_start|>``, ``<|image_pad|>``,
    ``<think>``...) has its real id and a real config.json's token ids fit it unchanged.
    Otherwise the control tokens follow the small BPE (a compact vocabulary).
    """
    from transformers import AutoTokenizer

    files = FAMILY_FILES[family]
    build_tokenizer(family).save_pretrained(out_dir)
    tokenizer_json = _read_json(out_dir / "tokenizer.json")
    vocab = tokenizer_json["model"]["vocab"]
    first = FIRST_ADDED_ID[family] if real_ids else len(vocab)
    vocab.update({f"unused{index}": index for index in range(len(vocab), first)})
    added = sorted(tokenizer_json["added_tokens"], key=lambda token: int(token["id"]))
    for offset, token in enumerate(added):
        token["id"] = first + offset
    tokenizer_json["added_tokens"] = added
    (out_dir / "tokenizer.json").write_text(json.dumps(tokenizer_json), encoding="utf-8")
    # The hub files list the added tokens with their ids, as here.
    config = _read_json(out_dir / "tokenizer_config.json")
    config["added_tokens_decoder"] = {
        str(token["id"]): {key: value for key, value in token.items() if key != "id"}
        for token in added
    }
    if files.hub_tokenizer_class is not None:
        config["tokenizer_class"] = files.hub_tokenizer_class
    write_json(out_dir / "tokenizer_config.json", config)
    tokenizer = AutoTokenizer.from_pretrained(out_dir, local_files_only=True)
    for offset, (content, _) in enumerate(files.added_tokens):
        if tokenizer.convert_tokens_to_ids(content) != first + offset:
            raise RuntimeError(f"{content} did not get the id {first + offset}")
    return tokenizer


# ----------------------------------------------------------------------------------------------
# Weights
# ----------------------------------------------------------------------------------------------


# ----------------------------------------------------------------------------------------------
# Model folders
# ----------------------------------------------------------------------------------------------


def _copy(source: Path, target: Path) -> None:
    # Content only: reference files may be read-only, the copies must not be.
    shutil.copyfile(source, target)


def _write_own_files(family: Family, out_dir: Path, *, real_ids: bool) -> Any:
    """The non-weight files of a real repository, self-built: the tokenizer (see
    :func:`write_tokenizer`), the processor configs, the chat template and a generation config
    with the catalog's sampling. Returns the tokenizer."""
    files = FAMILY_FILES[family]
    template = chat_template(family)
    tokenizer = write_tokenizer(family, out_dir, real_ids=real_ids)
    if files.legacy_chat_template:
        # The real repositories keep a copy in tokenizer_config.json.
        tokenizer_config = _read_json(out_dir / "tokenizer_config.json")
        tokenizer_config["chat_template"] = template
        write_json(out_dir / "tokenizer_config.json", tokenizer_config)
        write_json(out_dir / "chat_template.json", {"chat_template": template})
    else:
        (out_dir / "chat_template.jinja").write_text(template, encoding="utf-8")
    sizes = {
        "patch_size": FAMILY_TRAITS[family].patch_size,
        "temporal_patch_size": 2,
        "merge_size": FAMILY_TRAITS[family].spatial_merge_size,
    }
    processor = {"processor_class": files.processor_class}
    write_json(out_dir / "preprocessor_config.json", {**files.preprocessor, **sizes, **processor})
    if files.video_preprocessor is not None:
        video = {**files.video_preprocessor, **sizes, **processor}
        write_json(out_dir / "video_preprocessor_config.json", video)
    spec = find_model(f"Qwen/{REAL_MODEL_NAMES[family]}")
    sampling = spec.sampling.to_dict() if spec is not None else {}
    end_of_text, end_of_turn = tokenizer.convert_tokens_to_ids(["<|endoftext|>", "<|im_end|>"])
    generation = {
        "bos_token_id": end_of_text,
        "pad_token_id": end_of_text,
        "do_sample": True,
        "eos_token_id": [end_of_turn, end_of_text],
        **sampling,
    }
    write_json(out_dir / "generation_config.json", generation)
    return tokenizer


def _copy_reference_files(family: Family, reference: Path, out_dir: Path) -> Any:
    """The reference's real non-weight files, and the tokenizer they make. Where the reference
    has no vocabulary (Qwen3.5), a self-built one with the real control tokens and ids."""
    from transformers import AutoTokenizer

    for source in sorted(reference.iterdir()):
        if source.is_file() and source.name != "config.json" and source.suffix in (".json", ".txt"):
            _copy(source, out_dir / source.name)
    template = reference / "chat_template.jinja"
    if template.is_file():
        _copy(template, out_dir / template.name)
    if (reference / "vocab.json").is_file() or (reference / "tokenizer.json").is_file():
        return AutoTokenizer.from_pretrained(out_dir, local_files_only=True)
    return write_tokenizer(family, out_dir)


_VISION_TOKENS = (
    ("image_token_id", "<|image_pad|>"),
    ("video_token_id", "<|video_pad|>"),
    ("vision_start_token_id", "<|vision_start|>"),
    ("vision_end_token_id", "<|vision_end|>"),
)


def _check_token_ids(family: Family, config: Mapping[str, Any], tokenizer: Any) -> None:
    """The config's image and vision token ids are the tokenizer's."""
    for key, token in _VISION_TOKENS:
        if config.get(key) != tokenizer.convert_tokens_to_ids(token):
            raise ValueError(f"{family.value}: config {key} is not the tokenizer's {token}")


def _move_token_ids(family: Family, config: dict[str, Any], tokenizer: Any) -> None:
    """Point a config's token ids at a compact tokenizer's, keeping each family's real choice
    of fields (Qwen3.5's config eos is <|endoftext|>, the others' <|im_end|>)."""
    for key, token in _VISION_TOKENS:
        config[key] = tokenizer.convert_tokens_to_ids(token)
    end_of_text, end_of_turn, vision_pad = tokenizer.convert_tokens_to_ids(
        ["<|endoftext|>", "<|im_end|>", "<|vision_pad|>"]
    )
    if family is Family.QWEN2_5_VL:
        config.update(
            vision_token_id=vision_pad, bos_token_id=end_of_text, eos_token_id=end_of_turn
        )
    elif family is Family.QWEN3_VL:
        config["text_config"].update(bos_token_id=end_of_text, eos_token_id=end_of_turn)
    else:
        config["text_config"]["eos_token_id"] = end_of_text


def build_model_folder(
    family: Family,
    out_dir: Path,
    config: Mapping[str, Any],
    *,
    seed: int = 0,
    reference: Path | None = None,
) -> Path:
    """Write a model folder for ``config`` (a config.json in the real layout) with random
    weights, laid out as the released model downloads (:attr:`Layout.DOWNLOAD`).

    ``reference``: a folder of the real model's non-weight files (tokenizer, chat template,
    processor and generation configs), copied as they are. Without one, the files are
    self-built (a small tokenizer). The token ids are the real ones, so a real config needs no
    change, unless the config names no vocabulary size: then the vocabulary is compact (a few
    hundred tokens, the config's token ids moved to fit), which keeps tiny models small and
    their answers dependent on the image. The vocabulary size is raised to fit the tokenizer.
    """
    import torch
    from transformers import AutoConfig, AutoModelForImageTextToText

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    # transformers picks the tokenizer class by the model type: config.json comes first (it is
    # written again below, with the vocabulary size fitted).
    write_json(out_dir / "config.json", config)
    config_dict: dict[str, Any] = json.loads(json.dumps(config))  # a deep copy, plain JSON
    compact = reference is None and not text_config(config_dict).get("vocab_size")
    if reference is not None:
        tokenizer = _copy_reference_files(family, Path(reference), out_dir)
    else:
        tokenizer = _write_own_files(family, out_dir, real_ids=not compact)
    if compact:
        _move_token_ids(family, config_dict, tokenizer)
    _check_token_ids(family, config_dict, tokenizer)
    text = config_dict if family is Family.QWEN2_5_VL else config_dict["text_config"]
    # Round up to a multiple of 128, like the real vocabularies (151936, 248320).
    text["vocab_size"] = max(
        int(text.get("vocab_size") or 0), math.ceil(len(tokenizer) / 128) * 128
    )

    # Read the real-layout config the way a download is read, so transformers' conversions run.
    write_json(out_dir / "config.json", config_dict)
    model_config = AutoConfig.from_pretrained(out_dir, local_files_only=True)
    with torch.random.fork_rng(devices=[]):  # leave the caller's random state alone
        torch.manual_seed(seed)
        model = AutoModelForImageTextToText.from_config(model_config, dtype=torch.float32)
    model.to(torch.bfloat16)  # the real checkpoints are bfloat16
    write_released_weights(family, model, config_dict, out_dir, seed)
    log.info("built a %s model with random weights in %s", family.value, out_dir)
    return out_dir


def _save_with_transformers(source: Path, out_dir: Path) -> None:
    """What a fine-tuning script does with transformers 5: load, then ``save_pretrained``."""
    import torch
    from transformers import AutoModelForImageTextToText, AutoProcessor

    from vldesk.core.inference.processor_loading import load_processor_by_parts, torchvision_usable

    if torchvision_usable():
        processor = AutoProcessor.from_pretrained(source, local_files_only=True)
    else:
        processor = load_processor_by_parts(source, with_video=False)
    model = AutoModelForImageTextToText.from_pretrained(
        source, local_files_only=True, use_safetensors=True, dtype=torch.bfloat16
    )
    processor.save_pretrained(out_dir)
    model.save_pretrained(out_dir)


def _save_like_transformers_4(family: Family, source: Path, out_dir: Path) -> None:
    """A fine-tune as transformers 4.50-4.57 saved it (see :attr:`Layout.LEGACY`)."""
    from transformers import AutoTokenizer

    for name in ("config.json", "generation_config.json", "video_preprocessor_config.json"):
        if (source / name).is_file():
            _copy(source / name, out_dir / name)
    AutoTokenizer.from_pretrained(source, local_files_only=True).save_pretrained(out_dir)
    tokenizer_config = _read_json(out_dir / "tokenizer_config.json")
    template = tokenizer_config.pop("chat_template", None)
    write_json(out_dir / "tokenizer_config.json", tokenizer_config)
    if (source / "chat_template.jinja").is_file():
        template = (source / "chat_template.jinja").read_text(encoding="utf-8")
    elif (source / "chat_template.json").is_file():
        template = _read_json(source / "chat_template.json")["chat_template"]
    (out_dir / "chat_template.jinja").write_text(str(template), encoding="utf-8")
    preprocessor = _read_json(source / "preprocessor_config.json")
    preprocessor["image_processor_type"] = LEGACY_IMAGE_PROCESSORS[family]
    write_json(out_dir / "preprocessor_config.json", preprocessor)
    # transformers saves what it loaded: no multi-token-prediction layer.
    tensors = {
        transformers_name(name): tensor
        for name, tensor in read_weights(source).items()
        if not name.startswith("mtp.")
    }
    save_weights(tensors, out_dir, shards=1)


def resave(family: Family, source: Path, out_dir: Path, layout: Layout) -> Path:
    """The model in ``source`` (a :attr:`Layout.DOWNLOAD` folder) written in ``layout``."""
    out_dir = Path(out_dir)
    if layout is Layout.DOWNLOAD:
        shutil.copytree(source, out_dir, dirs_exist_ok=True)
        return out_dir
    out_dir.mkdir(parents=True, exist_ok=True)
    if layout is Layout.SAVED:
        _save_with_transformers(Path(source), out_dir)
    else:
        _save_like_transformers_4(family, Path(source), out_dir)
    log.info("wrote the %s model in %s in the %s layout", family.value, out_dir, layout.value)
    return out_dir


def build_synthetic_model(
    family: Family,
    out_dir: Path,
    *,
    seed: int = 0,
    reference: Path | None = None,
    layout: Layout = Layout.DOWNLOAD,
) -> Path:
    """Build a tiny random-weight model of ``family`` in ``out_dir`` (a few MB, a few seconds).

    With ``reference`` (a folder of the real model's non-weight files, see
    :data:`REFERENCE_FOLDERS`) its tokenizer, chat template, processor and generation configs
    are used and its config.json is shrunk; otherwise the family's files are self-built. The
    folder loads with ``AutoModelForImageTextToText`` from local files, without
    ``trust_remote_code``, in any ``layout``.
    """
    config = tiny_config(family, _read_json(reference / "config.json") if reference else None)
    if layout is Layout.DOWNLOAD:
        return build_model_folder(family, Path(out_dir), config, seed=seed, reference=reference)
    with tempfile.TemporaryDirectory(prefix="vldesk-download-") as temporary:
        source = build_model_folder(family, Path(temporary), config, seed=seed, reference=reference)
        return resave(family, source, Path(out_dir), layout)
