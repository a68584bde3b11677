"""Load a model's processor, without torchvision when it is missing or broken."""

from __future__ import annotations

import importlib.metadata
import importlib.util
import logging
import re
import sys
from functools import lru_cache
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

#: Errors a missing, mismatched or half-installed torchvision raises on import; a CUDA build
#: with a CPU torch raises RuntimeError "operator torchvision::nms does not exist".
_IMPORT_FAILURES = (ImportError, RuntimeError, OSError, AttributeError)


def _minor_version(distribution: str) -> tuple[int, int] | None:
    try:
        match = re.match(r"(\d+)\.(\d+)", importlib.metadata.version(distribution))
    except importlib.metadata.PackageNotFoundError:
        return None
    return (int(match.group(1)), int(match.group(2))) if match else None


def _mismatched_versions() -> str | None:
    """Why torchvision cannot work with this torch, read from package metadata without
    importing either; ``None`` when the versions pair up or cannot be told."""
    torch_version = _minor_version("torch")
    vision_version = _minor_version("torchvision")
    if torch_version is None or vision_version is None or torch_version[0] != 2:
        return None
    # torch 2.N ships with torchvision 0.(N+15): 2.6 with 0.21, 2.13 with 0.28.
    expected = (0, torch_version[1] + 15)
    if vision_version == expected:
        return None
    return (
        f"torchvision {vision_version[0]}.{vision_version[1]} does not match torch "
        f"{torch_version[0]}.{torch_version[1]} (it needs torchvision {expected[0]}.{expected[1]})"
    )


def _block_torchvision(reason: str) -> None:
    """Make torchvision unimportable for the rest of the process, and make transformers agree.

    transformers treats an installed torchvision as available (``find_spec`` only) and imports it
    at module level in ``image_utils`` and friends, so a broken one breaks every vision model,
    not just the processor. With ``sys.modules["torchvision"] = None``, ``find_spec`` returns
    ``None`` and imports raise ImportError, so transformers takes its PIL-only paths.
    """
    log.warning("torchvision is unusable (%s); images will be processed with PIL", reason)
    for name in [m for m in sys.modules if m == "torchvision" or m.startswith("torchvision.")]:
        del sys.modules[name]
    sys.modules["torchvision"] = None  # type: ignore[assignment]
    import_utils = sys.modules.get("transformers.utils.import_utils")
    if import_utils is not None:
        # Availability checks are lru_cached: forget any answer given before the block.
        for name in dir(import_utils):
            if name.startswith("is_") and ("torchvision" in name or "timm" in name):
                clear = getattr(getattr(import_utils, name), "cache_clear", None)
                if clear is not None:
                    clear()


@lru_cache(maxsize=1)
def torchvision_usable() -> bool:
    """Whether torchvision imports and works with this torch; if not, block it (see below).

    Call this before importing transformers' vision code (model or processor): with a broken
    torchvision installed, transformers fails to import its Qwen model classes at all.
    The answer is cached for the process.
    """
    # None: blocked (by us or the caller); False: not imported yet.
    module: object = sys.modules.get("torchvision", False)
    if module is None:
        log.info("torchvision is blocked in this process")
        return False
    if module is False and importlib.util.find_spec("torchvision") is None:
        log.info("torchvision is not installed; images will be processed with PIL")
        return False
    if module is False:
        mismatch = _mismatched_versions()
        if mismatch is not None:
            _block_torchvision(mismatch)
            return False
    try:
        # A build for another torch fails here, registering its C++ operators.
        import torchvision  # noqa: F401
    except _IMPORT_FAILURES as exc:
        _block_torchvision(f"{type(exc).__name__}: {exc}")
        return False
    return True


def _image_only(processor_class: Any) -> Any:
    """A subclass of a Qwen processor that takes no video processor.

    ProcessorMixin reads its sub-processors from the ``__init__`` signature and type-checks each,
    and every video processor needs torchvision. Qwen's ``__init__`` passes ``video_processor``
    on positionally; with two attributes declared, the mixin drops it.
    """

    def __init__(
        self: Any,
        image_processor: Any = None,
        tokenizer: Any = None,
        chat_template: str | None = None,
        **kwargs: Any,
    ) -> None:
        processor_class.__init__(
            self,
            image_processor=image_processor,
            tokenizer=tokenizer,
            video_processor=None,
            chat_template=chat_template,
            **kwargs,
        )

    name = f"{processor_class.__name__}ImageOnly"
    return type(name, (processor_class,), {"__init__": __init__, "__module__": __name__})


def load_processor_without_torchvision(model_dir: Path) -> Any:
    """The model's own processor class with its tokenizer, its PIL image processor and its chat
    template, but no video processor. Works with or without torchvision installed."""
    from transformers import AutoConfig, AutoImageProcessor, AutoTokenizer
    from transformers.models.auto.processing_auto import (
        PROCESSOR_MAPPING_NAMES,
        processor_class_from_name,
    )

    config = AutoConfig.from_pretrained(model_dir, local_files_only=True)
    class_name = PROCESSOR_MAPPING_NAMES.get(config.model_type)
    processor_class = processor_class_from_name(class_name) if class_name else None
    if processor_class is None:
        raise ValueError(f"No processor class is known for model type {config.model_type!r}")
    tokenizer = AutoTokenizer.from_pretrained(model_dir, local_files_only=True)
    image_processor = AutoImageProcessor.from_pretrained(
        model_dir, local_files_only=True, backend="pil"
    )
    # The processor's own loader finds the template in chat_template.jinja or the legacy
    # chat_template.json; the tokenizer's copy is the last resort.
    processor_dict, _ = processor_class.get_processor_dict(model_dir, local_files_only=True)
    template = processor_dict.get("chat_template") or tokenizer.chat_template
    return _image_only(processor_class)(
        image_processor=image_processor, tokenizer=tokenizer, chat_template=template
    )


#: Tokens every Qwen VL tokenizer has; without them the prompt cannot be built.
REQUIRED_TOKENS = (
    "<|im_start|>",
    "<|im_end|>",
    "<|vision_start|>",
    "<|vision_end|>",
    "<|image_pad|>",
)


def _check_tokenizer(processor: Any, model_dir: Path) -> None:
    """Refuse a tokenizer that lacks Qwen's control tokens.

    With tokenizer.json and tokenizer_config.json missing, transformers still "loads" a tokenizer
    (one token, from config.json alone) instead of failing: catch that here.
    """
    vocab = processor.tokenizer.get_vocab()
    missing = [token for token in REQUIRED_TOKENS if token not in vocab]
    if missing:
        raise ValueError(
            f"the tokenizer in {model_dir} is incomplete (no {', '.join(missing)}): "
            "tokenizer.json or tokenizer_config.json may be missing"
        )


def load_processor(model_dir: Path) -> Any:
    """Load the processor from a local model folder, never from the network.

    With a working torchvision this is ``AutoProcessor``. Without one (missing, or a build that
    does not match torch) it is the same processor class with a PIL image processor and no video
    processor: images and text work the same, videos are not supported.

    Raises:
        ValueError: the tokenizer files are missing or lack Qwen's control tokens.
        OSError: other files are missing or unreadable (from transformers).
    """
    model_dir = Path(model_dir)
    if torchvision_usable():
        from transformers import AutoProcessor

        processor = AutoProcessor.from_pretrained(model_dir, local_files_only=True)
        how = "with AutoProcessor"
    else:
        processor = load_processor_without_torchvision(model_dir)
        how = "without torchvision (PIL images, no video)"
    _check_tokenizer(processor, model_dir)
    log.info("loaded %s %s", type(processor).__name__, how)
    return processor
