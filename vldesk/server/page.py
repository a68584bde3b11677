"""The web page at ``/``: pick or photograph an image, ask, and watch the answer stream.

Everything is inline (no external assets): it works offline and from a phone on the network.
"""

from __future__ import annotations

import html
import json

from vldesk.core.presets import LANGUAGES, PRESETS

#: The page's own words in each language other than English (the presets carry their own).
_WORDS: dict[str, dict[str, str]] = {
    "zh": {
        "Drop an image here, or tap to pick one or take a photo": (
            "把图片拖到这里，或点按选择图片、拍照"
        ),
        "the chosen image": "所选图片",
        "Preset": "预设",
        "API key (if the server needs one)": "API 密钥（服务器要求时填写）",
        "Question": "问题",
        "Ask": "提问",
        "Stop": "停止",
    }
}


def page_language(asked: str | None, configured: str, accept_language: str | None) -> str:
    """The page's language: ``?lang=`` where given, else the server's (unless ``auto``), else the
    browser's first language the presets have; English otherwise."""
    for choice in (asked, None if configured == "auto" else configured):
        code = _code(choice)
        if code in LANGUAGES:
            return code
    for part in (accept_language or "").split(","):
        code = _code(part.split(";")[0])
        if code in LANGUAGES:
            return code
    return "en"


def _code(tag: str | None) -> str:
    return (tag or "").strip().replace("_", "-").split("-")[0].lower()


def page_html(language: str = "en") -> str:
    presets = [
        {
            "name": p.name,
            "title": p.title(language),
            "prompt": p.prompt(language),
            "max_tokens": p.max_new_tokens,
        }
        for p in PRESETS
    ]
    # "</" cannot end the script early once escaped.
    data = json.dumps(presets, ensure_ascii=False).replace("</", "<\\/")
    page = _PAGE.replace("__PRESETS__", data).replace("__TITLE__", html.escape("vldesk"))
    page = page.replace("__LANG__", "zh-Hans" if language == "zh" else language)
    for english, translated in _WORDS.get(language, {}).items():
        page = page.replace(f"{{{{{english}}}}}", html.escape(translated))
    # English, and any word a language lacks, stays as written.
    for english in _WORDS["zh"]:
        page = page.replace(f"{{{{{english}}}}}", html.escape(english))
    return page


_PAGE = """<!doctype html>
<html lang="__LANG__"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>__TITLE__</title>
<style>
body{font-family:system-ui,sans-serif;max-width:46rem;margin:1rem auto;padding:0 1rem;color:#222}
#drop{border:2px dashed #888;border-radius:8px;padding:1rem;text-align:center;cursor:pointer}
#drop.over{background:#eef}
#preview{max-width:100%;max-height:18rem;display:none;margin:.5rem auto}
textarea{width:100%;box-sizing:border-box;min-height:4rem}
#answer{white-space:pre-wrap;border:1px solid #ccc;border-radius:6px;padding:.6rem;min-height:3rem}
.row{display:flex;gap:.5rem;flex-wrap:wrap;margin:.5rem 0}
#error{color:#b00}
</style></head>
<body>
<h1>vldesk</h1>
<label id="drop" for="file">{{Drop an image here, or tap to pick one or take a photo}}
<input id="file" type="file" accept="image/*" capture="environment" hidden></label>
<img id="preview" alt="{{the chosen image}}">
<div class="row"><select id="preset" aria-label="{{Preset}}"></select>
<input id="key" type="password" placeholder="{{API key (if the server needs one)}}"></div>
<textarea id="question" aria-label="{{Question}}"></textarea>
<div class="row"><button id="ask">{{Ask}}</button><button id="stop" disabled>{{Stop}}</button></div>
<div id="answer" aria-live="polite"></div>
<div id="error"></div>
<script>
const PRESETS = __PRESETS__;
const $ = (id) => document.getElementById(id);
let image = null, maxTokens = 512, controller = null;
for (const p of PRESETS) {
  const option = document.createElement("option");
  option.value = p.name; option.textContent = p.title; $("preset").append(option);
}
function usePreset() {
  const p = PRESETS.find((x) => x.name === $("preset").value);
  if (p) { $("question").value = p.prompt; maxTokens = p.max_tokens; }
}
$("preset").onchange = usePreset; usePreset();
$("key").value = localStorage.getItem("vldesk-key") || "";
function choose(file) {
  if (!file) return;
  const reader = new FileReader();
  reader.onload = () => { image = reader.result; $("preview").src = image;
    $("preview").style.display = "block"; };
  reader.readAsDataURL(file);
}
$("file").onchange = (e) => choose(e.target.files[0]);
const drop = $("drop");
drop.ondragover = (e) => { e.preventDefault(); drop.classList.add("over"); };
drop.ondragleave = () => drop.classList.remove("over");
drop.ondrop = (e) => { e.preventDefault(); drop.classList.remove("over");
  choose(e.dataTransfer.files[0]); };
$("stop").onclick = () => controller && controller.abort();
$("ask").onclick = async () => {
  $("answer").textContent = ""; $("error").textContent = "";
  const content = [{type: "text", text: $("question").value}];
  if (image) content.push({type: "image_url", image_url: {url: image}});
  const key = $("key").value; localStorage.setItem("vldesk-key", key);
  const headers = {"Content-Type": "application/json"};
  if (key) headers["Authorization"] = "Bearer " + key;
  controller = new AbortController(); $("ask").disabled = true; $("stop").disabled = false;
  try {
    const response = await fetch("/v1/chat/completions", {method: "POST", headers,
      signal: controller.signal, body: JSON.stringify({model: "", stream: true,
      max_tokens: maxTokens, messages: [{role: "user", content}]})});
    if (!response.ok) {
      const body = await response.json().catch(() => ({}));
      throw new Error((body.error && body.error.message) || response.statusText);
    }
    const reader = response.body.getReader(), decoder = new TextDecoder();
    let buffer = "";
    for (;;) {
      const {value, done} = await reader.read();
      if (done) break;
      buffer += decoder.decode(value, {stream: true});
      let end;
      while ((end = buffer.indexOf("\\n\\n")) >= 0) {
        const line = buffer.slice(0, end).replace(/^data: /, ""); buffer = buffer.slice(end + 2);
        if (line === "[DONE]") continue;
        const chunk = JSON.parse(line);
        if (chunk.error) throw new Error(chunk.error.message);
        const delta = chunk.choices && chunk.choices[0] && chunk.choices[0].delta;
        if (delta && delta.content) $("answer").textContent += delta.content;
      }
    }
  } catch (error) {
    if (error.name !== "AbortError") $("error").textContent = String(error.message || error);
  } finally {
    $("ask").disabled = false; $("stop").disabled = true; controller = null;
  }
};
</script>
</body></html>
"""
