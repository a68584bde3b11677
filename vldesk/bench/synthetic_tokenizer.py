"""A small byte-level BPE tokenizer trained on a fixed corpus, for synthetic models."""

from __future__ import annotations

import importlib
import json
from typing import Any

from vldesk.bench.family_files import FAMILY_FILES
from vldesk.core.models.catalog import Family

# A little English and Chinese of the kind vldesk prompts and answers contain, so that BPE learns
# merges for common words and the small tokenizer encodes typical text in few tokens.
_CORPUS = """\
Describe this image in detail. What is in the picture? Read the text in the image.
The photo shows a cat sitting on a red sofa next to a window. There is a dog in the garden.
A person is standing in front of a building. The sky is blue and the trees are green.
Write a short caption for this image. List the objects you can see, one per line.
This is a screenshot of a document with a table, a chart and some text.
The image contains a street with cars, people walking and shops on both sides.
Answer the question about the image. Is there any text? What colour is the car?
You are a helpful assistant. Please answer in English. Please answer in Chinese.
请详细描述这张图片。图片里有什么？请识别图片中的文字。
这张照片里有一只猫坐在红色的沙发上，旁边是一扇窗户。花园里有一只狗。
一个人站在一栋建筑物前面。天空是蓝色的，树是绿色的。
请为这张图片写一个简短的标题。列出你能看到的物体，每行一个。
这是一张文档的截图，里面有一个表格、一张图表和一些文字。
图片中有一条街道，街上有汽车、行人和商店。请用中文回答。
"""


def _train_bpe(vocab_size: int, split_regex: str) -> tuple[dict[str, int], list[tuple[str, str]]]:
    """A byte-level BPE trained on the embedded corpus with the tokenizer class's pre-tokenizer."""
    from tokenizers import Regex, Tokenizer, normalizers, pre_tokenizers, trainers
    from tokenizers.models import BPE

    bpe = Tokenizer(BPE())
    bpe.normalizer = normalizers.NFC()
    bpe.pre_tokenizer = pre_tokenizers.Sequence(
        [
            pre_tokenizers.Split(Regex(split_regex), behavior="isolated", invert=False),
            pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False),
        ]
    )
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        min_frequency=1,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    bpe.train_from_iterator(_CORPUS.splitlines(), trainer)
    model = json.loads(bpe.to_str())["model"]
    return dict(model["vocab"]), [(a, b) for a, b in model["merges"]]


def build_tokenizer(family: Family, *, vocab_size: int = 768) -> Any:
    """The family's real tokenizer class over a small byte-level BPE, with Qwen's added tokens
    right after it (ids from ``vocab_size``; :func:`write_tokenizer` gives them the real ids)."""
    import transformers
    from tokenizers import AddedToken

    files = FAMILY_FILES[family]
    tokenizer_class = getattr(transformers, files.tokenizer_class)
    # Qwen2's and Qwen3.5's classes split text with different regexes: train with the class's own.
    split_regex = importlib.import_module(tokenizer_class.__module__).PRETOKENIZE_REGEX
    vocab, merges = _train_bpe(vocab_size, split_regex)
    tokenizer = tokenizer_class(
        vocab=vocab,
        merges=merges,
        unk_token=None,
        eos_token="<|endoftext|>",
        pad_token="<|endoftext|>",
        model_max_length=files.model_max_length,
        errors="replace",
        clean_up_tokenization_spaces=False,
        split_special_tokens=False,
    )
    # One at a time, so each gets the next id whether or not the class added it already.
    for content, special in files.added_tokens:
        if content not in tokenizer.get_vocab():
            token = AddedToken(content, special=special, normalized=False)
            tokenizer.add_tokens([token], special_tokens=special)
    # The chat turn ends with <|im_end|>: the real tokenizers name it as their eos.
    tokenizer.eos_token = "<|im_end|>"
    start = tokenizer.convert_tokens_to_ids(files.added_tokens[0][0])
    for offset, (content, _) in enumerate(files.added_tokens):
        if tokenizer.convert_tokens_to_ids(content) != start + offset:
            raise RuntimeError(f"{content} did not get the next id after <|endoftext|>")
    return tokenizer
