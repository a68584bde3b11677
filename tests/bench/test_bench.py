"""``vldesk bench`` on the tiny models: every phase runs, the report has every figure."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pytest

from vldesk.bench.fixtures import make_photo, photo_folder, photos, reduced_config
from vldesk.bench.memory import activation_bytes, memory_check
from vldesk.bench.report import format_table, summarize
from vldesk.bench.runner import BenchOptions, run_bench
from vldesk.bench.spec import PhaseSpec, median_of
from vldesk.bench.synthetic import real_config
from vldesk.bench.system import LoadMeter
from vldesk.core.inference.cpu.decode_forwards import DecodeKernel
from vldesk.core.inference.memory import peak_resident_bytes, resident_bytes
from vldesk.core.inference.model_figures import config_sizes
from vldesk.core.models.catalog import Family

QUICK = {
    "images": 2,
    "baseline_images": 1,
    "batch_size": 2,
    "new_tokens": 3,
    "caption_tokens": 3,
    "photo_size": (320, 240),
    "max_image_tokens": 64,
    "quiet_wait_s": 0.0,
    "ceiling_bytes": 16 * 1024**2,
    "matmul_size": 256,
    "isolate": False,
    "attempts": 1,
}


@pytest.fixture(scope="module")
def report(tiny_model_dirs: dict[Family, Path], tmp_path_factory: pytest.TempPathFactory) -> Any:
    options = BenchOptions(
        model=str(tiny_model_dirs[Family.QWEN3_VL]),
        work_dir=tmp_path_factory.mktemp("bench"),
        phases=("ceiling", "interactive", "batch", "baseline"),
        **QUICK,  # type: ignore[arg-type]
    )
    return run_bench(options)


def _file_tensor_bytes(folder: Path, dtype: str) -> int:
    from safetensors import safe_open

    size = {"bfloat16": 2, "float16": 2, "float32": 4}[dtype]
    total = 0
    for path in folder.glob("*.safetensors"):
        with safe_open(str(path), framework="pt") as weights:
            for key in weights.keys():  # noqa: SIM118 - safe_open is not a mapping
                total += math.prod(weights.get_slice(key).get_shape()) * size
    return total


@pytest.mark.model
def test_every_phase_reports_its_figures(report: dict[str, Any]) -> None:
    for phase in ("ceiling", "interactive", "batch", "baseline"):
        assert "error" not in report[phase], report[phase]
    assert report["ceiling"]["read_gbs"] > 0
    assert report["ceiling"]["float32_gflops"] > 0
    assert report["ceiling"]["bfloat16_gflops"] > 0
    interactive = report["interactive"]
    assert interactive["decode_bytes_per_token"] > 0
    if interactive["device"] == "cpu":
        assert interactive["cpu_kernels"]["kernel"] in {k.value for k in DecodeKernel}
    # The weights as the file holds them, also when the tied head was packed apart.
    assert interactive["weights_bytes"] == _file_tensor_bytes(
        Path(report["model"]["folder"]), interactive["dtype"]
    )
    for case in ("photo", "square_1024"):
        figures = interactive["cases"][case]
        assert 0 < figures["image_tokens"] <= 64
        assert figures["new_tokens"] == 3
        assert figures["time_to_first_token_s"] > 0
        assert figures["decode_tokens_per_s_median_step"] > 0
    # The photo's follow-up continued the first answer's cache: the photo was not read again.
    follow_up = interactive["cases"]["photo_follow_up"]
    photo = interactive["cases"]["photo"]
    assert follow_up["reused_tokens"] > photo["image_tokens"]
    assert follow_up["prompt_tokens"] > photo["prompt_tokens"]
    assert photo["reused_tokens"] == 0
    assert follow_up["new_tokens"] == 3
    assert interactive["memory"]["allowance_bytes"] > interactive["weights_bytes"]
    assert report["batch"]["images"] == 2
    assert report["batch"]["images_per_hour"] > 0
    baseline = report["baseline"]
    assert baseline["dtype"] == "float32"
    assert baseline["images"] == 1
    # The processor's own budget: far more visual tokens than vldesk's 64 for the same photo.
    assert baseline["photo"]["image_tokens"] > interactive["cases"]["photo"]["image_tokens"]


@pytest.mark.model
def test_quantized_weights_are_benchmarked_and_counted(
    tiny_model_dirs: dict[Family, Path], tmp_path_factory: pytest.TempPathFactory
) -> None:
    """int4 layers count their packed values, the second copy and the scales: fewer bytes
    than the file's bfloat16 weights, more than the packed values alone."""
    from vldesk.core.inference.cpu.quantized_weights import WeightFormat, available

    torch = pytest.importorskip("torch")
    if not available(WeightFormat.INT4, torch.bfloat16):
        pytest.skip("no int4 kernel in this torch")
    folder = tiny_model_dirs[Family.QWEN3_VL]
    options = BenchOptions(
        model=str(folder),
        work_dir=tmp_path_factory.mktemp("bench-int4"),
        phases=("interactive",),
        weights="int4",
        dtype="bfloat16",
        **QUICK,  # type: ignore[arg-type]
    )
    report = run_bench(options)
    interactive = report["interactive"]
    assert "error" not in interactive, interactive
    assert interactive["weights"] == "int4"
    assert interactive["cpu_kernels"]["kernel"] == "int4"
    assert interactive["cpu_kernels"]["head_kernel"] == "int8"
    # Fewer bytes than the file's, but for the int8 head's scales (one bfloat16 per vocabulary
    # row): with the real vocabulary they outweigh what int4 saves on a tiny model's layers.
    vocab_size = json.loads((folder / "config.json").read_text())["text_config"]["vocab_size"]
    head_scales = 2 * vocab_size
    assert interactive["weights_bytes"] < _file_tensor_bytes(folder, "bfloat16") + head_scales
    assert interactive["decode_bytes_per_token"] < interactive["weights_bytes"]
    assert "(int4 weights)" in format_table(report)


@pytest.mark.model
def test_summary_has_ratios_ceiling_and_targets(report: dict[str, Any]) -> None:
    figures = report["summary"]["figures"]
    for key in (
        "batch_speedup",
        "first_token_speedup",
        "decode_speedup",
        "decode_ceiling_tokens_per_s",
        "decode_ceiling_fraction",
    ):
        assert isinstance(figures[key], float), key
        assert figures[key] > 0, key
    targets = report["summary"]["targets"]
    assert targets["batch_3x_baseline"]["met"] in (True, False)
    assert targets["window_under_1_5s"]["met"] is None  # start-up was not run
    table = format_table(report)
    assert "folder batch, images/hour" in table
    assert "not measured" in table
    continued = report["interactive"]["cases"]["photo_follow_up"]["reused_tokens"]
    assert "photo: follow-up's first token, s" in table
    assert f"{continued} tokens continued" in table
    json.dumps(report)  # plain JSON all the way down


@pytest.mark.model
def test_cli_prints_the_table_and_writes_json(
    tiny_model_dirs: dict[Family, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from vldesk.cli import run_cli

    out = tmp_path / "bench.json"
    code = run_cli(
        [
            "bench",
            "--model",
            str(tiny_model_dirs[Family.QWEN2_5_VL]),
            "--only",
            "interactive",
            "--new-tokens",
            "2",
            "--photo-size",
            "200x150",
            "--max-image-tokens",
            "16",
            "--work-dir",
            str(tmp_path / "work"),
            "--json",
            str(out),
            "--in-process",
            "--attempts",
            "1",
        ]
    )
    assert code == 0
    printed = capsys.readouterr()
    assert "decode, tokens/s" in printed.out
    data = json.loads(out.read_text(encoding="utf-8"))
    assert data["interactive"]["cases"]["photo"]["image_tokens"] <= 16
    assert "batch" not in data
    assert data["summary"]["targets"]["batch_3x_baseline"]["met"] is None


def test_cli_refuses_unknown_phases(capsys: pytest.CaptureFixture[str]) -> None:
    from vldesk.cli import run_cli

    assert run_cli(["bench", "--only", "everything"]) == 1
    assert "Unknown phase 'everything'" in capsys.readouterr().err


@pytest.mark.model
def test_isolated_phase_runs_in_its_own_process(
    tiny_model_dirs: dict[Family, Path], tmp_path: Path
) -> None:
    from vldesk.bench.worker import run_phase

    photo = make_photo(tmp_path / "p.jpg", (128, 96), seed=1)
    spec = PhaseSpec(
        str(tiny_model_dirs[Family.QWEN3_5]),
        photos=(str(photo),),
        new_tokens=2,
        max_image_tokens=16,
        quiet_wait_s=0.0,
    )
    result = run_phase("interactive", spec, isolate=True)
    assert result["start_to_ready_s"] > result["load_s"] > 0
    assert result["peak_rss_bytes"] >= result["rss_ready_bytes"]


@pytest.mark.parametrize("family", list(Family))
def test_reduced_config_keeps_widths_and_fits_indexes(family: Family) -> None:
    full = real_config(family)
    small = reduced_config(full, family, 2)
    text = small if family is Family.QWEN2_5_VL else small["text_config"]
    full_text = full if family is Family.QWEN2_5_VL else full["text_config"]
    assert text["num_hidden_layers"] == 2
    assert small["vision_config"]["depth"] == 2
    assert text["hidden_size"] == full_text["hidden_size"]
    assert all(i < 2 for i in small["vision_config"].get("deepstack_visual_indexes", []))
    assert all(i < 2 for i in small["vision_config"].get("fullatt_block_indexes", []))
    if "layer_types" in text:
        assert len(text["layer_types"]) == 2
        assert "full_attention" in text["layer_types"]


def test_photo_folder_is_reused(tmp_path: Path) -> None:
    folder = photo_folder(tmp_path, 2, (64, 48))
    first = [p.stat().st_mtime_ns for p in photos(folder, 2)]
    assert [p.stat().st_mtime_ns for p in photos(photo_folder(tmp_path, 2, (64, 48)), 2)] == first
    from PIL import Image

    with Image.open(photos(folder, 1)[0]) as image:
        assert (image.format, image.size) == ("JPEG", (64, 48))


def test_summary_targets_met_and_missed() -> None:
    report = {
        "ceiling": {"read_gbs": 30.0},
        "interactive": {
            "decode_bytes_per_token": 3 * 10**9,
            "cases": {"photo": {"decode_tokens_per_s_median_step": 8.0}},
            "memory": memory_check(4 * 10**9, 10**9, 5 * 10**9),
        },
        "batch": {"images_per_hour": 300.0},
        "baseline": {"images_per_hour": 60.0},
        "startup": {"window_shown_s": 2.0},
    }
    summary = summarize(report)
    assert summary["figures"]["batch_speedup"] == pytest.approx(5.0)
    assert summary["figures"]["decode_ceiling_tokens_per_s"] == pytest.approx(10.0)
    targets = summary["targets"]
    assert targets["batch_3x_baseline"]["met"] is True
    assert targets["decode_70pct_of_ceiling"]["met"] is True
    assert targets["window_under_1_5s"]["met"] is False
    assert targets["peak_memory"]["met"] is True
    assert "MISSED" in format_table({**report, "summary": summary})


def test_busy_phases_are_flagged() -> None:
    report = {
        "batch": {"images_per_hour": 100.0, "other_load": 0.5},
        "interactive": {"cases": {"photo": {"other_load": 0.01}}},
    }
    summary = summarize(report)
    assert summary["busy_phases"] == {"batch": 0.5}
    assert "WARNING: other processes used the CPU during: batch 50%" in format_table(
        {**report, "summary": summary}
    )


def test_empty_report_formats() -> None:
    assert "not measured" in format_table({})


def test_activation_estimate_grows_with_the_image() -> None:
    class Config:
        hidden_size, intermediate_size, num_hidden_layers = 2048, 6144, 28
        num_attention_heads, num_key_value_heads, head_dim = 16, 8, 128
        vision_config = type(
            "Vision",
            (),
            {"hidden_size": 1024, "intermediate_size": 4096, "spatial_merge_size": 2},
        )()

        def get_text_config(self) -> Any:
            return self

    sizes = config_sizes(Config())
    assert sizes["text"]["num_key_value_heads"] == 8
    assert sizes["vision"] == {
        "hidden_size": 1024,
        "intermediate_size": 4096,
        "spatial_merge_size": 2,
        "deepstack_layers": 0,
    }
    small = activation_bytes(sizes, 256, 300, 2)
    large = activation_bytes(sizes, 1024, 1100, 2)
    assert 0 < small < large < 2 * 1024**3


def test_median_of_runs_and_system_readings() -> None:
    merged = median_of([{"a": 1.0, "b": "x"}, {"a": 3.0, "b": "y"}, {"a": 2.0, "b": "z"}])
    assert merged == {"a": 2.0, "b": "x", "repeats": 3}
    meter = LoadMeter().start()
    sum(range(10000))
    load = meter.stop()
    assert load is None or 0.0 <= load <= 1.0
    rss, peak = resident_bytes(), peak_resident_bytes()
    if rss is not None and peak is not None:
        assert peak >= rss > 0
