"""Where models live on disk: downloaded catalog models, their manifests and imported folders."""

from __future__ import annotations

import contextlib
import json
import logging
import os
import shutil
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from enum import Enum
from pathlib import Path
from typing import Any

from vldesk.core.atomic import atomic_write_text
from vldesk.core.errors import ModelLoadError, ModelNotFoundError, VldeskError, WriteError
from vldesk.core.inference.sampling import Sampling, read_sampling
from vldesk.core.models.catalog import (
    CATALOG,
    Family,
    ModelSpec,
    UnsupportedModel,
    check_config,
    find_model,
    spec_for_repository,
)

log = logging.getLogger(__name__)

#: Written inside a model's folder once every file is downloaded and verified.
MANIFEST_NAME = ".vldesk-manifest.json"
#: The registry of imported folders, kept in the models folder.
IMPORTED_NAME = "imported.json"
MANIFEST_FORMAT = 1
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


def format_bytes(size: int | float) -> str:
    """``4.3 GB`` style sizes (decimal units, as download sizes are usually quoted)."""
    value = float(size)
    for unit in ("B", "kB", "MB", "GB"):
        if abs(value) < 1000:
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1000
    return f"{value:.1f} TB"


def format_duration(seconds: float | None) -> str:
    """``1h05m`` / ``4m09s`` / ``12s``; ``--`` when unknown (an ETA before any speed is known)."""
    if seconds is None:
        return "--"
    whole = int(seconds + 0.5)
    if whole >= 3600:
        return f"{whole // 3600}h{whole % 3600 // 60:02d}m"
    if whole >= 60:
        return f"{whole // 60}m{whole % 60:02d}s"
    return f"{whole}s"


def utc_now() -> str:
    return datetime.now(timezone.utc).replace(microsecond=0).isoformat()


def write_json_atomic(path: Path, data: Any) -> None:
    """Write JSON so that a crash leaves either the old file or the new one, never half of one.

    Raises:
        WriteError: the file could not be written (the old one is untouched).
    """
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise WriteError(f"Could not create the folder {path.parent}: {exc.strerror}.") from exc
    atomic_write_text(path, json.dumps(data, indent=2, ensure_ascii=False) + "\n")


def _read_json(path: Path) -> Any:
    """The parsed file, or ``None`` when it is missing or unreadable."""
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError):
        return None


def folder_size(path: Path) -> int:
    """Bytes used by the files under ``path`` (partial downloads included); 0 when missing."""
    total = 0
    if not path.is_dir():
        return 0
    for root, _dirs, files in os.walk(path):
        for name in files:
            with contextlib.suppress(OSError):
                total += (Path(root) / name).stat().st_size
    return total


# ----------------------------------------------------------------------------------------------
# Manifest
# ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ManifestFile:
    """One downloaded file: its path inside the model folder, size and SHA-256 (lower-case hex)."""

    path: str
    size: int
    sha256: str | None


@dataclass(frozen=True)
class Manifest:
    """What was downloaded for a catalog model; its presence means every file was verified."""

    model_id: str
    revision: str
    #: The newest hub commit that touched any downloaded file, when the hub's listing says.
    commit: str | None
    endpoint: str
    downloaded_at: str
    files: tuple[ManifestFile, ...]

    @property
    def total_bytes(self) -> int:
        return sum(f.size for f in self.files)

    def to_json(self) -> dict[str, Any]:
        return {
            "format": MANIFEST_FORMAT,
            "model_id": self.model_id,
            "source": "modelscope",
            "endpoint": self.endpoint,
            "revision": self.revision,
            "commit": self.commit,
            "downloaded_at": self.downloaded_at,
            "total_bytes": self.total_bytes,
            "files": [{"path": f.path, "size": f.size, "sha256": f.sha256} for f in self.files],
        }

    @classmethod
    def from_json(cls, data: Any) -> Manifest | None:
        """Parse a manifest; ``None`` for anything malformed (it then simply does not count)."""
        if not isinstance(data, dict) or data.get("format") != MANIFEST_FORMAT:
            return None
        try:
            files = tuple(
                ManifestFile(str(f["path"]), int(f["size"]), f.get("sha256") or None)
                for f in data["files"]
            )
            return cls(
                model_id=str(data["model_id"]),
                revision=str(data["revision"]),
                commit=data.get("commit") or None,
                endpoint=str(data.get("endpoint", "")),
                downloaded_at=str(data.get("downloaded_at", "")),
                files=files,
            )
        except (KeyError, TypeError, ValueError, AttributeError):
            return None


# ----------------------------------------------------------------------------------------------
# Checking a model folder
# ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class FolderCheck:
    """Whether a folder holds a usable model; ``problems`` says what is wrong, if anything."""

    path: Path
    problems: tuple[str, ...]
    model_type: str | None = None
    family: Family | None = None
    weights_bytes: int = 0

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def reason(self) -> str:
        return " ".join(self.problems)

    def raise_if_bad(self, what: str | None = None) -> None:
        """Raise :class:`ModelLoadError` with every problem found, if there is any."""
        if self.problems:
            raise ModelLoadError(
                f"{what or f'The folder {self.path}'} cannot be used: {self.reason}"
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
        index = _read_json(index_file)
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
                "It has only PyTorch .bin/.pt weights; vldesk loads .safetensors weights only "
                "(get the safetensors version of the model)."
            ], 0
        if any(path.glob("*.safetensors" + PARTIAL_SUFFIX)):
            return ["The .safetensors weights are still being downloaded."], 0
        return ["There are no .safetensors weights in it."], 0
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
        data = _read_json(path / name)
        if isinstance(data, dict) and data.get("chat_template"):
            return True
    return False


def _unreadable(path: Path) -> bool:
    return path.is_file() and not isinstance(_read_json(path), dict)


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
        return ["The tokenizer is missing (tokenizer.json, or vocab.json and merges.txt)."]
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
    processor = _read_json(path / PROCESSOR_CONFIG)
    if isinstance(processor, dict) and isinstance(processor.get("image_processor"), dict):
        return []
    if _unreadable(path / PROCESSOR_CONFIG):
        return [f"{PROCESSOR_CONFIG} cannot be read (it is not a JSON object)."]
    if _unreadable(path / IMAGE_PROCESSOR_CONFIG):
        return [f"{IMAGE_PROCESSOR_CONFIG} cannot be read (it is not a JSON object)."]
    if (path / IMAGE_PROCESSOR_CONFIG).is_file():
        return []
    return [
        f"The image processor settings are missing ({IMAGE_PROCESSOR_CONFIG}, or an "
        f"image_processor entry in {PROCESSOR_CONFIG})."
    ]


def validate_model_folder(path: Path) -> FolderCheck:
    """Check a folder holds a complete model vldesk can run, without loading it.

    Accepts every layout transformers loads for the supported architectures: the released
    downloads, transformers 5's save_pretrained (processor_config.json, tokenizer.json) and
    fine-tunes saved by transformers 4 (legacy image processor names are mapped on loading).
    Looks at config.json (a supported ``model_type``), the safetensors weights (every shard the
    index names, each as long as its header says), the tokenizer, the image processor settings
    and the chat template, and reports only what would really keep the model from loading.
    Reads only small files and the weights' headers.
    """
    path = Path(path).expanduser()
    if not path.is_dir():
        what = "is a file, not a folder" if path.exists() else "does not exist"
        return FolderCheck(path, (f"The folder {path} {what}.",))
    problems: list[str] = []
    model_type: str | None = None
    family: Family | None = None
    config_file = path / "config.json"
    if not config_file.is_file():
        problems.append("There is no config.json, so it is not a Hugging Face or ModelScope model.")
    else:
        config = _read_json(config_file)
        if not isinstance(config, dict):
            problems.append("Its config.json cannot be read.")
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
            "There is no chat template (chat_template.jinja, chat_template.json, or a "
            "chat_template entry in tokenizer_config.json or processor_config.json)."
        )
    return FolderCheck(path, tuple(problems), model_type, family, weights_bytes)


# ----------------------------------------------------------------------------------------------
# The store
# ----------------------------------------------------------------------------------------------


class InstallState(str, Enum):
    NOT_INSTALLED = "not installed"
    #: Some files are there but the download has not finished (or was cancelled).
    PARTIAL = "partial"
    INSTALLED = "installed"
    #: The manifest says it was complete, but files have since gone missing or changed size.
    DAMAGED = "damaged"


@dataclass(frozen=True)
class ModelStatus:
    """A catalog model's state on this machine."""

    spec: ModelSpec
    state: InstallState
    path: Path
    size_on_disk: int
    manifest: Manifest | None = None
    problem: str | None = None

    @property
    def installed(self) -> bool:
        return self.state is InstallState.INSTALLED


@dataclass(frozen=True)
class ImportedModel:
    """A folder the user registered; vldesk reads it in place and never changes it."""

    name: str
    path: Path
    model_type: str | None
    imported_at: str

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "path": str(self.path),
            "model_type": self.model_type,
            "imported_at": self.imported_at,
        }


@dataclass(frozen=True)
class InstalledModel:
    """A model ready to load: a verified catalog download or an imported folder."""

    name: str
    path: Path
    spec: ModelSpec | None = None
    imported: bool = False
    manifest: Manifest | None = field(default=None, compare=False)


class ModelStore:
    """Catalog models under ``models_dir / spec.folder_name``, plus a registry of imported folders.

    Nothing here touches the network: whether a model is installed is decided from its manifest
    and the sizes of its files (no hashing, so start-up stays fast).
    """

    def __init__(self, models_dir: Path) -> None:
        self.models_dir = Path(models_dir).expanduser()

    # -- catalog models ------------------------------------------------------------------------

    def folder_for(self, spec: ModelSpec) -> Path:
        return self.models_dir / spec.folder_name

    def manifest_path(self, spec: ModelSpec) -> Path:
        return self.folder_for(spec) / MANIFEST_NAME

    @property
    def hub_cache_dir(self) -> Path:
        """Scratch space for the hub client (its file locks), kept out of the user's home."""
        return self.models_dir / ".hub"

    def read_manifest(self, spec: ModelSpec) -> Manifest | None:
        manifest = Manifest.from_json(_read_json(self.manifest_path(spec)))
        if manifest is None or manifest.model_id.lower() != spec.id.lower():
            return None
        return manifest

    def write_manifest(self, spec: ModelSpec, manifest: Manifest) -> None:
        write_json_atomic(self.manifest_path(spec), manifest.to_json())

    def forget_manifest(self, spec: ModelSpec) -> None:
        """Mark a model as not (or no longer) completely downloaded."""
        self.manifest_path(spec).unlink(missing_ok=True)

    def _manifest_problem(self, spec: ModelSpec, manifest: Manifest) -> str | None:
        folder = self.folder_for(spec)
        for entry in manifest.files:
            try:
                size = (folder / entry.path).stat().st_size
            except OSError:
                return f"{entry.path} is missing"
            if size != entry.size:
                return f"{entry.path} has {size:,} bytes instead of {entry.size:,}"
        return None

    def status(self, spec: ModelSpec) -> ModelStatus:
        folder = self.folder_for(spec)
        size = folder_size(folder)
        manifest = self.read_manifest(spec)
        if manifest is not None:
            problem = self._manifest_problem(spec, manifest)
            state = InstallState.DAMAGED if problem else InstallState.INSTALLED
            return ModelStatus(spec, state, folder, size, manifest, problem)
        has_files = folder.is_dir() and any(p.is_file() for p in folder.rglob("*"))
        state = InstallState.PARTIAL if has_files else InstallState.NOT_INSTALLED
        return ModelStatus(spec, state, folder, size)

    def is_installed(self, spec: ModelSpec) -> bool:
        """Manifest present and every file in it has the recorded size (no hashing, no network)."""
        manifest = self.read_manifest(spec)
        return manifest is not None and self._manifest_problem(spec, manifest) is None

    def downloaded_by_id(self) -> list[ModelSpec]:
        """Models downloaded by a repository id that is not in the catalog, complete or not.

        Each is a folder of the models folder with a manifest naming a non-catalog id; its
        spec comes from its config.json (the architecture checked again) and its manifest.
        """
        found: list[ModelSpec] = []
        try:
            folders = sorted(p for p in self.models_dir.iterdir() if p.is_dir())
        except OSError:
            return found
        for folder in folders:
            manifest = Manifest.from_json(_read_json(folder / MANIFEST_NAME))
            if manifest is None or find_model(manifest.model_id) is not None:
                continue
            weights = sum(f.size for f in manifest.files if f.path.endswith(".safetensors"))
            try:
                spec = spec_for_repository(
                    manifest.model_id,
                    _read_json(folder / "config.json"),
                    revision=manifest.revision,
                    weights_bytes=weights,
                    download_bytes=manifest.total_bytes,
                )
            except UnsupportedModel as exc:
                log.warning("ignoring %s: %s", folder, exc)
                continue
            if self.folder_for(spec) == folder:
                found.append(spec)
        return found

    def find_downloaded(self, model_id: str) -> ModelSpec | None:
        """A catalog entry, or a model downloaded by its id; ``None`` when neither."""
        wanted = model_id.strip().lower()
        spec = find_model(wanted)
        if spec is not None:
            return spec
        return next((s for s in self.downloaded_by_id() if s.id.lower() == wanted), None)

    def installed(self) -> list[InstalledModel]:
        """Models ready to load: installed catalog models first, then models downloaded by id,
        then imported folders."""
        found = [
            InstalledModel(spec.id, self.folder_for(spec), spec, manifest=self.read_manifest(spec))
            for spec in (*CATALOG, *self.downloaded_by_id())
            if self.is_installed(spec)
        ]
        found.extend(
            InstalledModel(entry.name, entry.path, imported=True)
            for entry in self.imported()
            if (entry.path / "config.json").is_file()
        )
        return found

    # -- imported folders ----------------------------------------------------------------------

    @property
    def imported_registry(self) -> Path:
        return self.models_dir / IMPORTED_NAME

    def imported(self) -> list[ImportedModel]:
        data = _read_json(self.imported_registry)
        entries = data.get("models") if isinstance(data, dict) else None
        result: list[ImportedModel] = []
        for entry in entries if isinstance(entries, list) else []:
            try:
                result.append(
                    ImportedModel(
                        name=str(entry["name"]),
                        path=Path(entry["path"]),
                        model_type=entry.get("model_type"),
                        imported_at=str(entry.get("imported_at", "")),
                    )
                )
            except (KeyError, TypeError, AttributeError):
                log.warning("ignoring a malformed entry in %s", self.imported_registry)
        return result

    def _save_imported(self, entries: Iterable[ImportedModel]) -> None:
        data = {"format": 1, "models": [entry.to_json() for entry in entries]}
        write_json_atomic(self.imported_registry, data)

    def find_imported(self, name_or_path: str) -> ImportedModel | None:
        wanted = name_or_path.strip()
        entries = self.imported()
        for entry in entries:
            if entry.name.lower() == wanted.lower():
                return entry
        try:
            as_path = Path(wanted).expanduser().resolve()
        except (OSError, RuntimeError):
            return None
        return next((entry for entry in entries if entry.path == as_path), None)

    def import_folder(self, path: Path, name: str | None = None) -> ImportedModel:
        """Check a folder and register it under ``name`` (default: the folder's name); no copy.

        Raises:
            ModelLoadError: the folder is not a complete, supported model (the reasons are listed).
            VldeskError: the name is unusable or already taken by another folder.
        """
        folder = Path(path).expanduser().resolve()
        check = validate_model_folder(folder)
        check.raise_if_bad()
        chosen = (name if name is not None else folder.name).strip()
        if not chosen or "/" in chosen or "\\" in chosen:
            # Slashes would make it look like a catalog id (owner/name) or a path.
            raise VldeskError(
                f"'{chosen}' cannot be a model name: use a short name without slashes."
            )
        entries = self.imported()
        for entry in entries:
            if entry.name.lower() == chosen.lower() and entry.path != folder:
                raise VldeskError(
                    f"The name '{chosen}' is already used for {entry.path}; choose another name "
                    "or remove that one first."
                )
        kept = [e for e in entries if e.path != folder and e.name.lower() != chosen.lower()]
        model = ImportedModel(chosen, folder, check.model_type, utc_now())
        self._save_imported([*kept, model])
        return model

    # -- lookup and removal --------------------------------------------------------------------

    def resolve(self, id_or_path: str) -> Path:
        """The folder to load for a catalog id, an id downloaded from outside the catalog, an
        imported name or a folder path.

        Uses local files only. Raises :class:`ModelNotFoundError` (saying how to download or
        import) or :class:`ModelLoadError` (a folder that is not a usable model).
        """
        ref = id_or_path.strip()
        if not ref:
            raise ModelNotFoundError("No model was given: pass a catalog id, a name or a folder.")
        spec = self.find_downloaded(ref) if "/" in ref else find_model(ref)
        status = self.status(spec) if spec is not None else None
        if status is not None and status.installed:
            return status.path
        entry = self.find_imported(ref)
        if entry is not None:
            validate_model_folder(entry.path).raise_if_bad(
                f"The imported model '{entry.name}' ({entry.path})"
            )
            return entry.path
        candidate = Path(ref).expanduser()
        if candidate.is_dir():
            validate_model_folder(candidate).raise_if_bad()
            return candidate.resolve()
        if status is not None:
            how = f"`vldesk models download {status.spec.id}` or the Models window in the app"
            if status.state is InstallState.PARTIAL:
                raise ModelNotFoundError(
                    f"{status.spec.id} is only partly downloaded; finish the download with {how}."
                )
            if status.state is InstallState.DAMAGED:
                raise ModelNotFoundError(
                    f"{status.spec.id} is damaged ({status.problem}); repair it with {how}."
                )
            raise ModelNotFoundError(
                f"{status.spec.id} is not downloaded yet; download it with {how}."
            )
        if candidate.exists():
            raise ModelNotFoundError(f"{ref} is a file, not a model folder.")
        raise ModelNotFoundError(
            f"No model called '{ref}': it is not a catalog id, an imported model or a folder. "
            "See `vldesk models list`, then `vldesk models download ID`, or add a folder you "
            "already have with `vldesk models import FOLDER`."
        )

    def recommended_sampling(self, id_or_path: str) -> Sampling:
        """The sampling a model recommends, without loading it: its generation_config.json when
        it is on this machine, else the catalog's record of it, else transformers' defaults."""
        try:
            folder: Path | None = self.resolve(id_or_path)
        except VldeskError:
            folder = None
        found = read_sampling(folder) if folder is not None else None
        if found is not None:
            return found
        spec = find_model(id_or_path)
        return spec.sampling if spec is not None else Sampling()

    def remove(self, id_or_name: str) -> str:
        """Delete a downloaded model (partial files too), or forget an imported folder.

        An imported folder is never deleted, only unregistered. Returns a sentence saying what
        was done.
        """
        ref = id_or_name.strip()
        spec = self.find_downloaded(ref) if "/" in ref else find_model(ref)
        if spec is not None:
            folder = self.folder_for(spec)
            if not folder.exists():
                raise ModelNotFoundError(
                    f"{spec.id} is not downloaded, so there is nothing to remove."
                )
            size = folder_size(folder)
            try:
                # Drop the manifest first: an interrupted removal must not look installed.
                self.forget_manifest(spec)
                shutil.rmtree(folder)
            except OSError as exc:
                raise VldeskError(
                    f"Could not delete {folder}: {exc.strerror or exc}. Close any program "
                    "using the model and try again."
                ) from exc
            return f"Removed {spec.id} ({format_bytes(size)} freed in {folder})."
        entry = self.find_imported(ref)
        if entry is not None:
            self._save_imported(e for e in self.imported() if e != entry)
            return f"Forgot the imported model '{entry.name}'; {entry.path} was left as it is."
        raise ModelNotFoundError(
            f"No downloaded or imported model called '{ref}'; see `vldesk models list`."
        )

    # Exposed on the store too, for callers that only hold a store.
    validate_model_folder = staticmethod(validate_model_folder)
