"""How many images go through the model at once: the memory estimate per image."""

from types import SimpleNamespace

from vldesk.core.generation import GenerationSettings
from vldesk.core.inference.batch_memory import MAX_BATCH, bytes_per_image, choose_batch_size


def test_memory_estimate_scales_with_the_budget() -> None:
    text = SimpleNamespace(
        hidden_size=2048,
        num_hidden_layers=28,
        num_attention_heads=16,
        num_key_value_heads=8,
        head_dim=128,
        intermediate_size=6144,
    )
    config = SimpleNamespace(
        get_text_config=lambda: text, vision_config=SimpleNamespace(hidden_size=1024)
    )
    small = bytes_per_image(config, GenerationSettings(max_image_tokens=256, max_new_tokens=128), 2)
    large = bytes_per_image(
        config, GenerationSettings(max_image_tokens=4096, max_new_tokens=128), 2
    )
    assert 10e6 < small < large < 4e9
    size = choose_batch_size(config, "cpu", 4, GenerationSettings())
    assert 1 <= size <= MAX_BATCH["cpu"]
    # A model whose config cannot be read gets the fallback size, not an error.
    assert choose_batch_size(SimpleNamespace(), "cuda:0", 2, GenerationSettings()) >= 1
