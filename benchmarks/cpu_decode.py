"""Text-only decode and first token of several engines, interleaved in one process (CPU)."""

from __future__ import annotations

import argparse
import collections
import itertools
import json
import statistics
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

#: A filler paragraph repeated to the prompt length (text only: no image tokens).
_FILLER = (
    "The committee reviewed the quarterly figures, the shipping schedule and the notes from "
    "the last meeting, then asked for a short summary of what changed and why. "
)


#: The clock every figure reads: wall time, or with ``--clock cpu`` this thread's CPU time, which
#: other processes' load does not inflate (with one torch thread all the work runs on it).
_clock: Callable[[], float] = time.perf_counter


def prompt_of(tokenizer: Any, tokens: int) -> str:
    """A text about ``tokens`` tokens long for ``tokenizer``."""
    per_copy = max(1, len(tokenizer(_FILLER).input_ids))
    return _FILLER * max(1, tokens // per_copy)


def answer_figures(engine: Any, prompt: str, new_tokens: int) -> dict[str, float]:
    """One greedy answer of exactly ``new_tokens`` tokens: time to the first token and the
    decode rate from the median step (bursts of other processes' load hardly move it)."""
    from vldesk.core.generation import Conversation, GenerationSettings

    stamps: list[float] = []
    settings = GenerationSettings(max_new_tokens=new_tokens, ignore_eos=True)
    started = _clock()
    result = engine.generate(
        Conversation().ask(prompt, []),
        settings,
        on_token=lambda _count: stamps.append(_clock()),
        reuse_cache=False,
    )
    steps = [b - a for a, b in itertools.pairwise(stamps)]
    return {
        "prompt_tokens": result.stats.prompt_tokens,
        "first_token_s": stamps[0] - started if stamps else 0.0,
        "decode_tok_s": 1 / statistics.median(steps) if steps else 0.0,
    }


@contextmanager
def module_timer(model: Any, functions: dict[Any, list[str]]) -> Iterator[dict[str, list[float]]]:
    """Seconds spent in each forward pass of ``model`` (0: the prompt) by each kind of module
    of its text decoder (``linear_attn.in_proj_qkv``: all layers' together) and in each
    function of ``functions`` (module object -> names), wrapped for the duration."""
    spent: dict[str, list[float]] = collections.defaultdict(list)
    starts: dict[int, float] = {}
    step = [-1]  # forward passes so far: 0 is the prompt
    handles = [model.register_forward_pre_hook(lambda *_: step.__setitem__(0, step[0] + 1))]

    def add(label: str, seconds: float) -> None:
        times = spent[label]
        times.extend([0.0] * (step[0] + 1 - len(times)))
        times[step[0]] += seconds

    def kind(name: str) -> str:
        skipped = ("model", "language_model")
        return ".".join(p for p in name.split(".") if not p.isdigit() and p not in skipped)

    for name, module in model.named_modules():
        if "visual" in name or not kind(name):
            continue
        label = kind(name)

        def before(mod: Any, _args: Any, key: int = id(module)) -> None:
            starts[key] = _clock()

        def after(mod: Any, _args: Any, _out: Any, key: int = id(module), lab: str = label) -> None:
            add(lab, _clock() - starts[key])

        handles.append(module.register_forward_pre_hook(before))
        handles.append(module.register_forward_hook(after))
    saved = []
    for owner, names in functions.items():
        for fname in names:
            original = getattr(owner, fname)

            def timed(*a: Any, _f: Callable[..., Any] = original, _n: str = fname, **k: Any) -> Any:
                start = _clock()
                try:
                    return _f(*a, **k)
                finally:
                    add(_n, _clock() - start)

            saved.append((owner, fname, original))
            setattr(owner, fname, timed)
    try:
        yield spent
    finally:
        for handle in handles:
            handle.remove()
        for owner, fname, original in saved:
            setattr(owner, fname, original)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("models", nargs="+", help="label=folder (random-weight real-size models)")
    parser.add_argument("--prompt-tokens", type=int, default=500)
    parser.add_argument("--new-tokens", type=int, default=24)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--dtype", default="auto")
    parser.add_argument("--weights", default="full")
    parser.add_argument(
        "--linear-attention-ab",
        action="store_true",
        help="also run every Qwen3.5 engine with transformers' own DeltaNet step functions",
    )
    parser.add_argument("--profile", action="store_true", help="per-module times, one answer")
    parser.add_argument("--threads", type=int, default=0, help="torch threads (0: the engine's)")
    parser.add_argument("--clock", choices=("wall", "cpu"), default="wall")
    args = parser.parse_args(argv)
    global _clock
    if args.clock == "cpu":
        _clock = time.thread_time

    from vldesk.core.inference.cpu import linear_attention
    from vldesk.core.inference.transformers_engine import TransformersEngine

    engines = {}
    for item in args.models:
        label, _, folder = item.partition("=")
        started = time.perf_counter()
        engines[label] = TransformersEngine.load(
            Path(folder), device="cpu", dtype=args.dtype, weights=args.weights
        )
        print(f"loaded {label} in {time.perf_counter() - started:.1f} s", file=sys.stderr)
    if args.threads:
        import torch

        torch.set_num_threads(args.threads)
    variants = []
    for label, engine in engines.items():
        linear = linear_attention.has_linear_attention(engine.model)
        variants.append((label, engine, True))
        if linear and args.linear_attention_ab:
            variants.append((f"{label} (transformers' DeltaNet step)", engine, False))
    results: dict[str, list[dict[str, float]]] = collections.defaultdict(list)
    for round_index in range(args.rounds + 1):  # the first round warms up
        for label, engine, patched in variants:
            if patched:
                linear_attention.install()
            else:
                linear_attention.uninstall()
            prompt = prompt_of(engine.processor.tokenizer, args.prompt_tokens)
            figures = answer_figures(engine, prompt, args.new_tokens)
            if round_index:
                results[label].append(figures)
            print(f"round {round_index} {label}: {figures}", file=sys.stderr)
    linear_attention.install()
    summary = {
        label: {
            key: statistics.median(run[key] for run in runs)
            for key in ("prompt_tokens", "first_token_s", "decode_tok_s")
        }
        for label, runs in results.items()
    }
    print(json.dumps(summary, indent=2))
    if args.profile:
        for label, engine, patched in variants:
            if patched:
                linear_attention.install()
            else:
                linear_attention.uninstall()
            functions = {
                sys.modules[name]: [
                    "causal_conv1d_update",
                    "causal_conv1d_fn",
                    "torch_recurrent_gated_delta_rule",
                    "torch_chunk_gated_delta_rule",
                ]
                for name in linear_attention.MODULES[:1]
                if name in sys.modules
            }
            prompt = prompt_of(engine.processor.tokenizer, args.prompt_tokens)
            with module_timer(engine.model, functions) as spent:
                answer_figures(engine, prompt, args.new_tokens)
            print(f"\n{label}: ms in the prompt's pass, median ms per decode step")
            rows = sorted(spent.items(), key=lambda kv: -statistics.median(kv[1][1:] or [0.0]))
            for name, times in rows[:32]:
                decode = statistics.median(times[1:]) if len(times) > 1 else 0.0
                print(f"  {times[0] * 1e3:10.1f} {decode * 1e3:9.3f}  {name or 'model'}")
        linear_attention.install()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
