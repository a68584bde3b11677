"""A follow-up question about a photo on vldesk's llama.cpp engine: read afresh against continued.

Builds (once, in the bench folder) Qwen3-VL-2B's real architecture with random weights and its
GGUF files as ``vldesk bench --peer llama.cpp`` does, then alternates, for each round: a first
question about a 1600x1200 photo (read afresh), then the follow-up read afresh (what every
follow-up did before the engine kept its memory) or continuing the first answer's memory. Prints
JSON: each follow-up's time to the first token, tokens continued, and the load average.

    PYTHONPATH=. python benchmarks/llama_follow_up.py [--layers N] [--kind F16|Q8_0|Q4_K_M]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import Any


def main(argv: list[str]) -> int:
    from vldesk.bench.fixtures import DEFAULT_PHOTO_SIZE, make_photo, model_folder
    from vldesk.bench.llama_cpp import gguf_files
    from vldesk.bench.ours import FOLLOW_UP_PROMPT
    from vldesk.bench.peer import MATCHED_FORMATS
    from vldesk.bench.spec import CAPTION_PROMPT
    from vldesk.core.generation import Conversation, GenerationSettings
    from vldesk.core.images import load_image
    from vldesk.core.inference.llamacpp.engine import LlamaCppEngine
    from vldesk.core.models.catalog import Family
    from vldesk.core.paths import app_paths

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--work", type=Path, default=app_paths().cache_dir / "bench")
    parser.add_argument("--layers", type=int, default=None)
    parser.add_argument("--kind", default="F16", choices=[peer for _o, peer in MATCHED_FORMATS])
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--new-tokens", type=int, default=32)
    parser.add_argument("--threads", type=int, default=os.cpu_count() or 1)
    args = parser.parse_args(argv)

    def progress(text: str) -> None:
        print(text, file=sys.stderr, flush=True)

    model = model_folder(Family.QWEN3_VL, args.work / "models", args.layers)
    files, _mmproj = gguf_files(model, args.work, [args.kind], args.threads, progress)
    weights = dict((peer, ours) for ours, peer in MATCHED_FORMATS)[args.kind]
    engine = LlamaCppEngine.load(files[args.kind].parent, weights=weights, threads=args.threads)
    photo = load_image(make_photo(args.work / "follow-up-photo.jpg", DEFAULT_PHOTO_SIZE, seed=8))
    settings = GenerationSettings(max_new_tokens=args.new_tokens, ignore_eos=True)
    engine.generate(Conversation().ask("Hi"), GenerationSettings(max_new_tokens=2))  # warm-up
    first = Conversation().ask(CAPTION_PROMPT, [photo])
    runs: list[dict[str, Any]] = []
    for round_ in range(args.rounds):
        for reuse in (True, False) if round_ % 2 == 0 else (False, True):
            load_before = os.getloadavg()[0]
            answer = engine.generate(first, settings, reuse_cache=False)
            follow_up = first.answered(answer.text).ask(FOLLOW_UP_PROMPT)
            result = engine.generate(follow_up, settings, reuse_cache=reuse)
            stats = result.stats
            runs.append(
                {
                    "round": round_,
                    "follow_up": "continued" if reuse else "afresh",
                    "first_question_first_token_s": answer.stats.time_to_first_token_s,
                    "time_to_first_token_s": stats.time_to_first_token_s,
                    "decode_tokens_per_s": stats.decode_tokens_per_s,
                    "prompt_tokens": stats.prompt_tokens,
                    "image_tokens": stats.image_tokens,
                    "reused_tokens": stats.reused_tokens,
                    "load_average_1m": [load_before, os.getloadavg()[0]],
                }
            )
            progress(json.dumps(runs[-1]))
    report = {"model": model.name, "engine": engine.figures(), "runs": runs}
    engine.unload()
    print(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
