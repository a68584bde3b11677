"""A stand-in for ``vllm run-batch -i REQUESTS -o RESULTS --model NAME``: each OpenAI Batch
request is read as vldesk serve reads a request and answered by a shade-naming FakeEngine."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from tests.core.inference.remote.servers import MODEL, shade_answer
from tests.helpers.fake_engine import FakeEngine
from vldesk.server.config import Limits
from vldesk.server.translate import openai_chat


def run_batch(requests: Path, results: Path, model: str = MODEL) -> None:
    engine = FakeEngine(name=model, answer=shade_answer)
    lines = []
    for number, line in enumerate(requests.read_text("utf-8").splitlines()):
        request = json.loads(line)
        assert request["url"] == "/v1/chat/completions"
        question = openai_chat(request["body"], Limits())
        answer = engine.generate(question.conversation, question.settings)
        body = {
            "id": f"chatcmpl-{number}",
            "object": "chat.completion",
            "model": model,
            "choices": [
                {
                    "index": 0,
                    "message": {"role": "assistant", "content": answer.text},
                    "finish_reason": "stop",
                }
            ],
            "usage": {
                "prompt_tokens": answer.stats.prompt_tokens,
                "completion_tokens": answer.stats.new_tokens,
                "total_tokens": answer.stats.prompt_tokens + answer.stats.new_tokens,
            },
        }
        response = {"status_code": 200, "request_id": f"req-{number}", "body": body}
        result = {"id": f"batch-{number}", "custom_id": request["custom_id"], "response": response}
        lines.append(json.dumps({**result, "error": None}))
    results.write_text("\n".join(lines) + "\n", encoding="utf-8")


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("-i", type=Path, required=True)
    parser.add_argument("-o", type=Path, required=True)
    parser.add_argument("--model", default=MODEL)
    options = parser.parse_args()
    run_batch(options.i, options.o, options.model)
