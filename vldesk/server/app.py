"""The HTTP application: OpenAI- and Ollama-compatible endpoints and the web page at ``/``."""

from __future__ import annotations

import asyncio
import hmac
import json
import logging
import time
import uuid
from collections.abc import AsyncIterator, Callable
from datetime import datetime, timezone
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response, StreamingResponse

from vldesk import __version__
from vldesk.core.generation import GenerationResult, StopReason
from vldesk.core.inference.engine import Engine
from vldesk.server.config import ServerConfig, size_text
from vldesk.server.errors import ApiError, is_ollama_path
from vldesk.server.page import page_html, page_language
from vldesk.server.scheduler import Done, Event, Failed, InferenceScheduler, Job, Text
from vldesk.server.translate import Question, ollama_chat, ollama_generate, openai_chat

log = logging.getLogger(__name__)


def create_app(config: ServerConfig, scheduler: InferenceScheduler) -> FastAPI:
    """The application; ``scheduler`` holds the engine once it has loaded."""
    app = FastAPI(
        title="vldesk", version=__version__, docs_url=None, redoc_url=None, openapi_url=None
    )
    limits = config.limits
    if config.cors_origins:
        from fastapi.middleware.cors import CORSMiddleware

        app.add_middleware(
            CORSMiddleware,
            allow_origins=list(config.cors_origins),
            allow_methods=["*"],
            allow_headers=["*"],
        )

    @app.exception_handler(ApiError)
    async def api_error(request: Request, exc: ApiError) -> Response:
        return error_response(request.url.path, exc)

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception) -> Response:
        log.error("Request to %s failed", request.url.path, exc_info=exc)
        return error_response(request.url.path, ApiError(500, "Internal server error."))

    def authorize(request: Request) -> None:
        if not config.api_key:
            return
        header = request.headers.get("authorization", "")
        scheme, _, given = header.partition(" ")
        if scheme.lower() != "bearer" or not hmac.compare_digest(
            given.strip().encode(), config.api_key.encode()
        ):
            raise ApiError(
                401,
                "A valid API key is required (Authorization: Bearer <key>).",
                code="invalid_api_key",
            )

    def engine_for(model: str, *, ollama: bool) -> Engine:
        engine = scheduler.engine
        if engine is None:
            raise ApiError(
                503,
                scheduler.load_error or "The model is loading; try again shortly.",
                headers={"Retry-After": str(limits.retry_after_s)},
            )
        wanted = model.removesuffix(":latest") if ollama else model
        if wanted and wanted != engine.name:
            raise ApiError(
                404,
                f"The model '{model}' is not served here; this server has '{engine.name}'.",
                code="model_not_found",
                param="model",
            )
        return engine

    async def read_json(request: Request) -> object:
        length = request.headers.get("content-length")
        too_big = ApiError(
            413,
            f"The request body is larger than the limit of {size_text(limits.body_bytes)}.",
            code="body_too_large",
        )
        if length is not None and length.isdigit() and int(length) > limits.body_bytes:
            raise too_big
        chunks, size = [], 0
        async for chunk in request.stream():
            size += len(chunk)
            if size > limits.body_bytes:
                raise too_big
            chunks.append(chunk)
        try:
            return json.loads(b"".join(chunks))
        except (ValueError, UnicodeDecodeError):
            raise ApiError(400, "The request body is not valid JSON.") from None

    async def ask(
        request: Request, parse: Callable[[object, Any], Question], *, ollama: bool
    ) -> tuple[Question, Engine, Job]:
        authorize(request)
        question = parse(await read_json(request), limits)
        engine = engine_for(question.model, ollama=ollama)
        job = scheduler.submit(
            question.conversation, question.settings, stream=question.stream, stops=question.stops
        )
        return question, engine, job

    @app.get("/", include_in_schema=False)
    async def page(request: Request) -> HTMLResponse:
        language = page_language(
            request.query_params.get("lang"),
            config.language,
            request.headers.get("accept-language"),
        )
        return HTMLResponse(page_html(language), headers={"Vary": "Accept-Language"})

    @app.get("/v1/models")
    async def models(request: Request) -> dict[str, Any]:
        authorize(request)
        engine = scheduler.engine
        data = (
            []
            if engine is None
            else [{"id": engine.name, "object": "model", "created": 0, "owned_by": "vldesk"}]
        )
        return {"object": "list", "data": data}

    @app.post("/v1/chat/completions")
    async def chat_completions(request: Request) -> Response:
        question, engine, job = await ask(request, openai_chat, ollama=False)
        reply = OpenAIReply(engine.name, question.include_usage)
        if question.stream:
            return StreamingResponse(
                reply.stream(events(job)),
                media_type="text/event-stream",
                headers={"Cache-Control": "no-cache"},
            )
        return JSONResponse(reply.whole(await final(job, request)))

    @app.get("/api/version")
    async def ollama_version() -> dict[str, str]:
        return {"version": __version__}

    @app.get("/api/tags")
    async def ollama_tags(request: Request) -> dict[str, Any]:
        authorize(request)
        engine = scheduler.engine
        if engine is None:
            return {"models": []}
        figures = engine.figures()
        details = {
            "format": engine.placement.weights,
            "family": engine.family.value,
            "parameter_size": str(figures.get("parameters", "")),
            "quantization_level": engine.placement.weights,
        }
        model = {
            "name": engine.name,
            "model": engine.name,
            "modified_at": _now(),
            "size": 0,
            "digest": "",
            "details": details,
        }
        return {"models": [model]}

    @app.post("/api/chat")
    async def ollama_chat_endpoint(request: Request) -> Response:
        question, engine, job = await ask(request, ollama_chat, ollama=True)
        reply = OllamaReply(engine.name, chat=True)
        if question.stream:
            return StreamingResponse(reply.stream(events(job)), media_type="application/x-ndjson")
        return JSONResponse(reply.whole(await final(job, request)))

    @app.post("/api/generate")
    async def ollama_generate_endpoint(request: Request) -> Response:
        authorize(request)
        question = ollama_generate(await read_json(request), limits)
        engine = engine_for(question.model, ollama=True)
        turn = question.conversation.turns[-1]
        if not turn.text and not turn.images:
            # Ollama clients send an empty prompt to make sure the model is loaded: it is.
            loaded = {"model": engine.name, "created_at": _now(), "response": ""}
            return JSONResponse({**loaded, "done": True, "done_reason": "load"})
        job = scheduler.submit(
            question.conversation, question.settings, stream=question.stream, stops=question.stops
        )
        reply = OllamaReply(engine.name, chat=False)
        if question.stream:
            return StreamingResponse(reply.stream(events(job)), media_type="application/x-ndjson")
        return JSONResponse(reply.whole(await final(job, request)))

    @app.api_route("/{path:path}", methods=["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD"])
    async def unknown_endpoint(path: str) -> Response:
        # Anything else, model files and history included, does not exist here.
        raise ApiError(404, "Unknown endpoint.", code="unknown_url")

    return app


def error_response(path: str, error: ApiError) -> JSONResponse:
    body = error.ollama_body() if is_ollama_path(path) else error.openai_body()
    return JSONResponse(body, status_code=error.status, headers=error.headers)


async def events(job: Job) -> AsyncIterator[Event]:
    """A job's events until it ends; a client that leaves early cancels its answer."""
    try:
        while True:
            event = await job.events.get()
            yield event
            if not isinstance(event, Text):
                return
    finally:
        job.abandon()


async def final(job: Job, request: Request) -> Done:
    """The whole answer; a client that disconnects while it waits cancels it."""

    async def watch_for_departure() -> None:
        # The body has been read: the next message is the client's disconnect.
        while (await request.receive())["type"] != "http.disconnect":
            pass
        job.abandon()

    watcher = asyncio.ensure_future(watch_for_departure())
    try:
        async for event in events(job):
            if isinstance(event, Failed):
                raise event.error
            if isinstance(event, Done):
                return event
    finally:
        watcher.cancel()
    raise ApiError(500, "The answer ended without a result.")


def _now() -> str:
    return datetime.now(timezone.utc).isoformat()


def _finish_reason(done: Done) -> str:
    stopped = done.hit_stop or done.result.stop_reason is not StopReason.MAX_TOKENS
    return "stop" if stopped else "length"


def _usage(result: GenerationResult) -> dict[str, int]:
    prompt, new = result.stats.prompt_tokens, result.stats.new_tokens
    return {"prompt_tokens": prompt, "completion_tokens": new, "total_tokens": prompt + new}


class OpenAIReply:
    """Chat completion responses and chunks for one request."""

    def __init__(self, model: str, include_usage: bool) -> None:
        self.model = model
        self.include_usage = include_usage
        self.id = f"chatcmpl-{uuid.uuid4().hex}"
        self.created = int(time.time())

    def whole(self, done: Done) -> dict[str, Any]:
        return {
            "id": self.id,
            "object": "chat.completion",
            "created": self.created,
            "model": self.model,
            "choices": [
                {
                    "index": 0,
                    "message": {"role": "assistant", "content": done.text},
                    "finish_reason": _finish_reason(done),
                }
            ],
            "usage": _usage(done.result),
        }

    def chunk(self, delta: dict[str, Any], finish: str | None = None) -> str:
        body = {
            "id": self.id,
            "object": "chat.completion.chunk",
            "created": self.created,
            "model": self.model,
            "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
        }
        return _sse(body)

    async def stream(self, source: AsyncIterator[Event]) -> AsyncIterator[str]:
        yield self.chunk({"role": "assistant", "content": ""})
        async for event in source:
            if isinstance(event, Text):
                yield self.chunk({"content": event.text})
            elif isinstance(event, Done):
                yield self.chunk({}, _finish_reason(event))
                if self.include_usage:
                    yield _sse(
                        {
                            "id": self.id,
                            "object": "chat.completion.chunk",
                            "created": self.created,
                            "model": self.model,
                            "choices": [],
                            "usage": _usage(event.result),
                        }
                    )
            else:
                yield _sse(event.error.openai_body())
        yield "data: [DONE]\n\n"


def _sse(body: dict[str, Any]) -> str:
    return f"data: {json.dumps(body, ensure_ascii=False)}\n\n"


class OllamaReply:
    """``/api/chat`` and ``/api/generate`` responses and NDJSON lines for one request."""

    def __init__(self, model: str, *, chat: bool) -> None:
        self.model = model
        self.chat = chat

    def _piece(self, text: str) -> dict[str, Any]:
        if self.chat:
            return {"message": {"role": "assistant", "content": text}}
        return {"response": text}

    def whole(self, done: Done, text: str | None = None) -> dict[str, Any]:
        stats = done.result.stats
        return {
            "model": self.model,
            "created_at": _now(),
            **self._piece(done.text if text is None else text),
            "done": True,
            "done_reason": _finish_reason(done),
            "total_duration": int(stats.total_s * 1e9),
            "prompt_eval_count": stats.prompt_tokens,
            "eval_count": stats.new_tokens,
        }

    async def stream(self, source: AsyncIterator[Event]) -> AsyncIterator[str]:
        async for event in source:
            if isinstance(event, Text):
                line = {
                    "model": self.model,
                    "created_at": _now(),
                    **self._piece(event.text),
                    "done": False,
                }
            elif isinstance(event, Done):
                line = self.whole(event, "")
            else:
                line = event.error.ollama_body()
            yield json.dumps(line, ensure_ascii=False) + "\n"
