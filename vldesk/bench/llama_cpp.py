"""llama.cpp for the peer comparison: its version, and the model converted to GGUF files."""

from __future__ import annotations

import shutil
import subprocess
import sys
import tarfile
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path

from vldesk.core.errors import VldeskError

Progress = Callable[[str], None]


#: llama.cpp's file type numbers (``enum llama_ftype``) for its quantizer.
_FTYPES = {"Q8_0": 7, "Q4_K_M": 15}


INSTALL_HINT = (
    "The llama.cpp comparison needs llama-cpp-python and gguf: "
    "pip install llama-cpp-python gguf (it builds llama.cpp from source: 10-40 minutes)."
)


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
