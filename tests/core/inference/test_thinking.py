"""Think blocks are removed from answers, whole or streamed in any chunking."""

from __future__ import annotations

import pytest

from vldesk.core.inference.thinking import ThinkFilter, strip_think

CASES = [
    ("A cat on a mat.", "A cat on a mat."),
    ("<think>\nhmm, a cat?\n</think>\n\nA cat on a mat.", "A cat on a mat."),
    ("  <think></think>A cat.", "A cat."),
    ("<think>never closed", ""),
    ("<thin air is cold", "<thin air is cold"),
    ("I <think> so", "I <think> so"),
]


@pytest.mark.parametrize(("raw", "clean"), CASES)
def test_strip_think(raw: str, clean: str) -> None:
    # Mid-answer tags are the model talking about tags; only a leading block is reasoning.
    assert strip_think(raw) == clean


@pytest.mark.parametrize(("raw", "clean"), CASES)
@pytest.mark.parametrize("chunk", [1, 2, 3, 7, 1000])
def test_streaming_filter_matches_whole_text(raw: str, clean: str, chunk: int) -> None:
    stream = ThinkFilter()
    out = "".join(stream.feed(raw[i : i + chunk]) for i in range(0, len(raw), chunk))
    out += stream.finish()
    assert out == clean


def test_closing_tag_without_opening_drops_the_reasoning_before_it() -> None:
    assert strip_think("reasoning here</think>\n\nThe answer.") == "The answer."
