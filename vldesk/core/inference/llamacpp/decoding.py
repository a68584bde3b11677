"""Choosing the next token from llama.cpp's logits, as transformers' generate does."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from vldesk.core.generation import GenerationSettings
from vldesk.core.inference.sampling import Sampling


class TokenPicker:
    """Greedy (the first highest logit, as ``argmax``) or sampled with the repetition penalty,
    temperature, top-k and top-p in transformers' order; stop tokens are ruled out under
    ``ignore_eos``."""

    def __init__(
        self,
        settings: GenerationSettings,
        sampling: Sampling,
        stop_ids: Sequence[int],
        history: Sequence[int],
    ) -> None:
        import numpy as np

        self._settings = settings
        self._sampling = sampling
        self._stop_ids = list(stop_ids)
        self._seen = set(history)
        self._random = np.random.default_rng(settings.seed)

    def pick(self, logits: Any) -> int:
        import numpy as np

        scores = np.array(logits, dtype=np.float64)
        if self._settings.ignore_eos:
            scores[self._stop_ids] = -np.inf
        penalty = self._sampling.repetition_penalty
        if penalty != 1.0 and self._seen:
            seen = np.fromiter(self._seen, dtype=np.int64)
            seen = seen[seen < scores.size]
            values = scores[seen]
            scores[seen] = np.where(values < 0, values * penalty, values / penalty)
        token = int(np.argmax(scores)) if self._settings.greedy else self._sample(scores)
        self._seen.add(token)
        return token

    def _sample(self, scores: Any) -> int:
        import numpy as np

        scores = scores / max(self._sampling.temperature, 1e-6)
        top_k = self._sampling.top_k
        if 0 < top_k < scores.size:
            kth = np.partition(scores, -top_k)[-top_k]
            scores[scores < kth] = -np.inf
        order = np.argsort(-scores, kind="stable")
        probabilities = np.exp(scores[order] - scores[order[0]])
        probabilities /= probabilities.sum()
        # top-p keeps the smallest head whose mass reaches p (at least one token).
        keep = int(np.searchsorted(np.cumsum(probabilities), self._sampling.top_p) + 1)
        head = probabilities[:keep] / probabilities[:keep].sum()
        return int(order[self._random.choice(keep, p=head)])
