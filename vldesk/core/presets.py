"""Ready-made prompts for common jobs, in English and Simplified Chinese."""

from __future__ import annotations

from dataclasses import dataclass

LANGUAGES = ("en", "zh")


@dataclass(frozen=True)
class Preset:
    """A named prompt; ``prompts`` maps a language code to the prompt text."""

    name: str
    titles: dict[str, str]
    prompts: dict[str, str]
    #: Suggested answer length; generous for documents, short for captions.
    max_new_tokens: int = 512

    def title(self, language: str = "en") -> str:
        return self.titles.get(language, self.titles["en"])

    def prompt(self, language: str = "en") -> str:
        return self.prompts.get(language, self.prompts["en"])


PRESETS: tuple[Preset, ...] = (
    Preset(
        "brief",
        {"en": "Describe briefly", "zh": "简要描述"},
        {
            "en": "Describe this image in one or two sentences.",
            "zh": "用一两句话描述这张图片。",
        },
        max_new_tokens=128,
    ),
    Preset(
        "detailed",
        {"en": "Describe in detail", "zh": "详细描述"},
        {
            "en": (
                "Describe this image in detail: the main subject, the setting, colours, lighting, "
                "any people or objects and what they are doing, and any visible text."
            ),
            "zh": (
                "请详细描述这张图片：主体、场景、颜色、光线、人物或物体及其动作，"
                "以及图中可见的文字。"
            ),
        },
        max_new_tokens=768,
    ),
    Preset(
        "ocr",
        {"en": "Read all text", "zh": "识别文字"},
        {
            "en": (
                "Read all the text in this image, exactly as written, in reading order. "
                "Output only the text."
            ),
            "zh": "请按阅读顺序准确识别并输出图片中的全部文字，只输出文字内容。",
        },
        max_new_tokens=1024,
    ),
    Preset(
        "markdown",
        {"en": "Document to Markdown", "zh": "文档转 Markdown"},
        {
            "en": (
                "Convert this document into Markdown. Keep headings, lists, tables and emphasis; "
                "output only the Markdown."
            ),
            "zh": "请把这份文档转换为 Markdown，保留标题、列表、表格和强调格式，只输出 Markdown。",
        },
        max_new_tokens=2048,
    ),
    Preset(
        "json",
        {"en": "Key information as JSON", "zh": "提取关键信息为 JSON"},
        {
            "en": (
                "Extract the key information in this image as a JSON object with descriptive keys. "
                "Output only valid JSON, without code fences."
            ),
            "zh": (
                "请将图片中的关键信息提取为一个 JSON 对象，键名要有描述性。"
                "只输出合法的 JSON，不要代码块标记。"
            ),
        },
        max_new_tokens=1024,
    ),
    Preset(
        "alt",
        {"en": "Alt text", "zh": "无障碍替代文本"},
        {
            "en": (
                "Write alt text for this image for a screen-reader user: one concise sentence, "
                "under 125 characters, without starting with 'Image of'."
            ),
            "zh": (
                "请为这张图片写一句供读屏软件使用的替代文本：简洁，不超过 60 个字，"
                "不要以“图片显示”开头。"
            ),
        },
        max_new_tokens=96,
    ),
    # Grounding: the answer is parsed by vldesk.core.grounding and drawn as boxes.
    Preset(
        "find",
        {"en": "Find objects", "zh": "查找物体"},
        {
            "en": (
                "Locate every distinct object in this image. Output only JSON in this form: "
                '[{"bbox_2d": [x1, y1, x2, y2], "label": "object name"}].'
            ),
            "zh": (
                "请定位图片中的每一个物体，只输出如下格式的 JSON："
                '[{"bbox_2d": [x1, y1, x2, y2], "label": "物体名称"}]。'
            ),
        },
        max_new_tokens=1024,
    ),
)

_BY_NAME = {preset.name: preset for preset in PRESETS}


def preset_names() -> list[str]:
    return [preset.name for preset in PRESETS]


def get_preset(name: str) -> Preset:
    """Look up a preset by name; raises ``KeyError`` with the valid names."""
    try:
        return _BY_NAME[name.strip().lower()]
    except KeyError:
        raise KeyError(f"unknown preset '{name}'; choose one of {', '.join(_BY_NAME)}") from None
