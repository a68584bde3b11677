"""The user's settings: a typed dataclass stored as JSON, read forgivingly and saved atomically."""

from __future__ import annotations

import dataclasses
import json
import logging
import math
import os
import shutil
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from vldesk.core.atomic import atomic_write_text
from vldesk.core.batch.options import BatchOptions
from vldesk.core.errors import VldeskError, WriteError
from vldesk.core.generation import GenerationSettings
from vldesk.core.inference.cpu.quantized_weights import WEIGHT_CHOICES
from vldesk.core.inference.device import DEVICE_CHOICES, DTYPE_CHOICES
from vldesk.core.inference.engine_choice import ENGINE_CHOICES
from vldesk.core.messages import core_text
from vldesk.core.models.catalog import default_model
from vldesk.core.presets import LANGUAGES

logger = logging.getLogger(__name__)

#: Written into the file so a later version can migrate older files.
SETTINGS_VERSION = 2
#: Version 1 wrote these sampling values into every file whether or not the user chose them;
#: since version 2 an unset value follows the model (its generation_config.json).
_VERSION_1_SAMPLING = {"temperature": 0.7, "top_p": 0.8, "top_k": 20, "repetition_penalty": 1.05}
#: Where the desktop app's "Save Caption to Photo" may write (``MetadataMode`` values).
CAPTION_METADATA_CHOICES = ("sidecar", "embed")
#: How many recently opened files the File menu remembers.
MAX_RECENT_FILES = 10
CORRUPT_SUFFIX = ".corrupt-"
#: The ``theme`` setting: follow the system's colour scheme, or always light or dark.
THEMES = ("system", "light", "dark")
#: The ``font_size`` setting, in points; 0 keeps the system's size.
FONT_SIZES = (0, 6, 32)


def _default_model_id() -> str:
    return default_model().id


#: The generation fields, stored flat in the file (as every version wrote them).
GENERATION_KEYS = (
    "max_new_tokens",
    "greedy",
    "temperature",
    "top_p",
    "top_k",
    "repetition_penalty",
    "max_image_tokens",
)


@dataclass(frozen=True)
class LastBatch:
    """The options of the latest batch job started in the app, to start the next one from."""

    options: BatchOptions
    #: Images per model call; ``None`` chooses from free memory.
    batch_size: int | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"options": self.options.to_dict(), "batch_size": self.batch_size}

    @classmethod
    def from_dict(cls, data: Any) -> LastBatch:
        """Raises ValueError or TypeError for anything :meth:`to_dict` did not write."""
        if not isinstance(data, dict) or not isinstance(data.get("options"), dict):
            raise TypeError("expected an object with options")
        try:
            options = BatchOptions.from_dict(data["options"])
        except VldeskError as exc:
            raise ValueError(str(exc)) from None
        size = data.get("batch_size")
        if size is not None:
            size = _int(1, 4096)(size)
        return cls(options, size)


@dataclass(frozen=True, init=False)
class Settings:
    """Everything the app remembers between runs. Immutable: change with :meth:`replace`.

    The generation fields (``max_new_tokens``, ``temperature``...) live in :attr:`generation`;
    they can still be given, read and replaced by their own names.
    """

    #: A catalog model id, or the path of a local model folder.
    model: str
    device: str
    dtype: str
    #: How the text decoder's weights are held on the CPU: "full", "int8" or "int4" (faster,
    #: less accurate: vldesk.core.inference.cpu.quantized_weights).
    weights: str
    #: Which engine runs a local model: "auto" (the faster one on this CPU, where both are
    #: there), "transformers" or "llama.cpp" (vldesk.core.inference.engine_choice).
    engine: str
    #: How answers are generated. Sampling values ``None`` follow the model's own
    #: recommendation (its generation_config.json), whichever model is loaded.
    generation: GenerationSettings
    #: Language of the prompt presets ("en" or "zh").
    preset_language: str
    #: Language of the interface; "auto" follows the system locale.
    ui_language: str
    system_prompt: str
    #: Where models are kept, when the user chose a folder (else the per-user cache).
    models_dir: str | None
    #: One of :data:`THEMES`.
    theme: str
    #: The interface's font size in points; 0 keeps the system's.
    font_size: int
    #: The model loaded last time, to offer it again at start-up.
    last_model: str | None
    #: Most recent first, at most :data:`MAX_RECENT_FILES`.
    recent_files: tuple[str, ...]
    #: The batch dialog's last choices (folder, prompt, caption mode...); ``None`` before any.
    last_batch: LastBatch | None
    #: A preset button starts a new conversation about the image instead of continuing it.
    presets_start_fresh: bool
    #: Where "Save Caption to Photo" writes: "sidecar" (photo.jpg.xmp) or "embed" (the file).
    caption_metadata: str
    #: Keys this version does not know (from a newer version, say): kept and written back.
    extra: Mapping[str, Any] = field(compare=False, repr=False)

    def __init__(
        self,
        *,
        model: str | None = None,
        device: str = "auto",
        dtype: str = "auto",
        weights: str = "full",
        engine: str = "auto",
        generation: GenerationSettings | None = None,
        preset_language: str = "en",
        ui_language: str = "auto",
        system_prompt: str = "",
        models_dir: str | None = None,
        theme: str = "system",
        font_size: int = 0,
        last_model: str | None = None,
        recent_files: tuple[str, ...] = (),
        last_batch: LastBatch | None = None,
        presets_start_fresh: bool = False,
        caption_metadata: str = "sidecar",
        extra: Mapping[str, Any] | None = None,
        **generation_fields: object,
    ) -> None:
        """``generation_fields`` (``max_new_tokens=...``) change single fields of ``generation``;
        an unknown name raises TypeError."""
        unknown = set(generation_fields) - set(GENERATION_KEYS)
        if unknown:
            raise TypeError(f"Settings has no field {', '.join(sorted(unknown))}")
        generation = generation or GenerationSettings()
        if generation_fields:
            generation = dataclasses.replace(generation, **generation_fields)  # type: ignore[arg-type]
        values: dict[str, object] = {
            "model": model if model is not None else _default_model_id(),
            "device": device,
            "dtype": dtype,
            "weights": weights,
            "engine": engine,
            "generation": generation,
            "preset_language": preset_language,
            "ui_language": ui_language,
            "system_prompt": system_prompt,
            "models_dir": models_dir,
            "theme": theme,
            "font_size": font_size,
            "last_model": last_model,
            "recent_files": recent_files,
            "last_batch": last_batch,
            "presets_start_fresh": presets_start_fresh,
            "caption_metadata": caption_metadata,
            "extra": dict(extra) if extra is not None else {},
        }
        for name, value in values.items():
            object.__setattr__(self, name, value)

    # The generation fields by their own names, as before they moved into ``generation``.
    @property
    def max_new_tokens(self) -> int:
        return self.generation.max_new_tokens

    @property
    def greedy(self) -> bool:
        return self.generation.greedy

    @property
    def temperature(self) -> float | None:
        return self.generation.temperature

    @property
    def top_p(self) -> float | None:
        return self.generation.top_p

    @property
    def top_k(self) -> int | None:
        return self.generation.top_k

    @property
    def repetition_penalty(self) -> float | None:
        return self.generation.repetition_penalty

    @property
    def max_image_tokens(self) -> int:
        return self.generation.max_image_tokens

    def replace(self, **changes: Any) -> Settings:
        """A copy with some fields changed; generation fields may be named on their own."""
        return dataclasses.replace(self, **changes)

    def with_recent_file(self, path: str | os.PathLike[str]) -> Settings:
        """A copy with ``path`` moved to the front of the recent files (no duplicates, capped)."""
        entry = str(path)
        rest = tuple(item for item in self.recent_files if item != entry)
        return self.replace(recent_files=(entry, *rest)[:MAX_RECENT_FILES])

    def with_last_batch(self, options: BatchOptions, batch_size: int | None = None) -> Settings:
        """A copy that remembers a batch job's options for the next batch dialog."""
        return self.replace(last_batch=LastBatch(options, batch_size))

    def to_generation_settings(self) -> GenerationSettings:
        """The generation parameters these settings describe (:attr:`generation`)."""
        return self.generation

    def to_dict(self) -> dict[str, Any]:
        """The JSON object written to the file: unknown keys first, then ours (ours win).

        The generation fields stay flat at the top level, where every version reads them.
        """
        data: dict[str, Any] = dict(self.extra)
        data["version"] = SETTINGS_VERSION
        for item in dataclasses.fields(self):
            if item.name in ("extra", "generation", "last_batch"):
                continue
            value = getattr(self, item.name)
            data[item.name] = list(value) if isinstance(value, tuple) else value
        for name in GENERATION_KEYS:
            data[name] = getattr(self.generation, name)
        data["last_batch"] = self.last_batch.to_dict() if self.last_batch is not None else None
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Settings:
        """Build settings from a parsed file; a bad value falls back to its default (logged)."""
        defaults = cls()
        values: dict[str, Any] = {}
        data = _migrate(data)
        for name, check in _CHECKS.items():
            if name not in data:
                continue
            try:
                values[name] = check(data[name])
            except (TypeError, ValueError) as exc:
                logger.warning(
                    "Setting %r has an invalid value %.80r (%s); using the default %r.",
                    name,
                    data[name],
                    exc,
                    getattr(defaults, name),
                )
        extra = {key: value for key, value in data.items() if key not in _KNOWN_KEYS}
        return cls(**values, extra=extra)


# --- per-key checks: return the cleaned value or raise TypeError/ValueError ----------------------


def _str(value: Any) -> str:
    if not isinstance(value, str):
        raise TypeError("expected text")
    return value


def _non_empty(value: Any) -> str:
    text = _str(value).strip()
    if not text:
        raise ValueError("must not be empty")
    return text


def _optional_path(value: Any) -> str | None:
    if value is None:
        return None
    return _non_empty(value)


def _one_of(choices: tuple[str, ...]) -> Callable[[Any], str]:
    def check(value: Any) -> str:
        text = _str(value).strip().lower()
        if text not in choices:
            raise ValueError(f"expected one of {', '.join(choices)}")
        return text

    return check


def _device(value: Any) -> str:
    # "cuda:1" picks a GPU: the kind must be known, the index is checked when the model loads.
    text = _str(value).strip().lower()
    kind, _, index = text.partition(":")
    if kind not in DEVICE_CHOICES or (index and (kind != "cuda" or not index.isdigit())):
        raise ValueError(f"expected one of {', '.join(DEVICE_CHOICES)} (or cuda:N)")
    return text


def _int(minimum: int, maximum: int) -> Callable[[Any], int]:
    def check(value: Any) -> int:
        # bool is an int subclass in Python; true/false in the file is not a number.
        if isinstance(value, bool) or not isinstance(value, int):
            raise TypeError("expected a whole number")
        if not minimum <= value <= maximum:
            raise ValueError(f"expected {minimum} to {maximum}")
        return value

    return check


def _float(
    minimum: float, maximum: float, *, exclusive_min: bool = False
) -> Callable[[Any], float]:
    def check(value: Any) -> float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise TypeError("expected a number")
        number = float(value)
        too_low = number <= minimum if exclusive_min else number < minimum
        if not math.isfinite(number) or too_low or number > maximum:
            raise ValueError(f"expected {minimum} to {maximum}")
        return number

    return check


def _optional(check: Callable[[Any], Any]) -> Callable[[Any], Any]:
    def optional(value: Any) -> Any:
        return None if value is None else check(value)

    return optional


def _bool(value: Any) -> bool:
    if not isinstance(value, bool):
        raise TypeError("expected true or false")
    return value


def _recent(value: Any) -> tuple[str, ...]:
    if not isinstance(value, list):
        raise TypeError("expected a list")
    seen: list[str] = []
    for item in value:
        if isinstance(item, str) and item and item not in seen:
            seen.append(item)  # a stray non-text entry is dropped, not the whole list
    return tuple(seen[:MAX_RECENT_FILES])


def _font_size(value: Any) -> int:
    size = _int(0, FONT_SIZES[2])(value)
    if 0 < size < FONT_SIZES[1]:
        raise ValueError(f"expected 0 (the system's) or {FONT_SIZES[1]} to {FONT_SIZES[2]}")
    return size


_CHECKS: dict[str, Callable[[Any], Any]] = {
    "model": _non_empty,
    "device": _device,
    "dtype": _one_of(DTYPE_CHOICES),
    "weights": _one_of(WEIGHT_CHOICES),
    "engine": _one_of(ENGINE_CHOICES),
    "max_new_tokens": _int(1, 1_000_000),
    "greedy": _bool,
    "temperature": _optional(_float(0.0, 100.0, exclusive_min=True)),
    "top_p": _optional(_float(0.0, 1.0, exclusive_min=True)),
    "top_k": _optional(_int(0, 1_000_000)),
    "repetition_penalty": _optional(_float(0.0, 100.0, exclusive_min=True)),
    "max_image_tokens": _int(4, 1_000_000),
    "preset_language": _one_of(LANGUAGES),
    "ui_language": _non_empty,
    "system_prompt": _str,
    "models_dir": _optional_path,
    "theme": _one_of(THEMES),
    "font_size": _font_size,
    "last_model": _optional_path,
    "recent_files": _recent,
    "last_batch": _optional(LastBatch.from_dict),
    "presets_start_fresh": _bool,
    "caption_metadata": _one_of(CAPTION_METADATA_CHOICES),
}
_KNOWN_KEYS = frozenset(_CHECKS) | {"version"}


def _migrate(data: Mapping[str, Any]) -> Mapping[str, Any]:
    """A version 1 file's sampling values that equal version 1's defaults were written without
    the user choosing them: drop them, so they follow the model."""
    if data.get("version", 1) != 1:
        return data
    return {
        key: value
        for key, value in data.items()
        if not (key in _VERSION_1_SAMPLING and value == _VERSION_1_SAMPLING[key])
    }


# --- file I/O -------------------------------------------------------------------------------------


def load_settings(path: str | os.PathLike[str]) -> Settings:
    """Read settings; never raises. A missing file gives defaults; a corrupt one is backed up.

    A file that is not valid JSON is copied to ``<name>.corrupt-<timestamp>`` (the original stays
    in place too) so that no later save can destroy what the user had.
    """
    file = Path(path)
    data = _read_object(file)
    if data is None:
        return Settings()
    return Settings.from_dict(data)


def save_settings(settings: Settings, path: str | os.PathLike[str]) -> None:
    """Write settings atomically, creating the folder; a corrupt old file is backed up first.

    Raises:
        WriteError: the file could not be written (the old one is untouched).
    """
    file = Path(path)
    try:
        file.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise WriteError(
            core_text(
                "Files",
                "Could not create the folder {folder}: {reason}.",
                folder=str(file.parent),
                reason=exc.strerror or str(exc),
            )
        ) from exc
    if file.is_file() and _parse(file) is None and not _backup_corrupt(file):
        raise WriteError(
            core_text(
                "Files",
                "Could not back up the unreadable settings file {path}, so it was not replaced.",
                path=str(file),
            )
        )
    text = json.dumps(settings.to_dict(), indent=2, ensure_ascii=False, sort_keys=True) + "\n"
    atomic_write_text(file, text)


def _read_object(file: Path) -> dict[str, Any] | None:
    """The file's JSON object, or ``None`` (missing, unreadable or corrupt: all logged)."""
    try:
        raw = file.read_bytes()
    except FileNotFoundError:
        return None
    except OSError as exc:
        logger.warning("Cannot read the settings file %s (%s); using defaults.", file, exc)
        return None
    data = _decode(raw)
    if data is None:
        logger.warning("The settings file %s is corrupt; using defaults.", file)
        _backup_corrupt(file)
    return data


def _parse(file: Path) -> dict[str, Any] | None:
    try:
        return _decode(file.read_bytes())
    except OSError:
        return None


def _decode(raw: bytes) -> dict[str, Any] | None:
    try:
        data = json.loads(raw.decode("utf-8-sig"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        return None
    return data if isinstance(data, dict) else None


def _backup_corrupt(file: Path) -> Path | None:
    """Copy an unparsable file aside, once per distinct content; ``None`` if that failed."""
    try:
        content = file.read_bytes()
    except OSError:
        return None
    for existing in file.parent.glob(f"{file.name}{CORRUPT_SUFFIX}*"):
        try:
            if existing.read_bytes() == content:
                return existing  # already kept: don't add a copy at every start-up
        except OSError:
            continue
    stamp = time.strftime("%Y%m%d-%H%M%S")
    backup = file.with_name(f"{file.name}{CORRUPT_SUFFIX}{stamp}")
    counter = 1
    while backup.exists():
        backup = file.with_name(f"{file.name}{CORRUPT_SUFFIX}{stamp}-{counter}")
        counter += 1
    try:
        shutil.copy2(file, backup)
    except OSError as exc:
        logger.error("Could not back up the corrupt settings file %s: %s", file, exc)
        return None
    logger.warning("Kept a copy of the corrupt settings file as %s.", backup)
    return backup
