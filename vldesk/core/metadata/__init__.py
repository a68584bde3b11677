"""Photo metadata: captions, keywords and review state in XMP sidecars or embedded XMP."""

from vldesk.core.metadata.sidecar import sidecar_candidates, sidecar_path
from vldesk.core.metadata.xmp import (
    TRAINED_ALGORITHMIC_MEDIA,
    Caption,
    MetadataError,
    MetadataMode,
    StoredCaption,
    WriteResult,
    WriteStatus,
    mark_reviewed,
    read_caption,
    read_sidecar,
    write_caption,
)

__all__ = [
    "TRAINED_ALGORITHMIC_MEDIA",
    "Caption",
    "MetadataError",
    "MetadataMode",
    "StoredCaption",
    "WriteResult",
    "WriteStatus",
    "mark_reviewed",
    "read_caption",
    "read_sidecar",
    "sidecar_candidates",
    "sidecar_path",
    "write_caption",
]
