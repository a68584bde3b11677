"""The dependency policy: every range runs from what CI's lowest leg installs to the newest
version CI ran, the test tools are pinned, and what is installed lies inside the ranges."""

from __future__ import annotations

from importlib import metadata
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet
from packaging.version import Version

tomllib = pytest.importorskip("tomllib")

ROOT = Path(__file__).resolve().parent.parent


def _project() -> dict[str, object]:
    with (ROOT / "pyproject.toml").open("rb") as file:
        project: dict[str, object] = tomllib.load(file)["project"]
    return project


def _requirements(key: str) -> list[Requirement]:
    project = _project()
    if key == "dependencies":
        lines = project["dependencies"]
    else:
        lines = project["optional-dependencies"][key]  # type: ignore[index]
    return [Requirement(line) for line in lines]  # type: ignore[union-attr]


def _bounds(specifier: SpecifierSet) -> tuple[Version | None, Version | None]:
    lower = upper = None
    for spec in specifier:
        version = Version(spec.version)
        if spec.operator in (">=", "=="):
            lower = version
        if spec.operator in ("<=", "=="):
            upper = version
    return lower, upper


def _lowest_pins() -> dict[str, Version]:
    pins = {}
    for line in (ROOT / ".ci" / "constraints-lowest.txt").read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            name, version = line.split("==")
            pins[name.strip().lower()] = Version(version.strip())
    return pins


def test_every_dependency_has_a_tested_lower_and_upper_bound() -> None:
    pins = _lowest_pins()
    for requirement in _requirements("dependencies"):
        lower, upper = _bounds(requirement.specifier)
        name = requirement.name.lower()
        assert lower is not None, f"{requirement}: needs a lower bound"
        assert upper is not None, f"{requirement}: needs an upper bound CI ran"
        # The lowest leg installs exactly the lower bound ...
        assert pins.get(name) == lower, f"{name}: lowest leg pins {pins.get(name)}, not {lower}"
    # ... and pins nothing that is not a direct dependency.
    assert set(pins) == {r.name.lower() for r in _requirements("dependencies")}


def test_the_test_tools_are_pinned_exactly() -> None:
    for requirement in _requirements("test"):
        operators = {spec.operator for spec in requirement.specifier}
        assert operators == {"=="}, f"{requirement}: pin it (a new release must not fail CI)"


def test_the_installed_versions_are_ones_the_ranges_allow() -> None:
    """Whatever leg this runs in, it tests versions a user can get (catches a stale pin)."""
    for requirement in _requirements("dependencies") + _requirements("test"):
        try:
            installed = metadata.version(requirement.name)
        except metadata.PackageNotFoundError:
            continue  # e.g. torch, left out to run the tests without a model
        assert requirement.specifier.contains(installed, prereleases=True), (
            f"{requirement.name} {installed} is outside {requirement.specifier}"
        )
