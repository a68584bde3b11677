"""Checking a GGUF model folder: complete files, a supported model and its own vision projector."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from vldesk.core.messages import core_text
from vldesk.core.models.catalog import Family
from vldesk.core.models.gguf_header import GgufHeader, GgufHeaderError, read_gguf_header

#: llama.cpp's architecture names of the families vldesk runs.
ARCHITECTURES = {
    "qwen2vl": Family.QWEN2_5_VL,
    "qwen3vl": Family.QWEN3_VL,
    "qwen3vlmoe": Family.QWEN3_VL,
    "qwen35": Family.QWEN3_5,
    "qwen35moe": Family.QWEN3_5,
}

#: llama.cpp's file types (``enum llama_ftype``), as GGUF repositories name their files.
FILE_TYPES = {
    0: "F32",
    1: "F16",
    2: "Q4_0",
    3: "Q4_1",
    7: "Q8_0",
    8: "Q5_0",
    9: "Q5_1",
    10: "Q2_K",
    11: "Q3_K_S",
    12: "Q3_K_M",
    13: "Q3_K_L",
    14: "Q4_K_S",
    15: "Q4_K_M",
    16: "Q5_K_S",
    17: "Q5_K_M",
    18: "Q6_K",
    32: "BF16",
    38: "MXFP4",
}

#: The vision projectors (``clip.projector_type``) of each family; a type not listed here is
#: judged by its width alone.
PROJECTOR_FAMILIES = {
    "qwen2vl_merger": (Family.QWEN2_5_VL,),
    "qwen2.5vl_merger": (Family.QWEN2_5_VL,),
    "qwen3vl_merger": (Family.QWEN3_VL, Family.QWEN3_5),
}

#: The suffixes a GGUF file has while it is being downloaded (the hub client's, and others').
DOWNLOADING_SUFFIXES = (".incomplete", ".part", ".download")


def is_projector_name(path: Path) -> bool:
    """GGUF repositories name vision projectors ``mmproj*.gguf``."""
    return path.name.lower().startswith("mmproj")


@dataclass(frozen=True)
class GgufFile:
    """One GGUF file as its header describes it."""

    path: Path
    header: GgufHeader | None
    problem: str | None

    @property
    def architecture(self) -> str:
        return self.header.text("general.architecture") if self.header else ""

    @property
    def quant(self) -> str:
        """The file type in the name GGUF repositories use ("Q4_K_M"); "" where unknown."""
        number = self.header.number("general.file_type") if self.header else None
        return FILE_TYPES.get(number, f"type {number}") if number is not None else ""

    @property
    def width(self) -> int | None:
        """The model's embedding width, or the width of the features a projector gives."""
        if self.header is None:
            return None
        if self.architecture == "clip":
            return self.header.number("clip.vision.projection_dim")
        return self.header.number(f"{self.architecture}.embedding_length")


def read_gguf_file(path: Path) -> GgufFile:
    """A GGUF file's header and what is wrong with it: not GGUF, damaged, or not all there."""
    try:
        header = read_gguf_header(path)
        size = path.stat().st_size
    except GgufHeaderError as exc:
        problem = (
            core_text(
                "ModelFolder",
                "The GGUF file {file} is incomplete: {reason}.",
                file=path.name,
                reason=str(exc),
            )
            if exc.incomplete
            else core_text(
                "ModelFolder",
                "The GGUF file {file} is not usable: {reason}.",
                file=path.name,
                reason=str(exc),
            )
        )
        return GgufFile(path, None, problem)
    except OSError as exc:
        return GgufFile(
            path,
            None,
            core_text(
                "ModelFolder",
                "The GGUF file {file} cannot be read ({reason}).",
                file=path.name,
                reason=str(exc.strerror or exc),
            ),
        )
    if size < header.data_end:
        return GgufFile(
            path,
            header,
            core_text(
                "ModelFolder",
                "The GGUF file {file} is incomplete: it has {size:,} bytes where its header says "
                "{expected:,} (the download may have stopped part-way).",
                file=path.name,
                size=size,
                expected=header.data_end,
            ),
        )
    if size > header.padded_end:
        return GgufFile(
            path,
            header,
            core_text(
                "ModelFolder",
                "The GGUF file {file} is damaged: it has {size:,} bytes where its header says "
                "{expected:,}.",
                file=path.name,
                size=size,
                expected=header.data_end,
            ),
        )
    return GgufFile(path, header, None)


@dataclass(frozen=True)
class GgufFolderCheck:
    """What a GGUF folder holds and what keeps it from loading."""

    problems: tuple[str, ...]
    family: Family | None
    architecture: str | None
    #: The models' file types, one per model file ("Q4_K_M").
    quants: tuple[str, ...]
    weights_bytes: int


def _pair_problems(model: GgufFile, projectors: list[GgufFile], family: Family) -> list[str]:
    """Projectors that are not vision projectors, or that belong to another model."""
    problems: list[str] = []
    for projector in projectors:
        if projector.header is None:
            continue
        has_vision = projector.header.metadata.get("clip.has_vision_encoder", True)
        if projector.architecture != "clip" or not has_vision:
            problems.append(
                core_text(
                    "ModelFolder", "{file} is not a vision projector.", file=projector.path.name
                )
            )
            continue
        kind = projector.header.text("clip.projector_type")
        families = PROJECTOR_FAMILIES.get(kind)
        wrong_family = families is not None and family not in families
        width, wanted = projector.width, model.width
        if wrong_family or (width is not None and wanted is not None and width != wanted):
            detail = (
                core_text(
                    "ModelFolder",
                    "it is a {kind} projector and the model is {family}",
                    kind=kind,
                    family=family.value,
                )
                if wrong_family
                else core_text(
                    "ModelFolder",
                    "it gives {width}-wide image features where the model takes {wanted}",
                    width=width,
                    wanted=wanted,
                )
            )
            problems.append(
                core_text(
                    "ModelFolder",
                    "The vision projector {file} does not belong to the model {model}: {detail}. "
                    "Download the projector from the model's own repository.",
                    file=projector.path.name,
                    model=model.path.name,
                    detail=detail,
                )
            )
    return problems


def check_gguf_folder(path: Path) -> GgufFolderCheck:
    """Check every GGUF file in ``path``: complete, of a supported model, with its projector."""
    files = sorted(p for p in path.glob("*.gguf") if p.is_file())
    read = [read_gguf_file(p) for p in files]
    models = [f for f in read if not is_projector_name(f.path)]
    projectors = [f for f in read if is_projector_name(f.path)]
    problems = [f.problem for f in read if f.problem]
    downloading = any(any(path.glob(f"*.gguf{suffix}")) for suffix in DOWNLOADING_SUFFIXES)
    if not models:
        problems.append(
            core_text("ModelFolder", "The GGUF model is still being downloaded.")
            if downloading
            else core_text(
                "ModelFolder", "There is no GGUF model file in it (only a vision projector)."
            )
        )
    if not projectors:
        problems.append(
            core_text(
                "ModelFolder",
                "There is no vision projector (an mmproj*.gguf file): vldesk needs it to read "
                "images. Download it from the same repository as the model.",
            )
        )
    family: Family | None = None
    architecture: str | None = None
    for model in models:
        if model.header is None:
            continue
        architecture = model.architecture
        found = ARCHITECTURES.get(architecture)
        if found is None:
            problems.append(
                core_text(
                    "ModelFolder",
                    "{file} is a '{architecture}' model; vldesk runs Qwen2.5-VL, Qwen3-VL and "
                    "Qwen3.5 models.",
                    file=model.path.name,
                    architecture=architecture or "unknown",
                )
            )
            continue
        family = family or found
        problems.extend(_pair_problems(model, projectors, found))
    quants = tuple(m.quant for m in models if m.header is not None)
    weights = sum(m.path.stat().st_size for m in models)
    return GgufFolderCheck(tuple(dict.fromkeys(problems)), family, architecture, quants, weights)
