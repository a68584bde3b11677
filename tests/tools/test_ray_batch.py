"""tools/ray_batch.py without Ray or vLLM: vldesk's exported requests become result lines that
``vldesk batch --import-results`` reads (the engine is a stand-in that names each image's shade),
and a request the engine refuses fails alone."""

from __future__ import annotations

import itertools
import json
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from tests.cli.test_batch_remote import shade_folder
from tests.core.inference.remote.servers import MODEL, shade_answer
from tools.ray_batch import (
    Answer,
    answer_lines,
    collect,
    numbered,
    parse_args,
    read_requests,
    run,
    sampling_of,
)
from vldesk.cli import run_cli
from vldesk.server.config import Limits
from vldesk.server.translate import openai_chat

POISON = "poison"


class ShadeChat:
    """Stands in for ``LLM.chat``: names each image's shade; refuses a whole call that holds a
    conversation with the poison image, as vLLM refuses a batch with one bad request."""

    def __init__(self) -> None:
        self.calls: list[int] = []
        self.sampling: list[dict[str, Any]] = []

    def __call__(
        self, conversations: list[list[dict[str, Any]]], sampling: list[dict[str, Any]]
    ) -> list[Answer]:
        self.calls.append(len(conversations))
        self.sampling += sampling
        answers = []
        for messages in conversations:
            if POISON in json.dumps(messages):
                raise ValueError("the image cannot be read")
            question = openai_chat({"messages": messages}, Limits())
            text = shade_answer(question.conversation)
            answers.append(Answer(f" {text}\n", "stop", 40, 2))
        return answers


def export(folder: Path, requests: Path) -> list[str]:
    args = ["batch", str(folder), "--prompt", "Which shade?", "--max-image-tokens", "16"]
    assert run_cli([*args, "--model", MODEL, "--export-requests", str(requests)]) == 0
    return args


def test_exported_requests_answered_in_batches_are_imported_as_every_image_captioned(
    tmp_path: Path,
) -> None:
    folder, requests, results = tmp_path / "photos", tmp_path / "req.jsonl", tmp_path / "res.jsonl"
    names = shade_folder(folder, 5)
    common = export(folder, requests)
    rows = list(numbered(iter(requests.read_text("utf-8").splitlines(keepends=True))))
    assert [row["number"] for row in rows] == list(range(5))
    chat = ShadeChat()
    lines = [
        *answer_lines([r["text"] for r in rows[:3]], [r["number"] for r in rows[:3]], chat),
        *answer_lines([r["text"] for r in rows[3:]], [r["number"] for r in rows[3:]], chat),
    ]
    assert chat.calls == [3, 2]  # one engine call per batch
    # greedy with vldesk's token cap, as the requests say
    assert chat.sampling[0]["temperature"] == 0
    assert chat.sampling[0]["max_tokens"] > 0
    written = [json.loads(line) for line in lines]
    assert [w["custom_id"] for w in written] == names  # the requests' order and custom_id
    assert {w["response"]["body"]["model"] for w in written} == {MODEL}
    assert {w["response"]["body"]["usage"]["total_tokens"] for w in written} == {42}
    results.write_text("\n".join(lines) + "\n", "utf-8")

    assert run_cli([*common, "--import-results", str(results)]) == 0
    for shade, name in enumerate(names):
        assert (folder / name).with_suffix(".txt").read_text("utf-8") == f"shade {shade}\n"


def test_a_request_the_engine_refuses_fails_alone_and_others_in_its_batch_are_answered(
    tmp_path: Path, capsys: Any
) -> None:
    folder, requests, results = tmp_path / "photos", tmp_path / "req.jsonl", tmp_path / "res.jsonl"
    names = shade_folder(folder, 3)
    common = export(folder, requests)
    texts = requests.read_text("utf-8").splitlines()
    poisoned = json.loads(texts[1])
    poisoned["body"]["messages"][0]["content"][-1]["text"] = POISON
    not_chat = {**json.loads(texts[2]), "url": "/v1/embeddings"}
    chat = ShadeChat()
    lines = answer_lines([texts[0], json.dumps(poisoned), json.dumps(not_chat)], [0, 1, 2], chat)
    assert chat.calls == [2, 1, 1]  # the batch, then each answerable request alone
    written = {w["custom_id"]: w for w in map(json.loads, lines)}
    assert written[names[0]]["error"] is None
    assert "the image cannot be read" in written[names[1]]["error"]["message"]
    assert "/v1/chat/completions" in written[names[2]]["error"]["message"]
    results.write_text("\n".join(lines) + "\n", "utf-8")
    capsys.readouterr()

    assert run_cli([*common, "--import-results", str(results)]) == 1
    err = capsys.readouterr().err
    assert "Done: 1 captioned, 2 failed" in err
    assert "the image cannot be read" in err
    assert (folder / names[0]).with_suffix(".txt").read_text("utf-8") == "shade 0\n"
    assert Counter(p.suffix for p in folder.iterdir()) == Counter({".png": 3, ".txt": 1})


def test_sampling_settings_and_engine_arguments_are_read_as_vllm_takes_them() -> None:
    body = {"messages": [], "temperature": 0.7, "top_p": None, "max_completion_tokens": 12}
    assert sampling_of(body) == {"temperature": 0.7, "max_tokens": 12}
    assert sampling_of({"max_tokens": 5, "stop": ["\n"]}) == {"stop": ["\n"], "max_tokens": 5}
    options = parse_args(
        [
            *("-i", "r.jsonl", "-o", "o.jsonl", "--model", "m", "--engine", "enforce-eager=true"),
            *("--engine", "dtype=bfloat16", "--engine", "max_num_seqs=8"),
        ]
    )
    assert dict(options.engine) == {"enforce_eager": True, "dtype": "bfloat16", "max_num_seqs": 8}
    assert options.address == "auto"
    assert options.gpus_per_replica == 1.0


def test_a_line_that_is_not_a_request_stops_the_run_before_ray_naming_its_line(
    tmp_path: Path, capsys: Any
) -> None:
    requests, results = tmp_path / "req.jsonl", tmp_path / "res.jsonl"
    good = json.dumps({"custom_id": "a", "body": {"messages": []}})
    requests.write_text(f"{good}\n\n{json.dumps({'body': {}})}\n", "utf-8")
    with pytest.raises(ValueError, match=r"req\.jsonl line 3: not a request"):
        read_requests(requests)
    # run() answers before it imports Ray (not installed here) or starts an engine
    assert run(parse_args(["-i", str(requests), "-o", str(results), "--model", "m"])) == 2
    assert "line 3: not a request" in capsys.readouterr().err
    assert not results.exists()
    requests.write_text(f"{good}\n{{not json\n", "utf-8")
    with pytest.raises(ValueError, match="line 2: not a request"):
        read_requests(requests)
    requests.write_text(f"{good}\n\n{good}\n", "utf-8")
    assert [row["number"] for row in read_requests(requests)] == [0, 1]


def rows_then_failure(count: int) -> Any:
    """Ray Data's answered rows (out of order), then the job failing as a lost node fails it."""
    for number in reversed(range(count)):
        yield {"number": number, "result": f'{{"custom_id": "{number}"}}', "node": "node-one"}
    raise RuntimeError("the job failed")


def test_answers_are_kept_as_they_arrive_and_written_in_order_at_the_end(tmp_path: Path) -> None:
    output = tmp_path / "res.jsonl"
    partial = tmp_path / "res.jsonl.tmp"
    with pytest.raises(RuntimeError, match="the job failed"):
        collect(rows_then_failure(3), output)
    assert not output.exists()
    kept = [json.loads(line)["custom_id"] for line in partial.read_text("utf-8").splitlines()]
    assert kept == ["2", "1", "0"]

    rows = list(itertools.islice(rows_then_failure(3), 3))
    results, nodes = collect(iter(rows), output)
    written = [json.loads(line)["custom_id"] for line in output.read_text("utf-8").splitlines()]
    assert written == ["0", "1", "2"]
    assert sorted(results) == [0, 1, 2]
    assert nodes == Counter({"node-one": 3})
    assert not partial.exists()
