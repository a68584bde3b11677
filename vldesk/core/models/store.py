"""Where models live on disk: downloaded catalog models, their manifests and imported folders."""

from __future__ import annotations

import logging
import shutil
from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path
from typing import Any

from vldesk.core.errors import ModelNotFoundError, VldeskError
from vldesk.core.inference.sampling import Sampling, read_sampling
from vldesk.core.messages import core_text
from vldesk.core.models.catalog import (
    CATALOG,
    ModelSpec,
    UnsupportedModel,
    find_gguf_variant,
    find_model,
    gguf_variants,
    spec_for_repository,
)
from vldesk.core.models.files import folder_size as folder_size
from vldesk.core.models.files import format_bytes as format_bytes
from vldesk.core.models.files import format_duration as format_duration
from vldesk.core.models.files import read_json, utc_now, write_json_atomic
from vldesk.core.models.folder_check import validate_model_folder as validate_model_folder
from vldesk.core.models.folder_format import GGUF, folder_format
from vldesk.core.models.manifest import Manifest

log = logging.getLogger(__name__)

#: Written inside a model's folder once every file is downloaded and verified.
MANIFEST_NAME = ".vldesk-manifest.json"
#: The registry of imported folders, kept in the models folder.
IMPORTED_NAME = "imported.json"


def catalog_gguf_variants() -> list[ModelSpec]:
    """Every GGUF variant the catalog offers (each quantization of each GGUF repository)."""
    return [variant for spec in CATALOG for variant in gguf_variants(spec)]


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
        manifest = Manifest.from_json(read_json(self.manifest_path(spec)))
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
            manifest = Manifest.from_json(read_json(folder / MANIFEST_NAME))
            if manifest is None or find_model(manifest.model_id) is not None:
                continue
            if any(v.id.lower() == manifest.model_id.lower() for v in catalog_gguf_variants()):
                continue  # a catalog model's GGUF variant, listed with the catalog
            weights = sum(f.size for f in manifest.files if f.path.endswith(".safetensors"))
            try:
                spec = spec_for_repository(
                    manifest.model_id,
                    read_json(folder / "config.json"),
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
        spec = find_gguf_variant(wanted) or find_model(wanted)
        if spec is not None:
            return spec
        return next((s for s in self.downloaded_by_id() if s.id.lower() == wanted), None)

    def installed(self) -> list[InstalledModel]:
        """Models ready to load: installed catalog models first, then models downloaded by id,
        then imported folders."""
        found = [
            InstalledModel(spec.ref, self.folder_for(spec), spec, manifest=self.read_manifest(spec))
            for spec in (*CATALOG, *catalog_gguf_variants(), *self.downloaded_by_id())
            if self.is_installed(spec)
        ]
        found.extend(
            InstalledModel(entry.name, entry.path, imported=True)
            for entry in self.imported()
            if (entry.path / "config.json").is_file() or folder_format(entry.path) == GGUF
        )
        return found

    def disk_use(self) -> int:
        """Bytes the models take: the models folder (downloads, partial ones too) plus imported
        folders outside it, which the folder holds only a registry entry for."""
        total = folder_size(self.models_dir)
        root = self.models_dir.resolve()
        counted: set[Path] = set()
        for entry in self.imported():
            folder = entry.path.resolve()
            if folder in counted or folder == root or root in folder.parents:
                continue
            counted.add(folder)
            total += folder_size(folder)
        return total

    # -- imported folders ----------------------------------------------------------------------

    @property
    def imported_registry(self) -> Path:
        return self.models_dir / IMPORTED_NAME

    def imported(self) -> list[ImportedModel]:
        data = read_json(self.imported_registry)
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
                core_text(
                    "ModelStore",
                    "'{name}' cannot be a model name: use a short name without slashes.",
                    name=chosen,
                )
            )
        entries = self.imported()
        for entry in entries:
            if entry.name.lower() == chosen.lower() and entry.path != folder:
                raise VldeskError(
                    core_text(
                        "ModelStore",
                        "The name '{name}' is already used for {path}; choose another name or "
                        "remove that one first.",
                        name=chosen,
                        path=str(entry.path),
                    )
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
            raise ModelNotFoundError(
                core_text(
                    "ModelStore", "No model was given: pass a catalog id, a name or a folder."
                )
            )
        spec = self.find_downloaded(ref) if "/" in ref else find_model(ref)
        status = self.status(spec) if spec is not None else None
        if status is not None and status.installed:
            return status.path
        entry = self.find_imported(ref)
        if entry is not None:
            validate_model_folder(entry.path).raise_if_bad(
                core_text(
                    "ModelFolder",
                    "The imported model '{name}' ({path})",
                    name=entry.name,
                    path=str(entry.path),
                )
            )
            return entry.path
        candidate = Path(ref).expanduser()
        if candidate.is_dir():
            validate_model_folder(candidate).raise_if_bad()
            return candidate.resolve()
        if status is not None:
            how = core_text(
                "ModelStore",
                "`vldesk models download {model}` or the Models window in the app",
                model=status.spec.ref,
            )
            model = status.spec.ref
            if status.state is InstallState.PARTIAL:
                raise ModelNotFoundError(
                    core_text(
                        "ModelStore",
                        "{model} is only partly downloaded; finish the download with {how}.",
                        model=model,
                        how=how,
                    )
                )
            if status.state is InstallState.DAMAGED:
                raise ModelNotFoundError(
                    core_text(
                        "ModelStore",
                        "{model} is damaged ({problem}); repair it with {how}.",
                        model=model,
                        problem=status.problem or "",
                        how=how,
                    )
                )
            raise ModelNotFoundError(
                core_text(
                    "ModelStore",
                    "{model} is not downloaded yet; download it with {how}.",
                    model=model,
                    how=how,
                )
            )
        if candidate.exists():
            raise ModelNotFoundError(
                core_text("ModelStore", "{path} is a file, not a model folder.", path=ref)
            )
        raise ModelNotFoundError(
            core_text(
                "ModelStore",
                "No model called '{name}': it is not a catalog id, an imported model or a "
                "folder. See `vldesk models list`, then `vldesk models download ID`, or add a "
                "folder you already have with `vldesk models import FOLDER`.",
                name=ref,
            )
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
                    core_text(
                        "ModelStore",
                        "{model} is not downloaded, so there is nothing to remove.",
                        model=spec.id,
                    )
                )
            size = folder_size(folder)
            try:
                # Drop the manifest first: an interrupted removal must not look installed.
                self.forget_manifest(spec)
                shutil.rmtree(folder)
            except OSError as exc:
                raise VldeskError(
                    core_text(
                        "ModelStore",
                        "Could not delete {folder}: {reason}. Close any program using the model "
                        "and try again.",
                        folder=str(folder),
                        reason=exc.strerror or str(exc),
                    )
                ) from exc
            return f"Removed {spec.ref} ({format_bytes(size)} freed in {folder})."
        entry = self.find_imported(ref)
        if entry is not None:
            self._save_imported(e for e in self.imported() if e != entry)
            return f"Forgot the imported model '{entry.name}'; {entry.path} was left as it is."
        raise ModelNotFoundError(
            core_text(
                "ModelStore",
                "No downloaded or imported model called '{name}'; see `vldesk models list`.",
                name=ref,
            )
        )

    # Exposed on the store too, for callers that only hold a store.
    validate_model_folder = staticmethod(validate_model_folder)
