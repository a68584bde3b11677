"""llama.cpp's side of a prompt: its control tokens, image chunks and the tokenized prompt."""

from __future__ import annotations

import ctypes
from dataclasses import dataclass
from typing import Any

from vldesk.core.errors import GenerationError
from vldesk.core.inference.llamacpp.held import ImageKey, Item


@dataclass
class TokenizedPrompt:
    """A tokenized prompt: text token runs and llama.cpp image chunks, in reading order."""

    parts: list[list[int] | Any]  # a list of token ids, or an mtmd image chunk
    image_keys: list[ImageKey]  # one per image chunk, in order
    chunk_lists: list[Any]  # mtmd chunk containers to free

    @property
    def image_tokens(self) -> list[int]:
        return [key.tokens for key in self.image_keys]

    def ids(self, image_pad: int) -> list[int]:
        """The ids as the transformers path has them: one image pad per image token."""
        ids: list[int] = []
        image = iter(self.image_tokens)
        for part in self.parts:
            ids += part if isinstance(part, list) else [image_pad] * next(image)
        return ids

    def items(self) -> list[Item]:
        """The prompt as :class:`~vldesk.core.inference.llamacpp.held.HeldSequence` items."""
        items: list[Item] = []
        image = iter(self.image_keys)
        for part in self.parts:
            if isinstance(part, list):
                items += part
            else:
                items.append(next(image))
        return items


def image_chunks(mtmd: Any, image: Any) -> Any:
    """llama.cpp's chunks for one image: its vision start and end tokens around the image."""
    from llama_cpp import mtmd_cpp

    rgb = image.convert("RGB")
    data = rgb.tobytes()
    buffer = (ctypes.c_uint8 * len(data)).from_buffer_copy(data)
    bitmap = mtmd_cpp.mtmd_bitmap_init(rgb.width, rgb.height, buffer)
    text = mtmd_cpp.mtmd_input_text()
    marker = mtmd_cpp.mtmd_default_marker()
    text.text, text.text_len = marker, len(marker)
    text.add_special, text.parse_special = False, True
    chunks = mtmd_cpp.mtmd_input_chunks_init()
    bitmaps = (mtmd_cpp.mtmd_bitmap_p_ctypes * 1)(bitmap)
    try:
        code = mtmd_cpp.mtmd_tokenize(mtmd, chunks, ctypes.byref(text), bitmaps, 1)
    finally:
        mtmd_cpp.mtmd_bitmap_free(bitmap)
    if code != 0:
        mtmd_cpp.mtmd_input_chunks_free(chunks)
        raise GenerationError(f"llama.cpp could not read the image (code {code}).")
    return chunks


def control_tokens(llm: Any) -> dict[str, int]:
    """The vocabulary's control and user-defined tokens (what transformers calls added tokens)."""
    import llama_cpp

    vocab = llama_cpp.llama_model_get_vocab(llm.model)
    wanted = llama_cpp.LLAMA_TOKEN_ATTR_CONTROL | llama_cpp.LLAMA_TOKEN_ATTR_USER_DEFINED
    found: dict[str, int] = {}
    for token in range(llm.n_vocab()):
        if llama_cpp.llama_vocab_get_attr(vocab, token) & wanted:
            piece = llm.detokenize([token], special=True).decode("utf-8", errors="replace")
            found.setdefault(piece, token)
    return found
