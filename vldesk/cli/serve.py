"""``vldesk serve``: answer other programs over HTTP (OpenAI and Ollama APIs) and a browser."""

from __future__ import annotations

import argparse
import contextlib
import logging
import os
import sys
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any

from vldesk.cli.options import add_engine_argument
from vldesk.core.inference.cpu.quantized_weights import WEIGHT_CHOICES
from vldesk.core.inference.device import DEVICE_CHOICES, DTYPE_CHOICES
from vldesk.core.inference.engine import EngineLoader, LoadRequest
from vldesk.server.config import API_KEY_ENV, DEFAULT_HOST, DEFAULT_PORT

if TYPE_CHECKING:
    from vldesk.server.runner import Server

log = logging.getLogger(__name__)


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "serve",
        help="serve the model to other programs (OpenAI and Ollama APIs) and a web page",
        description="Load a model and answer OpenAI-compatible (/v1/chat/completions) and "
        "Ollama-compatible (/api/chat, /api/generate) requests, with a web page at /. "
        "Listens on this computer only unless --host says otherwise; any other address "
        "needs an API key.",
    )
    parser.add_argument(
        "--model",
        "-m",
        help="catalog id, imported name, or a model folder; default: the model chosen in settings",
    )
    parser.add_argument(
        "--host", default=DEFAULT_HOST, help=f"address to listen on ({DEFAULT_HOST})"
    )
    parser.add_argument("--port", type=int, default=DEFAULT_PORT, help=f"port ({DEFAULT_PORT})")
    parser.add_argument(
        "--api-key",
        help=f"require 'Authorization: Bearer KEY' (default: ${API_KEY_ENV}, if set)",
    )
    parser.add_argument("--device", choices=DEVICE_CHOICES, default=None)
    parser.add_argument("--dtype", choices=DTYPE_CHOICES, default=None)
    parser.add_argument("--weights", choices=WEIGHT_CHOICES, default=None)
    add_engine_argument(parser)
    parser.set_defaults(handler=run)


def build_server(args: argparse.Namespace) -> tuple[Server, LoadRequest]:
    """The server (its socket bound, nothing loaded yet) and the model to load into it."""
    from vldesk.core.inference.engine_choice import choose_engine
    from vldesk.core.models.store import ModelStore
    from vldesk.core.paths import app_paths
    from vldesk.core.settings import load_settings
    from vldesk.server.config import ServerConfig
    from vldesk.server.runner import Server

    api_key = args.api_key or os.environ.get(API_KEY_ENV) or None
    # Refuses a non-loopback address without a key before anything is loaded.
    config = ServerConfig(host=args.host, port=args.port, api_key=api_key)
    user_settings = load_settings(app_paths().settings_file)
    model_ref = args.model or user_settings.model
    choice = choose_engine(
        ModelStore(app_paths(user_settings.models_dir).models_dir),
        model_ref,
        setting=args.engine or user_settings.engine,
        weights=args.weights or user_settings.weights,
        device=args.device or user_settings.device,
    )
    request = LoadRequest(
        choice.folder,
        name=choice.name if not Path(model_ref).is_dir() else Path(model_ref).name,
        device=args.device or user_settings.device,
        dtype=args.dtype or user_settings.dtype,
        weights=args.weights or user_settings.weights,
    )
    try:
        server = Server(config)
    except OSError as exc:
        from vldesk.core.errors import VldeskError

        raise VldeskError(f"Cannot listen on {config.url}: {exc.strerror or exc}.") from None
    return server, request


def load_into(server: Server, request: LoadRequest, loader: EngineLoader) -> None:
    """Load the model and hand it to the server (which answers 503 until then)."""
    try:
        engine = loader(request)
    except Exception as exc:
        server.scheduler.load_error = f"The model could not be loaded: {exc}"
        log.error("Loading %s failed: %s", request.name, exc)
        print(f"vldesk: error: {server.scheduler.load_error}", file=sys.stderr, flush=True)
        return
    server.scheduler.attach(engine)
    print(f"Model {engine.name} ready on {engine.describe()}.", file=sys.stderr, flush=True)


def run(args: argparse.Namespace) -> int:
    from vldesk.core.inference.engine import load_engine

    server, request = build_server(args)
    print(f"Serving on {server.url}", flush=True)
    print(f"  OpenAI API: {server.url}/v1   Ollama API: {server.url}/api   web page: {server.url}/")
    if server.config.api_key:
        print("  An API key is required (Authorization: Bearer <key>).", flush=True)
    else:
        print("  No API key: only programs on this computer can connect.", flush=True)
    print(f"Loading {request.name} ... (requests get 503 until it is ready)", file=sys.stderr)
    threading.Thread(
        target=load_into, args=(server, request, load_engine), name="vldesk-load", daemon=True
    ).start()
    # Newer uvicorn re-raises the Ctrl+C it handled: stopping is the normal way out.
    with contextlib.suppress(KeyboardInterrupt):
        server.run()
    print("Stopped.", file=sys.stderr)
    return 0
