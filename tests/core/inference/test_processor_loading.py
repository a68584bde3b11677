"""Processor loading with a working, a missing and a broken torchvision."""

from __future__ import annotations

import importlib.metadata
import json
import logging
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from PIL import Image, ImageDraw

from tests.helpers import PROJECT_ROOT
from vldesk.core.inference import processor_loading
from vldesk.core.inference.processor_loading import (
    load_processor,
    load_processor_without_torchvision,
)
from vldesk.core.models.catalog import FAMILY_TRAITS, Family

ROOT = PROJECT_ROOT

# Run in a child process: torchvision is already imported in this one. The child loads each
# model's processor and weights, builds the engine's prompt for each image and saves the inputs.
CHILD = r"""
import importlib.metadata, json, logging, sys
mode, out, images, *dirs = sys.argv[1:]
if mode == "missing":
    # What Python does for a module that is not installed: find_spec gives None, import fails.
    sys.modules["torchvision"] = None
elif mode == "mismatched":
    real_version = importlib.metadata.version
    fake_version = lambda name: "0.1.0" if name == "torchvision" else real_version(name)
    importlib.metadata.version = fake_version
# "broken": a torchvision that raises at import is first on PYTHONPATH.
logging.basicConfig(level=logging.INFO, stream=sys.stderr, format="%(name)s: %(message)s")
from pathlib import Path
from vldesk.core.inference.processor_loading import load_processor, torchvision_usable
usable = torchvision_usable()
import torch
from PIL import Image
from transformers import AutoModelForImageTextToText
from tests.core.inference.test_processor_loading import prompt_inputs
pictures = [Image.open(p).convert("RGB") for p in images.split(",")]
tensors, info = {}, {}
for d in dirs:
    processor = load_processor(Path(d))
    model = AutoModelForImageTextToText.from_pretrained(
        d, local_files_only=True, use_safetensors=True, dtype=torch.float32
    )
    tensors[d] = [dict(prompt_inputs(processor, Path(d), p)) for p in pictures]
    generated = model.generate(**tensors[d][0], max_new_tokens=2, min_new_tokens=2, do_sample=False)
    info[d] = {
        "processor": type(processor).__name__,
        "image_processor": type(processor.image_processor).__name__,
        "has_video_processor": hasattr(processor, "video_processor"),
        "new_tokens": generated.shape[1] - tensors[d][0]["input_ids"].shape[1],
    }
torch.save(tensors, out)
blocked = sys.modules.get("torchvision", 0) is None
print(json.dumps({"usable": usable, "blocked": blocked, "info": info}))
"""


def prompt_inputs(processor: Any, path: Path, image: Image.Image) -> Any:
    """The engine's apply_chat_template call (shared with the child process)."""
    config = json.loads((path / "config.json").read_text())
    family = Family(config["model_type"])
    factor = FAMILY_TRAITS[family].patch_factor
    template = {"enable_thinking": False} if "enable_thinking" in processor.chat_template else {}
    messages = [
        {
            "role": "user",
            "content": [
                {"type": "image", "image": image},
                {"type": "text", "text": "What is this? <|image_pad|><|im_start|>"},
            ],
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


def _aligned_picture(family: Family) -> Image.Image:
    """Sides already multiples of the patch factor and within budget: no resize happens."""
    factor = FAMILY_TRAITS[family].patch_factor
    image = Image.linear_gradient("L").resize((7 * factor, 5 * factor)).convert("RGB")
    ImageDraw.Draw(image).rectangle((10, 10, 3 * factor, 2 * factor), fill=(30, 200, 60))
    return image


def _resized_picture() -> Image.Image:
    image = Image.linear_gradient("L").resize((301, 199)).convert("RGB")
    ImageDraw.Draw(image).ellipse((40, 30, 200, 150), fill=(200, 40, 40))
    return image


def _assert_same_inputs(expected: Any, actual: Any, *, resized: bool) -> None:
    import torch

    assert set(expected.keys()) == set(actual.keys())
    for key in ("input_ids", "attention_mask", "image_grid_thw", "mm_token_type_ids"):
        assert torch.equal(expected[key], actual[key]), key
    difference = (expected["pixel_values"] - actual["pixel_values"]).abs()
    if resized:
        # torchvision and PIL resample differently: at most a few 8-bit levels here and there.
        assert float(difference.max()) < 0.05
        assert float(difference.mean()) < 1e-3
    else:
        assert float(difference.max()) < 1e-5


@pytest.mark.model
def test_with_torchvision_it_is_the_auto_processor(
    tiny_model: tuple[Family, Path], caplog: pytest.LogCaptureFixture
) -> None:
    family, path = tiny_model
    if not processor_loading.torchvision_usable():
        pytest.skip("torchvision is not usable in this environment")
    with caplog.at_level(logging.INFO, logger="vldesk.core.inference.processor_loading"):
        processor = load_processor(path)
    expected = "Qwen2_5_VLProcessor" if family is Family.QWEN2_5_VL else "Qwen3VLProcessor"
    assert type(processor).__name__ == expected
    assert processor.video_processor is not None
    assert "with AutoProcessor" in caplog.text


@pytest.mark.model
def test_fallback_matches_the_auto_processor(tiny_model: tuple[Family, Path]) -> None:
    family, path = tiny_model
    normal = load_processor(path)
    fallback = load_processor_without_torchvision(path)
    assert type(fallback).__name__.endswith("ImageOnly")
    assert isinstance(fallback, type(normal))
    assert not hasattr(fallback, "video_processor")
    assert type(fallback.image_processor).__name__ == "Qwen2VLImageProcessorPil"
    assert fallback.chat_template == normal.chat_template
    for image, resized in ((_aligned_picture(family), False), (_resized_picture(), True)):
        _assert_same_inputs(
            prompt_inputs(normal, path, image),
            prompt_inputs(fallback, path, image),
            resized=resized,
        )


@pytest.mark.model
def test_load_processor_falls_back_and_says_so(
    tiny_model_dirs: dict[Family, Path],
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    monkeypatch.setattr(processor_loading, "torchvision_usable", lambda: False)
    with caplog.at_level(logging.INFO, logger="vldesk.core.inference.processor_loading"):
        processor = load_processor(tiny_model_dirs[Family.QWEN3_5])
    assert type(processor).__name__ == "Qwen3VLProcessorImageOnly"
    assert "without torchvision" in caplog.text


#: Image processor classes that transformers 5 does not have, one per family: Qwen2.5-VL's is
#: what fine-tunes saved by transformers 4.50-4.57 name; the others stand for any such name.
LEGACY_NAMES = {
    Family.QWEN2_5_VL: "Qwen2_5_VLImageProcessor",
    Family.QWEN3_VL: "Qwen3VLImageProcessor",
    Family.QWEN3_5: "Qwen3_5ImageProcessorFast",
}


def _with_legacy_name(source: Path, target: Path, family: Family) -> Path:
    shutil.copytree(source, target)
    settings = json.loads((target / "preprocessor_config.json").read_text())
    settings["image_processor_type"] = LEGACY_NAMES[family]
    (target / "preprocessor_config.json").write_text(json.dumps(settings))
    return target


@pytest.mark.model
@pytest.mark.parametrize("with_torchvision", [True, False], ids=["auto", "fallback"])
def test_a_legacy_image_processor_name_is_mapped_to_the_current_class(
    tiny_model: tuple[Family, Path],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    with_torchvision: bool,
) -> None:
    from transformers import AutoProcessor

    family, path = tiny_model
    if with_torchvision and not processor_loading.torchvision_usable():
        pytest.skip("torchvision is not usable in this environment")
    legacy = _with_legacy_name(path, tmp_path / "legacy", family)
    # transformers alone stops here: the class is gone.
    with pytest.raises(ValueError, match="Unrecognized image processor"):
        AutoProcessor.from_pretrained(legacy, local_files_only=True)
    monkeypatch.setattr(processor_loading, "torchvision_usable", lambda: with_torchvision)
    with caplog.at_level(logging.INFO, logger="vldesk.core.inference.processor_loading"):
        processor = load_processor(legacy)
    assert f"image processor {LEGACY_NAMES[family]} is not in transformers" in caplog.text
    expected_class = "Qwen2VLImageProcessor" if with_torchvision else "Qwen2VLImageProcessorPil"
    assert type(processor.image_processor).__name__ == expected_class
    assert hasattr(processor, "video_processor") is with_torchvision
    reference = load_processor(path)
    for image, resized in ((_aligned_picture(family), False), (_resized_picture(), True)):
        _assert_same_inputs(
            prompt_inputs(reference, path, image),
            prompt_inputs(processor, legacy, image),
            resized=resized and not with_torchvision,
        )


@pytest.mark.model
@pytest.mark.parametrize("layout", ["saved", "legacy"])
def test_every_layout_gives_the_download_layouts_inputs(
    model_layouts: dict[tuple[Family, str], Path], layout: str
) -> None:
    for family in Family:
        download, other = model_layouts[family, "download"], model_layouts[family, layout]
        expected, actual = load_processor(download), load_processor(other)
        assert type(actual) is type(expected)
        assert actual.chat_template == expected.chat_template
        for image in (_aligned_picture(family), _resized_picture()):
            _assert_same_inputs(
                prompt_inputs(expected, download, image),
                prompt_inputs(actual, other, image),
                resized=False,
            )


@pytest.mark.model
@pytest.mark.parametrize("with_torchvision", [True, False], ids=["auto", "fallback"])
def test_missing_tokenizer_files_are_refused(
    tiny_model_dirs: dict[Family, Path],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    with_torchvision: bool,
) -> None:
    # transformers itself would "load" a one-token tokenizer from config.json alone.
    broken = tmp_path / "broken"
    shutil.copytree(tiny_model_dirs[Family.QWEN2_5_VL], broken)
    # As downloaded, Qwen2.5-VL's tokenizer is vocab.json and merges.txt (no control tokens)
    # plus tokenizer_config.json (which adds them).
    (broken / "tokenizer.json").unlink(missing_ok=True)
    (broken / "tokenizer_config.json").unlink()
    monkeypatch.setattr(processor_loading, "torchvision_usable", lambda: with_torchvision)
    with pytest.raises(ValueError, match=r"tokenizer .* is incomplete"):
        load_processor(broken)


@pytest.mark.parametrize(
    ("torch_version", "vision_version", "mismatched"),
    [
        ("2.13.0+cpu", "0.28.0", False),
        ("2.13.0+cu130", "0.28.0+cu130", False),
        ("2.6.0", "0.21.0", False),
        ("2.13.0", "0.27.1", True),
        ("2.12.1", "0.28.0", True),
        ("3.0.0", "0.40.0", False),  # unknown pairing: import and see
    ],
)
def test_version_pairing_is_read_from_metadata(
    monkeypatch: pytest.MonkeyPatch, torch_version: str, vision_version: str, mismatched: bool
) -> None:
    versions = {"torch": torch_version, "torchvision": vision_version}
    monkeypatch.setattr(importlib.metadata, "version", versions.__getitem__)
    reason = processor_loading._mismatched_versions()
    assert (reason is not None) == mismatched
    if reason:
        assert "does not match torch" in reason


def _run_child(mode: str, dirs: dict[Family, Path], tmp_path: Path) -> tuple[dict[str, Any], Any]:
    import torch

    images = []
    for family in dirs:
        images.append(tmp_path / f"{family.value}.png")
        _aligned_picture(family).save(images[-1])
    images.append(tmp_path / "resized.png")
    _resized_picture().save(images[-1])
    out = tmp_path / f"{mode}.pt"
    env = dict(os.environ)
    if mode in ("broken", "mismatched"):
        # Mismatched: the versions alone must block it, so this one is never imported.
        fake = tmp_path / "fake" / "torchvision"
        fake.mkdir(parents=True)
        (fake / "__init__.py").write_text(
            'raise RuntimeError("operator torchvision::nms does not exist")\n'
        )
        env["PYTHONPATH"] = os.pathsep.join([str(fake.parent), str(ROOT)])
    else:
        env["PYTHONPATH"] = str(ROOT)
    command = [sys.executable, "-c", CHILD, mode, str(out), ",".join(map(str, images))]
    result = subprocess.run(
        [*command, *map(str, dirs.values())],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr[-4000:]
    summary = json.loads(result.stdout.strip().splitlines()[-1])
    summary["log"] = result.stderr
    return summary, torch.load(out)


@pytest.mark.model
@pytest.mark.parametrize("mode", ["missing", "broken"])
def test_without_a_usable_torchvision_the_fallback_gives_the_same_inputs(
    mode: str, tiny_model_dirs: dict[Family, Path], tmp_path: Path
) -> None:
    summary, tensors = _run_child(mode, tiny_model_dirs, tmp_path)
    assert summary["usable"] is False
    assert summary["blocked"] is True
    if mode == "broken":
        assert "operator torchvision::nms does not exist" in summary["log"]
    assert summary["log"].count("without torchvision") == len(tiny_model_dirs)
    for family, path in tiny_model_dirs.items():
        info = summary["info"][str(path)]
        assert info["processor"].endswith("ImageOnly")
        assert info["image_processor"] == "Qwen2VLImageProcessorPil"
        assert info["has_video_processor"] is False
        assert info["new_tokens"] == 2
        normal = load_processor(path)
        inputs = tensors[str(path)]
        aligned, resized = inputs[list(tiny_model_dirs).index(family)], inputs[-1]
        _assert_same_inputs(
            prompt_inputs(normal, path, _aligned_picture(family)), aligned, resized=False
        )
        _assert_same_inputs(prompt_inputs(normal, path, _resized_picture()), resized, resized=True)


@pytest.mark.model
def test_a_mismatched_torchvision_is_never_imported(
    tiny_model_dirs: dict[Family, Path], tmp_path: Path
) -> None:
    dirs = {Family.QWEN3_VL: tiny_model_dirs[Family.QWEN3_VL]}
    summary, _ = _run_child("mismatched", dirs, tmp_path)
    assert summary["usable"] is False
    assert summary["blocked"] is True
    assert "does not match torch" in summary["log"]
    assert "nms" not in summary["log"]
    assert summary["info"][str(dirs[Family.QWEN3_VL])]["new_tokens"] == 2
