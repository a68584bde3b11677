"""The image loader on real files of every awkward kind, made by Pillow in temporary folders."""

from __future__ import annotations

import io
import math
import os
import random
import re
import struct
import warnings
import zlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from PIL import Image, ImageCms, ImageFile

from vldesk.core.errors import ImageLoadError, VldeskError
from vldesk.core.images import (
    DEFAULT_MAX_PIXELS,
    MAX_ASPECT_RATIO,
    MIN_IMAGE_TOKENS,
    LoadedImage,
    budget_size,
    fit_to_token_budget,
    image_token_count,
    is_image_path,
    load_image,
    load_image_bytes,
    smart_resize,
)

RED = (255, 0, 0)
WHITE = (255, 255, 255)
FACTORS = (28, 32)


def encode(image: Image.Image, fmt: str, **options: Any) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, fmt, **options)
    return buffer.getvalue()


def write(folder: Path, name: str, data: bytes) -> Path:
    path = folder / name
    path.write_bytes(data)
    return path


def close_to(actual: tuple[int, ...], expected: tuple[int, ...], tolerance: int = 8) -> bool:
    return all(abs(a - e) <= tolerance for a, e in zip(actual, expected, strict=True))


def reason(excinfo: pytest.ExceptionInfo[ImageLoadError]) -> str:
    return excinfo.value.reason


# --- orientation -------------------------------------------------------------------------------


def marked_photo(size: tuple[int, int] = (120, 60)) -> Image.Image:
    """White, with a red square in the top-left corner as stored (before any EXIF rotation)."""
    image = Image.new("RGB", size, WHITE)
    image.paste(RED, (0, 0, size[0] // 6, size[1] // 3))
    return image


def exif_with_orientation(orientation: int) -> bytes:
    exif = Image.Exif()
    exif[0x0112] = orientation
    return exif.tobytes()


def red_corners(image: Image.Image) -> list[str]:
    width, height = image.size
    corners = {
        "top-left": (4, 4),
        "top-right": (width - 5, 4),
        "bottom-left": (4, height - 5),
        "bottom-right": (width - 5, height - 5),
    }
    return [
        name
        for name, xy in corners.items()
        if close_to(image.getpixel(xy), RED, 40)  # type: ignore[arg-type]
    ]


@pytest.mark.parametrize(
    ("orientation", "corner"),
    [(1, "top-left"), (3, "bottom-right"), (6, "top-right"), (8, "bottom-left")],
)
def test_exif_orientation_is_applied(tmp_path: Path, orientation: int, corner: str) -> None:
    data = encode(marked_photo(), "JPEG", quality=95, exif=exif_with_orientation(orientation))
    loaded = load_image(write(tmp_path, "photo.jpg", data))
    assert loaded.original_size == (120, 60)
    assert loaded.size == ((60, 120) if orientation in (6, 8) else (120, 60))
    assert red_corners(loaded.image) == [corner]
    assert loaded.format == "JPEG"
    assert loaded.image.mode == "RGB"


def test_broken_exif_is_ignored_not_fatal(tmp_path: Path) -> None:
    data = encode(marked_photo(), "JPEG", exif=b"Exif\x00\x00garbage-not-tiff")
    loaded = load_image(write(tmp_path, "photo.jpg", data))
    assert loaded.size == (120, 60)


# --- transparency and colour modes -------------------------------------------------------------


def test_palette_png_with_transparency_is_composited_on_white(tmp_path: Path) -> None:
    image = Image.new("P", (8, 8), 0)
    image.putpalette([*RED, 0, 0, 255] + [0] * (256 - 2) * 3)
    image.paste(1, (0, 0, 4, 8))  # left half blue, right half index 0 (red, transparent)
    loaded = load_image(write(tmp_path, "p.png", encode(image, "PNG", transparency=0)))
    assert loaded.original_mode == "P"
    assert loaded.image.getpixel((1, 1)) == (0, 0, 255)
    assert loaded.image.getpixel((6, 1)) == WHITE


def test_palette_without_transparency_keeps_its_colours(tmp_path: Path) -> None:
    image = Image.new("P", (4, 4), 0)
    image.putpalette([10, 200, 30] + [0] * 255 * 3)
    loaded = load_image(write(tmp_path, "p.png", encode(image, "PNG")))
    assert loaded.image.getpixel((0, 0)) == (10, 200, 30)


@pytest.mark.parametrize(
    ("alpha", "expected"),
    [(0, WHITE), (255, (200, 0, 0)), (128, (227, 127, 127))],
)
def test_rgba_is_composited_on_white(tmp_path: Path, alpha: int, expected: tuple[int, ...]) -> None:
    image = Image.new("RGBA", (4, 4), (200, 0, 0, alpha))
    loaded = load_image(write(tmp_path, "a.png", encode(image, "PNG")))
    assert loaded.original_mode == "RGBA"
    assert close_to(loaded.image.getpixel((1, 1)), expected, 1)  # type: ignore[arg-type]


@pytest.mark.parametrize(("value", "alpha", "grey"), [(0, 0, 255), (0, 255, 0), (0, 128, 127)])
def test_grey_with_alpha_is_composited_on_white(
    tmp_path: Path, value: int, alpha: int, grey: int
) -> None:
    image = Image.new("LA", (4, 4), (value, alpha))
    loaded = load_image(write(tmp_path, "la.png", encode(image, "PNG")))
    assert loaded.original_mode == "LA"
    assert close_to(loaded.image.getpixel((1, 1)), (grey,) * 3, 1)  # type: ignore[arg-type]


def cmyk_test_image() -> Image.Image:
    """Left column: white (top), cyan (bottom); right column: black ink (top), cyan (bottom)."""
    image = Image.new("CMYK", (16, 16), (255, 0, 0, 0))
    image.paste((0, 0, 0, 0), (0, 0, 8, 8))
    image.paste((0, 0, 0, 255), (8, 0, 16, 8))
    return image


def test_cmyk_jpeg_without_profile(tmp_path: Path) -> None:
    data = encode(cmyk_test_image(), "JPEG", quality=95)
    loaded = load_image(write(tmp_path, "cmyk.jpg", data))
    assert loaded.original_mode == "CMYK"
    assert close_to(loaded.image.getpixel((2, 2)), WHITE)  # type: ignore[arg-type]
    assert close_to(loaded.image.getpixel((12, 2)), (0, 0, 0))  # type: ignore[arg-type]
    assert close_to(loaded.image.getpixel((4, 12)), (0, 255, 255))  # type: ignore[arg-type]


def _s15(value: float) -> bytes:
    return struct.pack(">i", round(value * 65536))


def _lab_of_srgb(rgb: tuple[int, int, int]) -> tuple[float, float, float]:
    pixel = Image.new("RGB", (1, 1), rgb)
    srgb, lab_profile = ImageCms.createProfile("sRGB"), ImageCms.createProfile("LAB")
    lab = ImageCms.profileToProfile(pixel, srgb, lab_profile, outputMode="LAB")
    assert lab is not None
    lightness, a, b = lab.getpixel((0, 0))  # type: ignore[misc]
    return lightness * 100 / 255, a - 128, b - 128


def cmyk_icc_profile(corner: Callable[[int, int, int, int], tuple[int, int, int]]) -> bytes:
    """A minimal ICC v2 CMYK output profile: a 2-point CLUT (CMYK -> Lab) from 16 sRGB corners.

    Pillow can only create sRGB/Lab/XYZ profiles and no CMYK one ships with the system, so the
    test builds one byte by byte (header, tag table, desc, wtpt and a lut16 A2B0 tag).
    """
    clut = b""
    for c in (0, 1):
        for m in (0, 1):
            for y in (0, 1):
                for k in (0, 1):
                    lightness, a, b = _lab_of_srgb(corner(c, m, y, k))
                    clut += struct.pack(
                        ">HHH",
                        round(lightness * 0xFF00 / 100),
                        round((a + 128) * 256),
                        round((b + 128) * 256),
                    )
    identity = b"".join(_s15(v) for v in (1, 0, 0, 0, 1, 0, 0, 0, 1))
    lut = b"mft2" + bytes(4) + bytes([4, 3, 2, 0]) + identity + struct.pack(">HH", 2, 2)
    lut += struct.pack(">HH", 0, 65535) * 4 + clut + struct.pack(">HH", 0, 65535) * 3
    text = b"vldesk test CMYK\0"
    desc = b"desc" + bytes(4) + struct.pack(">I", len(text)) + text + bytes(8 + 3 + 67)
    white = _s15(0.9642) + _s15(1.0) + _s15(0.8249)
    tags = [(b"desc", desc), (b"wtpt", b"XYZ " + bytes(4) + white), (b"A2B0", lut)]
    start = 128 + 4 + 12 * len(tags)
    table, body = struct.pack(">I", len(tags)), b""
    for signature, content in tags:
        body += bytes(-(start + len(body)) % 4)
        table += signature + struct.pack(">II", start + len(body), len(content))
        body += content
    header = struct.pack(">I", start + len(body)) + bytes(4) + bytes([2, 0x10, 0, 0])
    header += b"prtrCMYKLab " + bytes(12) + b"acsp" + bytes(28) + white
    return header + bytes(128 - len(header)) + table + body


def _naive(c: int, m: int, y: int, k: int) -> tuple[int, int, int]:
    return (255 * (1 - c) * (1 - k), 255 * (1 - m) * (1 - k), 255 * (1 - y) * (1 - k))


def _cyan_prints_red(c: int, m: int, y: int, k: int) -> tuple[int, int, int]:
    return RED if (c, m, y, k) == (1, 0, 0, 0) else _naive(c, m, y, k)


def test_cmyk_jpeg_with_icc_profile_uses_the_profile(tmp_path: Path) -> None:
    sensible = cmyk_icc_profile(_naive)
    data = encode(cmyk_test_image(), "JPEG", quality=95, icc_profile=sensible)
    loaded = load_image(write(tmp_path, "cmyk-icc.jpg", data))
    assert close_to(loaded.image.getpixel((2, 2)), WHITE)  # type: ignore[arg-type]
    assert close_to(loaded.image.getpixel((12, 2)), (0, 0, 0))  # type: ignore[arg-type]
    assert close_to(loaded.image.getpixel((4, 12)), (0, 255, 255))  # type: ignore[arg-type]

    # A profile that prints cyan ink as red proves the profile, not the naive formula, is used.
    odd = cmyk_icc_profile(_cyan_prints_red)
    data = encode(cmyk_test_image(), "JPEG", quality=95, icc_profile=odd)
    loaded = load_image(write(tmp_path, "cmyk-odd.jpg", data))
    assert close_to(loaded.image.getpixel((4, 12)), RED)  # type: ignore[arg-type]
    assert close_to(loaded.image.getpixel((2, 2)), WHITE)  # type: ignore[arg-type]


def test_cmyk_with_a_broken_profile_falls_back(tmp_path: Path) -> None:
    data = encode(cmyk_test_image(), "JPEG", quality=95, icc_profile=b"not a profile" * 20)
    loaded = load_image(write(tmp_path, "cmyk-bad.jpg", data))
    assert close_to(loaded.image.getpixel((4, 12)), (0, 255, 255))  # type: ignore[arg-type]


def test_16_bit_grey_png_is_scaled_not_clipped(tmp_path: Path) -> None:
    image = Image.new("I;16", (3, 1))
    image.putpixel((0, 0), 0)
    image.putpixel((1, 0), 32768)
    image.putpixel((2, 0), 65535)
    loaded = load_image(write(tmp_path, "deep.png", encode(image, "PNG")))
    assert loaded.original_mode.startswith("I;16")
    values = [loaded.image.getpixel((x, 0)) for x in range(3)]
    assert values == [(0, 0, 0), (128, 128, 128), WHITE]


def test_dark_16_bit_image_stays_dark(tmp_path: Path) -> None:
    # 200/65535 is nearly black; it must not be mistaken for 8-bit data and shown as grey 200.
    image = Image.new("I;16", (2, 2), 200)
    loaded = load_image(write(tmp_path, "dark.png", encode(image, "PNG")))
    assert loaded.image.getpixel((0, 0)) == (1, 1, 1)


def test_float_tiff_is_scaled_to_its_range(tmp_path: Path) -> None:
    image = Image.new("F", (10, 1), -0.5)
    for x in range(10):
        image.putpixel((x, 0), -0.5 + x * (1.5 / 9))  # -0.5 .. 1.0
    loaded = load_image(write(tmp_path, "float.tif", encode(image, "TIFF")))
    assert loaded.original_mode == "F"
    row = [loaded.image.getpixel((x, 0))[0] for x in range(10)]  # type: ignore[index]
    assert row[0] == 0
    assert row[-1] == 255
    assert row == sorted(row)
    assert abs(row[5] - round(5 * 255 / 9)) <= 1


def test_one_bit_and_grayscale(tmp_path: Path) -> None:
    bilevel = Image.new("1", (10, 10), 1)
    bilevel.paste(0, (0, 0, 5, 10))
    loaded = load_image(write(tmp_path, "bw.png", encode(bilevel, "PNG")))
    assert loaded.original_mode == "1"
    assert loaded.image.getpixel((1, 1)) == (0, 0, 0)
    assert loaded.image.getpixel((8, 1)) == WHITE

    grey = Image.new("L", (4, 4), 77)
    loaded = load_image(write(tmp_path, "grey.jpg", encode(grey, "JPEG", quality=100)))
    assert loaded.original_mode == "L"
    assert close_to(loaded.image.getpixel((1, 1)), (77, 77, 77), 1)  # type: ignore[arg-type]


# --- animation ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fmt", "options"), [("GIF", {}), ("WEBP", {"lossless": True}), ("PNG", {})]
)
def test_animations_use_the_first_frame(tmp_path: Path, fmt: str, options: dict[str, Any]) -> None:
    frames = [Image.new("RGB", (16, 16), colour) for colour in (RED, (0, 255, 0), (0, 0, 255))]
    data = encode(frames[0], fmt, save_all=True, append_images=frames[1:], duration=100, **options)
    loaded = load_image(write(tmp_path, f"anim.{fmt.lower()}", data))
    assert loaded.frame_count == 3
    assert loaded.image.getpixel((8, 8)) == RED
    assert loaded.format == fmt


def test_still_image_has_one_frame(tmp_path: Path) -> None:
    loaded = load_image(write(tmp_path, "one.gif", encode(Image.new("RGB", (4, 4)), "GIF")))
    assert loaded.frame_count == 1


# --- size limits -------------------------------------------------------------------------------


def _png_header_only(width: int, height: int) -> bytes:
    """A PNG that claims these dimensions but carries almost no pixel data (a bomb's header)."""

    def chunk(kind: bytes, payload: bytes) -> bytes:
        crc = struct.pack(">I", zlib.crc32(kind + payload))
        return struct.pack(">I", len(payload)) + kind + payload + crc

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", ihdr)
        + chunk(b"IDAT", zlib.compress(b"\0" * 64))
        + chunk(b"IEND", b"")
    )


@pytest.fixture
def no_decoding(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(self: ImageFile.ImageFile) -> None:
        raise AssertionError("the image was decoded")

    monkeypatch.setattr(ImageFile.ImageFile, "load", refuse)


@pytest.mark.usefixtures("no_decoding")
def test_over_our_pixel_cap_is_refused_without_decoding(tmp_path: Path) -> None:
    path = write(tmp_path, "big.png", encode(Image.new("RGB", (200, 100)), "PNG"))
    with pytest.raises(ImageLoadError, match="too large") as excinfo:
        load_image(path, max_pixels=10_000)
    assert "200x100" in reason(excinfo)


@pytest.mark.usefixtures("no_decoding")
def test_decompression_bomb_header_is_refused(tmp_path: Path) -> None:
    path = write(tmp_path, "bomb.png", _png_header_only(100_000, 100_000))
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # Pillow's DecompressionBombWarning must not escape either
        with pytest.raises(ImageLoadError, match="too large") as excinfo:
            load_image(path)
    assert isinstance(excinfo.value, VldeskError)


@pytest.mark.usefixtures("no_decoding")
def test_bomb_between_pillow_warning_and_our_cap_is_refused_by_ours(tmp_path: Path) -> None:
    # 150 MP: above Pillow's warning threshold (89 MP), below its hard error (179 MP).
    path = write(tmp_path, "bomb.png", _png_header_only(15_000, 10_000))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(ImageLoadError, match=r"15000x10000.*limit 100 megapixels"):
            load_image(path, max_pixels=100_000_000)


@pytest.mark.usefixtures("no_decoding")
def test_pillow_hard_limit_names_the_limit_that_applied(tmp_path: Path) -> None:
    # 182 MP is under our default 200 MP cap but over Pillow's hard limit; say which one applied.
    path = write(tmp_path, "bomb.png", _png_header_only(14_000, 13_000))
    assert Image.MAX_IMAGE_PIXELS is not None
    pillow_mp = f"{2 * Image.MAX_IMAGE_PIXELS / 1e6:.0f} megapixels"
    with pytest.raises(ImageLoadError, match=f"too large.*{pillow_mp}"):
        load_image(path)


# --- broken and wrong files --------------------------------------------------------------------


@pytest.fixture
def noisy_jpeg() -> bytes:
    return encode(Image.effect_noise((160, 120), 60).convert("RGB"), "JPEG", quality=90)


@pytest.fixture
def noisy_png() -> bytes:
    return encode(Image.effect_noise((160, 120), 60).convert("RGB"), "PNG")


@pytest.mark.parametrize("fixture", ["noisy_jpeg", "noisy_png"])
def test_truncated_files(tmp_path: Path, request: pytest.FixtureRequest, fixture: str) -> None:
    data: bytes = request.getfixturevalue(fixture)
    assert load_image_bytes(data).size == (160, 120)  # the whole file is fine
    for cut in (len(data) // 2, 100):
        path = write(tmp_path, f"cut{cut}", data[:cut])
        with pytest.raises(ImageLoadError) as excinfo:
            load_image(path)
        assert reason(excinfo) == "the file is truncated (incomplete download?)"
        assert str(path) in str(excinfo.value)


def test_corrupt_bytes(tmp_path: Path, noisy_jpeg: bytes) -> None:
    rng = random.Random(7)
    garbage = bytes(rng.randrange(256) for _ in range(2000))
    with pytest.raises(ImageLoadError, match="not an image"):
        load_image(write(tmp_path, "noise.png", garbage))
    # A real JPEG header followed by a zeroed-out body: recognised, then fails to decode.
    body_wiped = noisy_jpeg[:400] + bytes(len(noisy_jpeg) - 800) + noisy_jpeg[-400:]
    with pytest.raises(ImageLoadError, match="the image is corrupt"):
        load_image(write(tmp_path, "wiped.jpg", body_wiped))


def test_text_file_renamed_to_jpg(tmp_path: Path) -> None:
    path = tmp_path / "notes.jpg"
    path.write_text("These are my notes, not a photo.\n" * 10, encoding="utf-8")
    with pytest.raises(ImageLoadError) as excinfo:
        load_image(path)
    assert reason(excinfo) == "not an image, or an image format that cannot be read"


def test_empty_missing_and_folder(tmp_path: Path) -> None:
    with pytest.raises(ImageLoadError) as excinfo:
        load_image(write(tmp_path, "empty.png", b""))
    assert reason(excinfo) == "the file is empty"
    with pytest.raises(ImageLoadError) as excinfo:
        load_image(tmp_path / "nowhere.png")
    assert reason(excinfo) == "the file does not exist"
    with pytest.raises(ImageLoadError) as excinfo:
        load_image(tmp_path)
    assert reason(excinfo) == "this is a folder, not an image file"


def test_unreadable_file(tmp_path: Path) -> None:
    path = write(tmp_path, "secret.png", encode(Image.new("RGB", (4, 4)), "PNG"))
    path.chmod(0)
    try:
        if os.access(path, os.R_OK):
            pytest.skip("running with privileges that can read a chmod 000 file (root?)")
        with pytest.raises(ImageLoadError) as excinfo:
            load_image(path)
        assert reason(excinfo) == "permission denied"
    finally:
        path.chmod(0o600)


def test_error_message_is_one_sentence_naming_the_file(tmp_path: Path) -> None:
    with pytest.raises(ImageLoadError) as excinfo:
        load_image(tmp_path / "gone.jpg")
    message = str(excinfo.value)
    assert message == f"{tmp_path / 'gone.jpg'}: the file does not exist"
    assert "\n" not in message


def test_paths_are_never_urls(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ImageLoadError, match="does not exist"):
        load_image("https://example.com/cat.jpg")


# --- clipboard bytes ---------------------------------------------------------------------------


def test_load_image_bytes_for_clipboard_data() -> None:
    data = encode(Image.new("RGBA", (30, 20), (0, 0, 255, 255)), "PNG")
    loaded = load_image_bytes(data)
    assert isinstance(loaded, LoadedImage)
    assert loaded.source == "pasted image"
    assert loaded.name == "pasted image"
    assert loaded.size == (30, 20)
    assert loaded.image.mode == "RGB"
    assert loaded.image.getpixel((0, 0)) == (0, 0, 255)
    with pytest.raises(ImageLoadError, match="empty"):
        load_image_bytes(b"")
    with pytest.raises(ImageLoadError, match=r"^clipboard: not an image"):
        load_image_bytes(b"plain text", "clipboard")


def test_is_image_path() -> None:
    assert is_image_path("a/b/Photo.JPG")
    assert is_image_path(Path("scan.tiff"))
    assert not is_image_path("notes.txt")
    assert not is_image_path("jpg")


# --- JPEG draft mode ---------------------------------------------------------------------------


def big_photo(size: tuple[int, int]) -> Image.Image:
    image = Image.linear_gradient("L").resize(size).convert("RGB")
    image.paste(RED, (0, 0, size[0] // 6, size[1] // 3))
    return image


def test_jpeg_draft_decodes_at_reduced_size(tmp_path: Path) -> None:
    path = write(tmp_path, "big.jpg", encode(big_photo((4000, 3000)), "JPEG", quality=80))
    full = load_image(path)
    assert full.size == (4000, 3000)
    drafted = load_image(path, draft_pixels=500_000)
    assert drafted.original_size == (4000, 3000)
    assert drafted.size == (1000, 750)  # libjpeg's 1/4 scale: the smallest with >= 500k pixels
    assert drafted.size[0] * drafted.size[1] >= 500_000
    # A draft that would not shrink by at least half is not worth it.
    assert load_image(path, draft_pixels=7_000_000).size == (4000, 3000)


def test_jpeg_draft_with_orientation(tmp_path: Path) -> None:
    data = encode(big_photo((2400, 1200)), "JPEG", exif=exif_with_orientation(6))
    loaded = load_image(write(tmp_path, "big.jpg", data), draft_pixels=40_000)
    assert loaded.size == (150, 300)  # 1/8 scale, then rotated
    assert red_corners(loaded.image) == ["top-right"]


def test_draft_does_not_apply_to_png(tmp_path: Path) -> None:
    path = write(tmp_path, "big.png", encode(Image.new("RGB", (2000, 1000)), "PNG"))
    assert load_image(path, draft_pixels=10_000).size == (2000, 1000)


# --- resizing to a token budget ----------------------------------------------------------------


def random_sizes(count: int, seed: int) -> list[tuple[int, int]]:
    rng = random.Random(seed)
    sizes: list[tuple[int, int]] = []
    while len(sizes) < count:
        width = int(math.exp(rng.uniform(0, math.log(9000))))
        height = int(math.exp(rng.uniform(0, math.log(9000))))
        if max(width, height) / min(width, height) <= MAX_ASPECT_RATIO:
            sizes.append((width, height))
    return sizes


@pytest.mark.parametrize("factor", FACTORS)
@pytest.mark.parametrize("max_tokens", [4, 16, 64, 256, 1024, 16384])
def test_budget_size_rules(factor: int, max_tokens: int) -> None:
    for size in random_sizes(400, seed=factor * max_tokens):
        width, height = budget_size(size, factor, max_tokens)
        assert width % factor == 0
        assert height % factor == 0
        assert width >= factor
        assert height >= factor
        assert image_token_count((width, height), factor) <= max(max_tokens, 1)


@pytest.mark.parametrize("factor", FACTORS)
def test_budget_keeps_the_aspect_ratio_within_one_patch(factor: int) -> None:
    for width, height in random_sizes(400, seed=factor):
        new_w, new_h = budget_size((width, height), factor, 1024)
        if min(new_w, new_h) == factor:
            continue  # one patch row: the shape cannot be kept any closer
        # Some single scale s puts both sides within one patch of s x the original side.
        low = max((new_w - factor) / width, (new_h - factor) / height)
        high = min((new_w + factor) / width, (new_h + factor) / height)
        assert low <= high, (width, height, new_w, new_h)


@pytest.mark.parametrize("factor", FACTORS)
def test_tiny_images_are_scaled_up_to_the_minimum(factor: int) -> None:
    for size in [(1, 1), (5, 3), (10, 40), (27, 27), (factor, factor)]:
        new = budget_size(size, factor, 1024)
        assert image_token_count(new, factor) >= MIN_IMAGE_TOKENS
    assert budget_size((1, 1), factor, 1024) == (2 * factor, 2 * factor)


@pytest.mark.parametrize("factor", FACTORS)
def test_large_photo_is_brought_under_the_budget(factor: int) -> None:
    width, height = budget_size((4032, 3024), factor, 1024)
    assert image_token_count((width, height), factor) <= 1024
    assert image_token_count((width, height), factor) > 900  # not needlessly small
    assert abs(width / height - 4 / 3) < 0.05


def test_very_long_thin_image_under_a_small_budget_stays_within_it() -> None:
    # qwen-vl-utils would return a side of 0 here.
    assert budget_size((5600, 28), 28, 4) == (4 * 28, 28)
    assert budget_size((28, 5600), 28, 4) == (28, 4 * 28)


def test_300_to_1_image_is_refused_clearly() -> None:
    with pytest.raises(ImageLoadError) as excinfo:
        budget_size((3000, 10), 28, 1024)
    assert "too long and thin" in str(excinfo.value)
    assert f"{MAX_ASPECT_RATIO}:1" in str(excinfo.value)
    with pytest.raises(ValueError, match="aspect ratio"):
        smart_resize(10, 3000, 28, 4 * 28 * 28, 1024 * 28 * 28)
    loaded = LoadedImage(Image.new("RGB", (3000, 10)), "/photos/strip.png", (3000, 10))
    with pytest.raises(ImageLoadError, match=r"^/photos/strip\.png: the image is too long"):
        fit_to_token_budget(loaded, 28, 1024)


@pytest.mark.parametrize("factor", FACTORS)
def test_fit_to_token_budget_resizes_the_image(factor: int) -> None:
    loaded = load_image_bytes(encode(big_photo((1000, 700)), "PNG"))
    fitted = fit_to_token_budget(loaded, factor, 256)
    assert fitted.size == budget_size((1000, 700), factor, 256)
    assert fitted.mode == "RGB"
    # Already on the grid and within budget: the same image object, no resampling.
    on_grid = LoadedImage(Image.new("RGB", (4 * factor, 3 * factor)), "x", (4 * factor, 3 * factor))
    assert fit_to_token_budget(on_grid, factor, 256) is on_grid.image


@pytest.mark.parametrize("factor", FACTORS)
def test_smart_resize_matches_qwen_vl_utils(factor: int) -> None:
    vision_process = pytest.importorskip("qwen_vl_utils.vision_process")
    compared = 0
    for max_tokens in (16, 256, 1024, 16384):
        min_pixels, max_pixels = 4 * factor * factor, max_tokens * factor * factor
        for width, height in random_sizes(1000, seed=max_tokens + factor):
            ours = smart_resize(height, width, factor, min_pixels, max_pixels)
            theirs = vision_process.smart_resize(height, width, factor, min_pixels, max_pixels)
            if min(theirs) < factor or theirs[0] * theirs[1] > max_pixels:
                # qwen-vl-utils breaks its own rules here (a zero side); ours must not.
                assert min(ours) >= factor
                assert ours[0] * ours[1] <= max_pixels
                continue
            assert ours == tuple(theirs), (height, width, max_tokens)
            compared += 1
    assert compared > 3500  # most sizes; the rest are long thin ones under a 16-token budget


def test_the_readme_states_the_pixel_limit_that_applies() -> None:
    readme = (Path(__file__).parents[2] / "README.md").read_text(encoding="utf-8")
    stated = re.search(r"Images over (\d+) megapixels", readme)
    assert stated is not None
    assert int(stated.group(1)) == round(DEFAULT_MAX_PIXELS / 1e6)
    # Pillow's own hard limit is no lower than ours: ours is the one a user meets.
    assert not Image.MAX_IMAGE_PIXELS or DEFAULT_MAX_PIXELS <= 2 * Image.MAX_IMAGE_PIXELS
