"""Decode-step attention on the CPU: the same result as SDPA, for the text decoder only."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from PIL import Image

from vldesk.core.generation import Conversation, GenerationSettings
from vldesk.core.images import LoadedImage
from vldesk.core.models.catalog import Family

torch = pytest.importorskip("torch")

from vldesk.core.inference.cpu.attention import ATTENTION_NAME, text_attention  # noqa: E402

pytestmark = pytest.mark.model


def sdpa_attention_forward(*args: object, **kwargs: object) -> tuple:
    """transformers' own SDPA attention function, the reference."""
    from transformers.integrations.sdpa_attention import sdpa_attention_forward as sdpa

    return sdpa(*args, **kwargs)  # type: ignore[no-any-return]


def _inputs(batch: int, heads: int, kv_heads: int, queries: int, length: int, dtype: str) -> tuple:
    generator = torch.Generator().manual_seed(batch * 100 + heads * 10 + kv_heads)
    kind = getattr(torch, dtype)

    def tensor(*shape: int) -> object:
        return (torch.randn(*shape, generator=generator) * 2).to(kind)

    module = SimpleNamespace(num_key_value_groups=heads // kv_heads, is_causal=True)
    return (
        module,
        tensor(batch, heads, queries, 64),
        tensor(batch, kv_heads, length, 64),
        tensor(batch, kv_heads, length, 64),
    )


def _padding_mask(batch: int, length: int) -> object:
    """Left padding as a batch of prompts of different lengths has it: row r skips r tokens."""
    keep = torch.ones(batch, 1, 1, length, dtype=torch.bool)
    for row in range(batch):
        keep[row, ..., :row] = False
    return keep


@pytest.mark.parametrize("dtype", ["bfloat16", "float32"])
@pytest.mark.parametrize(("heads", "kv_heads"), [(4, 4), (8, 2), (16, 8)])
@pytest.mark.parametrize("batch", [1, 3])
@pytest.mark.parametrize("mask", ["none", "bool", "additive"])
def test_a_decode_step_matches_sdpa(
    dtype: str, heads: int, kv_heads: int, batch: int, mask: str
) -> None:
    module, query, key, value = _inputs(batch, heads, kv_heads, 1, 37, dtype)
    attention_mask = None
    if mask != "none":
        attention_mask = _padding_mask(batch, 37)
        if mask == "additive":
            attention_mask = torch.zeros(attention_mask.shape).masked_fill(
                ~attention_mask, torch.finfo(torch.float32).min
            )
    expected, _ = sdpa_attention_forward(module, query, key, value, attention_mask, scaling=0.125)
    got, weights = text_attention(module, query, key, value, attention_mask, scaling=0.125)
    assert weights is None
    assert got.shape == expected.shape == (batch, 1, heads, 64)
    assert got.dtype == expected.dtype
    tolerance = 0.01 if dtype == "bfloat16" else 1e-5
    error = (got.float() - expected.float()).abs().max().item()
    assert error <= tolerance * expected.float().abs().max().item()


def test_a_masked_position_is_ignored() -> None:
    """Changing what a padded position holds changes nothing."""
    module, query, key, value = _inputs(2, 8, 2, 1, 12, "float32")
    mask = _padding_mask(2, 12)
    first, _ = text_attention(module, query, key, value, mask)
    key[1, :, 0] = 1e4
    value[1, :, 0] = -1e4
    second, _ = text_attention(module, query, key, value, mask)
    assert torch.equal(first, second)


def test_a_single_prompt_goes_to_sdpa_unchanged() -> None:
    module, query, key, value = _inputs(1, 8, 2, 5, 5, "float32")
    expected, _ = sdpa_attention_forward(module, query, key, value, None)
    got, _ = text_attention(module, query, key, value, None)
    assert torch.equal(got, expected)


def _prompt_mask(starts: list[int], length: int) -> object:
    """transformers' boolean mask for left-padded prompts: causal, padded keys hidden."""
    columns = torch.arange(length)
    causal = columns[None, :] <= columns[:, None]
    return torch.stack([causal & (columns >= start) for start in starts])[:, None]


@pytest.mark.parametrize("dtype", ["bfloat16", "float32"])
def test_each_row_of_a_batch_gets_the_bits_it_gets_alone(dtype: str) -> None:
    """Prompts and decode steps: a left-padded row's output equals, bit for bit, the output for
    that row's own tokens answered alone (with no mask, as a single answer runs)."""
    starts, length = [3, 0, 6], 11
    for queries in (length, 1):
        module, query, key, value = _inputs(3, 8, 2, queries, length, dtype)
        mask = _prompt_mask(starts, length)[:, :, -queries:]
        batched, _ = text_attention(module, query, key, value, mask)
        assert batched.shape == (3, queries, 8, 64)
        for row, start in enumerate(starts):
            first = start if queries > 1 else 0
            alone, _ = text_attention(
                module,
                query[row : row + 1, :, first:].contiguous(),
                key[row : row + 1, :, start:].contiguous(),
                value[row : row + 1, :, start:].contiguous(),
                None,
            )
            assert torch.equal(batched[row : row + 1, first:], alone), (queries, row)
        # And the batch agrees with SDPA on the real tokens.
        expected, _ = sdpa_attention_forward(module, query, key, value, mask)
        tolerance = 0.01 if dtype == "bfloat16" else 1e-5
        for row, start in enumerate(starts):
            first = start if queries > 1 else 0
            error = (batched[row, first:].float() - expected[row, first:].float()).abs().max()
            assert error.item() <= tolerance * expected.float().abs().max().item()


def test_other_masks_go_to_sdpa() -> None:
    """A mask that is not causal left padding (here: a hole in the middle) is SDPA's."""
    module, query, key, value = _inputs(2, 8, 2, 1, 9, "float32")
    mask = torch.ones(2, 1, 1, 9, dtype=torch.bool)
    mask[1, ..., 4] = False
    expected, _ = sdpa_attention_forward(module, query, key, value, mask)
    got, _ = text_attention(module, query, key, value, mask)
    assert torch.equal(got, expected)


def _picture() -> LoadedImage:
    image = Image.new("RGB", (96, 64), (30, 160, 90))
    image.paste((240, 40, 20), (10, 10, 50, 40))
    return LoadedImage(image, "p.png", image.size)


@pytest.mark.parametrize("family", list(Family), ids=lambda f: f.value)
def test_answers_equal_those_with_sdpa(
    tmp_path_factory: pytest.TempPathFactory, family: Family
) -> None:
    """On the CPU the text decoder's attention is ours and the vision tower's stays SDPA; greedy
    answers (float32) are the same token for token as with SDPA everywhere."""
    from tests.core.batch.test_runner import lively_model_dir
    from vldesk.core.inference.transformers_engine import TransformersEngine

    engine = TransformersEngine.load(
        lively_model_dir(tmp_path_factory, family), device="cpu", dtype="float32"
    )
    try:
        config = engine.model.config
        text = config.get_text_config()
        assert text._attn_implementation == ATTENTION_NAME
        assert config.vision_config._attn_implementation == "sdpa"
        settings = GenerationSettings(max_new_tokens=12, max_image_tokens=32)
        conversation = Conversation().ask("What is in the picture?", [_picture()])
        ours = engine.generate(conversation, settings, reuse_cache=False)
        text._attn_implementation = "sdpa"
        plain = engine.generate(conversation, settings, reuse_cache=False)
    finally:
        engine.unload()
    assert ours.stats.new_tokens == plain.stats.new_tokens
    assert ours.text == plain.text


def test_only_a_decoder_running_sdpa_is_switched() -> None:
    from vldesk.core.inference.cpu.attention import use_cpu_attention

    text = SimpleNamespace(_attn_implementation="eager")
    model = SimpleNamespace(config=SimpleNamespace(get_text_config=lambda: text))
    assert not use_cpu_attention(model)
    assert text._attn_implementation == "eager"


@pytest.mark.parametrize("dtype", ["bfloat16", "float32"])
def test_keys_converted_in_chunks(dtype: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """A long cache is converted to float32 a chunk at a time: the result agrees with SDPA, and a
    batch row still gets the bits it gets alone (its chunks start at its own first token)."""
    from vldesk.core.inference.cpu import attention as cpu_attention

    monkeypatch.setattr(cpu_attention, "SCORE_CHUNK", 8)
    starts = [5, 0]
    module, query, key, value = _inputs(2, 8, 2, 1, 45, dtype)
    mask = _padding_mask(2, 45)
    mask[0, ..., :5] = False
    mask[1, ..., :] = True
    batched, _ = text_attention(module, query, key, value, mask)
    for row, start in enumerate(starts):
        alone, _ = text_attention(
            module,
            query[row : row + 1],
            key[row : row + 1, :, start:].contiguous(),
            value[row : row + 1, :, start:].contiguous(),
            None,
        )
        assert torch.equal(batched[row : row + 1], alone)
    expected, _ = sdpa_attention_forward(module, query, key, value, mask)
    tolerance = 0.01 if dtype == "bfloat16" else 1e-5
    error = (batched.float() - expected.float()).abs().max().item()
    assert error <= tolerance * expected.float().abs().max().item()
