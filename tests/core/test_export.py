"""Exports to .txt and .md: the right content, links that work, and atomic, safe writing."""

from __future__ import annotations

import errno
import os
from datetime import datetime, timedelta, timezone
from html.parser import HTMLParser
from pathlib import Path, PureWindowsPath
from typing import Any
from urllib.parse import unquote

import pytest

from vldesk.core.errors import VldeskError, WriteError
from vldesk.core.export import (
    ExportEntry,
    export_entries,
    image_link,
    render_markdown,
    render_text,
)

WHEN = datetime(2025, 3, 4, 15, 6, 7)
STATS = {
    "prompt_tokens": 300,
    "new_tokens": 42,
    "total_s": 3.21,
    "decode_tokens_per_s": 14.2,
    "time_to_first_token_s": 0.5,
    "device": "cpu",
    "peak_memory_bytes": None,
}


def entry(image: Path | None = Path("/photos/cat.png"), **changes: Any) -> ExportEntry:
    values: dict[str, Any] = {
        "image_path": image,
        "turns": [("user", "What is in this image?"), ("assistant", "A cat on a **red** sofa.")],
        "model": "Qwen/Qwen3-VL-2B-Instruct",
        "date": WHEN,
        "settings": {"greedy": True, "max_new_tokens": 512},
        "stats": dict(STATS),
    }
    values.update(changes)
    return ExportEntry(**values)


def markdown_images(markdown: str) -> list[tuple[str, str]]:
    """(alt, decoded src) of every image, as a CommonMark renderer shows them."""
    markdown_it = pytest.importorskip("markdown_it")
    html = markdown_it.MarkdownIt("commonmark").render(markdown)
    found: list[tuple[str, str]] = []

    class Images(HTMLParser):
        def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
            if tag == "img":
                values = dict(attrs)
                found.append((values["alt"] or "", unquote(values["src"] or "")))

    Images().feed(html)
    return found


# --- plain text --------------------------------------------------------------------------------


def test_text_contains_everything() -> None:
    text = render_text([entry()])
    assert text == (
        "Image: /photos/cat.png\n"
        "Model: Qwen/Qwen3-VL-2B-Instruct\n"
        "Date: 2025-03-04 15:06\n"
        "Settings: greedy=True, max_new_tokens=512\n"
        "\n"
        "Prompt:\n"
        "What is in this image?\n"
        "\n"
        "Answer:\n"
        "A cat on a **red** sofa.\n"
        "\n"
        "Stats: 42 tokens in 3.21 s (14.2 tokens/s), first token after 0.5 s; "
        "prompt_tokens=300, device=cpu\n"
    )


def test_text_several_entries_and_turns() -> None:
    follow_up = entry(
        Path("/photos/dog.jpg"),
        turns=[
            ("system", "Answer in French."),
            ("user", "Describe."),
            ("assistant", "Un chien."),
            ("user", "Colour?"),
            ("assistant", "Brun."),
        ],
        settings={},
        stats=None,
    )
    text = render_text([entry(), follow_up])
    first, second = text.split("\n\n" + "=" * 72 + "\n\n")
    assert "cat.png" in first
    assert "dog.jpg" not in first
    assert second.index("System prompt:") < second.index("Describe.") < second.index("Brun.")
    assert "Settings" not in second
    assert "Stats" not in second
    assert render_text([]) == ""


def test_pasted_image_and_aware_dates() -> None:
    aware = WHEN.replace(tzinfo=timezone(timedelta(hours=8)))
    text = render_text([entry(None, date=aware)])
    assert "Image: (pasted)" in text
    assert "Date: 2025-03-04 15:06+08:00" in text


# --- Markdown ----------------------------------------------------------------------------------


def test_markdown_contains_everything(tmp_path: Path) -> None:
    image = tmp_path / "cat.png"
    markdown = render_markdown([entry(image)], relative_to=tmp_path)
    assert markdown.startswith("## cat.png\n\n![cat.png](cat.png)\n")
    assert "**Model:** `Qwen/Qwen3-VL-2B-Instruct`" in markdown
    assert "**Date:** 2025-03-04 15:06" in markdown
    assert "**Settings:** `greedy=True, max_new_tokens=512`" in markdown
    assert "**Prompt:**\n\n> What is in this image?" in markdown
    assert "**Answer:**\n\nA cat on a **red** sofa." in markdown  # the answer's Markdown kept
    assert "42 tokens in 3.21 s" in markdown
    assert markdown_images(markdown) == [("cat.png", "cat.png")]


@pytest.mark.parametrize(
    "name",
    [
        "my photo.png",
        "holiday (1).jpg",
        "a(b)c) d.png",
        "50% off [sale] #1.png",
        "照片 2024.jpeg",
        'quote\'s "x" `y`.png',
        "back\\slash.png" if os.name != "nt" else "plain.png",
    ],
)
def test_markdown_image_links_survive_odd_names(tmp_path: Path, name: str) -> None:
    folder = tmp_path / "my images (2024)"
    folder.mkdir()
    image = folder / name
    markdown = render_markdown([entry(image)], relative_to=tmp_path)
    [(alt, src)] = markdown_images(markdown)
    assert alt == name
    assert src == f"my images (2024)/{name}"
    assert (tmp_path / src) == image


def test_markdown_links_up_and_absolute() -> None:
    image = Path("/data/photos/cat 1.png")
    assert image_link(image, Path("/data/exports")) == "../photos/cat%201.png"
    assert image_link(image, None) == "/data/photos/cat%201.png"
    markdown = render_markdown([entry(image)], relative_to=None)
    assert markdown_images(markdown) == [("cat 1.png", "/data/photos/cat 1.png")]
    # Windows drive paths (on another drive than the export) become file URIs.
    windows = PureWindowsPath("D:/Pictures/cat (1).png")
    assert image_link(windows, None) == "file:///D:/Pictures/cat%20%281%29.png"


def test_markdown_user_text_is_quoted_line_by_line() -> None:
    prompt = "First line.\n\n# not a heading\n- item"
    markdown = render_markdown([entry(turns=[("user", prompt)])])
    assert "> First line.\n>\n> # not a heading\n> - item" in markdown


def test_markdown_unclosed_code_fence_in_an_answer_is_closed() -> None:
    cut_short = 'Here is the table:\n\n```json\n{"a": 1,'
    first = entry(turns=[("assistant", cut_short)])
    markdown = render_markdown([first, entry(Path("/photos/next.png"))])
    assert '{"a": 1,\n```\n' in markdown
    assert "## next.png" in markdown
    # A complete fence is left alone.
    whole = "```\ncode\n```"
    assert render_markdown([entry(turns=[("assistant", whole)])]).count("```") == 2


def test_markdown_escapes_names_and_model() -> None:
    odd = entry(Path("/p/*bold* [x]_y_.png"), model="weird`model")
    markdown = render_markdown([odd])
    assert "## \\*bold\\* \\[x\\]\\_y\\_.png" in markdown
    assert "``weird`model``" in markdown
    assert markdown_images(markdown)[0][0] == "*bold* [x]_y_.png"


def test_markdown_several_entries_are_separated() -> None:
    markdown = render_markdown([entry(), entry(None, stats=None)])
    assert markdown.count("\n---\n") == 1
    assert "## pasted image" in markdown
    assert render_markdown([]) == ""


# --- writing files -----------------------------------------------------------------------------


@pytest.mark.parametrize("suffix", [".txt", ".TXT", ".md", ".markdown"])
def test_export_chooses_the_format_by_suffix(tmp_path: Path, suffix: str) -> None:
    image = tmp_path / "pics" / "a b.png"
    path = tmp_path / f"export{suffix}"
    export_entries([entry(image)], path)
    written = path.read_text(encoding="utf-8")
    if suffix.lower() == ".txt":
        assert written == render_text([entry(image)])
    else:
        assert written == render_markdown([entry(image)], relative_to=tmp_path)
        assert "](pics/a%20b.png)" in written


@pytest.mark.parametrize("name", ["export.pdf", "export", "export.md.bak"])
def test_export_refuses_other_suffixes(tmp_path: Path, name: str) -> None:
    with pytest.raises(WriteError) as excinfo:
        export_entries([entry()], tmp_path / name)
    assert isinstance(excinfo.value, VldeskError)
    assert str(excinfo.value) == (
        f"Cannot export to {name}: the file name must end in .txt or .md."
    )
    assert list(tmp_path.iterdir()) == []


def test_export_writes_utf8(tmp_path: Path) -> None:
    path = tmp_path / "中文.md"
    export_entries([entry(turns=[("user", "这是什么？"), ("assistant", "一只猫。")])], path)
    assert "一只猫。" in path.read_bytes().decode("utf-8")


@pytest.mark.parametrize("failing", ["write", "fsync", "replace"])
def test_disk_full_leaves_the_previous_export_intact(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, failing: str
) -> None:
    path = tmp_path / "export.md"
    export_entries([entry()], path)
    before = path.read_bytes()

    def full(*args: Any, **kwargs: Any) -> Any:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, failing, full)
    with pytest.raises(WriteError) as excinfo:
        export_entries([entry(Path("/other.png"))] * 50, path)
    monkeypatch.undo()
    assert str(excinfo.value) == f"The disk is full: could not save {path}."
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["export.md"]


def test_disk_full_on_a_new_export_leaves_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def full(*args: Any) -> int:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "write", full)
    with pytest.raises(WriteError, match="disk is full"):
        export_entries([entry()], tmp_path / "new.txt")
    monkeypatch.undo()
    assert list(tmp_path.iterdir()) == []
