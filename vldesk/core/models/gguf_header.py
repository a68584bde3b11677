"""Reading a GGUF file's header without llama.cpp: its metadata and the size its tensors need."""

from __future__ import annotations

import struct
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

#: The first four bytes of every GGUF file.
GGUF_MAGIC = b"GGUF"
_DEFAULT_ALIGNMENT = 32
#: Counts above these are a damaged header, not a real file (real ones are far smaller).
_MAX_TENSORS = 1_000_000
_MAX_KEYS = 100_000
_MAX_STRING = 64 * 1024 * 1024

#: ggml's tensor types: (elements per block, bytes per block), as gguf-py's GGML_QUANT_SIZES.
_TYPE_SIZES: dict[int, tuple[int, int]] = {
    0: (1, 4),  # F32
    1: (1, 2),  # F16
    2: (32, 18),  # Q4_0
    3: (32, 20),  # Q4_1
    6: (32, 22),  # Q5_0
    7: (32, 24),  # Q5_1
    8: (32, 34),  # Q8_0
    9: (32, 40),  # Q8_1
    10: (256, 84),  # Q2_K
    11: (256, 110),  # Q3_K
    12: (256, 144),  # Q4_K
    13: (256, 176),  # Q5_K
    14: (256, 210),  # Q6_K
    15: (256, 292),  # Q8_K
    16: (256, 66),  # IQ2_XXS
    17: (256, 74),  # IQ2_XS
    18: (256, 98),  # IQ3_XXS
    19: (256, 50),  # IQ1_S
    20: (32, 18),  # IQ4_NL
    21: (256, 110),  # IQ3_S
    22: (256, 82),  # IQ2_S
    23: (256, 136),  # IQ4_XS
    24: (1, 1),  # I8
    25: (1, 2),  # I16
    26: (1, 4),  # I32
    27: (1, 8),  # I64
    28: (1, 8),  # F64
    29: (256, 56),  # IQ1_M
    30: (1, 2),  # BF16
    34: (256, 54),  # TQ1_0
    35: (256, 66),  # TQ2_0
    39: (32, 17),  # MXFP4
    40: (64, 36),  # NVFP4
    41: (128, 18),  # Q1_0
}

#: GGUF metadata value types with a fixed size: struct format by type number.
_SCALARS = {
    0: "<B",
    1: "<b",
    2: "<H",
    3: "<h",
    4: "<I",
    5: "<i",
    6: "<f",
    7: "<?",
    10: "<Q",
    11: "<q",
    12: "<d",
}
_STRING = 8
_ARRAY = 9


class GgufHeaderError(ValueError):
    """The file is not a readable GGUF file; ``incomplete`` when it ends inside its header."""

    def __init__(self, message: str, *, incomplete: bool = False) -> None:
        super().__init__(message)
        self.incomplete = incomplete


@dataclass(frozen=True)
class GgufHeader:
    """What a GGUF header says: scalar and string metadata, and the file's complete size."""

    version: int
    tensor_count: int
    #: Scalar and string values by key; arrays (the vocabulary...) are skipped.
    metadata: dict[str, object]
    #: Where the last tensor's data ends: a complete file is at least this long.
    data_end: int
    alignment: int

    @property
    def padded_end(self) -> int:
        """The data end rounded up to the alignment: writers may pad the last tensor."""
        return -(-self.data_end // self.alignment) * self.alignment

    def text(self, key: str) -> str:
        value = self.metadata.get(key)
        return value if isinstance(value, str) else ""

    def number(self, key: str) -> int | None:
        value = self.metadata.get(key)
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            return None
        return int(value)


class _Reader:
    def __init__(self, handle: BinaryIO) -> None:
        self.handle = handle

    def take(self, count: int) -> bytes:
        data = self.handle.read(count)
        if len(data) < count:
            raise GgufHeaderError("it ends inside its header", incomplete=True)
        return data

    def unpack(self, fmt: str) -> int | float | bool:
        value: int | float | bool = struct.unpack(fmt, self.take(struct.calcsize(fmt)))[0]
        return value

    def count(self, limit: int, what: str) -> int:
        value = int(self.unpack("<Q"))
        if value > limit:
            raise GgufHeaderError(f"its header is damaged ({value:,} {what})")
        return value

    def string(self) -> str:
        data = self.take(self.count(_MAX_STRING, "bytes in one string"))
        return data.decode("utf-8", errors="replace")

    def skip(self, count: int) -> None:
        if count < 4096:
            self.take(count)
        else:
            self._skip_far(count)

    def _skip_far(self, count: int) -> None:
        start = self.handle.tell()
        self.handle.seek(count, 1)
        # Seeking past the end succeeds: read one byte back to see the file is that long.
        self.handle.seek(start + count - 1)
        self.take(1)

    def value(self, kind: int) -> object:
        if kind in _SCALARS:
            return self.unpack(_SCALARS[kind])
        if kind == _STRING:
            return self.string()
        if kind == _ARRAY:
            item = int(self.unpack("<I"))
            length = self.count(1 << 32, "array items")
            if item in _SCALARS:
                self.skip(length * struct.calcsize(_SCALARS[item]))
            elif item == _STRING:
                for _ in range(length):
                    self.skip(self.count(_MAX_STRING, "bytes in one string"))
            else:
                raise GgufHeaderError(f"its header is damaged (array of type {item})")
            return None
        raise GgufHeaderError(f"its header is damaged (value type {kind})")


def _tensor_bytes(kind: int, dims: list[int]) -> int:
    sizes = _TYPE_SIZES.get(kind)
    if sizes is None:
        raise GgufHeaderError(f"it holds a tensor type vldesk does not know ({kind})")
    block, size = sizes
    elements = 1
    for dim in dims:
        elements *= dim
    return elements // block * size


def read_gguf_header(path: Path) -> GgufHeader:
    """The header of a GGUF file, read without loading its tensors.

    Raises:
        GgufHeaderError: not a GGUF file, an unsupported version, or a header that is cut
            short (``incomplete``) or damaged.
        OSError: the file cannot be read.
    """
    with Path(path).open("rb") as raw:
        reader = _Reader(raw)
        magic = raw.read(4)
        if magic != GGUF_MAGIC:
            if len(magic) < 4 and GGUF_MAGIC.startswith(magic):
                raise GgufHeaderError("it is empty or cut short", incomplete=True)
            raise GgufHeaderError("it is not a GGUF file (its first bytes are not 'GGUF')")
        version = int(reader.unpack("<I"))
        if version not in (2, 3):
            raise GgufHeaderError(f"it is GGUF version {version}; vldesk reads versions 2 and 3")
        tensors = reader.count(_MAX_TENSORS, "tensors")
        keys = reader.count(_MAX_KEYS, "metadata keys")
        metadata: dict[str, object] = {}
        for _ in range(keys):
            key = reader.string()
            value = reader.value(int(reader.unpack("<I")))
            if value is not None:
                metadata[key] = value
        alignment = metadata.get("general.alignment", _DEFAULT_ALIGNMENT)
        if not isinstance(alignment, int) or alignment <= 0:
            raise GgufHeaderError("its header is damaged (alignment)")
        end = 0
        for _ in range(tensors):
            reader.string()
            dims = [int(reader.unpack("<Q")) for _ in range(int(reader.unpack("<I")))]
            kind = int(reader.unpack("<I"))
            offset = int(reader.unpack("<Q"))
            end = max(end, offset + _tensor_bytes(kind, dims))
        header_end = raw.tell()
    data_start = -(-header_end // alignment) * alignment
    return GgufHeader(version, tensors, metadata, data_start + end, alignment)
