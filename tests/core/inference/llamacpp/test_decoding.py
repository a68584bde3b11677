"""Choosing the next token from llama.cpp's logits, as transformers' generate does."""

from __future__ import annotations

import numpy as np

from vldesk.core.generation import GenerationSettings
from vldesk.core.inference.llamacpp.decoding import TokenPicker
from vldesk.core.inference.sampling import Sampling

LOGITS = np.array([1.0, 3.0, 3.0, -2.0, 2.9], dtype=np.float32)


def picker(settings: GenerationSettings, sampling: Sampling, history: list[int]) -> TokenPicker:
    return TokenPicker(settings, sampling, stop_ids=[1], history=history)


def test_greedy_takes_the_first_highest_logit() -> None:
    assert picker(GenerationSettings(), Sampling(), []).pick(LOGITS) == 1


def test_ignore_eos_rules_the_stop_tokens_out() -> None:
    assert picker(GenerationSettings(ignore_eos=True), Sampling(), []).pick(LOGITS) == 2


def test_the_repetition_penalty_divides_positive_and_multiplies_negative_logits() -> None:
    # 3.0 / 1.5 = 2.0 for the seen tokens 1 and 2: the unseen 2.9 wins.
    chosen = picker(GenerationSettings(), Sampling(repetition_penalty=1.5), [1, 2, 3])
    assert chosen.pick(LOGITS) == 4
    # A token it picked counts as seen for the next step.
    again = picker(GenerationSettings(), Sampling(repetition_penalty=1.5), [])
    assert [again.pick(LOGITS), again.pick(LOGITS)] == [1, 2]


def test_top_k_of_one_and_a_tiny_top_p_sample_the_best_token() -> None:
    sampled = GenerationSettings(greedy=False, seed=3)
    assert picker(sampled, Sampling(top_k=1), []).pick(LOGITS) == 1
    assert picker(sampled, Sampling(top_p=0.01, top_k=0), []).pick(-LOGITS) == 3


def test_sampling_with_a_seed_repeats() -> None:
    sampled = GenerationSettings(greedy=False, seed=11)
    flat = np.zeros(50, dtype=np.float32)
    first = picker(sampled, Sampling(top_k=0), [])
    second = picker(sampled, Sampling(top_k=0), [])
    draws = [first.pick(flat) for _ in range(20)]
    assert draws == [second.pick(flat) for _ in range(20)]
    assert len(set(draws)) > 1
