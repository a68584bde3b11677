"""``vldesk bench --peer llama.cpp``: llama.cpp on the very same random weights, side by side.

What LM Studio and Ollama users run is llama.cpp, so that is the speed to match. The model
folder vldesk measures is converted to GGUF with llama.cpp's own converter (F16, then Q8_0 and
Q4_K_M with llama.cpp's quantizer) and both engines answer the same token counts in fresh
processes, one precision at a time: decode with an empty and a ~1,000-token cache, prompt
reading, a 1024x1024 image to the first token, and each process's peak memory.

Needs ``llama-cpp-python`` (it builds llama.cpp from source: 10-40 minutes on 2 cores; pip keeps
the built wheel) and ``gguf``. The converter is not part of the installed package: it is taken
from the same version's source archive on the package registry, once, into the bench folder.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

from vldesk.core.errors import VldeskError

Progress = Callable[[str], None]

PEERS = ("llama.cpp",)
#: vldesk's weight format and the llama.cpp type of about the same bits.
MATCHED_FORMATS = (("full", "F16"), ("int8", "Q8_0"), ("int4", "Q4_K_M"))
WEIGHT_FORMATS = tuple(ours for ours, _peer in MATCHED_FORMATS)
#: llama.cpp's file type numbers (``enum llama_ftype``) for its quantizer.
_FTYPES = {"Q8_0": 7, "Q4_K_M": 15}

INSTALL_HINT = (
    "The llama.cpp comparison needs llama-cpp-python and gguf: "
    "pip install llama-cpp-python gguf (it builds llama.cpp from source: 10-40 minutes)."
)


@dataclass(frozen=True)
class PeerSpec:
    """One measurement in one fresh process: plain data, passed as JSON."""

    engine: str  # "vldesk" or "llama.cpp"
    weights: str  # vldesk: full/int8/int4; llama.cpp: F16/Q8_0/Q4_K_M
    model_dir: str
    gguf: str | None = None
    mmproj: str | None = None
    square_image: str | None = None
    prompt_tokens: int = 1000
    new_tokens: int = 32
    threads: int = 0


def llama_cpp_version() -> str:
    """The installed llama-cpp-python's version, or a :class:`VldeskError` saying how to get it."""
    try:
        import gguf  # noqa: F401
        import llama_cpp
    except ImportError:
        raise VldeskError(INSTALL_HINT) from None
    return str(llama_cpp.__version__)


def converter_dir(cache: Path, version: str, progress: Progress) -> Path:
    """llama.cpp's ``convert_hf_to_gguf.py`` with its packages, from the source archive of the
    installed llama-cpp-python version (downloaded once from the package registry)."""
    target = cache / f"llama.cpp-converter-{version}"
    if (target / "convert_hf_to_gguf.py").is_file():
        return target
    progress(f"Fetching llama.cpp's GGUF converter (llama-cpp-python {version} source) ...")
    with tempfile.TemporaryDirectory(prefix="vldesk-peer-") as tmp:
        fetched = subprocess.run(
            [
                *(sys.executable, "-m", "pip", "download", "--no-deps", "--no-binary", ":all:"),
                *("--quiet", "-d", tmp, f"llama-cpp-python=={version}"),
            ],
            capture_output=True,
            text=True,
            check=False,
        )
        archives = list(Path(tmp).glob("*.tar.gz"))
        if fetched.returncode != 0 or not archives:
            raise VldeskError(
                "Could not fetch llama-cpp-python's source for its GGUF converter: "
                + (fetched.stderr.strip().splitlines() or ["no archive"])[-1]
            )
        staging = Path(tmp) / "converter"
        with tarfile.open(archives[0]) as archive:
            wanted = [
                member
                for member in archive.getmembers()
                if "/vendor/llama.cpp/" in member.name
                and any(
                    part in member.name
                    for part in ("/convert_hf_to_gguf.py", "/conversion/", "/gguf-py/")
                )
            ]
            archive.extractall(staging, members=wanted, filter="data")
        found = next(staging.rglob("convert_hf_to_gguf.py"))
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.rmtree(target, ignore_errors=True)
        shutil.copytree(found.parent, target)
    return target


#: Runs the converter with two adjustments for random-weight folders: a BPE vocabulary (no
#: sentencepiece model) and Qwen's pre-tokenizer named outright (the converter recognizes a
#: pre-tokenizer by hashing a real vocabulary's output, which a self-built one does not match).
_CONVERT = """
import runpy, sys
source = sys.argv[1]
sys.path[:0] = [source, source + "/gguf-py"]
import conversion.base as base
def _bpe_only(self):
    raise FileNotFoundError("a BPE vocabulary")
base.TextModel._set_vocab_sentencepiece = _bpe_only
base.TextModel.get_vocab_base_pre = lambda self, tokenizer: "qwen2"
sys.argv = ["convert_hf_to_gguf.py", *sys.argv[2:]]
runpy.run_path(source + "/convert_hf_to_gguf.py", run_name="__main__")
"""


def _convert(converter: Path, model_dir: Path, out: Path, *, projector: bool) -> None:
    if out.is_file():
        return
    partial = out.with_suffix(".part")
    command = [sys.executable, "-c", _CONVERT, str(converter), str(model_dir)]
    command += ["--outtype", "f16", "--outfile", str(partial)]
    if projector:
        command.append("--mmproj")
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode != 0 or not partial.is_file():
        tail = "\n".join(done.stderr.strip().splitlines()[-6:])
        raise VldeskError(f"llama.cpp's converter failed on {model_dir.name}:\n{tail}")
    partial.replace(out)


def _quantize(source: Path, out: Path, kind: str, threads: int) -> None:
    if out.is_file():
        return
    import llama_cpp

    params = llama_cpp.llama_model_quantize_default_params()
    params.ftype = _FTYPES[kind]
    params.nthread = threads
    partial = out.with_suffix(".part")
    code = llama_cpp.llama_model_quantize(str(source).encode(), str(partial).encode(), params)
    if code != 0 or not partial.is_file():
        raise VldeskError(f"llama.cpp's quantizer failed ({kind}, code {code}).")
    partial.replace(out)


def gguf_files(
    model_dir: Path, work: Path, kinds: Sequence[str], threads: int, progress: Progress
) -> tuple[dict[str, Path], Path]:
    """The model as GGUF files of each kind (built once, kept beside the random model) and its
    vision projector."""
    version = llama_cpp_version()
    folder = work / "gguf" / model_dir.name
    folder.mkdir(parents=True, exist_ok=True)
    files = {"F16": folder / "model-F16.gguf"}
    mmproj = folder / "mmproj-F16.gguf"
    if not files["F16"].is_file() or not mmproj.is_file():
        converter = converter_dir(work, version, progress)
        progress(f"Converting {model_dir.name} to GGUF with llama.cpp's converter ...")
        _convert(converter, model_dir, files["F16"], projector=False)
        _convert(converter, model_dir, mmproj, projector=True)
    for kind in kinds:
        if kind != "F16":
            files[kind] = folder / f"model-{kind}.gguf"
            if not files[kind].is_file():
                progress(f"Quantizing to {kind} with llama.cpp ...")
            _quantize(files["F16"], files[kind], kind, threads)
    return files, mmproj


def prompt_ids(count: int, vocab: int, seed: int = 7) -> list[int]:
    """``count`` ordinary token ids (the same for both engines; speed does not depend on them)."""
    import random

    pick = random.Random(seed)
    high = min(vocab, 150_000)
    return [pick.randrange(min(1000, high // 2), high) for _ in range(count)]


# ---------------------------------------------------------------------------------------------
# The measurements, each in its own process (``python -m vldesk.bench.peer SPEC OUT``).


def _steps_rate(stamps: Sequence[float]) -> float:
    import itertools
    import statistics

    steps = [b - a for a, b in itertools.pairwise(stamps)]
    return 1 / statistics.median(steps) if steps else 0.0


def measure_llama_cpp(spec: PeerSpec) -> dict[str, Any]:
    import llama_cpp

    from vldesk.bench.system import peak_rss_bytes

    threads = spec.threads or os.cpu_count() or 1
    started = time.perf_counter()
    llm = llama_cpp.Llama(
        model_path=spec.gguf,
        n_ctx=spec.prompt_tokens + 2 * spec.new_tokens + 1536,
        n_batch=512,
        n_ubatch=512,
        n_threads=threads,
        n_threads_batch=threads,
        verbose=False,
    )
    figures: dict[str, Any] = {"load_s": time.perf_counter() - started, "threads": threads}
    ids = prompt_ids(spec.prompt_tokens + 1, llm.n_vocab())

    def decode(count: int) -> float:
        stamps = []
        for token in prompt_ids(count, llm.n_vocab(), seed=11):
            llm.eval([token])
            stamps.append(time.perf_counter())
        return _steps_rate(stamps)

    llm.reset()
    llm.eval(ids[:1])
    figures["decode_empty_tokens_per_s"] = decode(spec.new_tokens)
    llm.reset()
    llm._ctx.kv_cache_clear()
    start = time.perf_counter()
    llm.eval(ids[: spec.prompt_tokens])
    figures["prefill_tokens"] = spec.prompt_tokens
    figures["prefill_tokens_per_s"] = spec.prompt_tokens / (time.perf_counter() - start)
    figures["decode_cached_tokens_per_s"] = decode(spec.new_tokens)
    if spec.mmproj and spec.square_image:
        figures.update(_llama_cpp_image(llm, spec, threads))
    figures["peak_rss_bytes"] = peak_rss_bytes()
    return figures


def _llama_cpp_image(llm: Any, spec: PeerSpec, threads: int) -> dict[str, Any]:
    """Projector encode and encode + prompt to the first token for one image, as llama.cpp's
    multimodal helper does it."""
    import ctypes

    import llama_cpp
    from llama_cpp import mtmd_cpp

    params = mtmd_cpp.mtmd_context_params_default()
    params.use_gpu = False
    params.n_threads = threads
    params.print_timings = False
    context = mtmd_cpp.mtmd_init_from_file(str(spec.mmproj).encode(), llm.model, params)
    if context is None:
        raise VldeskError("llama.cpp could not load the vision projector.")
    data = Path(str(spec.square_image)).read_bytes()
    buffer = (ctypes.c_uint8 * len(data)).from_buffer(bytearray(data))
    bitmap = mtmd_cpp.mtmd_helper_bitmap_init_from_buf(context, buffer, len(data), False)
    text = mtmd_cpp.mtmd_input_text()
    prompt = f"<|im_start|>user\n{mtmd_cpp.mtmd_default_marker().decode()}"
    prompt += "Describe this image.<|im_end|>\n<|im_start|>assistant\n"
    encoded = prompt.encode()
    text.text, text.text_len = encoded, len(encoded)
    text.add_special, text.parse_special = True, True
    chunks = mtmd_cpp.mtmd_input_chunks_init()
    bitmaps = (mtmd_cpp.mtmd_bitmap_p_ctypes * 1)(bitmap)
    if mtmd_cpp.mtmd_tokenize(context, chunks, ctypes.byref(text), bitmaps, 1) != 0:
        raise VldeskError("llama.cpp could not tokenize the image prompt.")
    figures: dict[str, Any] = {}
    for index in range(mtmd_cpp.mtmd_input_chunks_size(chunks)):
        chunk = mtmd_cpp.mtmd_input_chunks_get(chunks, index)
        if mtmd_cpp.mtmd_input_chunk_get_type(chunk) == mtmd_cpp.MTMD_INPUT_CHUNK_TYPE_IMAGE:
            figures["image_tokens"] = int(mtmd_cpp.mtmd_input_chunk_get_n_tokens(chunk))
            start = time.perf_counter()
            mtmd_cpp.mtmd_encode_chunk(context, chunk)
            figures["image_encode_s"] = time.perf_counter() - start
    llm.reset()
    llm._ctx.kv_cache_clear()
    past = llama_cpp.llama_pos(0)
    start = time.perf_counter()
    code = mtmd_cpp.mtmd_helper_eval_chunks(
        context, llm._ctx.ctx, chunks, 0, 0, llm.n_batch, True, ctypes.byref(past)
    )
    figures["image_first_token_s"] = time.perf_counter() - start
    if code != 0:
        raise VldeskError(f"llama.cpp could not read the image prompt (code {code}).")
    mtmd_cpp.mtmd_input_chunks_free(chunks)
    mtmd_cpp.mtmd_bitmap_free(bitmap)
    mtmd_cpp.mtmd_free(context)
    return figures


def _text_of(engine: Any, tokens: int) -> Any:
    """A question whose prompt (chat template included) is about ``tokens`` tokens long."""
    from vldesk.core.generation import Conversation, GenerationSettings

    words = [
        "the",
        "quick",
        "brown",
        "fox",
        "jumps",
        "over",
        "a",
        "lazy",
        "dog",
        "near",
        "seven",
        "old",
        "river",
        "banks",
    ]
    settings = GenerationSettings()

    def conversation(count: int) -> Any:
        return Conversation().ask(" ".join(words[i % len(words)] for i in range(count)))

    def length(count: int) -> int:
        return int(engine.prepare_inputs(conversation(count), settings)["input_ids"].shape[1])

    guess = tokens
    for _ in range(3):  # words are not tokens one to one: two corrections get close
        guess = max(1, guess + tokens - length(guess))
    return conversation(guess)


def measure_vldesk(spec: PeerSpec) -> dict[str, Any]:
    import torch

    from vldesk.bench.system import peak_rss_bytes
    from vldesk.core.generation import Conversation, GenerationSettings
    from vldesk.core.images import load_image
    from vldesk.core.inference.transformers_engine import TransformersEngine

    if spec.threads:
        torch.set_num_threads(spec.threads)
    started = time.perf_counter()
    engine = TransformersEngine.load(Path(spec.model_dir), device="cpu", weights=spec.weights)
    figures: dict[str, Any] = {
        "load_s": time.perf_counter() - started,
        "threads": torch.get_num_threads(),
        "dtype": engine.choice.dtype.value,
    }
    settings = GenerationSettings(max_new_tokens=spec.new_tokens, ignore_eos=True)

    def run(conversation: Any) -> Any:
        stamps: list[float] = []
        result = engine.generate(
            conversation,
            settings,
            on_token=lambda _count: stamps.append(time.perf_counter()),
            reuse_cache=False,
        )
        return result.stats, _steps_rate(stamps)

    run(Conversation().ask("Hi"))  # warm-up: kernels and caches are built on the first call
    short, figures["decode_empty_tokens_per_s"] = run(Conversation().ask("Hi"))
    long, figures["decode_cached_tokens_per_s"] = run(_text_of(engine, spec.prompt_tokens))
    figures["short_prompt_tokens"] = short.prompt_tokens
    figures["prefill_tokens"] = long.prompt_tokens
    figures["prefill_tokens_per_s"] = long.prompt_tokens / long.time_to_first_token_s
    if spec.square_image:
        image = load_image(Path(spec.square_image))
        answer = engine.generate(
            Conversation().ask("Describe this image.", [image]),
            GenerationSettings(max_new_tokens=1, ignore_eos=True),
            reuse_cache=False,
        )
        figures["image_tokens"] = answer.stats.image_tokens
        figures["image_first_token_s"] = answer.stats.time_to_first_token_s
    figures["peak_rss_bytes"] = peak_rss_bytes()
    return figures


def run_measurement(spec: PeerSpec) -> dict[str, Any]:
    """One measurement in a fresh Python process (its own peak memory)."""
    with tempfile.TemporaryDirectory(prefix="vldesk-peer-") as tmp:
        spec_file, out_file = Path(tmp) / "spec.json", Path(tmp) / "out.json"
        spec_file.write_text(json.dumps(asdict(spec)), encoding="utf-8")
        command = [sys.executable, "-m", "vldesk.bench.peer", str(spec_file), str(out_file)]
        done = subprocess.run(command, capture_output=True, text=True, check=False)
        if done.returncode != 0 or not out_file.is_file():
            tail = "\n".join((done.stderr or done.stdout).strip().splitlines()[-8:])
            return {"error": f"{spec.engine} {spec.weights} failed: {tail}"}
        result: dict[str, Any] = json.loads(out_file.read_text(encoding="utf-8"))
        return result


# ---------------------------------------------------------------------------------------------
# The comparison and its table.


def compare(
    model_dir: Path,
    work: Path,
    *,
    square_image: Path | None,
    formats: Sequence[str] = WEIGHT_FORMATS,
    prompt_tokens: int = 1000,
    new_tokens: int = 32,
    threads: int = 0,
    progress: Progress = lambda _text: None,
) -> dict[str, Any]:
    """Both engines at each matched precision: ``{"rows": [...], "llama_cpp_version": ...}``."""
    pairs = [(ours, peer) for ours, peer in MATCHED_FORMATS if ours in formats]
    threads = threads or os.cpu_count() or 1
    files, mmproj = gguf_files(model_dir, work, [peer for _o, peer in pairs], threads, progress)
    rows = []
    for ours, peer in pairs:
        base = PeerSpec(
            engine="vldesk",
            weights=ours,
            model_dir=str(model_dir),
            square_image=str(square_image) if square_image else None,
            prompt_tokens=prompt_tokens,
            new_tokens=new_tokens,
            threads=threads,
        )
        progress(f"vldesk {ours} ...")
        mine = run_measurement(base)
        # llama.cpp reads as many prompt tokens as vldesk's chat template gave.
        theirs_spec = replace(
            base,
            engine="llama.cpp",
            weights=peer,
            gguf=str(files[peer]),
            mmproj=str(mmproj),
            prompt_tokens=int(mine.get("prefill_tokens") or prompt_tokens),
        )
        progress(f"llama.cpp {peer} ...")
        theirs = run_measurement(theirs_spec)
        rows.append({"vldesk": ours, "llama_cpp": peer, "ours": mine, "peer": theirs})
    return {"llama_cpp_version": llama_cpp_version(), "rows": rows}


#: The table's lines: (label, key, higher is better).
_FIGURES = (
    ("decode, empty cache (tok/s)", "decode_empty_tokens_per_s", True),
    ("decode, ~1,000 cached (tok/s)", "decode_cached_tokens_per_s", True),
    ("prompt reading (tok/s)", "prefill_tokens_per_s", True),
    ("1024x1024 image to first token (s)", "image_first_token_s", False),
    ("peak memory (GB)", "peak_rss_bytes", False),
)


def ratio(ours: Any, peer: Any, *, higher_is_better: bool) -> float | None:
    """How vldesk compares: above 1 is better than llama.cpp, whichever way the figure runs."""
    if not isinstance(ours, (int, float)) or not isinstance(peer, (int, float)):
        return None
    if ours <= 0 or peer <= 0:
        return None
    return ours / peer if higher_is_better else peer / ours


def format_comparison(result: dict[str, Any]) -> str:
    """The side-by-side table: each figure for both engines and vldesk's advantage."""

    def shown(key: str, value: Any) -> str:
        if not isinstance(value, (int, float)):
            return "-"
        return f"{value / 1e9:.2f}" if key == "peak_rss_bytes" else f"{value:.2f}"

    lines = [f"vldesk against llama.cpp (llama-cpp-python {result['llama_cpp_version']})"]
    header = f"{'':36} {'vldesk':>9} {'llama.cpp':>10} {'advantage':>10}"
    for row in result["rows"]:
        lines += ["", f"{row['vldesk']} weights against {row['llama_cpp']}", header]
        for side in ("ours", "peer"):
            if "error" in row[side]:
                lines.append(f"  {row[side]['error'].splitlines()[-1]}")
        for label, key, higher in _FIGURES:
            ours, peer = row["ours"].get(key), row["peer"].get(key)
            advantage = ratio(ours, peer, higher_is_better=higher)
            mark = f"{advantage:.2f}x" if advantage is not None else "-"
            lines.append(f"{label:36} {shown(key, ours):>9} {shown(key, peer):>10} {mark:>10}")
        tokens = (row["ours"].get("image_tokens"), row["peer"].get("image_tokens"))
        if all(tokens):
            lines.append(f"{'image tokens':36} {tokens[0]:>9} {tokens[1]:>10}")
    lines.append("")
    lines.append(
        "advantage: above 1.00x vldesk is faster or smaller; each figure from a fresh process."
    )
    return "\n".join(lines)


def main(argv: list[str]) -> int:
    spec_path, out_path = argv
    import logging

    logging.basicConfig(level=logging.ERROR)
    spec = PeerSpec(**json.loads(Path(spec_path).read_text(encoding="utf-8")))
    measure = measure_llama_cpp if spec.engine == "llama.cpp" else measure_vldesk
    Path(out_path).write_text(json.dumps(measure(spec)), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
