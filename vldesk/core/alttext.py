"""Turn a model's answer into plain alt text: no Markdown, no quotes, no label, one paragraph."""

from __future__ import annotations

import re

_FENCE = re.compile(r"^\s*(```|~~~).*$", re.MULTILINE)
_IMAGE_OR_LINK = re.compile(r"!?\[([^\]]*)\]\([^)]*\)")
_HEADING = re.compile(r"^\s{0,3}#{1,6}\s+", re.MULTILINE)
_QUOTE = re.compile(r"^\s{0,3}>\s?", re.MULTILINE)
_BULLET = re.compile(r"^\s*(?:[-*+]|\d+[.)])\s+", re.MULTILINE)
_RULE = re.compile(r"^\s*(?:[-*_]\s*){3,}$", re.MULTILINE)
# Delimiters inside words (snake_case, 2*3) are text, not emphasis.
_EMPHASIS = re.compile(
    r"(?<![A-Za-z0-9*_])(\*\*|__|\*|_|~~|`)(?=\S)(.+?)(?<=\S)\1(?![A-Za-z0-9*_])"
)
_HTML_TAG = re.compile(r"</?[A-Za-z][^>]*>")
_LABEL = re.compile(
    r"^(?:alt(?:ernative)?[ -]?text|image description|description|替代文本|描述)\s*[:：]\s*",
    re.IGNORECASE,
)
_QUOTES = ('""', "''", "“”", "‘’", "「」", "『』", "``")


def alt_text(answer: str) -> str:
    """The answer as plain, single-paragraph text for an ``alt`` attribute.

    Markdown markup (headings, emphasis, code, links, lists, quotes) is removed, a leading
    "Alt text:" label and wrapping quotes are dropped, and whitespace collapses to single spaces.
    """
    text = _FENCE.sub("", answer)
    text = _IMAGE_OR_LINK.sub(r"\1", text)
    text = _RULE.sub("", text)
    text = _HEADING.sub("", text)
    text = _QUOTE.sub("", text)
    text = _BULLET.sub("", text)
    text = _HTML_TAG.sub("", text)
    previous = None
    while previous != text:  # nested emphasis: ***bold italic***
        previous = text
        text = _EMPHASIS.sub(r"\2", text)
    text = " ".join(text.split())
    while True:
        stripped = _LABEL.sub("", text).strip()
        for pair in _QUOTES:
            if len(stripped) >= 2 and stripped[0] == pair[0] and stripped[-1] == pair[-1]:
                stripped = stripped[1:-1].strip()
        if stripped == text:
            return text
        text = stripped
