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
from vldesk.core.inference.engine import Engine, LoadRequest
from vldesk.core.inference.engine_choice import ENGINE_CHOICES, EngineChoice
from vldesk.core.settings import Settings

if TYPE_CHECKING:
    from vldesk.cli import _CommandParser
    from vldesk.core.inference.remote import EndpointPool
    from vldesk.core.inference.remote.offline import ResultsEngine

#: What ``add_subparsers`` returns: each command module registers its parser on it.
Subcommands: TypeAlias = "argparse._SubParsersAction[_CommandParser]"
#: A parser or an argument group of one.
ArgumentContainer: TypeAlias = argparse._ActionsContainer


#: Environment variable that holds the servers' API key when ``--api-key`` is not given.
API_KEY_ENV = "VLDESK_API_KEY"


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
    add_engine_argument(group)


def add_engine_argument(group: ArgumentContainer) -> None:
    """``--engine auto|transformers|llama.cpp``."""
    group.add_argument(
        "--engine",
        choices=ENGINE_CHOICES,
        default=None,
        help="which engine runs the model: auto (default: llama.cpp on a CPU without AMX or "
        "AVX512-BF16 when a GGUF version is downloaded and llama.cpp is installed), "
        "transformers or llama.cpp",
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


def choose_model(args: argparse.Namespace, model_ref: str, user_settings: Settings) -> EngineChoice:
    """The folder and engine for ``model_ref`` under ``--engine`` (else the saved setting).

    Raises:
        ModelNotFoundError, ModelLoadError: saying how to download, import or repair it.
    """
    from vldesk.core.inference.engine_choice import choose_engine
    from vldesk.core.models.store import ModelStore
    from vldesk.core.paths import app_paths

    return choose_engine(
        ModelStore(app_paths(user_settings.models_dir).models_dir),
        model_ref,
        setting=getattr(args, "engine", None) or user_settings.engine,
        weights=args.weights or user_settings.weights,
        device=args.device or user_settings.device,
    )


def running_status(engine: Engine) -> str:
    """The start line: where the model runs and which engine (transformers, llama.cpp, remote)
    really runs it, as the reports record it."""
    return f"Running on {engine.describe()}; engine: {engine.placement.backend}"


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


def add_server_arguments(group: ArgumentContainer) -> None:
    """``--server`` (repeatable), ``--api-key``, ``--concurrency`` and ``--model-family``."""
    from vldesk.core.models.catalog import Family

    group.add_argument(
        "--server",
        action="append",
        metavar="URL",
        help="answer on an OpenAI-compatible server (vLLM, SGLang, llama.cpp, another vldesk) "
        "instead of a local model, e.g. http://127.0.0.1:8000/v1; repeat for several servers; "
        "--model then picks among the models it serves",
    )
    group.add_argument(
        "--api-key",
        help=f"the servers' API key (default: the {API_KEY_ENV} environment variable); "
        "a server's own key can be in its URL (https://:KEY@host/v1)",
    )
    group.add_argument(
        "--concurrency",
        type=positive_int,
        help="the most requests in flight per server (default: probed per server, then adapted; "
        "lowered while a server answers 429 or slows down)",
    )
    group.add_argument(
        "--model-family",
        choices=[family.value for family in Family],
        help="the served model's family where its name does not say (image sizes, coordinates)",
    )


def connect_servers(args: argparse.Namespace) -> EndpointPool:
    """The pool of ``--server`` endpoints; warnings (plain http to another computer, a server
    that does not answer yet) go to stderr. The key is never printed.

    Raises:
        VldeskError: a URL is not one, or no server answers.
    """
    import os
    import sys

    from vldesk.core.inference.remote import Endpoint, EndpointPool
    from vldesk.core.models.catalog import Family

    key = args.api_key or os.environ.get(API_KEY_ENV) or None
    endpoints = [Endpoint.parse(url, api_key=key) for url in args.server]
    for warning in (e.plain_http_warning() for e in endpoints):
        if warning:
            print(f"vldesk: warning: {warning}", file=sys.stderr)
    pool, unanswered = EndpointPool.connect(
        endpoints,
        concurrency=args.concurrency,
        model=args.model,
        family=Family(args.model_family) if args.model_family else None,
    )
    for warning in unanswered:
        print(f"vldesk: warning: {warning}", file=sys.stderr)
    return pool


def add_offline_arguments(group: ArgumentContainer) -> None:
    """``--export-requests`` and ``--import-results`` (OpenAI Batch files)."""
    group.add_argument(
        "--export-requests",
        type=Path,
        metavar="FILE",
        help="write an OpenAI Batch request per image (resized, inlined) to FILE for vllm "
        "run-batch or Ray Data, instead of captioning; --model names the served model",
    )
    group.add_argument(
        "--reference-images",
        nargs="?",
        const="",
        default=None,
        metavar="ROOT",
        help="with --export-requests: refer to each image by a file:// URL instead of inlining "
        "it, for a filesystem the batch's machines share; ROOT is the folder's path there "
        "(default: the same path as here). vLLM needs --allowed-local-media-path for them",
    )
    group.add_argument(
        "--import-results",
        type=Path,
        metavar="FILE",
        help="caption the folder from the results FILE of such a batch (journal, caption "
        "files and reports as usual)",
    )


def open_results(args: argparse.Namespace) -> ResultsEngine:
    """The engine that answers from ``--import-results``.

    Raises:
        VldeskError: the file cannot be read or is not a batch results file.
    """
    from vldesk.core.inference.remote.offline import ResultsEngine
    from vldesk.core.models.catalog import Family

    family = Family(args.model_family) if args.model_family else None
    return ResultsEngine.load(args.import_results, args.folder, model=args.model, family=family)
