"""Text for people from the core: English as it is, plus what the GUI needs to translate it."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any


class Text(str):
    """The English text (logs, the CLI and the server use it unchanged) that also keeps its
    ``context``, ``template`` and ``values``: the GUI looks the template up in its catalog
    (``QCoreApplication.translate(context, template)``) and fills in the values, which may be
    :class:`Text` too. ``tools/i18n_catalog.py`` extracts the templates from
    :func:`core_text` calls."""

    context: str
    template: str
    values: dict[str, Any]

    def __new__(cls, context: str, template: str, /, **values: Any) -> Text:
        self = super().__new__(cls, template.format(**values))
        self.context = context
        self.template = template
        self.values = values
        return self

    def with_english(self, english: str) -> Text:
        """The same message, its English worded differently (capitalised, say)."""
        text = str.__new__(Text, english)
        text.context, text.template, text.values = self.context, self.template, self.values
        return text

    def __reduce__(self) -> tuple[Any, tuple[str, str, str, dict[str, Any]]]:
        # Pickling (process pools) keeps the template and the English as worded (with_english).
        return _restore_text, (str(self), self.context, self.template, self.values)


def _restore_text(english: str, context: str, template: str, values: dict[str, Any]) -> Text:
    text = str.__new__(Text, english)
    text.context, text.template, text.values = context, template, values
    return text


def core_text(context: str, template: str, /, **values: Any) -> Text:
    """A translatable message: ``template`` must be a literal (the catalog tool reads it)."""
    return Text(context, template, **values)


def joined(parts: Sequence[str], separator: str = " ") -> Text:
    """Sentences shown together, each translated on its own (the frame itself needs none)."""
    template = separator.join(f"{{p{index}}}" for index in range(len(parts)))
    return Text("", template, **{f"p{index}": part for index, part in enumerate(parts)})


def message_of(error: BaseException) -> str:
    """An exception's message: its :class:`Text` when it was raised with one."""
    first = error.args[0] if len(error.args) == 1 else None
    return first if isinstance(first, Text) else str(error)


__all__ = ["Text", "core_text", "joined", "message_of"]
