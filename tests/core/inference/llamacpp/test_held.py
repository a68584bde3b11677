"""What llama.cpp's memory holds and how much of a follow-up's prompt it stands for."""

from __future__ import annotations

import pytest
from PIL import Image

from vldesk.core.inference.llamacpp.held import HeldSequence, ImageKey, Item, Resume, image_digest

PHOTO = ImageKey("photo", 64)
OTHER = ImageKey("other", 64)


def holding(items: list[Item], image_positions: int = 10) -> HeldSequence:
    """``items`` read one after another; each image takes ``image_positions`` positions."""
    held = HeldSequence()
    for item in items:
        if isinstance(item, ImageKey):
            held.add(item, held.position + image_positions)
        else:
            held.add_tokens([item])
    return held


def test_positions_and_tokens_follow_the_items() -> None:
    held = holding([1, 2, PHOTO, 3])
    assert len(held) == 4
    assert held.position == 2 + 10 + 1  # M-RoPE: the image's 64 tokens take 10 positions
    assert held.tokens == 2 + 64 + 1
    with pytest.raises(ValueError, match="does not follow"):
        held.add(4, held.position)


def test_a_follow_up_continues_after_the_last_answer() -> None:
    # The first prompt, then its answer's tokens (the last one, never read, is not held).
    held = holding([1, 2, PHOTO, 3, 4, 50, 51])
    follow_up: list[Item] = [1, 2, PHOTO, 3, 4, 50, 51, 52, 9, 1, 4]
    assert held.resume(follow_up) == Resume(7, 2 + 10 + 4, 2 + 64 + 4)


def test_the_prompt_is_shared_up_to_the_first_different_token() -> None:
    held = holding([1, 2, PHOTO, 3, 4, 50, 51])
    # The answer re-tokenized differently from how it was generated: continue from there.
    assert held.resume([1, 2, PHOTO, 3, 4, 57, 51, 52]) == Resume(5, 14, 68)
    # An edited earlier turn, before the image: the image is read again.
    assert held.resume([1, 7, PHOTO, 3, 4]) == Resume(1, 1, 1)
    assert held.resume([8, 2, PHOTO, 3]) == Resume(0, 0, 0)


def test_a_different_image_is_never_held() -> None:
    held = holding([1, 2, PHOTO, 3, 4])
    assert held.resume([1, 2, OTHER, 3, 4, 5]) == Resume(2, 2, 2)
    assert held.resume([1, 2, ImageKey("photo", 16), 3, 4, 5]) == Resume(2, 2, 2)


def test_a_prompt_held_whole_still_reads_its_last_item() -> None:
    held = holding([1, 2, PHOTO, 3, 4, 50])
    # Asked again: llama.cpp gives logits only for a token it reads.
    assert held.resume([1, 2, PHOTO, 3, 4]) == Resume(4, 13, 67)
    assert held.resume([1]) == Resume(0, 0, 0)
    assert held.resume([]) == Resume(0, 0, 0)


def test_cut_forgets_what_follows() -> None:
    held = holding([1, 2, PHOTO, 3, 4])
    held.cut(3)
    assert held.items == [1, 2, PHOTO]
    assert (held.position, held.tokens) == (12, 66)
    held.add_tokens([5])
    assert held.items == [1, 2, PHOTO, 5]
    assert held.position == 13
    held.cut(0)
    assert (len(held), held.position, held.tokens) == (0, 0, 0)


def test_the_image_digest_tells_pixels_and_sizes_apart() -> None:
    red = Image.new("RGB", (32, 16), (200, 0, 0))
    assert image_digest(red) == image_digest(red.copy())
    other = red.copy()
    other.putpixel((31, 15), (200, 0, 1))
    assert image_digest(other) != image_digest(red)
    # The same bytes laid out in another shape are another image.
    assert image_digest(Image.new("RGB", (16, 32), (200, 0, 0))) != image_digest(red)
