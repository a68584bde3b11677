"""A captioned folder as the folder panel shows it: caption files, review state, filters (no Qt)."""

# Usable from a plain script:
#
#     folder = load_folder(Path("~/photos").expanduser())
#     for entry in folder.entries:
#         if matches(entry, CaptionFilter.NOT_REVIEWED):
#             approve(entry, folder.style)

from vldesk.core.captions.edits import approve, save_caption
from vldesk.core.captions.filters import CaptionFilter, matches
from vldesk.core.captions.folder import CaptionEntry, CaptionStyle, FolderCaptions, load_folder
from vldesk.core.captions.review import ReviewCache, ReviewState, sidecar_review

__all__ = [
    "CaptionEntry",
    "CaptionFilter",
    "CaptionStyle",
    "FolderCaptions",
    "ReviewCache",
    "ReviewState",
    "approve",
    "load_folder",
    "matches",
    "save_caption",
    "sidecar_review",
]
