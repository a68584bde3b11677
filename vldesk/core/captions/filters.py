"""Which captions the folder panel shows: all, no caption, failed, not reviewed, a word."""

from __future__ import annotations

from enum import Enum

from vldesk.core.captions.folder import CaptionEntry
from vldesk.core.captions.review import ReviewState


class CaptionFilter(str, Enum):
    ALL = "all"
    NO_CAPTION = "no-caption"
    #: The latest batch job of the folder failed the image.
    FAILED = "failed"
    NOT_REVIEWED = "not-reviewed"


def matches(entry: CaptionEntry, kind: CaptionFilter, word: str = "") -> bool:
    """Whether ``entry`` passes the filter and contains ``word`` (case-insensitive, if given)."""
    if kind is CaptionFilter.NO_CAPTION and entry.caption is not None:
        return False
    if kind is CaptionFilter.FAILED and entry.error is None:
        return False
    # A caption waiting for a person: there is one, and it is not approved yet.
    if kind is CaptionFilter.NOT_REVIEWED and (
        entry.caption is None or entry.review is ReviewState.REVIEWED
    ):
        return False
    word = word.strip().casefold()
    return not word or word in (entry.caption or "").casefold()
