"""Command-line options shared by the commands that run a model (describe, batch)."""

from __future__ import annotations

import argparse
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeAlias

from vldesk.core.errors import VldeskError
from vldesk.core.generation import GenerationSettings
from vldesk.core.inference.cpu.quantized_weights import WEIGHT_CHOICES
from vldesk.core.inference.device import DEVICE_CHOICES, DTYPE_CHOICES
from vldesk.core.inference.engine import LoadRequest
from vldesk.core.settings import Settings

if TYPE_CHECKING:
    from vldesk.cli import _CommandParser

#: What ``add_subparsers`` returns: each command module registers its parser on it.
Subcommands: TypeAlias = "argparse._SubParsersAction[_CommandParser]"
#: A parser or an argument group of one.
ArgumentContainer: TypeAlias = argparse._ActionsContainer


def positive_int(text: str) -> int:
    """An argparse type: a whole number of at least 1."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return value


def add_generation_arguments(group: ArgumentContainer, *, length_help: str) -> None:
    """``--max-new-tokens``, ``--max-image-tokens``, sampling, ``--device``, ``--dtype`` and
    ``--weights``."""
    group.add_argument("--max-new-tokens", type=positive_int, help=length_help)
    group.add_argument(
        "--max-image-tokens", type=positive_int, help="visual tokens per image (default 1024)"
    )
    group.add_argument("--sample", action="store_true", help="sample instead of greedy decoding")
    group.add_argument("--temperature", type=float, help="sampling temperature")
    group.add_argument("--device", choices=DEVICE_CHOICES, default=None)
    group.add_argument("--dtype", choices=DTYPE_CHOICES, default=None)
    group.add_argument(
        "--weights",
        choices=WEIGHT_CHOICES,
        default=None,
        help="int8 or int4: faster answers on the CPU, less accurate (default: full)",
    )


def generation_settings(
    args: argparse.Namespace, preset_tokens: int | None, base: GenerationSettings
) -> GenerationSettings:
    """The user's saved settings with this command line's overrides on top.

    A preset's suggested answer length applies unless ``--max-new-tokens`` is given.
    """
    changes: dict[str, Any] = {}
    if args.max_new_tokens:
        changes["max_new_tokens"] = args.max_new_tokens
    elif preset_tokens:
        changes["max_new_tokens"] = preset_tokens
    if args.max_image_tokens:
        changes["max_image_tokens"] = args.max_image_tokens
    if args.sample:
        changes["greedy"] = False
    if args.temperature is not None:
        changes["temperature"] = args.temperature
        changes["greedy"] = False
    try:
        return replace(base, **changes)
    except ValueError as exc:
        raise VldeskError(f"Invalid generation setting: {exc}.") from None


def resolve_model(model_ref: str, user_settings: Settings) -> Path:
    """The folder of a catalog id, imported name or folder path (local files only).

    Raises:
        ModelNotFoundError, ModelLoadError: saying how to download, import or repair it.
    """
    from vldesk.core.models.store import ModelStore
    from vldesk.core.paths import app_paths

    return ModelStore(app_paths(user_settings.models_dir).models_dir).resolve(model_ref)


def load_request(
    args: argparse.Namespace, model_dir: Path, name: str, user_settings: Settings
) -> LoadRequest:
    """What to load and how: this command line's device, dtype and weights, else the saved ones."""
    return LoadRequest(
        model_dir,
        name,
        device=args.device or user_settings.device,
        dtype=args.dtype or user_settings.dtype,
        weights=args.weights or user_settings.weights,
    )
