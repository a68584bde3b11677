"""Versions of vldesk and its main libraries, read from package metadata without importing them."""

from __future__ import annotations

import ast
import importlib.metadata
import importlib.util
import platform
import sys
from pathlib import Path

from vldesk import __version__

#: Distributions shown in the About box and bug reports: display name, distribution names.
LIBRARIES = {
    "PySide6": ("PySide6", "PySide6-Essentials"),
    "PyTorch": ("torch",),
    "transformers": ("transformers",),
}


def distribution_version(*names: str) -> str | None:
    """The installed version of the first of these distributions found, else ``None``."""
    for name in names:
        try:
            return importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            continue
    return None


def _torch_version_file() -> Path | None:
    try:
        spec = importlib.util.find_spec("torch")  # finds the folder; runs nothing
    except (ImportError, ValueError):
        return None
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations))) / "version.py"


def torch_build(version_file: Path | None = None) -> dict[str, str | None]:
    """``{"cuda": "12.8" | None, "hip": ... | None}`` of the installed torch build.

    Read from ``torch/version.py`` as text, so asking does not pay for importing torch (seconds)
    on the GUI thread. An already imported torch is asked directly.
    """
    torch = sys.modules.get("torch")
    version = getattr(torch, "version", None)
    if version is not None and version_file is None:
        return {"cuda": getattr(version, "cuda", None), "hip": getattr(version, "hip", None)}
    path = version_file or _torch_version_file()
    found: dict[str, str | None] = {"cuda": None, "hip": None}
    if path is None:
        return found
    try:
        tree = ast.parse(path.read_text(encoding="utf-8"))
    except (OSError, SyntaxError, ValueError):
        return found
    for node in tree.body:
        if isinstance(node, ast.Assign) and len(node.targets) == 1:
            target, value = node.targets[0], node.value
        elif isinstance(node, ast.AnnAssign) and node.value is not None:
            target, value = node.target, node.value
        else:
            continue
        if isinstance(target, ast.Name) and target.id in found and isinstance(value, ast.Constant):
            found[target.id] = str(value.value) if value.value is not None else None
    return found


def component_versions(qt_version: str | None = None) -> list[tuple[str, str]]:
    """(name, version) of vldesk, Python, Qt and the libraries; "not installed" as ``"–"``."""
    rows = [
        ("vldesk", __version__),
        ("Python", f"{platform.python_version()} ({platform.python_implementation()})"),
    ]
    if qt_version:
        rows.append(("Qt", qt_version))
    for label, dists in LIBRARIES.items():
        rows.append((label, distribution_version(*dists) or "–"))
    build = torch_build()
    if build["cuda"]:
        rows.append(("CUDA", build["cuda"]))
    elif build["hip"]:
        rows.append(("ROCm", build["hip"]))
    elif distribution_version("torch"):
        rows.append(("CUDA", "–"))
    rows.append(("OS", f"{platform.system()} {platform.release()} ({platform.machine()})"))
    return rows
