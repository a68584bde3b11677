"""Load image files safely into RGB and resize them to a visual-token budget.

Only local files and in-memory bytes are accepted: nothing here (or downstream, since the engine
passes PIL images, never strings) can make a library fetch a URL.
"""

from __future__ import annotations

import io
import math
import os
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import cast

from PIL import Image, ImageFile, ImageOps, UnidentifiedImageError

from vldesk.core.errors import ImageLoadError
from vldesk.core.messages import Text, core_text

#: Refuse images above this many pixels (about 15k x 12k): Pillow's own hard limit (twice its
#: ``MAX_IMAGE_PIXELS``, about 179 MP), which refuses larger ones anyway.
DEFAULT_MAX_PIXELS = 2 * Image.MAX_IMAGE_PIXELS if Image.MAX_IMAGE_PIXELS else 178_956_970
#: The name shown for an image that came from the clipboard.
PASTED_IMAGE = core_text("Images", "pasted image")
#: Qwen's processors refuse aspect ratios above this (qwen-vl-utils ``MAX_RATIO``).
MAX_ASPECT_RATIO = 200
#: Minimum visual tokens per image, as in the Qwen processors' defaults (4 x factor^2 pixels).
MIN_IMAGE_TOKENS = 4
#: Extensions offered in file dialogs and folder scans; loading itself goes by content, not name.
IMAGE_EXTENSIONS = (
    ".jpg",
    ".jpeg",
    ".png",
    ".webp",
    ".bmp",
    ".gif",
    ".tif",
    ".tiff",
    ".jfif",
    ".ppm",
    ".pgm",
    ".tga",
    ".ico",
)

# A truncated file must be an error, never silently half-grey.
ImageFile.LOAD_TRUNCATED_IMAGES = False


@dataclass(frozen=True, eq=False)
class LoadedImage:
    """An RGB image ready for the model, with where it came from and what it was."""

    image: Image.Image
    source: str
    original_size: tuple[int, int]
    format: str | None = None
    original_mode: str = "RGB"
    frame_count: int = 1
    #: The image as a server gets it, made ahead (in another process) for one budget:
    #: (patch factor, image tokens, ``data:`` URL); ``None``: encoded when it is sent.
    wire: tuple[int, int, str] | None = None

    @property
    def size(self) -> tuple[int, int]:
        return self.image.size

    @property
    def name(self) -> str:
        return Path(self.source).name or self.source


def is_image_path(path: str | os.PathLike[str]) -> bool:
    """True when the file name has an image extension (a cheap filter for folder scans)."""
    return Path(path).suffix.lower() in IMAGE_EXTENSIONS


def load_image(
    path: str | os.PathLike[str],
    *,
    max_pixels: int = DEFAULT_MAX_PIXELS,
    draft_pixels: int | None = None,
) -> LoadedImage:
    """Open a local image file as an RGB :class:`LoadedImage`.

    Args:
        path: A local file path. It is never interpreted as a URL.
        max_pixels: Refuse images with more pixels than this (decompression bombs).
        draft_pixels: When set, JPEGs may be decoded at a reduced scale that still has at least
            this many pixels; much faster for big photos that will be shrunk anyway.

    Raises:
        ImageLoadError: with a specific reason (missing, empty, not an image, corrupt, too large).
    """
    file = Path(path)
    source = str(file)
    try:
        size = file.stat().st_size
    except FileNotFoundError:
        raise ImageLoadError(source, core_text("Images", "the file does not exist")) from None
    except OSError as exc:
        raise ImageLoadError(source, _unreadable(exc)) from None
    if file.is_dir():
        raise ImageLoadError(source, core_text("Images", "this is a folder, not an image file"))
    if size == 0:
        raise ImageLoadError(source, core_text("Images", "the file is empty"))
    try:
        data = file.read_bytes()
    except PermissionError:
        raise ImageLoadError(source, core_text("Images", "permission denied")) from None
    except OSError as exc:
        raise ImageLoadError(source, _unreadable(exc)) from None
    return load_image_bytes(data, source, max_pixels=max_pixels, draft_pixels=draft_pixels)


def load_image_bytes(
    data: bytes,
    source: str = PASTED_IMAGE,
    *,
    max_pixels: int = DEFAULT_MAX_PIXELS,
    draft_pixels: int | None = None,
) -> LoadedImage:
    """Decode image bytes (a file's content or the clipboard) into an RGB :class:`LoadedImage`."""
    if not data:
        raise ImageLoadError(source, core_text("Images", "the file is empty"))
    with warnings.catch_warnings():
        # Our own pixel cap below replaces Pillow's warning; its hard error still applies.
        warnings.simplefilter("ignore", Image.DecompressionBombWarning)
        try:
            image = Image.open(io.BytesIO(data))
        except Image.DecompressionBombError:
            raise ImageLoadError(source, _too_large_message(None, max_pixels)) from None
        except UnidentifiedImageError:
            raise ImageLoadError(
                source,
                core_text("Images", "not an image, or an image format that cannot be read"),
            ) from None
        except (OSError, ValueError, SyntaxError, EOFError) as exc:
            raise ImageLoadError(source, _decode_failure(exc)) from None

        width, height = image.size
        if width < 1 or height < 1:
            raise ImageLoadError(source, core_text("Images", "the image has no pixels"))
        if width * height > max_pixels:
            raise ImageLoadError(source, _too_large_message((width, height), max_pixels))

        fmt = image.format
        original_mode = image.mode
        frame_count = int(getattr(image, "n_frames", 1) or 1)
        try:
            if frame_count > 1:
                image.seek(0)
            # MPO is what many phones save: a JPEG with extra frames (depth map, preview).
            if draft_pixels and fmt in ("JPEG", "MPO"):
                _draft_jpeg(image, draft_pixels)
            image.load()
            oriented = _apply_orientation(image)
            rgb = to_rgb(oriented)
        except Image.DecompressionBombError:
            raise ImageLoadError(source, _too_large_message(None, max_pixels)) from None
        except (OSError, ValueError, SyntaxError, EOFError, IndexError) as exc:
            raise ImageLoadError(source, _decode_failure(exc)) from None
        except MemoryError:
            raise ImageLoadError(
                source, core_text("Images", "not enough memory to decode this image")
            ) from None
    return LoadedImage(rgb, source, (width, height), fmt, original_mode, frame_count)


def _unreadable(exc: OSError) -> Text:
    return core_text(
        "Images", "the file cannot be read ({reason})", reason=exc.strerror or str(exc)
    )


def _decode_failure(exc: BaseException) -> Text:
    """The reason for a failed decode: truncation (the common case) gets its own wording."""
    text = str(exc)
    lowered = text.lower()
    if any(
        marker in lowered
        for marker in ("truncated", "broken data stream", "end of file", "premature end")
    ) or isinstance(exc, EOFError):
        return core_text("Images", "the file is truncated (incomplete download?)")
    return core_text("Images", "the image is corrupt ({reason})", reason=text)


def _too_large_message(size: tuple[int, int] | None, max_pixels: int) -> Text:
    if size is None:
        # Pillow refused it while reading the header, at its own hard limit (twice
        # MAX_IMAGE_PIXELS), which may be below ours: name the limit that actually applied.
        pillow_limit = Image.MAX_IMAGE_PIXELS
        if pillow_limit:
            max_pixels = min(max_pixels, 2 * pillow_limit)
        return core_text(
            "Images",
            "the image is too large to open safely (over {limit:.0f} megapixels)",
            limit=max_pixels / 1e6,
        )
    width, height = size
    return core_text(
        "Images",
        "the image is too large ({width}x{height}, {size:.0f} MP; limit {limit:.0f} megapixels)",
        width=width,
        height=height,
        size=width * height / 1e6,
        limit=max_pixels / 1e6,
    )


def _draft_jpeg(image: Image.Image, draft_pixels: int) -> None:
    """Let libjpeg decode at 1/2, 1/4 or 1/8 scale while keeping at least ``draft_pixels``."""
    width, height = image.size
    scale = math.sqrt(draft_pixels / (width * height))
    if scale >= 0.5:
        return
    target = (max(1, math.ceil(width * scale)), max(1, math.ceil(height * scale)))
    image.draft("RGB", target)


def _apply_orientation(image: Image.Image) -> Image.Image:
    """Rotate/flip per the EXIF orientation tag; a broken EXIF block is ignored, not fatal."""
    try:
        return ImageOps.exif_transpose(image)
    except Exception:  # Pillow raises many types for malformed EXIF data
        return image


def to_rgb(image: Image.Image) -> Image.Image:
    """Convert any Pillow mode to 8-bit RGB the way a viewer would show it.

    Transparency is composited on white, palette images keep their colours, CMYK uses the embedded
    ICC profile when present, and 16/32-bit and float images are scaled into 0-255 (not clipped).
    """
    mode = image.mode
    if mode == "RGB":
        return image
    if mode == "P":
        image = image.convert("RGBA" if "transparency" in image.info else "RGB")
        mode = image.mode
    if mode in ("RGBA", "LA", "PA", "RGBa", "La"):
        rgba = image.convert("RGBA")
        background = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        background.alpha_composite(rgba)
        return background.convert("RGB")
    if mode == "CMYK":
        return _cmyk_to_rgb(image)
    if mode in ("I;16", "I;16L", "I;16B", "I;16N"):
        # Known 16-bit data: always the fixed 65535 -> 255 scale, so a dark scan stays dark
        # (the range guess below would show values up to 255 as full 8-bit brightness).
        return _sixteen_to_8bit(image.convert("I")).convert("RGB")
    if mode == "I":
        return _scale_to_8bit(image).convert("RGB")
    if mode == "F":
        return _scale_to_8bit(image).convert("RGB")
    return image.convert("RGB")


def _scale_to_8bit(image: Image.Image) -> Image.Image:
    """Map the image's actual value range onto 0-255 (16-bit scans, float TIFFs)."""
    # Single-band modes only reach here, so the extrema are one (min, max) pair.
    low, high = cast("tuple[float, float]", image.getextrema())
    if image.mode == "I" and low >= 0 and high <= 255:
        return image.convert("L")
    if image.mode == "I" and low >= 0 and high <= 65535:
        # 16-bit data: a fixed 65535 -> 255 scale keeps dark images dark.
        return _sixteen_to_8bit(image)
    span = high - low or 1.0
    # + 0.5: Pillow truncates when it stores the result, and we want rounding.
    return image.point(lambda v: (v - low) * (255 / span) + 0.5).convert("L")


def _sixteen_to_8bit(image: Image.Image) -> Image.Image:
    """Mode "I" holding 0-65535 to "L", rounded (32768 -> 128), never clipped."""
    return image.point(lambda v: v * (255 / 65535) + 0.5).convert("L")


def _cmyk_to_rgb(image: Image.Image) -> Image.Image:
    profile = image.info.get("icc_profile")
    if profile:
        try:
            from PIL import ImageCms

            source_profile = ImageCms.ImageCmsProfile(io.BytesIO(profile))
            srgb = ImageCms.createProfile("sRGB")
            converted = ImageCms.profileToProfile(image, source_profile, srgb, outputMode="RGB")
            if converted is not None:
                return converted
        except Exception:  # a bad profile falls back to Pillow's naive conversion
            pass
    return image.convert("RGB")


def _round_by(value: float, factor: int) -> int:
    return round(value / factor) * factor


def _ceil_by(value: float, factor: int) -> int:
    return math.ceil(value / factor) * factor


def _floor_by(value: float, factor: int) -> int:
    return math.floor(value / factor) * factor


def smart_resize(
    height: int, width: int, factor: int, min_pixels: int, max_pixels: int
) -> tuple[int, int]:
    """Qwen's resize rule (as ``qwen_vl_utils.smart_resize``): sides are multiples of ``factor``,
    the area lies in ``[min_pixels, max_pixels]`` and the aspect ratio is kept as well as possible.

    Re-implemented here because qwen-vl-utils imports torchvision, which may be missing or broken.
    """
    ratio = max(height, width) / min(height, width)
    if ratio > MAX_ASPECT_RATIO:
        raise ValueError(f"aspect ratio must be below {MAX_ASPECT_RATIO}, got {ratio}")
    h_bar = max(factor, _round_by(height, factor))
    w_bar = max(factor, _round_by(width, factor))
    if h_bar * w_bar > max_pixels:
        return _shrink_to(height, width, factor, max_pixels)
    if h_bar * w_bar < min_pixels:
        beta = math.sqrt(min_pixels / (height * width))
        h_bar = _ceil_by(height * beta, factor)
        w_bar = _ceil_by(width * beta, factor)
        if h_bar * w_bar > max_pixels:
            # Rounding up overshot a budget barely above the minimum: the budget wins.
            return _shrink_to(height, width, factor, max_pixels)
    return h_bar, w_bar


def _shrink_to(height: int, width: int, factor: int, max_pixels: int) -> tuple[int, int]:
    """The largest grid size of this shape within ``max_pixels`` (the budget is never exceeded)."""
    beta = math.sqrt((height * width) / max_pixels)
    h_bar = _floor_by(height / beta, factor)
    w_bar = _floor_by(width / beta, factor)
    # A very long, thin image under a small budget: the short side would round to 0
    # (qwen-vl-utils returns 0 there). Give it one patch row and shorten the long side so
    # the budget still holds, at the cost of some stretching.
    if h_bar < factor:
        h_bar, w_bar = factor, max(factor, _floor_by(max_pixels / factor, factor))
    elif w_bar < factor:
        h_bar, w_bar = max(factor, _floor_by(max_pixels / factor, factor)), factor
    return h_bar, w_bar


def budget_size(
    size: tuple[int, int], factor: int, max_tokens: int, min_tokens: int = MIN_IMAGE_TOKENS
) -> tuple[int, int]:
    """The (width, height) an image of ``size`` gets under a visual-token budget."""
    width, height = size
    if max(width, height) / min(width, height) > MAX_ASPECT_RATIO:
        raise ImageLoadError(
            "image",
            core_text(
                "Images",
                "the image is too long and thin ({width}x{height}); the aspect ratio must be "
                "below {ratio}:1",
                width=width,
                height=height,
                ratio=MAX_ASPECT_RATIO,
            ),
        )
    new_h, new_w = smart_resize(
        height, width, factor, min_tokens * factor * factor, max_tokens * factor * factor
    )
    return new_w, new_h


def image_token_count(size: tuple[int, int], factor: int) -> int:
    """Visual tokens an image of this (already budgeted) size costs."""
    width, height = size
    return (width // factor) * (height // factor)


def fit_to_token_budget(
    loaded: LoadedImage, factor: int, max_tokens: int, min_tokens: int = MIN_IMAGE_TOKENS
) -> Image.Image:
    """Resize to Qwen's grid under the budget; the processor then has nothing left to resize."""
    try:
        target = budget_size(loaded.image.size, factor, max_tokens, min_tokens)
    except ImageLoadError as exc:
        raise ImageLoadError(loaded.source, exc.reason) from None
    if target == loaded.image.size:
        return loaded.image
    return loaded.image.resize(target, Image.Resampling.BICUBIC, reducing_gap=3.0)
