"""Keep the last answer's key/value cache, so that a follow-up question about the same image
starts from it instead of reading the image and the whole conversation again.

Reading a photo is most of the wait before an answer's first word (about 30 s on a 2-core CPU,
docs/performance.md). A follow-up's prompt repeats the previous prompt and answer word for word,
so the keys and values computed for them are still right: only the tokens after the longest
shared prefix are new. The cache is reused only when the images are exactly the same pixels and
every image token lies inside the shared prefix; anything else starts afresh. Families whose
cache cannot be cut back to a prefix (linear-attention layers keep a running state) never reuse.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

log = logging.getLogger(__name__)

#: Inputs that carry the images: dropped when the cache already holds what they would give.
IMAGE_INPUTS = ("pixel_values", "image_grid_thw")
#: Inputs that make a prompt ineligible for reuse (vldesk does not send videos).
UNSUPPORTED_INPUTS = ("pixel_values_videos", "video_grid_thw")


@dataclass
class _Entry:
    """The cache of one finished answer and what it was computed from."""

    #: The tokens whose keys and values ``cache`` holds, in order (1-D).
    token_ids: Any
    cache: Any
    pixel_values: Any | None
    image_grid_thw: Any | None
    #: The multimodal rotary offset the model derived from the images of this prompt.
    rope_deltas: Any | None


class ConversationCache:
    """One entry: the last single answer's cache. Not thread-safe (the engine's owner uses it).

    Args:
        image_token_id: The model's image placeholder token.
    """

    def __init__(self, image_token_id: int) -> None:
        self._image_token_id = image_token_id
        self._entry: _Entry | None = None

    @staticmethod
    def supported(model: Any) -> bool:
        """Whether ``model`` keeps its multimodal rotary offset where this cache can restore it."""
        inner = getattr(model, "model", None)
        return inner is not None and hasattr(inner, "rope_deltas")

    def clear(self) -> None:
        self._entry = None

    @property
    def held_tokens(self) -> int:
        """How many tokens the kept cache covers (0: none kept)."""
        return int(self._entry.token_ids.numel()) if self._entry is not None else 0

    def take(self, inputs: Any, model: Any) -> tuple[Any, int]:
        """A cache to continue from for ``inputs`` (one prompt) and how many of its tokens it
        already holds; ``(a new empty cache, 0)`` when the kept one does not fit.

        When it fits, ``inputs`` loses its image tensors (the cache holds what they would give)
        and the model gets back the rotary offset of those images. The kept entry is handed
        over either way: a cache serves one generation, which extends it.
        """
        entry, self._entry = self._entry, None
        reused = 0 if entry is None else self._shared_prefix(entry, inputs)
        if entry is None or reused == 0:
            return new_cache(model), 0
        held = int(entry.cache.get_seq_length())
        entry.cache.crop(reused - held)  # a negative count: the tokens to drop from the end
        model.model.rope_deltas = entry.rope_deltas
        for key in IMAGE_INPUTS:
            inputs.pop(key, None)
        log.debug("continuing from %d cached tokens", reused)
        return entry.cache, reused

    def keep(self, cache: Any, sequence: Any, images: dict[str, Any], model: Any) -> None:
        """Keep ``cache`` after a generation whose tokens (prompt and answer) are ``sequence``
        (1-D); ``images`` are the prompt's original image inputs."""
        held = int(cache.get_seq_length())
        if held <= 0 or held > int(sequence.shape[0]):
            return
        self._entry = _Entry(
            token_ids=sequence[:held].clone(),
            cache=cache,
            pixel_values=images.get("pixel_values"),
            image_grid_thw=images.get("image_grid_thw"),
            rope_deltas=getattr(model.model, "rope_deltas", None),
        )

    def _shared_prefix(self, entry: _Entry, inputs: Any) -> int:
        """Tokens of ``inputs`` the entry's cache can stand for; 0 when it cannot be used."""
        import torch

        if any(inputs.get(key) is not None for key in UNSUPPORTED_INPUTS):
            return 0
        ids = inputs["input_ids"]
        if ids.shape[0] != 1:
            return 0
        if not _same(entry.pixel_values, inputs.get("pixel_values")) or not _same(
            entry.image_grid_thw, inputs.get("image_grid_thw")
        ):
            return 0
        ids = ids[0]
        # At least the last prompt token is fed again: generation needs its logits.
        length = min(int(entry.token_ids.numel()), int(ids.numel()) - 1)
        if length <= 0:
            return 0
        differs = torch.nonzero(entry.token_ids[:length] != ids[:length])
        shared = int(differs[0, 0]) if differs.numel() else length
        images = torch.nonzero(ids == self._image_token_id)
        if images.numel() and int(images[-1, 0]) >= shared:
            return 0  # an image token would be read without its image
        return shared


def cache_keyword() -> str:
    """The ``generate`` keyword that takes a cache to continue from.

    transformers 5.25 renamed ``past_key_values`` to ``cache`` (the old name still works there,
    with a deprecation warning on every answer). Asked of the library, not of its version.
    """
    from transformers.generation import utils

    names = getattr(utils, "ALL_CACHE_NAMES", ())
    return "cache" if "cache" in names else "past_key_values"


def new_cache(model: Any) -> Any:
    """An empty key/value cache laid out for ``model``'s text decoder."""
    from transformers import DynamicCache

    return DynamicCache(config=model.config)


def _same(kept: Any, new: Any) -> bool:
    import torch

    if kept is None or new is None:
        return kept is None and new is None
    return bool(kept.shape == new.shape and kept.dtype == new.dtype and torch.equal(kept, new))
