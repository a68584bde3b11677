"""Test photos in every embeddable format, some with metadata a camera or a person left."""

from __future__ import annotations

import io
import random
from pathlib import Path

from PIL import Image, ImageCms

FORMATS = {"jpg": "JPEG", "png": "PNG", "tiff": "TIFF", "webp": "WEBP"}


def make_photo(path: Path, size: tuple[int, int] = (64, 48), noise: bool = False) -> Path:
    """A photo (format from the suffix) with Exif: camera, date, orientation; an ICC profile."""
    if noise:
        rng = random.Random(path.name)
        image = Image.frombytes("RGB", size, rng.randbytes(size[0] * size[1] * 3))
    else:
        image = Image.new("RGB", size, (40, 120, 200))
    exif = Image.Exif()
    exif[0x010F] = "TestCam"  # Make
    exif[0x0110] = "Model 7"  # Model
    exif[0x0132] = "2024:05:01 10:20:30"  # DateTime
    exif[0x0112] = 1  # Orientation
    icc = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    buffer = io.BytesIO()
    image.save(buffer, FORMATS[path.suffix.lstrip(".")], exif=exif.tobytes(), icc_profile=icc)
    path.write_bytes(buffer.getvalue())
    return path
