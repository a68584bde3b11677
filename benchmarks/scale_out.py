"""Images per hour of one folder captioned locally, through one vLLM-CPU server and through two
``vldesk serve`` servers (by hand).

    VLDESK_VLLM_PYTHON=/path/to/vllm-venv/bin/python \\
        .venv/bin/python benchmarks/scale_out.py [--images 24] [--out result.json]

Every arm runs the real ``vldesk batch`` command in a process of its own on a copy of the same
folder, with the same prompt, greedy decoding and the same new-token cap, on the same model: the
tiny random-weight Qwen3-VL that vLLM's CPU kernels take (``vldesk.bench.vllm_server``), or with
``--real-size DIR`` Qwen3-VL-2B's real config with random weights:

- ``local``: ``vldesk batch DIR --model MODEL`` (the in-process engine);
- ``vllm``: one vLLM-CPU server, ``vldesk batch DIR --server URL``;
- ``two_vldesk_servers``: two ``vldesk serve`` processes, ``--server URL1 --server URL2``.

Images per hour come from the job's journal (its session record to its finished record): model
loading and server start are left out. The steady rate counts the answers after the first (a
local batch or the servers' first round), which leaves out the first call's warm-up. The servers
are started before their arm and warmed up on two images of their own. The load average is
recorded: the figures depend on the machine and its load, so they are printed, never compared
with a threshold.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

PROMPT = "Describe this image in one sentence."
#: The name every arm serves the model under: it names the family (Qwen3-VL).
SERVED_NAME = "Qwen/Qwen3-VL-random-weights"


def _environment(home: Path) -> dict[str, str]:
    return {
        **os.environ,
        "VLDESK_HOME": str(home),
        "PYTHONPATH": str(ROOT),
        "HF_HUB_OFFLINE": "1",
        "QT_QPA_PLATFORM": "offscreen",
    }


def _journal(home: Path) -> list[dict[str, Any]]:
    (journal,) = (home / "data" / "jobs").glob("*/journal.jsonl")
    return [json.loads(line) for line in journal.read_text("utf-8").splitlines() if line.strip()]


def run_batch(
    work: Path, name: str, photos: Path, options: list[str], max_new: int
) -> dict[str, Any]:
    """``vldesk batch`` on a copy of ``photos``; the job's images per hour from its journal."""
    folder, home = work / name / "photos", work / name / "home"
    shutil.copytree(photos, folder)
    report = work / name / "report.jsonl"
    command = [
        *(sys.executable, "-m", "vldesk", "batch", str(folder), "--prompt", PROMPT),
        *("--max-new-tokens", str(max_new), "--max-image-tokens", "256", "--jsonl", str(report)),
        *options,
    ]
    started = time.perf_counter()
    done = subprocess.run(command, env=_environment(home), capture_output=True, text=True)
    wall = time.perf_counter() - started
    if done.returncode != 0:
        raise RuntimeError(f"{name}: vldesk batch failed ({done.returncode}):\n{done.stderr}")
    records = _journal(home)
    session = next(r["at"] for r in records if r["kind"] == "session")
    finished = next(r["at"] for r in records if r["kind"] == "finished")
    results = [r for r in records if r["kind"] == "result"]
    captioned = sum(r["status"] == "captioned" for r in results)
    tokens = [int((r.get("stats") or {}).get("new_tokens") or 0) for r in results]
    seconds = finished - session
    # After the first answer (the local engine's first batch, the servers' first round): leaves
    # out the first call's warm-up. Answers of one local batch are journalled together.
    times = sorted(r["at"] for r in results)
    later = [at for at in times if at > times[0] + 0.001]
    steady = len(later) * 3600 / (times[-1] - times[0]) if later else 0.0
    return {
        "images": len(results),
        "captioned": captioned,
        "job_s": round(seconds, 2),
        "command_s": round(wall, 2),
        "images_per_hour": round(captioned * 3600 / seconds, 1),
        "steady_images_per_hour": round(steady, 1),
        "batch_sizes": sorted({int(r.get("batch_size") or 1) for r in results}),
        "new_tokens": sum(tokens),
        "first_caption": next((r["caption"] for r in results if r["caption"]), ""),
    }


@contextmanager
def vldesk_servers(model: Path, work: Path, count: int) -> Iterator[list[str]]:
    """``count`` ``vldesk serve`` processes on free ports, ready; stopped afterwards."""
    from vldesk.bench.vllm_server import free_port

    processes, urls = [], []
    try:
        for index in range(count):
            port = free_port()
            log = open(work / f"vldesk-serve-{index}.log", "wb")  # noqa: SIM115
            command = [sys.executable, "-m", "vldesk", "serve", "--model", str(model)]
            processes.append(
                subprocess.Popen(
                    [*command, "--port", str(port)],
                    env=_environment(work / f"serve-home-{index}"),
                    stdout=log,
                    stderr=subprocess.STDOUT,
                )
            )
            urls.append(f"http://127.0.0.1:{port}/v1")
        for url, process in zip(urls, processes, strict=True):
            _wait_for(url, process, 600)
        yield urls
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            process.wait(timeout=60)


def _wait_for(url: str, process: subprocess.Popen[bytes], timeout_s: float) -> None:
    import urllib.request

    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the server for {url} exited ({process.returncode})")
        try:
            with urllib.request.urlopen(f"{url}/models", timeout=5) as reply:
                # vldesk serve answers while its model loads, with no model listed yet.
                if reply.status == 200 and json.loads(reply.read())["data"]:
                    return
        except OSError:
            pass
        time.sleep(1)
    raise RuntimeError(f"{url} did not answer in {timeout_s:.0f} s")


@contextmanager
def vllm_server(python: Path, model: Path, work: Path) -> Iterator[tuple[list[str], float]]:
    from vldesk.bench.vllm_server import VllmServer

    server = VllmServer(python, model, work / "vllm.log", served_name=SERVED_NAME)
    try:
        yield [server.url], server.wait_ready()
    finally:
        server.stop()


def _load() -> list[float]:
    return [round(value, 2) for value in os.getloadavg()]


def _arm(
    name: str,
    work: Path,
    photos: Path,
    warm: Path,
    options: list[str],
    max_new: int,
    note: Callable[[str], None],
) -> dict[str, Any]:
    note(f"{name}: warming up, then {len(list(photos.iterdir()))} images ...")
    if "--server" in " ".join(options):
        run_batch(work, f"{name}-warm-up", warm, options, max_new)
    load_before = _load()
    result = run_batch(work, name, photos, options, max_new)
    result["load_before"], result["load_after"] = load_before, _load()
    rates = f"{result['images_per_hour']} images/hour ({result['steady_images_per_hour']} steady)"
    note(f"{name}: {rates}, load {result['load_after']}")
    return result


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=24)
    parser.add_argument("--max-new-tokens", type=int, default=16)
    parser.add_argument("--concurrency", type=int, default=4, help="per server")
    parser.add_argument("--photo-size", default="800x600")
    parser.add_argument("--model-dir", type=Path, help="a vLLM-sized tiny model (built if absent)")
    parser.add_argument(
        "--real-size",
        type=Path,
        metavar="DIR",
        help="instead: Qwen3-VL-2B's real config with random weights, built once under DIR",
    )
    parser.add_argument("--out", type=Path)
    args = parser.parse_args(argv)

    from tests.helpers.real_models import reference_or_none
    from vldesk.bench.fixtures import model_folder, photo_folder
    from vldesk.bench.vllm_server import VLLM_PYTHON_ENV, build_vllm_model, vllm_python
    from vldesk.core.models.catalog import Family

    python = vllm_python()
    if python is None:
        print(f"Set {VLLM_PYTHON_ENV} to the Python of a vllm-cpu environment.", file=sys.stderr)
        return 2

    def note(text: str) -> None:
        print(text, file=sys.stderr, flush=True)

    width, height = (int(part) for part in args.photo_size.split("x"))
    with tempfile.TemporaryDirectory(prefix="vldesk-scale-out-") as temporary:
        work = Path(temporary)
        if args.real_size:
            model = model_folder(Family.QWEN3_VL, args.real_size)
        else:
            model = args.model_dir or work / "model"
            if not (model / "config.json").is_file():
                build_vllm_model(model, reference_or_none(Family.QWEN3_VL))
        photos = photo_folder(work / "images", args.images, (width, height))
        warm = photo_folder(work / "warm", 2, (width, height))
        common = ["--concurrency", str(args.concurrency)]
        arms: dict[str, Any] = {}
        started = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
        load_start = _load()
        arms["local"] = _arm(
            "local", work, photos, warm, ["--model", str(model)], args.max_new_tokens, note
        )
        with vllm_server(python, model, work) as (urls, ready_s):
            note(f"vLLM answered after {ready_s:.0f} s")
            options = [*(f"--server={url}" for url in urls), *common]
            arms["vllm"] = _arm("vllm", work, photos, warm, options, args.max_new_tokens, note)
            arms["vllm"]["server_start_s"] = round(ready_s, 1)
        with vldesk_servers(model, work, 2) as urls:
            options = [*(f"--server={url}" for url in urls), *common]
            arms["two_vldesk_servers"] = _arm(
                "two_vldesk_servers", work, photos, warm, options, args.max_new_tokens, note
            )
    vllm_version = subprocess.run(
        [str(python), "-c", "import importlib.metadata as m; print(m.version('vllm-cpu'))"],
        capture_output=True,
        text=True,
    ).stdout.strip()
    result = {
        "benchmark": "scale_out",
        "started_utc": started,
        "machine": {"cpu": platform.processor() or platform.machine(), "cores": os.cpu_count()},
        "model": (
            "Qwen3-VL-2B-Instruct's config, random weights"
            if args.real_size
            else "tiny random-weight Qwen3-VL (vldesk.bench.vllm_server.build_vllm_model)"
        ),
        "load_average_start": load_start,
        "load_average_end": _load(),
        "vllm_cpu": vllm_version,
        "images": args.images,
        "photo_size": args.photo_size,
        "max_new_tokens": args.max_new_tokens,
        "max_image_tokens": 256,
        "concurrency_per_server": args.concurrency,
        "prompt": PROMPT,
        "arms": arms,
    }
    text = json.dumps(result, indent=2)
    print(text)
    if args.out:
        args.out.write_text(text + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
