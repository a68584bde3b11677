"""Offline hand-off: OpenAI Batch requests for a folder (``vllm run-batch``, Ray Data), and an
engine that answers a batch job from their results file."""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Iterable, Mapping
from pathlib import Path, PurePosixPath
from typing import Any

from vldesk.core.errors import GenerationError, ImageLoadError, VldeskError, WriteError
from vldesk.core.generation import (
    Conversation,
    GenerationResult,
    GenerationSettings,
    GenerationStats,
    StopReason,
)
from vldesk.core.images import load_image
from vldesk.core.inference.engine import Engine, Placement, TextCallback, TokenCallback
from vldesk.core.inference.engine_base import EngineBase
from vldesk.core.inference.remote.engine import DEFAULT_FAMILY
from vldesk.core.inference.remote.wire import (
    MalformedReplyError,
    chat_request,
    error_message,
    family_from_model_name,
    parse_completion,
)
from vldesk.core.models.catalog import FAMILY_TRAITS, Family

CHAT_PATH = "/v1/chat/completions"


def export_requests(
    folder: Path,
    images: Iterable[str],
    out: Path,
    *,
    model: str,
    prompt: str,
    system: str | None,
    settings: GenerationSettings,
    family: Family | None = None,
    image_root: str | None = None,
) -> tuple[int, list[tuple[str, str]]]:
    """Write one OpenAI Batch request per image (``custom_id`` = its path in the folder, the
    image resized to the budget and inlined); returns (requests written, [(image, why)] for
    images that could not be read). The file appears whole or not at all.

    ``image_root``: refer to each image by a ``file://`` URL instead of inlining it, for a
    filesystem the batch's machines share: the folder as it is mounted there (``""``: the same
    path as here). The server then reads and resizes the original itself.

    Raises:
        WriteError: ``out`` cannot be written.
    """
    factor = FAMILY_TRAITS[family or family_from_model_name(model) or DEFAULT_FAMILY].patch_factor
    temporary = out.with_name(out.name + ".tmp")
    written, unreadable = 0, []
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        with temporary.open("w", encoding="utf-8") as file:
            for image in images:
                try:
                    loaded = load_image(folder / image)
                except ImageLoadError as exc:
                    unreadable.append((image, exc.reason))
                    continue
                conversation = Conversation(system=system).ask(prompt, [loaded])
                body = chat_request(model, conversation, settings, factor=factor, stream=False)
                if image_root is not None:
                    _refer_by_path(body, _shared_path(folder, image, image_root))
                line = {"custom_id": image, "method": "POST", "url": CHAT_PATH, "body": body}
                file.write(json.dumps(line, ensure_ascii=False) + "\n")
                written += 1
        os.replace(temporary, out)
    except OSError as exc:
        temporary.unlink(missing_ok=True)
        raise WriteError(f"Cannot write {out}: {exc.strerror or exc}.") from None
    return written, unreadable


def _shared_path(folder: Path, image: str, image_root: str) -> str:
    """``image``'s file URL on the machines that run the batch."""
    if not image_root:
        return (folder / image).resolve().as_uri()
    return PurePosixPath(image_root).joinpath(*PurePosixPath(image).parts).as_uri()


def _refer_by_path(body: dict[str, Any], url: str) -> None:
    """Put ``url`` where the inlined image was (one image per request)."""
    for message in body["messages"]:
        content = message.get("content")
        for part in content if isinstance(content, list) else []:
            if part.get("type") == "image_url":
                part["image_url"] = {"url": url}


class ResultsEngine(EngineBase):
    """Implements the Engine protocol from an OpenAI Batch results file: each image's answer is
    the result whose ``custom_id`` is its path in ``folder``, so ``vldesk batch`` journals,
    writes caption files and reports from it exactly as from a model."""

    def __init__(
        self,
        folder: Path,
        answers: Mapping[str, GenerationResult | str],
        model: str,
        family: Family,
    ) -> None:
        self._folder = Path(os.path.abspath(folder))
        self._answers = dict(answers)
        super().__init__(
            model,
            family,
            Placement("remote", "batch results", "remote", "", reason="an offline batch"),
            description=f"{model} (results of an offline batch)",
        )

    @classmethod
    def load(
        cls, path: Path, folder: Path, *, model: str | None = None, family: Family | None = None
    ) -> ResultsEngine:
        """Read ``path`` (JSON Lines as ``vllm run-batch`` and OpenAI's Batch API write them).

        Raises:
            VldeskError: the file cannot be read or a line is not a batch result.
        """
        try:
            lines = path.read_text(encoding="utf-8").splitlines()
        except (OSError, UnicodeDecodeError) as exc:
            raise VldeskError(f"Cannot read the results file {path}: {exc}.") from None
        answers: dict[str, GenerationResult | str] = {}
        served = model
        for number, line in enumerate(lines, start=1):
            if not line.strip():
                continue
            try:
                custom_id, answer, said_model = _parse_result(json.loads(line))
            except (ValueError, MalformedReplyError) as exc:
                raise VldeskError(f"{path}, line {number}: not a batch result ({exc}).") from None
            answers[custom_id] = answer
            served = served or said_model
        name = served or "batch results"
        chosen = family or family_from_model_name(name) or DEFAULT_FAMILY
        return cls(folder, answers, name, chosen)

    def sampling_figures(self, settings: GenerationSettings) -> dict[str, object]:
        return {"greedy": settings.greedy}

    def figures(self) -> Mapping[str, object]:
        return {"name": self.name, "backend": "remote", "results": len(self._answers)}

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
        (image,) = conversation.images
        key = self._custom_id(image.source)
        answer = self._answers.get(key)
        if answer is None:
            raise GenerationError("The results file has no answer for this image.")
        if isinstance(answer, str):
            raise GenerationError(f"The batch failed this image: {answer}")
        if on_text is not None and answer.text:
            on_text(answer.text)
        return answer

    def unload(self) -> None:
        self._answers.clear()

    def _custom_id(self, source: str) -> str:
        path = Path(os.path.abspath(source))
        try:
            return path.relative_to(self._folder).as_posix()
        except ValueError:
            return path.as_posix()


def _parse_result(record: object) -> tuple[str, GenerationResult | str, str | None]:
    """(custom_id, the answer or why it failed, the model named) of one results line."""
    if not isinstance(record, dict) or not isinstance(record.get("custom_id"), str):
        raise MalformedReplyError("no custom_id")
    custom_id = record["custom_id"]
    response = record.get("response")
    error = record.get("error")
    if error:
        return custom_id, error_message({"error": error}) or str(error), None
    if not isinstance(response, dict) or not isinstance(response.get("body"), dict):
        raise MalformedReplyError("no response body")
    body = response["body"]
    status = response.get("status_code", 200)
    if status != 200:
        return custom_id, error_message(body) or f"status {status}", None
    reply = parse_completion(body)
    stats = GenerationStats(
        prompt_tokens=reply.prompt_tokens or 0,
        image_tokens=0,
        new_tokens=reply.completion_tokens or 0,
        time_to_first_token_s=0.0,
        decode_tokens_per_s=0.0,
        total_s=0.0,
        device="batch results",
        dtype="",
        model=str(body.get("model") or ""),
    )
    stop = StopReason.MAX_TOKENS if reply.finish_reason == "length" else StopReason.END_OF_TEXT
    model = body.get("model")
    return (
        custom_id,
        GenerationResult(reply.text.strip(), stop, stats),
        (model if isinstance(model, str) else None),
    )


def _implements_the_protocol(engine: ResultsEngine) -> Engine:
    """mypy checks here that ResultsEngine satisfies the Engine protocol."""
    return engine
