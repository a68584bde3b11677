"""Export conversations (image, prompts, answers, model, date) to plain text or Markdown files."""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path, PurePath
from typing import Any

from vldesk.core.atomic import atomic_write_text
from vldesk.core.errors import WriteError
from vldesk.core.generation import StopReason

#: Suffix (lower case) -> format name; the format is chosen by the file name alone.
EXPORT_FORMATS = {".txt": "text", ".md": "markdown", ".markdown": "markdown"}

_ROLE_LABELS = {"user": "Prompt", "assistant": "Answer", "system": "System prompt"}
#: How an answer that ended early is marked (by its ``StopReason`` value).
_STOP_MARKS = {
    StopReason.CANCELLED.value: "stopped",
    StopReason.MAX_TOKENS.value: "cut off at the token limit",
}
_TEXT_RULE = "=" * 72
# Characters that end or break a Markdown link destination, or that renderers would decode.
_UNSAFE_IN_LINK = re.compile(r"[\s()<>\[\]\\%#?\"'`\x00-\x1f\x7f]")
_FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})", re.MULTILINE)


@dataclass
class ExportEntry:
    """One conversation about one image, as exported; plain data, built by the GUI or history."""

    image_path: Path | None
    #: (role, text) in order: role is "user", "assistant" or "system".
    turns: list[tuple[str, str]]
    model: str
    date: datetime
    settings: dict[str, Any] = field(default_factory=dict)
    stats: dict[str, Any] | None = None
    #: Index in :attr:`turns` -> why that answer ended (a ``StopReason`` value); answers the
    #: user stopped or the token limit cut off are marked so in the export.
    stop_reasons: dict[int, str] = field(default_factory=dict)

    def label(self, index: int) -> str:
        """The heading of turn ``index``: its role, and how it ended when that was early."""
        role = self.turns[index][0]
        mark = _STOP_MARKS.get(self.stop_reasons.get(index, "")) if role == "assistant" else None
        return f"{_role_label(role)} ({mark})" if mark else _role_label(role)

    @property
    def image_name(self) -> str:
        return self.image_path.name if self.image_path is not None else "pasted image"


def render_text(entries: Iterable[ExportEntry]) -> str:
    """Plain text: one block per entry, separated by a rule of ``=``."""
    blocks = []
    for entry in entries:
        lines = [f"Image: {entry.image_path if entry.image_path is not None else '(pasted)'}"]
        lines.append(f"Model: {entry.model}")
        lines.append(f"Date: {_format_date(entry.date)}")
        if entry.settings:
            lines.append(f"Settings: {_format_mapping(entry.settings)}")
        for index, (_role, text) in enumerate(entry.turns):
            lines += ["", f"{entry.label(index)}:", text.strip("\n")]
        if entry.stats:
            lines += ["", f"Stats: {_format_stats(entry.stats)}"]
        blocks.append("\n".join(lines))
    return f"\n\n{_TEXT_RULE}\n\n".join(blocks) + "\n" if blocks else ""


def render_markdown(entries: Iterable[ExportEntry], relative_to: Path | None = None) -> str:
    """Markdown: a section per entry with the image, the prompts and answers, model and date.

    Args:
        relative_to: The folder the Markdown file will be in; image links are made relative to
            it so the export can be moved together with its images. ``None``: absolute links.
    """
    sections = []
    for entry in entries:
        parts = [f"## {_escape_inline(entry.image_name)}"]
        if entry.image_path is not None:
            alt = _escape_inline(entry.image_name)
            parts.append(f"![{alt}]({image_link(entry.image_path, relative_to)})")
        meta = f"**Model:** {_code_span(entry.model)}  \n**Date:** {_format_date(entry.date)}"
        if entry.settings:
            meta += f"  \n**Settings:** {_code_span(_format_mapping(entry.settings))}"
        parts.append(meta)
        for index, (role, text) in enumerate(entry.turns):
            body = text.strip("\n")
            if role == "user" or role == "system":
                # The person's words: quoted, so they read as the question, not as the answer.
                body = "\n".join(f"> {line}".rstrip() for line in body.splitlines()) or ">"
            else:
                body = _close_fences(body)  # the model's Markdown is kept as it is
            parts.append(f"**{entry.label(index)}:**\n\n{body}")
        if entry.stats:
            parts.append(f"*{_escape_inline(_format_stats(entry.stats))}*")
        sections.append("\n\n".join(parts))
    return "\n\n---\n\n".join(sections) + "\n" if sections else ""


def export_entries(entries: Sequence[ExportEntry], path: str | os.PathLike[str]) -> None:
    """Write ``entries`` to ``path`` as text or Markdown (by its suffix), atomically.

    Raises:
        WriteError: the suffix is not .txt/.md, or the file could not be written (the previous
            file, if any, is untouched).
    """
    target = Path(path)
    kind = EXPORT_FORMATS.get(target.suffix.lower())
    if kind is None:
        raise WriteError(f"Cannot export to {target.name}: the file name must end in .txt or .md.")
    if kind == "markdown":
        text = render_markdown(entries, relative_to=target.absolute().parent)
    else:
        text = render_text(entries)
    atomic_write_text(target, text)


def image_link(image: PurePath, relative_to: PurePath | None) -> str:
    """A Markdown link destination for ``image`` that survives spaces, brackets and non-ASCII."""
    if relative_to is not None:
        try:
            relative = os.path.relpath(os.path.abspath(image), os.path.abspath(relative_to))
        except ValueError:  # Windows: another drive; no relative path exists
            relative = None
        if relative is not None:
            return _escape_link(PurePath(relative).as_posix())
    if image.drive:
        # Windows: "C:/..." would read as a URL scheme "c:"; a file URI is unambiguous.
        return image.as_uri() if image.is_absolute() else _escape_link(image.as_posix())
    # POSIX: a plain absolute path; many renderers refuse file: URIs (markdown-it does).
    return _escape_link(image.as_posix())


def _escape_link(destination: str) -> str:
    # Percent-encoding works in every renderer; <...> destinations are not universal.
    return _UNSAFE_IN_LINK.sub(lambda m: "".join(f"%{b:02X}" for b in m[0].encode()), destination)


def _escape_inline(text: str) -> str:
    """Escape characters that would start Markdown syntax inside a heading, alt text or line."""
    text = " ".join(text.split())  # no line breaks inside one-line elements
    return re.sub(r"([\\`*_\[\]<>#|!])", r"\\\1", text)


def _code_span(text: str) -> str:
    # A code span needs a backtick run longer than any inside it.
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    ticks = "`" * (longest + 1)
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return f"{ticks}{pad}{text}{pad}{ticks}"


def _close_fences(markdown: str) -> str:
    """Close a code fence the answer left open (it was cut short) so it can't swallow the rest."""
    open_fence: str | None = None
    for match in _FENCE.finditer(markdown):
        fence = match.group(1)
        if open_fence is None:
            open_fence = fence
        elif fence[0] == open_fence[0] and len(fence) >= len(open_fence):
            open_fence = None
    return markdown if open_fence is None else f"{markdown}\n{open_fence}"


def _role_label(role: str) -> str:
    return _ROLE_LABELS.get(role, role.capitalize() or "Message")


def _format_date(date: datetime) -> str:
    return date.isoformat(sep=" ", timespec="minutes")


def _format_value(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.3g}"
    return str(value)


def _format_mapping(values: Mapping[str, Any]) -> str:
    return ", ".join(f"{key}={_format_value(value)}" for key, value in values.items())


def _format_stats(stats: Mapping[str, Any]) -> str:
    """``GenerationStats.to_dict()`` as a sentence; any other keys as key=value."""
    parts = []
    known = {"new_tokens", "total_s", "decode_tokens_per_s", "time_to_first_token_s"}
    if "new_tokens" in stats and "total_s" in stats:
        line = f"{stats['new_tokens']} tokens in {_format_value(float(stats['total_s']))} s"
        if "decode_tokens_per_s" in stats:
            line += f" ({_format_value(float(stats['decode_tokens_per_s']))} tokens/s)"
        if "time_to_first_token_s" in stats:
            ttft = _format_value(float(stats["time_to_first_token_s"]))
            line += f", first token after {ttft} s"
        parts.append(line)
    else:
        known = set()
    rest = {key: value for key, value in stats.items() if key not in known and value is not None}
    if rest:
        parts.append(_format_mapping(rest))
    return "; ".join(parts)
