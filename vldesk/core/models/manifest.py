"""The download manifest: what was downloaded for a catalog model, file by file."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

MANIFEST_FORMAT = 1


@dataclass(frozen=True)
class ManifestFile:
    """One downloaded file: its path inside the model folder, size and SHA-256 (lower-case hex)."""

    path: str
    size: int
    sha256: str | None


@dataclass(frozen=True)
class Manifest:
    """What was downloaded for a catalog model; its presence means every file was verified."""

    model_id: str
    revision: str
    #: The newest hub commit that touched any downloaded file, when the hub's listing says.
    commit: str | None
    endpoint: str
    downloaded_at: str
    files: tuple[ManifestFile, ...]

    @property
    def total_bytes(self) -> int:
        return sum(f.size for f in self.files)

    def to_json(self) -> dict[str, Any]:
        return {
            "format": MANIFEST_FORMAT,
            "model_id": self.model_id,
            "source": "modelscope",
            "endpoint": self.endpoint,
            "revision": self.revision,
            "commit": self.commit,
            "downloaded_at": self.downloaded_at,
            "total_bytes": self.total_bytes,
            "files": [{"path": f.path, "size": f.size, "sha256": f.sha256} for f in self.files],
        }

    @classmethod
    def from_json(cls, data: Any) -> Manifest | None:
        """Parse a manifest; ``None`` for anything malformed (it then simply does not count)."""
        if not isinstance(data, dict) or data.get("format") != MANIFEST_FORMAT:
            return None
        try:
            files = tuple(
                ManifestFile(str(f["path"]), int(f["size"]), f.get("sha256") or None)
                for f in data["files"]
            )
            return cls(
                model_id=str(data["model_id"]),
                revision=str(data["revision"]),
                commit=data.get("commit") or None,
                endpoint=str(data.get("endpoint", "")),
                downloaded_at=str(data.get("downloaded_at", "")),
                files=files,
            )
        except (KeyError, TypeError, ValueError, AttributeError):
            return None
