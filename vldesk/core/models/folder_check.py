"""Checking that a model folder is complete: weights, tokenizer, chat template and processor."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from vldesk.core.errors import ModelLoadError
from vldesk.core.messages import Text, core_text, joined
from vldesk.core.models.catalog import Family, UnsupportedModel, check_config
from vldesk.core.models.files import read_json
from vldesk.core.models.folder_format import GGUF, SAFETENSORS, folder_format
from vldesk.core.models.gguf_check import check_gguf_folder

#: The suffix modelscope_hub gives a file while it is being downloaded.
PARTIAL_SUFFIX = ".incomplete"


_WEIGHTS_INDEX = "model.safetensors.index.json"


#: Where transformers 5 saves a processor's settings, the image processor's included.
PROCESSOR_CONFIG = "processor_config.json"


#: The image processor's settings in the released models and in transformers 4 saves.
IMAGE_PROCESSOR_CONFIG = "preprocessor_config.json"


_PYTORCH_WEIGHTS = ("*.bin", "*.pt", "*.pth")


#: A safetensors header larger than this is not a real header (real ones are well under 10 MB).
_MAX_SAFETENSORS_HEADER = 100 * 1024 * 1024


@dataclass(frozen=True)
class FolderCheck:
    """Whether a folder holds a usable model; ``problems`` says what is wrong, if anything."""

    path: Path
    problems: tuple[str, ...]
    model_type: str | None = None
    family: Family | None = None
    weights_bytes: int = 0
    #: "safetensors" (transformers) or "gguf" (llama.cpp).
    format: str = SAFETENSORS
    #: A GGUF folder's model file types ("Q4_K_M"); empty for safetensors.
    quants: tuple[str, ...] = ()

    @property
    def engine(self) -> str:
        """The engine that runs the folder: "llama.cpp" for GGUF, else "transformers"."""
        return "llama.cpp" if self.format == GGUF else "transformers"

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def reason(self) -> Text:
        return joined(self.problems)

    def raise_if_bad(self, what: str | None = None) -> None:
        """Raise :class:`ModelLoadError` with every problem found, if there is any."""
        if not self.problems:
            return
        if what is None:
            what = core_text("ModelFolder", "The folder {path}", path=str(self.path))
        raise ModelLoadError(
            core_text(
                "ModelFolder", "{what} cannot be used: {reason}", what=what, reason=self.reason
            )
        )


def _safetensors_tensors(path: Path) -> tuple[set[str], str | None]:
    """The tensor names in a safetensors file, and a problem when its header or length is off.

    Only the header is read: a truncated or padded file is caught from the sizes it declares.
    """
    try:
        size = path.stat().st_size
        with path.open("rb") as handle:
            head = handle.read(8)
            if len(head) < 8:
                return set(), f"The weights file {path.name} is empty or truncated."
            header_len = int.from_bytes(head, "little")
            if header_len <= 0 or header_len > min(_MAX_SAFETENSORS_HEADER, size - 8):
                return set(), f"The weights file {path.name} is damaged (bad header)."
            header = json.loads(handle.read(header_len))
    except OSError as exc:
        return set(), f"The weights file {path.name} cannot be read ({exc.strerror or exc})."
    except (UnicodeDecodeError, json.JSONDecodeError):
        return set(), f"The weights file {path.name} is damaged (bad header)."
    if not isinstance(header, dict):
        return set(), f"The weights file {path.name} is damaged (bad header)."
    names: set[str] = set()
    end = 0
    for name, info in header.items():
        if name == "__metadata__":
            continue
        offsets = info.get("data_offsets") if isinstance(info, dict) else None
        if not isinstance(offsets, list) or len(offsets) != 2:
            return set(), f"The weights file {path.name} is damaged (bad header)."
        names.add(name)
        end = max(end, int(offsets[1]))
    expected = 8 + header_len + end
    if size != expected:
        state = "incomplete" if size < expected else "damaged"
        return names, (
            f"The weights file {path.name} is {state}: it has {size:,} bytes where its header "
            f"says {expected:,}."
        )
    return names, None


def _check_weights(path: Path) -> tuple[list[str], int]:
    """Problems with the safetensors weights (sharded or not), and their total size."""
    problems: list[str] = []
    index_file = path / _WEIGHTS_INDEX
    if index_file.is_file():
        index = read_json(index_file)
        weight_map = index.get("weight_map") if isinstance(index, dict) else None
        if not isinstance(weight_map, dict) or not weight_map:
            return [f"{_WEIGHTS_INDEX} cannot be read or lists no weights."], 0
        shards: dict[str, list[str]] = {}
        for tensor, shard in weight_map.items():
            shards.setdefault(str(shard), []).append(str(tensor))
        missing = []
        total = 0
        for shard, tensors in sorted(shards.items()):
            shard_path = path / shard
            # Shard names come from a file in the folder: never follow one out of it.
            if (
                "/" in shard
                or "\\" in shard
                or shard in ("", ".", "..")
                or not shard_path.is_file()
            ):
                missing.append(shard)
                continue
            total += shard_path.stat().st_size
            names, problem = _safetensors_tensors(shard_path)
            if problem:
                problems.append(problem)
            elif not set(tensors) <= names:
                absent = len(set(tensors) - names)
                problems.append(
                    f"The weights file {shard} lacks {absent} tensor(s) that {_WEIGHTS_INDEX} "
                    "places in it."
                )
        if missing:
            listed = ", ".join(missing[:3]) + (", ..." if len(missing) > 3 else "")
            partial = any((path / (m + PARTIAL_SUFFIX)).exists() for m in missing)
            problems.insert(
                0,
                f"{_WEIGHTS_INDEX} lists {len(missing)} weights file(s) that are missing: {listed}"
                + (" (still being downloaded)." if partial else "."),
            )
        return problems, total

    files = sorted(p for p in path.glob("*.safetensors") if p.is_file())
    if not files:
        if any(any(path.glob(pattern)) for pattern in _PYTORCH_WEIGHTS):
            return [
                core_text(
                    "ModelFolder",
                    "It has only PyTorch .bin/.pt weights; vldesk loads .safetensors weights "
                    "only (get the safetensors version of the model).",
                )
            ], 0
        if any(path.glob("*.safetensors" + PARTIAL_SUFFIX)):
            return [
                core_text("ModelFolder", "The .safetensors weights are still being downloaded.")
            ], 0
        return [core_text("ModelFolder", "There are no .safetensors weights in it.")], 0
    total = 0
    for file in files:
        total += file.stat().st_size
        _names, problem = _safetensors_tensors(file)
        if problem:
            problems.append(problem)
    return problems, total


def _has_chat_template(path: Path) -> bool:
    if (path / "chat_template.jinja").is_file() or (path / "chat_template.json").is_file():
        return True
    for name in ("tokenizer_config.json", PROCESSOR_CONFIG):
        data = read_json(path / name)
        if isinstance(data, dict) and data.get("chat_template"):
            return True
    return False


def _unreadable(path: Path) -> bool:
    return path.is_file() and not isinstance(read_json(path), dict)


def _tokenizer_problems(path: Path) -> list[str]:
    """What keeps transformers from loading a complete Qwen tokenizer from the folder.

    tokenizer.json holds everything; vocab.json and merges.txt hold only the ordinary tokens,
    and then Qwen's control tokens (<|im_start|>, <|image_pad|>...) come from
    tokenizer_config.json. tokenizer_config.json beside a tokenizer.json is optional.
    """
    config = path / "tokenizer_config.json"
    if _unreadable(config):
        return ["tokenizer_config.json cannot be read (it is not a JSON object)."]
    if (path / "tokenizer.json").is_file():
        return []
    if not ((path / "vocab.json").is_file() and (path / "merges.txt").is_file()):
        return [
            core_text(
                "ModelFolder",
                "The tokenizer is missing (tokenizer.json, or vocab.json and merges.txt).",
            )
        ]
    if not config.is_file():
        return [
            "tokenizer_config.json is missing: with vocab.json and merges.txt but no "
            "tokenizer.json, it is where Qwen's control tokens (<|im_start|>, <|image_pad|>...) "
            "are defined."
        ]
    return []


def _image_processor_problems(path: Path) -> list[str]:
    """The image processor settings, where transformers looks for them: an ``image_processor``
    entry in processor_config.json (transformers 5's save_pretrained), else
    preprocessor_config.json (the released models, and transformers 4)."""
    processor = read_json(path / PROCESSOR_CONFIG)
    if isinstance(processor, dict) and isinstance(processor.get("image_processor"), dict):
        return []
    if _unreadable(path / PROCESSOR_CONFIG):
        return [_not_json(PROCESSOR_CONFIG)]
    if _unreadable(path / IMAGE_PROCESSOR_CONFIG):
        return [_not_json(IMAGE_PROCESSOR_CONFIG)]
    if (path / IMAGE_PROCESSOR_CONFIG).is_file():
        return []
    return [
        core_text(
            "ModelFolder",
            "The image processor settings are missing ({file}, or an image_processor entry "
            "in {processor}).",
            file=IMAGE_PROCESSOR_CONFIG,
            processor=PROCESSOR_CONFIG,
        )
    ]


def _not_json(name: str) -> str:
    return core_text("ModelFolder", "{file} cannot be read (it is not a JSON object).", file=name)


def validate_model_folder(path: Path) -> FolderCheck:
    """Check a folder holds a complete model vldesk can run, without loading it.

    Accepts every layout transformers loads for the supported architectures: the released
    downloads, transformers 5's save_pretrained (processor_config.json, tokenizer.json) and
    fine-tunes saved by transformers 4 (legacy image processor names are mapped on loading).
    Looks at config.json (a supported ``model_type``), the safetensors weights (every shard the
    index names, each as long as its header says), the tokenizer, the image processor settings
    and the chat template, and reports only what would really keep the model from loading.
    Reads only small files and the weights' headers. A folder of GGUF files (and no
    safetensors: :func:`folder_format`) is checked as llama.cpp loads it: :func:`check_gguf_folder`.
    """
    path = Path(path).expanduser()
    if not path.is_dir():
        what = "is a file, not a folder" if path.exists() else "does not exist"
        return FolderCheck(path, (f"The folder {path} {what}.",))
    if folder_format(path) == GGUF:
        gguf = check_gguf_folder(path)
        return FolderCheck(
            path,
            gguf.problems,
            gguf.architecture,
            gguf.family,
            gguf.weights_bytes,
            format=GGUF,
            quants=gguf.quants,
        )
    problems: list[str] = []
    model_type: str | None = None
    family: Family | None = None
    config_file = path / "config.json"
    if not config_file.is_file():
        problems.append(
            core_text(
                "ModelFolder",
                "There is no config.json, so it is not a Hugging Face or ModelScope model.",
            )
        )
    else:
        config = read_json(config_file)
        if not isinstance(config, dict):
            problems.append(core_text("ModelFolder", "Its config.json cannot be read."))
        else:
            model_type = str(config.get("model_type") or "") or None
            try:
                family = check_config(config, "This folder")
            except UnsupportedModel as exc:
                problems.append(str(exc))
    weight_problems, weights_bytes = _check_weights(path)
    problems.extend(weight_problems)
    problems.extend(_tokenizer_problems(path))
    problems.extend(_image_processor_problems(path))
    if not _has_chat_template(path):
        problems.append(
            core_text(
                "ModelFolder",
                "There is no chat template (chat_template.jinja, chat_template.json, or a "
                "chat_template entry in tokenizer_config.json or processor_config.json).",
            )
        )
    return FolderCheck(path, tuple(problems), model_type, family, weights_bytes)
