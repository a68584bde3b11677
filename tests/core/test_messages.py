"""Core messages: English as they are, with what the GUI needs to translate them."""

from __future__ import annotations

import pickle

from vldesk.core.errors import ImageLoadError
from vldesk.core.messages import Text, core_text, joined, message_of


def test_a_message_is_its_english_and_keeps_its_template_and_values() -> None:
    text = core_text("Images", "the image is corrupt ({reason})", reason="bad huffman")
    assert text == "the image is corrupt (bad huffman)"
    assert (text.context, text.template, text.values) == (
        "Images",
        "the image is corrupt ({reason})",
        {"reason": "bad huffman"},
    )


def test_an_error_raised_with_a_message_gives_it_back_with_its_parts() -> None:
    error = ImageLoadError("a.png", core_text("Images", "the file is empty"))
    message = message_of(error)
    assert isinstance(message, Text)
    assert str(error) == "a.png: the file is empty"
    assert message.values["reason"].template == "the file is empty"
    assert message_of(ValueError("plain")) == "plain"


def test_messages_survive_pickling_and_rewording() -> None:
    text = core_text("Batch", "{count} at once", count=3)
    copy = pickle.loads(pickle.dumps(text))
    assert (copy, copy.template, copy.values) == ("3 at once", "{count} at once", {"count": 3})
    shouted = text.with_english("3 AT ONCE")
    assert shouted == "3 AT ONCE"
    assert shouted.template == "{count} at once"
    # A reworded message crosses a process pool as worded (the batch's worker processes).
    sent = pickle.loads(pickle.dumps(shouted))
    assert (sent, sent.template, sent.context) == ("3 AT ONCE", "{count} at once", "Batch")


def test_joined_sentences_stay_separately_translatable() -> None:
    parts = [core_text("ModelFolder", "A."), "B."]
    text = joined(parts)
    assert text == "A. B."
    assert text.values == {"p0": parts[0], "p1": "B."}
