"""Translation catalog tools: extract tr() strings by AST, update the .ts file, build the .qm."""

# Run ``python -m tools.i18n_catalog`` after changing user-visible strings: it adds new
# strings to ``vldesk/assets/i18n/vldesk_zh_CN.ts`` (untranslated, for Qt Linguist or a text
# editor), drops strings the code no longer uses, and compiles the ``.qm`` the app loads.
# ``--check`` only reports what is missing (exit code 1), as the tests do.
#
# Why not pyside6-lupdate: the code also translates through small ``_tr()`` helpers and
# ``mark_translatable()`` tables (a typed QT_TRANSLATE_NOOP), which lupdate's Python parser
# does not see; one AST pass here finds them all, and the same pass lets a test flag
# user-visible literals that skip tr().
# The file format stays standard Qt Linguist XML, compiled by Qt's own lrelease.

from __future__ import annotations

import argparse
import ast
import re
import shutil
import string
import subprocess
import sys
import xml.etree.ElementTree as ET
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

PACKAGE_ROOT = Path(__file__).resolve().parents[1] / "vldesk"
GUI_ROOT = PACKAGE_ROOT / "gui"
#: The core's messages for people (``core_text(...)``), translated by the GUI when shown.
CORE_ROOT = PACKAGE_ROOT / "core"
I18N_DIR = PACKAGE_ROOT / "assets" / "i18n"
#: Qt locale name of each shipped translation (English is the source language).
CATALOG_LOCALES = {"zh": "zh_CN"}

_TRANSLATE_FUNCS = {"translate", "QT_TRANSLATE_NOOP", "mark_translatable", "core_text"}
#: Marking calls whose text must be a literal (the catalog cannot hold a variable's value).
_MARKING_FUNCS = ("QT_TRANSLATE_NOOP", "mark_translatable", "core_text")


def catalog_file(language: str, suffix: str = ".ts") -> Path:
    return I18N_DIR / f"vldesk_{CATALOG_LOCALES[language]}{suffix}"


@dataclass(frozen=True)
class Message:
    """One translatable string: Qt looks it up by (context, source)."""

    context: str
    source: str
    file: str = field(default="", compare=False)
    line: int = field(default=0, compare=False)


@dataclass(frozen=True)
class Problem:
    """A call that cannot be extracted (its text is not a literal) or an untranslated literal."""

    file: str
    line: int
    text: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.text}"


def _literal(node: ast.expr | None) -> str | None:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    return None


def _wrappers(tree: ast.Module) -> dict[str, str]:
    """Module-level ``def _tr(text): return QCoreApplication.translate("Ctx", text)`` helpers."""
    found: dict[str, str] = {}
    for node in tree.body:
        if not isinstance(node, ast.FunctionDef) or len(node.args.args) != 1:
            continue
        body = [stmt for stmt in node.body if not isinstance(stmt, ast.Expr)]
        if len(body) != 1 or not isinstance(body[0], ast.Return):
            continue
        call = body[0].value
        if (
            isinstance(call, ast.Call)
            and isinstance(call.func, ast.Attribute)
            and call.func.attr == "translate"
            and len(call.args) == 2
            and _literal(call.args[0]) is not None
            and isinstance(call.args[1], ast.Name)
            and call.args[1].id == node.args.args[0].arg
        ):
            found[node.name] = _literal(call.args[0]) or ""
    return found


def _func_name(call: ast.Call) -> str:
    func = call.func
    if isinstance(func, ast.Name):
        return func.id
    if isinstance(func, ast.Attribute):
        return func.attr
    return ""


def translation_calls(tree: ast.Module) -> Iterator[tuple[ast.Call, str, ast.expr | None]]:
    """Every translating call in a module: ``(call, context, text argument)``.

    Recognised: ``self.tr(...)`` and ``tr(...)`` (``tr = self.tr``) inside a class, with the
    class as context (PySide looks up the defining class too); ``X.translate("Ctx", ...)``;
    ``QT_TRANSLATE_NOOP("Ctx", ...)``; and calls of module-level ``_tr``-style helpers.
    """
    wrappers = _wrappers(tree)

    def visit(
        node: ast.AST, classes: tuple[str, ...], in_wrapper: bool
    ) -> Iterator[tuple[ast.Call, str, ast.expr | None]]:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.ClassDef):
                yield from visit(child, (*classes, child.name), in_wrapper)
                continue
            if isinstance(child, ast.FunctionDef) and child.name in wrappers and not classes:
                yield from visit(child, classes, True)
                continue
            if isinstance(child, ast.Call):
                name = _func_name(child)
                func = child.func
                is_self_tr = (
                    isinstance(func, ast.Attribute)
                    and func.attr == "tr"
                    and isinstance(func.value, ast.Name)
                    and func.value.id == "self"
                )
                is_bare_tr = isinstance(func, ast.Name) and func.id == "tr"
                if classes and (is_self_tr or is_bare_tr):
                    yield child, classes[-1], child.args[0] if child.args else None
                elif name in _TRANSLATE_FUNCS and len(child.args) >= 2 and not in_wrapper:
                    context = _literal(child.args[0])
                    if context is not None:
                        yield child, context, child.args[1]
                elif isinstance(func, ast.Name) and func.id in wrappers:
                    yield child, wrappers[func.id], child.args[0] if child.args else None
            yield from visit(child, classes, in_wrapper)

    yield from visit(tree, (), False)


def _python_files(root: Path) -> list[Path]:
    return sorted(path for path in root.rglob("*.py") if "__pycache__" not in path.parts)


def _relative(path: Path) -> str:
    try:
        return path.relative_to(PACKAGE_ROOT.parent).as_posix()
    except ValueError:
        return path.as_posix()


def extract(
    roots: Iterable[Path] = (GUI_ROOT, CORE_ROOT),
) -> tuple[list[Message], list[Problem]]:
    """The messages of every module under ``roots`` (first occurrence order, no duplicates)."""
    messages: dict[tuple[str, str], Message] = {}
    problems: list[Problem] = []
    for path in [path for root in roots for path in _python_files(root)]:
        tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
        for call, context, arg in translation_calls(tree):
            text = _literal(arg)
            if text is None:
                if _func_name(call) in _MARKING_FUNCS:
                    problems.append(Problem(_relative(path), call.lineno, "non-literal text"))
                continue  # a variable holding a string marked elsewhere (QT_TRANSLATE_NOOP)
            key = (context, text)
            if key not in messages:
                messages[key] = Message(context, text, _relative(path), call.lineno)
    return list(messages.values()), problems


# --- untranslated user-visible literals ----------------------------------------------------------

#: Methods whose string arguments are shown to the user.
UI_METHODS = frozenset(
    {
        "setText",
        "setToolTip",
        "setStatusTip",
        "setWhatsThis",
        "setWindowTitle",
        "setPlaceholderText",
        "setAccessibleName",
        "setAccessibleDescription",
        "setTitle",
        "setLabelText",
        "setInformativeText",
        "setDetailedText",
        "setSuffix",
        "setPrefix",
        "setSpecialValueText",
        "setTabText",
        "setHeaderLabels",
        "setMarkdown",
        "set_placeholder",
        "addMenu",
        "addAction",
        "addItem",
        "addTab",
        "addRow",
        "addButton",
        "showMessage",
        "show_message",
        "about",
        "question",
        "information",
        "warning",
        "critical",
        "getOpenFileName",
        "getOpenFileNames",
        "getSaveFileName",
        "getExistingDirectory",
        "getText",
        "getItem",
        "getInt",
    }
)
#: Widgets and helpers whose string arguments are shown to the user.
UI_CONSTRUCTORS = frozenset(
    {
        "QAction",
        "QLabel",
        "QPushButton",
        "QToolButton",
        "QCheckBox",
        "QRadioButton",
        "QGroupBox",
        "QDockWidget",
        "QMenu",
        "QMessageBox",
        "QProgressDialog",
        "QCommandLinkButton",
        "ErrorDialog",
    }
)
#: Helpers of ours: which positional arguments (and keywords) are text for people.
UI_HELPERS = {"_action": ((1, 3), ("text", "tip"))}
#: Words that are names, not language: fine untranslated.
UNTRANSLATED_WORDS = frozenset({"vldesk", "Qwen", "Python", "Qt", "PySide6", "CUDA", "PyTorch"})
#: Calls whose arguments are skipped (logging, keys, data, not text for people).
_LOG_METHODS = frozenset({"debug", "info", "warning", "error", "exception", "critical", "log"})


def _needs_translation(text: str) -> bool:
    text = re.sub(r"<[^>]*>|&[a-z]+;", " ", text)  # HTML tags and entities are not words
    words = "".join(ch if ch.isalpha() else " " for ch in text).split()
    return any(word not in UNTRANSLATED_WORDS for word in words)


def _literal_texts(node: ast.expr) -> Iterator[str]:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        yield node.value
    elif isinstance(node, ast.JoinedStr):
        for part in node.values:
            if isinstance(part, ast.Constant) and isinstance(part.value, str):
                yield part.value
    elif isinstance(node, ast.BinOp):
        yield from _literal_texts(node.left)
        yield from _literal_texts(node.right)
    elif isinstance(node, ast.IfExp):
        yield from _literal_texts(node.body)
        yield from _literal_texts(node.orelse)


def untranslated_literals(root: Path = GUI_ROOT) -> list[Problem]:
    """String literals handed straight to a user-visible Qt setter or widget, not via tr()."""
    problems: list[Problem] = []
    for path in _python_files(root):
        tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call):
                continue
            func = node.func
            name = _func_name(node)
            receiver = func.value if isinstance(func, ast.Attribute) else None
            is_logger = (
                name in _LOG_METHODS
                and isinstance(receiver, ast.Name)
                and receiver.id in ("log", "logger", "logging")
            )
            if is_logger:
                continue
            if name in UI_HELPERS:
                positions, keywords = UI_HELPERS[name]
                arguments = [arg for i, arg in enumerate(node.args) if i in positions]
                arguments += [kw.value for kw in node.keywords if kw.arg in keywords]
            elif (isinstance(func, ast.Attribute) and name in UI_METHODS) or (
                name in UI_CONSTRUCTORS
            ):
                arguments = [*node.args, *(keyword.value for keyword in node.keywords)]
            else:
                continue
            for argument in arguments:
                for text in _literal_texts(argument):
                    if _needs_translation(text):
                        problems.append(Problem(_relative(path), node.lineno, repr(text)))
    return problems


# --- .ts files ----------------------------------------------------------------------------------


@dataclass
class Catalog:
    """A Qt Linguist ``.ts`` file: ``translations[(context, source)]`` ("" when unfinished)."""

    language: str
    translations: dict[tuple[str, str], str]

    @classmethod
    def read(cls, path: Path) -> Catalog:
        root = ET.parse(path).getroot()
        translations: dict[tuple[str, str], str] = {}
        for context in root.iter("context"):
            name = context.findtext("name") or ""
            for message in context.iter("message"):
                source = message.findtext("source") or ""
                node = message.find("translation")
                kind = node.get("type", "") if node is not None else "unfinished"
                if kind in ("obsolete", "vanished"):
                    continue
                text = (node.text or "") if node is not None else ""
                translations[(name, source)] = text
        return cls(root.get("language", ""), translations)

    def write(self, path: Path, order: Iterable[Message]) -> None:
        """Write the messages of ``order`` (grouped by context, sorted) with our translations."""
        root = ET.Element("TS", version="2.1", language=self.language, sourcelanguage="en")
        by_context: dict[str, list[Message]] = {}
        for message in order:
            by_context.setdefault(message.context, []).append(message)
        for name in sorted(by_context):
            context = ET.SubElement(root, "context")
            ET.SubElement(context, "name").text = name
            for message in by_context[name]:
                node = ET.SubElement(context, "message")
                ET.SubElement(node, "source").text = message.source
                text = self.translations.get((message.context, message.source), "")
                translation = ET.SubElement(node, "translation")
                translation.text = text
                if not text:
                    translation.set("type", "unfinished")
        ET.indent(root, space="    ")
        body = ET.tostring(root, encoding="unicode")
        path.write_text(
            '<?xml version="1.0" encoding="utf-8"?>\n<!DOCTYPE TS>\n' + body + "\n",
            encoding="utf-8",
        )


def placeholders(text: str) -> list[tuple[str, str]]:
    """The ``str.format`` fields of a text, sorted: ``[("0", ".1f"), ("name", "")]``."""
    try:
        return sorted(
            (name, spec or "")
            for _literal_text, name, spec, _conv in string.Formatter().parse(text)
            if name is not None
        )
    except ValueError:
        return [("<invalid>", text)]


def catalog_problems(messages: Iterable[Message], catalog: Catalog) -> list[str]:
    """Why the catalog is not complete for these messages (empty when it is)."""
    problems = []
    for message in messages:
        where = f"{message.file}:{message.line} [{message.context}] {message.source!r}"
        translation = catalog.translations.get((message.context, message.source))
        if translation is None:
            problems.append(f"{where}: not in the catalog")
        elif not translation.strip():
            problems.append(f"{where}: not translated")
        elif translation == message.source and _needs_translation(message.source):
            problems.append(f"{where}: translation is the same as the source")
        elif placeholders(translation) != placeholders(message.source):
            problems.append(f"{where}: placeholders differ in {translation!r}")
    return problems


# --- compiling ------------------------------------------------------------------------------------


def lrelease_command() -> list[str]:
    """Qt's lrelease: the one inside PySide6, else ``pyside6-lrelease`` or ``lrelease``."""
    import PySide6

    bundled = Path(PySide6.__file__).parent / (
        "lrelease.exe" if sys.platform == "win32" else "lrelease"
    )
    if bundled.is_file():
        return [str(bundled)]
    for name in ("pyside6-lrelease", "lrelease"):
        found = shutil.which(name)
        if found:
            return [found]
    raise FileNotFoundError("lrelease not found: install PySide6 (it ships pyside6-lrelease)")


def compile_catalog(ts_file: Path, qm_file: Path) -> None:
    subprocess.run(
        [*lrelease_command(), "-silent", str(ts_file), "-qm", str(qm_file)],
        check=True,
        capture_output=True,
    )


def update(language: str = "zh") -> list[str]:
    """Bring the ``.ts`` in line with the code and rebuild the ``.qm``; returns what is missing."""
    messages, problems = extract()
    ts_file = catalog_file(language)
    catalog = Catalog.read(ts_file) if ts_file.is_file() else Catalog(CATALOG_LOCALES[language], {})
    catalog.write(ts_file, messages)
    compile_catalog(ts_file, catalog_file(language, ".qm"))
    return [str(problem) for problem in problems] + catalog_problems(messages, catalog)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--check", action="store_true", help="only report, change nothing")
    args = parser.parse_args(argv)
    exit_code = 0
    for language in CATALOG_LOCALES:
        if args.check:
            messages, extract_problems = extract()
            missing = [str(p) for p in extract_problems] + catalog_problems(
                messages, Catalog.read(catalog_file(language))
            )
        else:
            missing = update(language)
        for line in missing:
            sys.stderr.write(f"{language}: {line}\n")
        exit_code = exit_code or (1 if missing else 0)
    return exit_code


if __name__ == "__main__":
    sys.exit(main())
