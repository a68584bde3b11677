"""An engine that answers through one OpenAI-compatible server (vLLM, SGLang, llama.cpp,
LM Studio, Ollama's /v1, another vldesk)."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Mapping, Sequence

from vldesk.core.errors import GenerationError, ImageLoadError, VldeskError
from vldesk.core.generation import (
    Conversation,
    GenerationResult,
    GenerationSettings,
    GenerationStats,
    StopReason,
)
from vldesk.core.images import budget_size, image_token_count
from vldesk.core.inference.engine import Engine, Placement, TextCallback, TokenCallback
from vldesk.core.inference.engine_base import EngineBase
from vldesk.core.inference.remote.endpoint import (
    Connection,
    Endpoint,
    RequestRejectedError,
    ServerBusyError,
)
from vldesk.core.inference.remote.wire import (
    MalformedReplyError,
    Reply,
    chat_request,
    family_from_model_name,
    parse_chunk,
    parse_completion,
    sse_events,
    usage_counts,
)
from vldesk.core.models.catalog import Family

log = logging.getLogger(__name__)

#: Where neither the served name nor the user names a family.
DEFAULT_FAMILY = Family.QWEN3_VL
#: How often one answer is tried again after 429 before it fails.
BUSY_RETRIES = 8
#: In-flight requests per server unless told otherwise: servers batch continuously.
DEFAULT_CONCURRENCY = 4


def served_model(names: Sequence[str], wanted: str | None, where: str) -> str:
    """The model to use among those a server lists: ``wanted``, or the only/first one.

    Raises:
        GenerationError: the server lists none, or not ``wanted``.
    """
    if not names:
        raise GenerationError(
            f"{where} lists no model yet (GET /v1/models is empty): "
            "it may still be loading its model."
        )
    if wanted is None:
        return names[0]
    if wanted not in names:
        raise GenerationError(f"{where} does not serve '{wanted}'; it serves: {', '.join(names)}.")
    return wanted


class RemoteEngine(EngineBase):
    """Implements the Engine protocol over one server's ``/v1/chat/completions``.

    Images are resized to the token budget here, with the family's patch factor, and sent as
    JPEG (PNG where they have alpha) ``data:`` URLs. ``generate`` streams and cancels by closing
    the request; :meth:`answer` is one unstreamed request that the endpoint pool fans out.
    One engine streams one answer at a time (``batch_size_for`` is 1); the pool runs several.
    """

    def __init__(self, connection: Connection, model: str, family: Family) -> None:
        self.connection = connection
        display = connection.endpoint.display
        super().__init__(
            model,
            family,
            Placement("remote", display, "remote", "", reason="an OpenAI-compatible server"),
            description=f"{model} on {display}",
            max_batch=DEFAULT_CONCURRENCY,
        )

    @classmethod
    def connect(
        cls,
        endpoint: Endpoint,
        *,
        model: str | None = None,
        family: Family | None = None,
    ) -> RemoteEngine:
        """Read the server's model list and pick ``model`` (default: the first listed).

        Raises:
            GenerationError: the server cannot be reached, refuses the key, or lacks the model.
        """
        connection = Connection(endpoint)
        try:
            name = served_model(connection.model_names(), model, endpoint.display)
        except VldeskError:
            connection.close()
            raise
        return cls(connection, name, family or family_from_model_name(name) or DEFAULT_FAMILY)

    # -- what it is ---------------------------------------------------------------------------

    # The server applies its own sampling values: recommended_sampling is the defaults, and
    # the figures show only what was asked.
    def sampling_figures(self, settings: GenerationSettings) -> dict[str, object]:
        if settings.greedy:
            return {"greedy": True}
        return {"greedy": False, "temperature": settings.temperature, "top_p": settings.top_p}

    def figures(self) -> Mapping[str, object]:
        return {
            "name": self.name,
            "backend": "remote",
            "device": self.connection.endpoint.display,
            "family": self._family.value,
        }

    # -- answering ----------------------------------------------------------------------------

    def generate(
        self,
        conversation: Conversation,
        settings: GenerationSettings | None = None,
        *,
        on_text: TextCallback | None = None,
        on_token: TokenCallback | None = None,
        cancel: threading.Event | None = None,
        reuse_cache: bool = True,
    ) -> GenerationResult:
        """Stream the answer; a 429 is waited out (its Retry-After) up to :data:`BUSY_RETRIES`
        times."""
        settings = settings or GenerationSettings()
        for attempt in range(BUSY_RETRIES + 1):
            try:
                return self._stream(conversation, settings, on_text, on_token, cancel)
            except ServerBusyError as busy:
                if attempt == BUSY_RETRIES:
                    raise
                log.info("%s; trying again in %.1f s", busy, busy.retry_after_s)
                if _wait(cancel, busy.retry_after_s):
                    return _cancelled(self, settings, conversation, time.monotonic())
        raise AssertionError("unreachable")

    def answer(self, conversation: Conversation, settings: GenerationSettings) -> GenerationResult:
        """One unstreamed request, no retries (the pool decides those); servers batch these.

        Raises:
            EndpointError: the server failed (another may answer); ServerBusyError on 429.
            RequestRejectedError: the server refused this request itself.
        """
        started = time.monotonic()
        body = self._body(conversation, settings, stream=False)
        reply = parse_completion(self.connection.post_json("chat/completions", body))
        return self._result(reply, settings, conversation, started, None)

    def unload(self) -> None:
        self.connection.close()

    # -- inside -------------------------------------------------------------------------------

    @property
    def _factor(self) -> int:
        return self.capabilities.patch_factor

    def _body(
        self, conversation: Conversation, settings: GenerationSettings, *, stream: bool
    ) -> dict[str, object]:
        try:
            return chat_request(
                self.name, conversation, settings, factor=self._factor, stream=stream
            )
        except ImageLoadError as exc:
            raise RequestRejectedError(str(exc)) from None

    def _stream(
        self,
        conversation: Conversation,
        settings: GenerationSettings,
        on_text: TextCallback | None,
        on_token: TokenCallback | None,
        cancel: threading.Event | None,
    ) -> GenerationResult:
        started = time.monotonic()
        first_at: float | None = None
        body = self._body(conversation, settings, stream=True)
        pieces: list[str] = []
        finish: str | None = None
        prompt_tokens = completion_tokens = None
        events = 0
        with self.connection.stream_lines("chat/completions", body) as lines:
            for event in sse_events(lines):
                events += 1
                if cancel is not None and cancel.is_set():
                    # Leaving the block closes the request: the server stops the answer.
                    return _cancelled(self, settings, conversation, started, "".join(pieces))
                text, reason = parse_chunk(event)
                finish = reason or finish
                prompt, completion = usage_counts(event)
                prompt_tokens = prompt if prompt is not None else prompt_tokens
                completion_tokens = completion if completion is not None else completion_tokens
                if not text:
                    continue
                first_at = first_at or time.monotonic()
                pieces.append(text)
                if on_text is not None:
                    on_text(text)
                if on_token is not None:
                    on_token(len(pieces))
        if cancel is not None and cancel.is_set():
            return _cancelled(self, settings, conversation, started, "".join(pieces))
        if not events:
            raise MalformedReplyError("The server's answer is not an event stream.")
        reply = Reply("".join(pieces), finish, prompt_tokens, completion_tokens)
        return self._result(reply, settings, conversation, started, first_at)

    def _result(
        self,
        reply: Reply,
        settings: GenerationSettings,
        conversation: Conversation,
        started: float,
        first_at: float | None,
    ) -> GenerationResult:
        total = time.monotonic() - started
        new_tokens = reply.completion_tokens if reply.completion_tokens is not None else 0
        decode_s = total - ((first_at or started) - started)
        stats = GenerationStats(
            prompt_tokens=reply.prompt_tokens or 0,
            image_tokens=self._image_tokens(conversation, settings),
            new_tokens=new_tokens,
            time_to_first_token_s=((first_at or time.monotonic()) - started),
            decode_tokens_per_s=new_tokens / decode_s if decode_s > 0 else 0.0,
            total_s=total,
            device=self.connection.endpoint.display,
            dtype="",
            model=self.name,
            sampling=self.sampling_figures(settings),
        )
        stop = StopReason.MAX_TOKENS if reply.finish_reason == "length" else StopReason.END_OF_TEXT
        return GenerationResult(reply.text.strip(), stop, stats, {"endpoint": stats.device})

    def _image_tokens(self, conversation: Conversation, settings: GenerationSettings) -> int:
        total = 0
        for image in conversation.images:
            try:
                size = budget_size(image.size, self._factor, settings.max_image_tokens)
            except VldeskError:
                continue
            total += image_token_count(size, self._factor)
        return total


def _cancelled(
    engine: RemoteEngine,
    settings: GenerationSettings,
    conversation: Conversation,
    started: float,
    text: str = "",
) -> GenerationResult:
    reply = Reply(text, None)
    result = engine._result(reply, settings, conversation, started, None)
    return GenerationResult(result.text, StopReason.CANCELLED, result.stats, result.extra)


def _wait(cancel: threading.Event | None, seconds: float) -> bool:
    """Sleep ``seconds``; True when ``cancel`` was set meanwhile."""
    if cancel is None:
        time.sleep(seconds)
        return False
    return cancel.wait(seconds)


def _implements_the_protocol(engine: RemoteEngine) -> Engine:
    """mypy checks here that RemoteEngine satisfies the Engine protocol."""
    return engine
