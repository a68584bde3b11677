"""Find boxes and points in a model's answer: JSON (fenced, partial or bare) and Qwen2.5 spans."""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from typing import Any

#: Keys the Qwen models (and models imitating them) use for a box and for a point.
_BOX_KEYS = ("bbox_2d", "bbox", "box_2d", "box")
_POINT_KEYS = ("point_2d", "point", "keypoint")
_LABEL_KEYS = ("label", "name", "object", "text", "category")

# Qwen2.5-VL's special-token spans: an optional reference, then one or more boxes.
_REF = r"<\|object_ref_start\|>(?P<label>.*?)<\|object_ref_end\|>"
_NUMBER = r"\s*(-?\d+(?:\.\d+)?)\s*"
_BOX = (
    r"<\|box_start\|>\s*\("
    + _NUMBER
    + ","
    + _NUMBER
    + r"\)\s*,\s*\("
    + _NUMBER
    + ","
    + _NUMBER
    + r"\)\s*<\|box_end\|>"
)
_SPAN_PATTERN = re.compile(rf"(?:{_REF}\s*)?(?P<boxes>(?:{_BOX}\s*)+)", re.DOTALL)
_BOX_PATTERN = re.compile(_BOX)


@dataclass(frozen=True)
class Detection:
    """One located thing: a box (x1, y1, x2, y2) or a point (x, y), in some coordinate frame.

    The frame is the model's until :func:`vldesk.core.grounding.to_original_pixels` maps it.
    """

    label: str
    box: tuple[float, float, float, float] | None = None
    point: tuple[float, float] | None = None


def parse_detections(answer: str) -> list[Detection]:
    """Every box and point in ``answer``, in order; an answer without any gives ``[]``.

    Accepts JSON objects anywhere in the text (in a code fence or not, in a list or not), keeps
    the complete objects of a truncated list, and reads Qwen2.5's ``<|box_start|>`` spans.
    """
    spans = _parse_spans(answer)
    if spans:
        return spans
    return _parse_json_objects(answer)


def _parse_spans(answer: str) -> list[Detection]:
    found: list[Detection] = []
    for match in _SPAN_PATTERN.finditer(answer):
        label = (match.group("label") or "").strip()
        for box in _BOX_PATTERN.finditer(match.group("boxes")):
            x1, y1, x2, y2 = (float(box.group(i)) for i in range(1, 5))
            found.append(Detection(label, box=_ordered((x1, y1, x2, y2))))
    return found


def _parse_json_objects(answer: str) -> list[Detection]:
    """Decode each complete ``{...}`` that holds a box or point; skip what does not decode.

    Scanning object by object (rather than parsing the whole answer) is what recovers the
    finished objects of an answer cut off by the token limit.
    """
    decoder = json.JSONDecoder()
    found: list[Detection] = []
    index = answer.find("{")
    while index != -1:
        detection = None
        end = index + 1
        try:
            value, end = decoder.raw_decode(answer, index)
        except ValueError:
            value = None
        if isinstance(value, dict):
            detection = _detection_from(value)
        if detection is None:
            # Not a detection (or broken): look inside it, e.g. {"objects": [{...}, ...]}.
            end = index + 1
        else:
            found.append(detection)
        index = answer.find("{", end)
    return found


def _detection_from(value: dict[str, Any]) -> Detection | None:
    label = next((str(value[key]).strip() for key in _LABEL_KEYS if key in value), "")
    for key in _BOX_KEYS:
        numbers = _numbers(value.get(key), 4)
        if numbers is not None:
            x1, y1, x2, y2 = numbers
            return Detection(label, box=_ordered((x1, y1, x2, y2)))
    for key in _POINT_KEYS:
        numbers = _numbers(value.get(key), 2)
        if numbers is not None:
            return Detection(label, point=(numbers[0], numbers[1]))
    return None


def _numbers(value: object, count: int) -> list[float] | None:
    if not isinstance(value, list) or len(value) != count:
        return None
    if not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in value):
        return None
    numbers = [float(v) for v in value]
    return numbers if all(math.isfinite(v) for v in numbers) else None


def _ordered(box: tuple[float, float, float, float]) -> tuple[float, float, float, float]:
    """Corners as (left, top, right, bottom), whichever order the model wrote them in."""
    x1, y1, x2, y2 = box
    return (min(x1, x2), min(y1, y2), max(x1, x2), max(y1, y2))
