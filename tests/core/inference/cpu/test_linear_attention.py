"""Qwen3.5's linear-attention decode steps on the CPU give transformers' numbers."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from vldesk.core.models.catalog import Family

torch = pytest.importorskip("torch")
qwen3_5 = pytest.importorskip("transformers.models.qwen3_5.modeling_qwen3_5")

from vldesk.core.inference.cpu import linear_attention  # noqa: E402


@pytest.fixture
def transformers_own() -> Iterator[None]:
    """transformers' functions during the test, vldesk's again after it."""
    linear_attention.install()
    linear_attention.uninstall()
    yield
    linear_attention.install()


def _close(ours: object, theirs: object, dtype: object) -> None:
    tolerance = 1e-5 if dtype == torch.float32 else 2e-2
    torch.testing.assert_close(ours, theirs, rtol=tolerance, atol=tolerance)


@pytest.mark.parametrize("dtype", [torch.float32, torch.bfloat16])
@pytest.mark.parametrize("activation", ["silu", None])
def test_conv_update_matches_transformers(
    dtype: object, activation: str | None, transformers_own: None
) -> None:
    generator = torch.Generator().manual_seed(0)
    channels, taps = 96, 4
    weight = torch.randn(channels, taps, generator=generator).to(dtype)
    state = torch.randn(2, channels, taps, generator=generator).to(dtype)
    theirs_state, ours_state = state.clone(), state.clone()
    for _ in range(3):  # successive steps, each shifting the state
        x = torch.randn(2, channels, 1, generator=generator).to(dtype)
        theirs = qwen3_5.causal_conv1d_update(x, theirs_state, weight, None, activation)
        ours = linear_attention.conv_update(x, ours_state, weight, None, activation)
        _close(ours, theirs, dtype)
        assert torch.equal(ours_state, theirs_state)
        assert ours.shape == x.shape
        assert ours.dtype == dtype


@pytest.mark.parametrize("dtype", [torch.float32, torch.bfloat16])
@pytest.mark.parametrize("key_heads", [4, 2])
def test_recurrent_step_matches_transformers(
    dtype: object, key_heads: int, transformers_own: None
) -> None:
    generator = torch.Generator().manual_seed(1)
    batch, value_heads, dim = 2, 4, 16

    def tensor(*shape: int) -> object:
        return torch.randn(*shape, generator=generator).to(dtype)

    query, key = tensor(batch, 1, key_heads, dim), tensor(batch, 1, key_heads, dim)
    value = tensor(batch, 1, value_heads, dim)
    g = -torch.rand(batch, 1, value_heads, generator=generator)
    beta = torch.rand(batch, 1, value_heads, generator=generator).to(dtype)
    state = torch.randn(batch, value_heads, dim, dim, generator=generator) * 0.1
    kept = state.clone()
    arguments = {
        "initial_state": state,
        "output_final_state": True,
        "use_qk_l2norm_in_kernel": True,
    }
    theirs, theirs_state = qwen3_5.torch_recurrent_gated_delta_rule(
        query, key, value, g=g, beta=beta, **arguments
    )
    ours, ours_state = linear_attention.recurrent_step(
        query, key, value, g=g, beta=beta, **arguments
    )
    _close(ours, theirs, dtype)
    torch.testing.assert_close(ours_state, theirs_state, rtol=1e-5, atol=1e-6)
    assert ours.dtype == theirs.dtype
    assert ours.shape == theirs.shape
    assert torch.equal(state, kept)  # the cache's state is replaced, never written


def test_several_tokens_get_transformers_numbers(transformers_own: None) -> None:
    """Prompts and steps without a state are left to transformers: the same bits."""
    generator = torch.Generator().manual_seed(3)
    x, weight = torch.randn(1, 8, 3, generator=generator), torch.randn(8, 4, generator=generator)
    theirs_state, ours_state = torch.zeros(1, 8, 4), torch.zeros(1, 8, 4)
    theirs = qwen3_5.causal_conv1d_update(x, theirs_state, weight, None, "silu")
    assert torch.equal(linear_attention.conv_update(x, ours_state, weight, None, "silu"), theirs)
    assert torch.equal(ours_state, theirs_state)
    q = torch.randn(1, 3, 2, 4, generator=generator)
    g, beta = -torch.rand(1, 3, 2, generator=generator), torch.rand(1, 3, 2, generator=generator)
    theirs, _ = qwen3_5.torch_recurrent_gated_delta_rule(q, q, q, g=g, beta=beta)
    ours, _ = linear_attention.recurrent_step(q, q, q, g=g, beta=beta)
    assert torch.equal(ours, theirs)


def _logits(model: Any, ids: Any, steps: int) -> list[Any]:
    """The logits of a prompt and ``steps`` greedy decode steps, each through the cache."""
    from transformers import DynamicCache

    from vldesk.core.inference.conversation_cache import cache_keyword

    key = cache_keyword()  # past_key_values before transformers 5.25, cache since
    cache = DynamicCache(config=model.config)
    outputs = []
    with torch.inference_mode():
        out = model(input_ids=ids, use_cache=True, **{key: cache})
        for _ in range(steps):
            outputs.append(out.logits[:, -1].float())
            token = out.logits[:, -1:].argmax(-1)
            out = model(input_ids=token, use_cache=True, **{key: getattr(out, key)})
    return outputs


def test_a_patched_model_decodes_transformers_logits(
    tiny_model_dirs: dict[Family, Path], transformers_own: None
) -> None:
    from transformers import AutoModelForImageTextToText

    model = AutoModelForImageTextToText.from_pretrained(
        tiny_model_dirs[Family.QWEN3_5], dtype=torch.float32, local_files_only=True
    ).eval()
    assert linear_attention.has_linear_attention(model)
    ids = torch.randint(0, 500, (2, 12), generator=torch.Generator().manual_seed(2))
    theirs = _logits(model, ids, 6)
    assert linear_attention.install() >= 1
    ours = _logits(model, ids, 6)
    for mine, reference in zip(ours, theirs, strict=True):
        torch.testing.assert_close(mine, reference, rtol=1e-4, atol=1e-4)


def test_engine_installs_it_for_qwen3_5_only(tiny_model_dirs: dict[Family, Path]) -> None:
    from vldesk.core.inference.transformers_engine import TransformersEngine

    linear_attention.uninstall()
    engine = TransformersEngine.load(
        tiny_model_dirs[Family.QWEN3_VL], device="cpu", dtype="float32"
    )
    assert not linear_attention.has_linear_attention(engine.model)
    assert qwen3_5.causal_conv1d_update is not linear_attention.conv_update
    engine = TransformersEngine.load(tiny_model_dirs[Family.QWEN3_5], device="cpu", dtype="float32")
    assert qwen3_5.causal_conv1d_update is linear_attention.conv_update
    assert qwen3_5.torch_recurrent_gated_delta_rule is linear_attention.recurrent_step
