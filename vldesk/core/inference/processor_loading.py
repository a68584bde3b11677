"""Load a model's processor, without torchvision when it is missing or broken."""

from __future__ import annotations

import importlib.metadata
import importlib.util
import json
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


#: Where transformers 5 saves a processor's settings, the image processor's included.
PROCESSOR_CONFIG = "processor_config.json"
#: The image processor's settings in the released models and in transformers 4 saves.
IMAGE_PROCESSOR_CONFIG = "preprocessor_config.json"
#: Used when transformers' own table names no image processor for a supported model type.
_QWEN_IMAGE_PROCESSOR = {"torchvision": "Qwen2VLImageProcessor", "pil": "Qwen2VLImageProcessorPil"}


def _read_object(path: Path) -> dict[str, Any] | None:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError):
        return None
    return data if isinstance(data, dict) else None


def image_processor_settings(model_dir: Path) -> dict[str, Any]:
    """The image processor's settings where transformers looks for them: the
    ``image_processor`` entry of processor_config.json, else preprocessor_config.json."""
    processor = _read_object(Path(model_dir) / PROCESSOR_CONFIG) or {}
    nested = processor.get("image_processor")
    if isinstance(nested, dict):
        return nested
    return _read_object(Path(model_dir) / IMAGE_PROCESSOR_CONFIG) or {}


def _current_image_processors(model_type: str) -> dict[str, str]:
    """transformers' image processor class names for ``model_type``, by backend."""
    from transformers.models.auto.image_processing_auto import IMAGE_PROCESSOR_MAPPING_NAMES

    names = IMAGE_PROCESSOR_MAPPING_NAMES.get(model_type)
    if isinstance(names, dict) and names.get("torchvision") and names.get("pil"):
        return {"torchvision": str(names["torchvision"]), "pil": str(names["pil"])}
    return dict(_QWEN_IMAGE_PROCESSOR)


def legacy_image_processor(model_dir: Path, model_type: str) -> tuple[str, dict[str, str]] | None:
    """``(name, current classes)`` when the folder names an image processor class this
    transformers no longer has; ``None`` when the name is current or absent.

    Fine-tunes saved by transformers 4.50-4.57 name ``Qwen2_5_VLImageProcessor``, which
    transformers 5 removed (``Unrecognized image processor``). Names ending in ``Fast`` are
    left alone: transformers 5 maps those itself.
    """
    import transformers

    name = image_processor_settings(model_dir).get("image_processor_type")
    if not isinstance(name, str) or not name:
        return None
    base = name.removesuffix("Fast")
    if hasattr(transformers, base) or hasattr(transformers, base + "Pil"):
        return None
    return name, _current_image_processors(model_type)


def _image_processor(model_dir: Path, model_type: str, backend: str) -> Any:
    """The folder's image processor for ``backend`` ("torchvision" or "pil"), a legacy class
    name replaced by the model type's current class (same settings)."""
    import transformers
    from transformers import AutoImageProcessor

    legacy = legacy_image_processor(model_dir, model_type)
    if legacy is None:
        return AutoImageProcessor.from_pretrained(model_dir, local_files_only=True, backend=backend)
    name, current = legacy
    image_processor_class = getattr(transformers, current[backend])
    log.info(
        "image processor %s is not in transformers %s: using %s with the folder's settings",
        name,
        transformers.__version__,
        image_processor_class.__name__,
    )
    settings = {
        key: value
        for key, value in image_processor_settings(model_dir).items()
        if key != "image_processor_type"
    }
    return image_processor_class.from_dict(settings)


def load_processor_by_parts(model_dir: Path, *, with_video: bool) -> Any:
    """The model's own processor class, assembled from its tokenizer, its image processor (a
    legacy class name mapped), its chat template and, ``with_video``, its video processor.

    Without video it works with or without torchvision installed: the image processor is the
    PIL one and the processor class takes no video processor.
    """
    from transformers import AutoConfig, AutoTokenizer
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
    backend = "torchvision" if with_video else "pil"
    image_processor = _image_processor(model_dir, config.model_type, backend)
    # The processor's own loader finds the template in chat_template.jinja, the legacy
    # chat_template.json or processor_config.json; the tokenizer's copy is the last resort.
    processor_dict, _ = processor_class.get_processor_dict(model_dir, local_files_only=True)
    template = processor_dict.get("chat_template") or tokenizer.chat_template
    if with_video:
        from transformers import AutoVideoProcessor

        video_processor = AutoVideoProcessor.from_pretrained(model_dir, local_files_only=True)
        return processor_class(
            image_processor=image_processor,
            tokenizer=tokenizer,
            video_processor=video_processor,
            chat_template=template,
        )
    return _image_only(processor_class)(
        image_processor=image_processor, tokenizer=tokenizer, chat_template=template
    )


def load_processor_without_torchvision(model_dir: Path) -> Any:
    """The model's own processor class with its tokenizer, its PIL image processor and its chat
    template, but no video processor. Works with or without torchvision installed."""
    return load_processor_by_parts(model_dir, with_video=False)


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
    processor: images and text work the same, videos are not supported. A folder whose image
    processor class transformers no longer has (a fine-tune saved by transformers 4) gets the
    same processor assembled by parts, with the current class.

    Raises:
        ValueError: the tokenizer files are missing or lack Qwen's control tokens.
        OSError: other files are missing or unreadable (from transformers).
    """
    model_dir = Path(model_dir)
    with_video = torchvision_usable()
    config = _read_object(model_dir / "config.json") or {}
    model_type = str(config.get("model_type") or "")
    legacy = legacy_image_processor(model_dir, model_type) if with_video else None
    if not with_video:
        processor = load_processor_without_torchvision(model_dir)
        how = "without torchvision (PIL images, no video)"
    elif legacy is None:
        from transformers import AutoProcessor

        processor = AutoProcessor.from_pretrained(model_dir, local_files_only=True)
        how = "with AutoProcessor"
    else:
        # AutoProcessor would stop at the legacy image processor name.
        processor = load_processor_by_parts(model_dir, with_video=True)
        how = f"by parts (the legacy {legacy[0]} mapped to a current class)"
    _check_tokenizer(processor, model_dir)
    log.info("loaded %s %s", type(processor).__name__, how)
    return processor
