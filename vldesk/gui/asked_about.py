"""How an answer was asked (model family, image budget, region), as history keeps it."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from PySide6.QtCore import QCoreApplication

from vldesk.core.grounding import RegionQuestion
from vldesk.core.history_records import StoredMessage
from vldesk.core.models.catalog import Family

#: The key of a question's region in its stored settings. No new column: older history files
#: need no migration (they simply have no region).
REGION_KEY = "region"
#: The key of the answering model's family in an answer's stored stats.
FAMILY_KEY = "family"


@dataclass(frozen=True)
class AskedAbout:
    """What an answer's coordinates are relative to: the model family, the image budget the
    question was sent with, and the region it was about (with its crop's size as sent)."""

    max_image_tokens: int
    family: Family | None = None
    region: RegionQuestion | None = None
    crop_size: tuple[int, int] | None = None


def stored_regions(messages: Sequence[StoredMessage]) -> dict[int, RegionQuestion]:
    """The regions of stored questions, by the message's index."""
    found = {}
    for index, message in enumerate(messages):
        region = RegionQuestion.from_dict(message.settings.get(REGION_KEY))
        if region is not None:
            found[index] = region
    return found


def last_answer_asked(messages: Sequence[StoredMessage]) -> AskedAbout | None:
    """How the last answer of a stored conversation was asked; ``None`` when it is not known
    (answers saved before the family was recorded, or no answer)."""
    for index in range(len(messages) - 1, 0, -1):
        answer, question = messages[index], messages[index - 1]
        if answer.role != "assistant":
            continue
        try:
            family = Family(str((answer.stats or {}).get(FAMILY_KEY)))
            # The answer's own budget: a retry or a regenerate may have changed it since
            # the question was written (older answers only have the question's).
            tokens = int(
                answer.settings.get("max_image_tokens")
                or question.settings.get("max_image_tokens", 0)
            )
        except (ValueError, TypeError):
            return None
        if question.role != "user" or tokens < 1:
            return None
        region = RegionQuestion.from_dict(question.settings.get(REGION_KEY))
        # The GUI crops the full-resolution image: the crop is the region's size.
        crop_size = region.region.size if region is not None else None
        return AskedAbout(tokens, family, region, crop_size)
    return None


def shown_question(question: str, region: RegionQuestion | None) -> str:
    """The question as the conversation shows it: a region question says which region."""
    if region is None:
        return question
    left, top, right, bottom = region.region.box
    label = QCoreApplication.translate("ChatSession", "Region {0}×{1} px at ({2}, {3}):").format(
        right - left, bottom - top, left, top
    )
    return f"{label} {question}"


def settings_with_region(
    settings: Mapping[str, object], region: RegionQuestion | None
) -> dict[str, object]:
    """A question's settings as stored: with its region, when it was about one."""
    stored = dict(settings)
    if region is not None:
        stored[REGION_KEY] = region.to_dict()
    return stored
