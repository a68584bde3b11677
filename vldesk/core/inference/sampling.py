"""A model's own recommended sampling values, as its generation_config.json gives them."""

from __future__ import annotations

import json
import logging
import math
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

GENERATION_CONFIG = "generation_config.json"


@dataclass(frozen=True)
class Sampling:
    """Temperature, top-p, top-k and repetition penalty.

    The defaults are transformers' own (``GenerationConfig()``): what transformers uses for a
    value the model's generation_config.json leaves out, so they are the model's defaults too.
    """

    temperature: float = 1.0
    top_p: float = 1.0
    top_k: int = 50
    repetition_penalty: float = 1.0

    @classmethod
    def from_generation_config(cls, data: Mapping[str, Any]) -> Sampling:
        """The values a generation_config.json names; a missing or unusable one keeps its
        transformers default (logged), so one odd value never hides the others."""
        defaults = cls()
        values: dict[str, Any] = {}
        for name, kind in (
            ("temperature", float),
            ("top_p", float),
            ("top_k", int),
            ("repetition_penalty", float),
        ):
            value = data.get(name)
            if value is None:
                continue
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                log.warning("ignoring %s=%r in %s", name, value, GENERATION_CONFIG)
                continue
            number = kind(value)
            if not math.isfinite(number) or number < 0 or (kind is float and number == 0):
                log.warning("ignoring %s=%r in %s", name, value, GENERATION_CONFIG)
                continue
            values[name] = number
        return cls(**{**asdict(defaults), **values})

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def read_sampling(model_dir: Path) -> Sampling | None:
    """The sampling a model folder's generation_config.json recommends; ``None`` when the folder
    has no such file or it cannot be read (the caller decides what to fall back on)."""
    path = Path(model_dir) / GENERATION_CONFIG
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        log.warning("cannot read %s: %s", path, exc)
        return None
    if not isinstance(data, dict):
        log.warning("%s is not a JSON object", path)
        return None
    return Sampling.from_generation_config(data)
