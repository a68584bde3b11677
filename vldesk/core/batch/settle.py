"""Results that need no model: existing captions to skip, and caption files two images share."""

from __future__ import annotations

import sys
from collections.abc import Iterator, Sequence

from vldesk.core.batch.options import BatchOptions, CaptionMode
from vldesk.core.batch.outputs import caption_relpath, read_existing_caption
from vldesk.core.batch.records import ImageResult, ImageStatus, JobState


def results_without_model(
    options: BatchOptions, order: Sequence[str], state: JobState, images: Sequence[str]
) -> Iterator[tuple[str, ImageResult | None]]:
    """Each of ``images`` in turn with its result where it needs no model, else ``None``.

    ``order`` is every image of the job: the caption files of those finished earlier are taken.
    """
    # Where file names ignore case, "A.txt" and "a.txt" are one file.
    key = str.casefold if sys.platform in ("win32", "darwin") else str
    owners: dict[str, str] = {}
    for image in order:
        result = state.results.get(image)
        if result is not None and result.status is not ImageStatus.FAILED:
            owners.setdefault(key(caption_relpath(options, image)), image)
    for image in images:
        caption_file = caption_relpath(options, image)
        owner = owners.setdefault(key(caption_file), image)
        if owner != image:
            clash = (
                f"Its caption file {caption_file} is also the caption file of {owner}; "
                "rename one of the two images."
            )
            yield image, ImageResult.failure(image, clash)
            continue
        existing = None
        if options.mode is CaptionMode.SKIP:
            existing = read_existing_caption(options, image)
        skipped = ImageResult(image, ImageStatus.SKIPPED, caption=existing or "")
        yield image, skipped if existing is not None else None
