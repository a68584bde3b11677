"""``vldesk describe``: streaming answers, JSON output and one-line errors, through the real CLI."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from PIL import Image

from tests.helpers import PROJECT_ROOT
from tests.helpers.fake_engine import FakeEngineLoader
from vldesk.cli import run_cli
from vldesk.core.inference.engine_choice import EngineChoice
from vldesk.core.models.catalog import Family
from vldesk.core.settings import Settings

ROOT = PROJECT_ROOT
QUICK = ["--max-new-tokens", "6", "--max-image-tokens", "16", "--quiet"]


@pytest.fixture
def photo(tmp_path: Path) -> Path:
    path = tmp_path / "photo 1.jpg"
    image = Image.new("RGB", (120, 80), (30, 120, 200))
    image.paste((240, 200, 20), (10, 10, 50, 40))
    image.save(path, quality=90)
    return path


def test_describe_loads_the_engine_it_was_asked_for_and_unloads_it(
    photo: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    import vldesk.cli.describe

    def choose_model(args: object, model_ref: str, user_settings: Settings) -> EngineChoice:
        return EngineChoice(Path(model_ref).resolve(), model_ref, "transformers", "a test")

    loader = FakeEngineLoader()
    monkeypatch.setattr(vldesk.cli.describe, "choose_model", choose_model)
    monkeypatch.setattr(vldesk.cli.describe, "load_engine", loader)
    model = tmp_path / "my-model"
    model.mkdir()
    args = ["describe", str(photo), "--model", str(model), "--device", "cpu", "--weights", "int8"]
    assert run_cli([*args, "--prompt", "What colour?", "--json", *QUICK]) == 0
    record = json.loads(capsys.readouterr().out)
    (request,) = loader.requests
    assert (request.model_dir, request.name) == (model.resolve(), "my-model")
    assert (request.device, request.dtype, request.weights) == ("cpu", "auto", "int8")
    (engine,) = loader.engines
    assert engine.unloaded
    assert record["answer"] == f"What colour? | {photo}"
    assert record["model"] == "my-model"


def test_streamed_answer_equals_the_json_answer(
    photo: Path, tiny_model_dirs: dict[Family, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    model = str(tiny_model_dirs[Family.QWEN3_VL])
    assert run_cli(["describe", str(photo), "--model", model, *QUICK]) == 0
    streamed = capsys.readouterr().out
    assert run_cli(["describe", str(photo), "--model", model, "--json", *QUICK]) == 0
    record = json.loads(capsys.readouterr().out)
    assert streamed.strip() == record["answer"]
    assert record["image"] == str(photo)
    assert record["prompt"] == "Describe this image in one or two sentences."
    assert record["stats"]["new_tokens"] <= 6
    assert record["stats"]["image_tokens"] > 0
    assert record["settings"]["max_image_tokens"] == 16
    assert record["stop_reason"] in ("end_of_text", "max_tokens")


@pytest.mark.parametrize(
    ("family", "penalty"),
    [(Family.QWEN3_VL, 1.0), (Family.QWEN2_5_VL, 1.05)],
    ids=["qwen3_vl", "qwen2_5_vl"],
)
def test_the_models_own_repetition_penalty_is_the_default_and_the_answer_says_so(
    photo: Path,
    tiny_model_dirs: dict[Family, Path],
    capsys: pytest.CaptureFixture[str],
    family: Family,
    penalty: float,
) -> None:
    folder = tiny_model_dirs[family]
    generation = json.loads((folder / "generation_config.json").read_text())
    assert run_cli(["describe", str(photo), "--model", str(folder), "--json", *QUICK]) == 0
    record = json.loads(capsys.readouterr().out)
    assert record["settings"]["repetition_penalty"] == penalty == generation["repetition_penalty"]
    # Greedy decoding (the default) uses the repetition penalty and no sampling values.
    assert record["stats"]["sampling"] == {
        "greedy": True,
        "temperature": None,
        "top_p": None,
        "top_k": None,
        "repetition_penalty": penalty,
        "from_model": ["repetition_penalty"],
    }


def test_settings_the_user_changed_stay_the_users(
    photo: Path, tiny_model_dirs: dict[Family, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    from vldesk.core.paths import app_paths
    from vldesk.core.settings import Settings, save_settings

    user = Settings(greedy=False, temperature=0.5, repetition_penalty=1.2)
    save_settings(user, app_paths().settings_file)
    folder = tiny_model_dirs[Family.QWEN3_VL]
    generation = json.loads((folder / "generation_config.json").read_text())
    assert run_cli(["describe", str(photo), "--model", str(folder), "--json", *QUICK]) == 0
    record = json.loads(capsys.readouterr().out)
    assert record["stats"]["sampling"] == {
        "greedy": False,
        "temperature": 0.5,
        "top_p": generation["top_p"],
        "top_k": generation["top_k"],
        "repetition_penalty": 1.2,
        "from_model": ["top_p", "top_k"],
    }
    assert record["settings"]["temperature"] == 0.5
    assert record["settings"]["top_k"] == generation["top_k"]


@pytest.mark.parametrize("layout", ["download", "saved", "legacy"])
@pytest.mark.parametrize("family", list(Family), ids=lambda family: family.value)
def test_import_and_describe_every_folder_layout(
    photo: Path,
    model_layouts: dict[tuple[Family, str], Path],
    capsys: pytest.CaptureFixture[str],
    family: Family,
    layout: str,
) -> None:
    """A download, a transformers 5 save and a transformers 4 fine-tune of each family, built
    from the real files: imported (and listed as usable), and described from its folder."""
    folder = model_layouts[family, layout]
    name = f"{family.value}-{layout}"
    assert run_cli(["models", "import", str(folder), "--name", name]) == 0
    assert f"Imported '{name}' ({family.value})" in capsys.readouterr().out
    assert run_cli(["models", "list", "--json"]) == 0
    imported = json.loads(capsys.readouterr().out)["imported"]
    assert [(m["name"], m["state"], m["problem"]) for m in imported] == [(name, "ok", None)]
    assert run_cli(["describe", str(photo), "--model", str(folder), "--json", *QUICK]) == 0
    record = json.loads(capsys.readouterr().out)
    assert record["stats"]["image_tokens"] > 0
    assert record["stats"]["new_tokens"] >= 1


def test_several_images_with_a_custom_prompt_and_chinese_preset(
    photo: Path, tiny_model_dirs: dict[Family, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    other = photo.with_name("other.png")
    Image.new("RGBA", (64, 64), (255, 0, 0, 128)).save(other)
    model = str(tiny_model_dirs[Family.QWEN3_5])
    code = run_cli(
        ["describe", str(photo), str(other), "--model", model, "--prompt", "Hi?", *QUICK]
    )
    out = capsys.readouterr().out
    assert code == 0
    assert f"== {photo} ==" in out
    assert f"== {other} ==" in out
    assert (
        run_cli(
            [
                "describe",
                str(photo),
                "--model",
                model,
                "--preset",
                "ocr",
                "--lang",
                "zh",
                "--json",
                *QUICK,
            ]
        )
        == 0
    )
    record = json.loads(capsys.readouterr().out)
    assert record["prompt"].startswith("请按阅读顺序")


def test_bad_images_are_one_line_each_and_good_ones_still_answered(
    photo: Path,
    tmp_path: Path,
    tiny_model_dirs: dict[Family, Path],
    capsys: pytest.CaptureFixture[str],
) -> None:
    corrupt = tmp_path / "corrupt.jpg"
    corrupt.write_bytes(b"\xff\xd8\xff\xe0 definitely not a jpeg")
    missing = tmp_path / "missing.png"
    model = str(tiny_model_dirs[Family.QWEN2_5_VL])
    code = run_cli(
        ["describe", str(corrupt), str(missing), str(photo), "--model", model, "--json", *QUICK]
    )
    captured = capsys.readouterr()
    assert code == 1
    errors = captured.err.strip().splitlines()
    assert len(errors) == 2
    assert errors[0].startswith(f"vldesk: error: {corrupt}:")
    assert errors[1] == f"vldesk: error: {missing}: the file does not exist"
    assert json.loads(captured.out)["image"] == str(photo)
    assert "Traceback" not in captured.err


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--model", "Qwen/Qwen3-VL-2B-Instruct"], "models download Qwen/Qwen3-VL-2B-Instruct"),
        (["--model", "No/Such-Model"], "No/Such-Model"),
        (["--prompt", "  "], "The prompt is empty."),
        (["--device", "cuda"], "CUDA"),
    ],
)
def test_errors_are_one_clear_line(
    photo: Path,
    tiny_model_dirs: dict[Family, Path],
    capsys: pytest.CaptureFixture[str],
    args: list[str],
    message: str,
) -> None:
    if "--model" not in args:
        args = [*args, "--model", str(tiny_model_dirs[Family.QWEN3_VL])]
    import torch

    if "cuda" in args and torch.cuda.is_available():
        pytest.skip("this machine has CUDA")
    assert run_cli(["describe", str(photo), *args, *QUICK]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert err.startswith("vldesk: error: ")
    assert message in err


def test_a_folder_that_is_not_a_model(
    photo: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "not-a-model").mkdir()
    code = run_cli(["describe", str(photo), "--model", str(tmp_path / "not-a-model"), *QUICK])
    err = capsys.readouterr().err
    assert code == 1
    assert err.startswith("vldesk: error: ")
    assert "Traceback" not in err


def run_vldesk(
    *args: str, env_extra: dict[str, str] | None = None, timeout: int = 300
) -> subprocess.CompletedProcess[str]:
    """``python -m vldesk ARGS`` as a user runs it (no screen: offscreen Qt if it opened)."""
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", **(env_extra or {})}
    return subprocess.run(
        [sys.executable, "-m", "vldesk", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        stdin=subprocess.DEVNULL,
    )


@pytest.mark.parametrize("torchvision", ["working", "broken"])
def test_the_real_command_streams_an_answer(
    photo: Path, tmp_path: Path, tiny_model_dirs: dict[Family, Path], torchvision: str
) -> None:
    """`python -m vldesk describe` end to end; with a broken torchvision too (images only)."""
    env = {}
    if torchvision == "broken":
        fake = tmp_path / "fake-site" / "torchvision"
        fake.mkdir(parents=True)
        (fake / "__init__.py").write_text(
            'raise RuntimeError("operator torchvision::nms does not exist")\n'
        )
        env["PYTHONPATH"] = os.pathsep.join([str(fake.parent), str(ROOT)])
    model = str(tiny_model_dirs[Family.QWEN3_VL])
    result = run_vldesk("describe", str(photo), "--model", model, "--json", *QUICK, env_extra=env)
    assert result.returncode == 0, result.stderr
    record = json.loads(result.stdout)
    assert record["stats"]["image_tokens"] > 0
    assert "Traceback" not in result.stderr


def test_quantized_weights_from_the_command_line(
    photo: Path, tiny_model_dirs: dict[Family, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    from vldesk.core.inference.cpu.quantized_weights import WeightFormat, available

    torch = pytest.importorskip("torch")
    if not available(WeightFormat.INT8, torch.bfloat16):
        pytest.skip("no int8 kernel in this torch")
    model = str(tiny_model_dirs[Family.QWEN3_VL])
    quick = [q for q in QUICK if q != "--quiet"]
    assert run_cli(["describe", str(photo), "--model", model, "--weights", "int8", *quick]) == 0
    captured = capsys.readouterr()
    assert "int8 weights" in captured.err
    assert f"Reading {photo} ..." in captured.err
    assert "6 new tokens" in captured.err  # the tiny model's answer may be blank lines
