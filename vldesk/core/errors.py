"""Errors whose message is written for the person using the app, not for a developer."""

from __future__ import annotations

from vldesk.core.messages import core_text


class VldeskError(Exception):
    """Base class: ``str(error)`` is one clear sentence, fit for a dialog or a CLI line."""


class ImageLoadError(VldeskError):
    """An image file cannot be used: corrupt, truncated, unsupported, too large, not an image."""

    def __init__(self, source: str, reason: str) -> None:
        super().__init__(core_text("Images", "{source}: {reason}", source=source, reason=reason))
        self.source = source
        self.reason = reason


class ModelNotFoundError(VldeskError):
    """No installed model or folder matches what was asked for."""


class ModelLoadError(VldeskError):
    """A model folder exists but cannot be loaded (missing or broken files, unsupported type)."""


class DeviceError(VldeskError):
    """The requested device or precision is not available on this machine."""


class GenerationError(VldeskError):
    """Generation failed (out of memory, a prompt too long for the model, ...)."""


class OutOfMemoryError(GenerationError):
    """The device ran out of memory; a smaller image budget or another device may work."""


class DownloadError(VldeskError):
    """A model download failed; whatever was already downloaded is kept for the next attempt."""


class DownloadCancelled(DownloadError):
    """The download was cancelled; running it again resumes where it stopped."""


class DiskSpaceError(DownloadError):
    """Not enough free disk space for a download; nothing was started."""


class HubUnavailableError(DownloadError):
    """ModelScope could not be reached or is not answering properly (network down, hub down)."""


class RemoteModelNotFoundError(DownloadError):
    """ModelScope has no such model, or no such revision of it."""


class WriteError(VldeskError):
    """A file could not be saved (disk full, no permission, read-only); the old one is intact."""


class HistoryError(VldeskError):
    """The history database cannot be used (damaged, from a newer version, locked, disk full)."""
