"""Write a caption, keywords and their provenance into XMP (sidecar or embedded), atomically."""

# python-exiv2 (docs/metadata.md says why) rewrites the metadata in memory; the file is then
# replaced with atomic_write_bytes, so a crash leaves the old file or the new one, never a mix,
# and libexiv2 keeps every tag it is not asked to change.

from __future__ import annotations

import contextlib
import hashlib
import os
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone
from enum import Enum
from pathlib import Path
from typing import Any

from vldesk import __version__
from vldesk.core.atomic import atomic_write_bytes
from vldesk.core.errors import VldeskError
from vldesk.core.messages import core_text
from vldesk.core.metadata.sidecar import existing_sidecars, sidecar_path

#: vldesk's own XMP namespace (an ``.invalid`` host: it names, it is never fetched).
VLDESK_NAMESPACE = "https://vldesk.invalid/ns/xmp/1.0/"
VLDESK_PREFIX = "vldesk"
#: IPTC's term for content made by a trained model (the NewsCodes digital source type).
TRAINED_ALGORITHMIC_MEDIA = "http://cv.iptc.org/newscodes/digitalsourcetype/trainedAlgorithmicMedia"
DEFAULT_LANGUAGE = "x-default"
#: What some cameras put in Exif ImageDescription by themselves: not a person's description.
CAMERA_PLACEHOLDERS = frozenset(
    {"", "olympus digital camera", "sony dsc", "digital camera", "camera", "default"}
)

_DESCRIPTION = "Xmp.dc.description"
_SUBJECT = "Xmp.dc.subject"
_SOURCE_TYPE = "Xmp.Iptc4xmpExt.DigitalSourceType"
_EXIF_DESCRIPTION = "Exif.Image.ImageDescription"
_IPTC_CAPTION = "Iptc.Application2.Caption"
_IPTC_CHARSET = "Iptc.Envelope.CharacterSet"
_UTF8_ESCAPE = "\x1b%G"  # ISO 2022 escape for UTF-8: IPTC readers assume Latin-1 without it


def _vldesk_key(name: str) -> str:
    return f"Xmp.{VLDESK_PREFIX}.{name}"


_REVIEWED = _vldesk_key("Reviewed")
_DIGEST = _vldesk_key("DescriptionDigest")
_OWN_KEYWORDS = _vldesk_key("Keywords")
_PROVENANCE = {
    "model": _vldesk_key("Model"),
    "prompt": _vldesk_key("Prompt"),
    "date": _vldesk_key("Date"),
    "generator": _vldesk_key("Generator"),
    "source": _vldesk_key("CaptionSourceType"),
}
#: The model's own text, kept when a person edits the caption (the folder panel).
_MODEL_TEXT = _vldesk_key("ModelText")


class MetadataError(VldeskError):
    """Metadata could not be read or written; the file is unchanged."""


class MetadataMode(str, Enum):
    """Where the caption goes."""

    #: ``photo.jpg.xmp`` beside the photo; the photo itself is never opened for writing.
    SIDECAR = "sidecar"
    #: Inside the file (JPEG, PNG, TIFF, WebP and the other formats exiv2 writes).
    EMBED = "embed"


@dataclass(frozen=True)
class Caption:
    """A caption to write. ``descriptions`` maps an XMP language (``x-default``, ``zh-CN``)
    to text; without ``x-default`` the first language also becomes the default."""

    descriptions: Mapping[str, str]
    keywords: tuple[str, ...] = ()
    model: str = ""
    prompt: str = ""
    date: datetime = field(default_factory=lambda: datetime.now(timezone.utc))
    #: A person approved (or wrote) this text; it is then protected like any human description.
    reviewed: bool = False
    #: Also write Exif ImageDescription / IPTC Caption-Abstract (older tools read only these).
    exif_description: bool = False
    iptc_caption: bool = False
    #: Iptc4xmpExt:DigitalSourceType describes the *image*: trainedAlgorithmicMedia there tells
    #: photo services the picture itself is AI-made. The caption's origin is always recorded in
    #: vldesk:CaptionSourceType; set this only for images a model generated.
    image_source_type: str | None = None
    #: The model's original caption, kept beside an edited one; empty keeps what is stored.
    model_text: str = ""

    def language_alternatives(self) -> dict[str, str]:
        texts = {lang: text.strip() for lang, text in self.descriptions.items() if text.strip()}
        if not texts:
            raise ValueError("a caption needs a non-empty description")
        if DEFAULT_LANGUAGE not in texts:
            texts = {DEFAULT_LANGUAGE: next(iter(texts.values())), **texts}
        return texts


class WriteStatus(str, Enum):
    WRITTEN = "written"
    #: A description a person wrote (or reviewed) is there; nothing was changed.
    SKIPPED_HUMAN = "skipped-human"


@dataclass(frozen=True)
class WriteResult:
    image: Path
    status: WriteStatus
    #: The file written (the sidecar or the image), or the one holding the human description.
    target: Path
    existing_description: str = ""


@dataclass(frozen=True)
class StoredCaption:
    """What a file's metadata says about its caption (see :func:`read_caption`)."""

    source: Path
    descriptions: dict[str, str]
    keywords: tuple[str, ...]
    #: None: not written by vldesk (a person's or another tool's description).
    reviewed: bool | None
    model: str = ""
    prompt: str = ""
    date: str = ""
    #: The model's original text when a person edited the caption (``""``: not edited).
    model_text: str = ""


# exiv2's XMP toolkit must be initialised once, before any thread uses it.
_init_lock = threading.Lock()
_initialised = False


def _exiv2() -> Any:
    global _initialised
    import exiv2

    with _init_lock:
        if not _initialised:
            exiv2.XmpParser.initialize()
            exiv2.XmpProperties.registerNs(VLDESK_NAMESPACE, VLDESK_PREFIX)
            _initialised = True
    return exiv2


class _Metadata:
    """One file's metadata opened in memory by exiv2; :meth:`data` returns the rewritten file."""

    def __init__(self, content: bytes, source: Path) -> None:
        exiv2 = _exiv2()
        self.source = source
        # libexiv2 reads from this buffer in place: it must live as long as the image.
        self._content = content
        try:
            self.image = exiv2.ImageFactory.open(content)
            self.image.readMetadata()
        except exiv2.Exiv2Error as exc:
            raise MetadataError(
                core_text(
                    "Metadata",
                    "{file}: the metadata cannot be read ({reason})",
                    file=str(source),
                    reason=str(exc),
                )
            ) from None

    @classmethod
    def new_sidecar(cls, source: Path) -> _Metadata:
        exiv2 = _exiv2()
        self = cls.__new__(cls)
        self.source = source
        self.image = exiv2.ImageFactory.create(exiv2.ImageType.xmp)
        return self

    @property
    def xmp(self) -> Any:
        return self.image.xmpData()

    def text(self, key: str) -> str:
        data = self._container(key)
        found = data.findKey(self._key_type(key)(key))
        return "" if found == data.end() else str(found.toString()).strip()

    def descriptions(self) -> dict[str, str]:
        found = self.xmp.findKey(_exiv2().XmpKey(_DESCRIPTION))
        if found == self.xmp.end():
            return {}
        value = found.value()
        if hasattr(value, "keys"):
            return {str(k): str(v) for k, v in dict(value).items() if str(v).strip()}
        return {DEFAULT_LANGUAGE: str(found.toString())}

    def bag(self, key: str) -> tuple[str, ...]:
        found = self.xmp.findKey(_exiv2().XmpKey(key))
        if found == self.xmp.end():
            return ()
        return tuple(str(found.toString(i)) for i in range(found.count()))

    def set_text(self, key: str, text: str) -> None:
        self._container(key)[key] = text

    def set_bag(self, key: str, items: Iterable[str]) -> None:
        self.remove(key)
        items = list(items)
        if items:
            exiv2 = _exiv2()
            value = exiv2.XmpArrayValue(exiv2.TypeId.xmpBag)
            for item in items:
                value.read(item)
            self.xmp[key] = value

    def set_descriptions(self, texts: Mapping[str, str]) -> None:
        self.remove(_DESCRIPTION)
        value = _exiv2().LangAltValue()
        for language, text in texts.items():
            value.read(f'lang="{language}" {text}')
        self.xmp[_DESCRIPTION] = value

    def remove(self, key: str) -> None:
        data = self._container(key)
        found = data.findKey(self._key_type(key)(key))
        while found != data.end():
            data.erase(found)
            found = data.findKey(self._key_type(key)(key))

    def data(self) -> bytes:
        exiv2 = _exiv2()
        try:
            self.image.writeMetadata()
        except exiv2.Exiv2Error as exc:
            raise MetadataError(
                core_text(
                    "Metadata",
                    "{file}: the metadata cannot be written ({reason})",
                    file=str(self.source),
                    reason=str(exc),
                )
            ) from None
        io = self.image.io()
        view = io.mmap()
        try:
            return bytes(view)
        finally:
            view.release()
            io.munmap()

    def _container(self, key: str) -> Any:
        if key.startswith("Xmp."):
            return self.image.xmpData()
        if key.startswith("Exif."):
            return self.image.exifData()
        return self.image.iptcData()

    @staticmethod
    def _key_type(key: str) -> Any:
        exiv2 = _exiv2()
        if key.startswith("Xmp."):
            return exiv2.XmpKey
        return exiv2.ExifKey if key.startswith("Exif.") else exiv2.IptcKey


def _open(path: Path) -> _Metadata:
    try:
        content = path.read_bytes()
    except OSError as exc:
        raise MetadataError(
            core_text(
                "Metadata",
                "{file}: the file cannot be read ({reason})",
                file=str(path),
                reason=str(exc.strerror or exc),
            )
        ) from None
    return _Metadata(content, path)


def _digest(text: str) -> str:
    return hashlib.sha256(text.strip().encode("utf-8")).hexdigest()[:16]


def human_description(metadata: _Metadata) -> str:
    """The description in ``metadata`` that a person wrote or approved, or ``""``.

    A description is vldesk's (and may be replaced) only while it is marked not reviewed and
    every description field still holds exactly the text vldesk wrote (its digest matches):
    a person who edits it in digiKam or Lightroom makes it theirs.
    """
    texts = list(metadata.descriptions().values())
    texts += [metadata.text(_IPTC_CAPTION)]
    exif = metadata.text(_EXIF_DESCRIPTION)
    if exif.lower() not in CAMERA_PLACEHOLDERS:
        texts.append(exif)
    texts = [text for text in texts if text.strip()]
    if not texts:
        return ""
    ours = metadata.text(_REVIEWED) == "False"
    digests = set(metadata.bag(_DIGEST))
    if ours and all(_digest(text) in digests for text in texts):
        return ""
    return texts[0]


def _apply(metadata: _Metadata, caption: Caption, *, embedded: bool) -> None:
    texts = caption.language_alternatives()
    metadata.set_descriptions(texts)
    # Keep keywords a person added; replace only the ones vldesk added last time.
    previous_own = set(metadata.bag(_OWN_KEYWORDS))
    kept = [word for word in metadata.bag(_SUBJECT) if word not in previous_own]
    new = [word.strip() for word in caption.keywords if word.strip()]
    metadata.set_bag(_SUBJECT, dict.fromkeys(kept + new))
    metadata.set_bag(_OWN_KEYWORDS, dict.fromkeys(new))
    default_text = texts[DEFAULT_LANGUAGE]
    previous_digests = set(metadata.bag(_DIGEST))

    def update(key: str, wanted: bool) -> bool:
        # A field still holding vldesk's previous caption follows the new one: never stale.
        old = metadata.text(key)
        return embedded and (wanted or (bool(old) and _digest(old) in previous_digests))

    if update(_EXIF_DESCRIPTION, caption.exif_description):
        metadata.set_text(_EXIF_DESCRIPTION, default_text)
    if update(_IPTC_CAPTION, caption.iptc_caption):
        metadata.set_text(_IPTC_CHARSET, _UTF8_ESCAPE)
        metadata.set_text(_IPTC_CAPTION, default_text)
    metadata.set_bag(_DIGEST, sorted({_digest(text) for text in texts.values()}))
    metadata.set_text(_REVIEWED, str(caption.reviewed))
    for key, value in (("model", caption.model), ("prompt", caption.prompt)):
        if value:
            metadata.set_text(_PROVENANCE[key], value)
        else:
            metadata.remove(_PROVENANCE[key])
    metadata.set_text(_PROVENANCE["date"], caption.date.isoformat(timespec="seconds"))
    metadata.set_text(_PROVENANCE["generator"], f"vldesk {__version__}")
    metadata.set_text(_PROVENANCE["source"], TRAINED_ALGORITHMIC_MEDIA)
    if caption.image_source_type:
        metadata.set_text(_SOURCE_TYPE, caption.image_source_type)
    if caption.model_text.strip():
        metadata.set_text(_MODEL_TEXT, caption.model_text.strip())


def write_caption(
    image: str | os.PathLike[str],
    caption: Caption,
    mode: MetadataMode = MetadataMode.SIDECAR,
    *,
    overwrite_human: bool = False,
) -> WriteResult:
    """Write ``caption`` for ``image``; a description a person wrote is kept (status
    ``SKIPPED_HUMAN``) unless ``overwrite_human``.

    Raises:
        MetadataError: unreadable file, or a format exiv2 cannot write into (use a sidecar).
        WriteError: the file could not be saved; the previous file is untouched.
    """
    path = Path(image)
    if mode is MetadataMode.EMBED:
        metadata = _open(path)
        human = human_description(metadata)
        if human and not overwrite_human:
            return WriteResult(path, WriteStatus.SKIPPED_HUMAN, path, human)
        _apply(metadata, caption, embedded=True)
        atomic_write_bytes(path, metadata.data())
        return WriteResult(path, WriteStatus.WRITTEN, path)

    if not path.is_file():
        raise MetadataError(
            core_text(
                "Metadata",
                "{file}: the photo does not exist, so it gets no sidecar",
                file=str(path),
            )
        )
    target = sidecar_path(path)
    if not overwrite_human:
        for source in _description_sources(path):
            human = human_description(source)
            if human:
                return WriteResult(path, WriteStatus.SKIPPED_HUMAN, source.source, human)
    metadata = _open(target) if target.is_file() else _Metadata.new_sidecar(target)
    _apply(metadata, caption, embedded=False)
    atomic_write_bytes(target, metadata.data())
    return WriteResult(path, WriteStatus.WRITTEN, target)


def _description_sources(image: Path) -> list[_Metadata]:
    """The sidecars, then the image itself (a format exiv2 cannot read has no description)."""
    sources = [_open(sidecar) for sidecar in existing_sidecars(image)]
    with contextlib.suppress(MetadataError):
        sources.append(_open(image))
    return sources


def read_caption(image: str | os.PathLike[str]) -> StoredCaption | None:
    """The first caption found: ``photo.jpg.xmp``, ``photo.xmp``, then the image's own XMP."""
    for metadata in _description_sources(Path(image)):
        stored = _stored(metadata)
        if stored is not None:
            return stored
    return None


def read_sidecar(image: str | os.PathLike[str]) -> StoredCaption | None:
    """The caption in the sidecar vldesk writes (``photo.jpg.xmp``) only; the photo is not read.

    Raises:
        MetadataError: the sidecar exists but cannot be read.
    """
    target = sidecar_path(image)
    return _stored(_open(target)) if target.is_file() else None


def _stored(metadata: _Metadata) -> StoredCaption | None:
    descriptions = metadata.descriptions()
    if not descriptions:
        return None
    reviewed = metadata.text(_REVIEWED)
    return StoredCaption(
        source=metadata.source,
        descriptions=descriptions,
        keywords=metadata.bag(_SUBJECT),
        reviewed=None if reviewed not in ("True", "False") else reviewed == "True",
        model=metadata.text(_PROVENANCE["model"]),
        prompt=metadata.text(_PROVENANCE["prompt"]),
        date=metadata.text(_PROVENANCE["date"]),
        model_text=metadata.text(_MODEL_TEXT),
    )


def mark_reviewed(image: str | os.PathLike[str], reviewed: bool = True) -> Path:
    """Set the review state of vldesk's caption for ``image``; returns the file changed.

    Raises:
        MetadataError: no caption written by vldesk was found.
    """
    for metadata in _description_sources(Path(image)):
        if metadata.text(_REVIEWED) in ("True", "False"):
            metadata.set_text(_REVIEWED, str(reviewed))
            atomic_write_bytes(metadata.source, metadata.data())
            return metadata.source
    raise MetadataError(
        core_text(
            "Metadata",
            "{file}: there is no caption written by vldesk to mark as reviewed",
            file=str(image),
        )
    )
