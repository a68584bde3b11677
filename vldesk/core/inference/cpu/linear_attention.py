"""Decode steps of Qwen3.5's linear-attention (gated DeltaNet) layers on the CPU, cheaper."""

from __future__ import annotations

import functools
import importlib
import logging
from collections.abc import Callable
from typing import Any

log = logging.getLogger(__name__)

#: transformers modules whose gated DeltaNet layers call the functions replaced here (module
#: globals, looked up at each call, with the same signatures in transformers 5.23 to 5.25).
MODULES = (
    "transformers.models.qwen3_5.modeling_qwen3_5",
    "transformers.models.qwen3_5_moe.modeling_qwen3_5_moe",
)
_CONV_UPDATE = "causal_conv1d_update"
_RECURRENT = "torch_recurrent_gated_delta_rule"
#: transformers' own functions, per module, as they were before :func:`install`.
_ORIGINALS: dict[str, dict[str, Callable[..., Any]]] = {}


def conv_update(
    hidden_states: Any,
    conv_state: Any,
    weight: Any,
    bias: Any = None,
    activation: str | None = None,
) -> Any:
    """transformers' ``causal_conv1d_update`` (one new step of the depthwise causal convolution,
    updating ``conv_state`` in place), as a multiply-sum over the window on the CPU.

    ``F.conv1d`` over a 4-wide window of 6,144 channels took 8-25 ms a call on a 2-core AMD
    Zen 4 CPU (bfloat16 and float32), the multiply-sum 0.1-0.4 ms (docs/performance.md).
    """
    import torch

    steps = hidden_states.shape[-1]
    if hidden_states.device.type != "cpu" or steps != 1:
        return _original(_CONV_UPDATE, hidden_states)(
            hidden_states, conv_state, weight, bias, activation
        )
    taps = weight.shape[-1]
    state_len = conv_state.shape[-1]
    window = torch.cat([conv_state, hidden_states], dim=-1).to(weight.dtype)
    conv_state.copy_(window[:, :, -state_len:])
    # Summed in float32 and rounded once, as oneDNN's convolution accumulates.
    out = (window[:, :, -taps:].float() * weight.float()).sum(dim=-1, keepdim=True)
    if bias is not None:
        out = out + bias.float()[:, None]
    out = out.to(weight.dtype)
    if activation is not None:
        from transformers.activations import ACT2FN

        out = ACT2FN[activation](out)
    return out.to(hidden_states.dtype)


def recurrent_step(
    query: Any,
    key: Any,
    value: Any,
    g: Any,
    beta: Any,
    initial_state: Any = None,
    output_final_state: bool = False,
    use_qk_l2norm_in_kernel: bool = False,
    **kwargs: Any,
) -> tuple[Any, Any]:
    """transformers' ``torch_recurrent_gated_delta_rule`` for one token on the CPU: the state
    read and written with matrix products instead of broadcast multiply-and-sum passes.

    Inputs are ``(batch, 1, heads, dim)``; the state ``(batch, value heads, key dim, value
    dim)`` in float32. Anything else (several tokens, variable-length batches, other devices)
    goes to transformers' own function.
    """
    import torch

    if (
        query.device.type != "cpu"
        or query.shape[1] != 1
        or kwargs.get("cu_seqlens") is not None
        or initial_state is None
    ):
        result: tuple[Any, Any] = _original(_RECURRENT, query)(
            query,
            key,
            value,
            g=g,
            beta=beta,
            initial_state=initial_state,
            output_final_state=output_final_state,
            use_qk_l2norm_in_kernel=use_qk_l2norm_in_kernel,
            **kwargs,
        )
        return result
    out_dtype = query.dtype
    key_heads, value_heads = key.shape[2], value.shape[2]
    query, key, value = (x[:, 0].float() for x in (query, key, value))
    if key_heads != value_heads:
        query = query.repeat_interleave(value_heads // key_heads, dim=1)
        key = key.repeat_interleave(value_heads // key_heads, dim=1)
    if use_qk_l2norm_in_kernel:
        # transformers' l2norm: x * rsqrt(sum(x^2) + eps), matched to the FLA library.
        query = query * torch.rsqrt((query * query).sum(dim=-1, keepdim=True) + 1e-6)
        key = key * torch.rsqrt((key * key).sum(dim=-1, keepdim=True) + 1e-6)
    query = query / (query.shape[-1] ** 0.5)
    decay = g[:, 0].float().exp()[..., None, None]
    state = initial_state.float() * decay
    remembered = torch.matmul(key.unsqueeze(-2), state).squeeze(-2)
    delta = (value - remembered) * beta[:, 0].float().unsqueeze(-1)
    state.add_(key.unsqueeze(-1) * delta.unsqueeze(-2))
    out = torch.matmul(query.unsqueeze(-2), state).squeeze(-2)
    return out.unsqueeze(1).to(out_dtype), state if output_final_state else None


def _original(name: str, tensor: Any) -> Callable[..., Any]:
    """transformers' own ``name`` (any patched module's: they are the same code)."""
    for originals in _ORIGINALS.values():
        if name in originals:
            return originals[name]
    raise RuntimeError(f"{name} called for a {tensor.device} tensor before install()")


_REPLACEMENTS: dict[str, Callable[..., Any]] = {
    _CONV_UPDATE: conv_update,
    _RECURRENT: recurrent_step,
}


def install() -> int:
    """Route the decode steps of every gated DeltaNet layer transformers builds through this
    module's functions (other devices and prompts keep transformers' own); returns how many
    modules were patched. Idempotent."""
    patched = 0
    for name in MODULES:
        try:
            module = importlib.import_module(name)
        except ImportError:
            continue
        if name not in _ORIGINALS:
            originals = {
                attr: getattr(module, attr)
                for attr in _REPLACEMENTS
                if callable(getattr(module, attr, None))
            }
            if len(originals) != len(_REPLACEMENTS):
                log.info("%s lacks %s: left as it is", name, ", ".join(_REPLACEMENTS))
                continue
            _ORIGINALS[name] = originals
        for attr, replacement in _REPLACEMENTS.items():
            setattr(module, attr, replacement)
        patched += 1
    return patched


def uninstall() -> None:
    """Give transformers back its own functions (tests and benchmarks compare both)."""
    for name, originals in _ORIGINALS.items():
        module = importlib.import_module(name)
        for attr, function in originals.items():
            setattr(module, attr, function)


@functools.cache
def _has_linear_attention_layers(layer_types: tuple[str, ...]) -> bool:
    return "linear_attention" in layer_types


def has_linear_attention(model: Any) -> bool:
    """Whether ``model``'s text decoder has gated DeltaNet (linear-attention) layers."""
    text = model.config.get_text_config()
    return _has_linear_attention_layers(tuple(getattr(text, "layer_types", None) or ()))
