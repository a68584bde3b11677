"""The review state of a caption, read from vldesk's XMP sidecar without parsing XMP."""

# Where the review state lives: in the sidecar ``photo.jpg.xmp`` (``vldesk:Reviewed``), the file
# vldesk writes and darktable/digiKam read, so it travels with the photos and no second store
# can disagree with it. Filtering 10,000 images by it stays fast because:
# * the folder is listed once, so an image without a sidecar, usually most of them, costs
#   nothing: no stat, no open;
# * a sidecar is a few KB: its bytes are searched for ``vldesk:Reviewed`` with a regular
#   expression (both ways XMP writes a simple property: an attribute or an element) instead
#   of being parsed by exiv2, and nothing reads the photo itself;
# * results are cached by the sidecar's (mtime, size), so refreshing reads only what changed.
# An embedded-only review state (``vldesk batch --xmp embed``) is therefore not seen: the panel
# writes its approvals to the sidecar (the photo is never rewritten by approving).

from __future__ import annotations

import os
import re
import threading
from enum import Enum
from pathlib import Path

from vldesk.core.metadata import sidecar_path
from vldesk.core.metadata.sidecar import SIDECAR_SUFFIX

_REVIEWED = re.compile(rb"vldesk:Reviewed\s*(?:=\s*[\"']|>)\s*(True|False)")
#: Sidecars larger than this are not vldesk's alone; only their start is searched.
_READ_LIMIT = 1 << 20


class ReviewState(str, Enum):
    #: No caption by vldesk in the sidecar (no sidecar, or another program's).
    NONE = "none"
    #: Written by the model, not approved yet.
    PENDING = "pending"
    #: A person approved or edited it.
    REVIEWED = "reviewed"


def sidecar_review(image: str | os.PathLike[str]) -> ReviewState:
    """The review state recorded in ``image``'s sidecar; unreadable counts as none."""
    try:
        with open(sidecar_path(image), "rb") as handle:
            data = handle.read(_READ_LIMIT)
    except OSError:
        return ReviewState.NONE
    found = _REVIEWED.search(data)
    if found is None:
        return ReviewState.NONE
    return ReviewState.REVIEWED if found.group(1) == b"True" else ReviewState.PENDING


class ReviewCache:
    """Review states by sidecar, re-read only when the sidecar's mtime or size changed.

    Thread-safe: the folder is loaded on a background thread while the GUI thread may ask.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._known: dict[str, tuple[int, int, ReviewState]] = {}

    def state(self, image: Path, *, has_sidecar: bool = True) -> ReviewState:
        """``has_sidecar=False`` (from a folder listing) answers without touching the disk."""
        sidecar = str(image) + SIDECAR_SUFFIX  # sidecar_path's name, without pathlib's cost
        try:
            if not has_sidecar:
                raise FileNotFoundError(sidecar)
            stat = os.stat(sidecar)
        except OSError:
            with self._lock:
                self._known.pop(sidecar, None)
            return ReviewState.NONE
        with self._lock:
            cached = self._known.get(sidecar)
        if cached is not None and cached[:2] == (stat.st_mtime_ns, stat.st_size):
            return cached[2]
        state = sidecar_review(image)
        with self._lock:
            self._known[sidecar] = (stat.st_mtime_ns, stat.st_size, state)
        return state
