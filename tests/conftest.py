"""Shared test setup: headless Qt, no hub access, a private VLDESK_HOME, tiny Qwen VL models."""

from __future__ import annotations

import os

# Before anything imports Qt or the hub libraries, which read these once.
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["TRANSFORMERS_OFFLINE"] = "1"
os.environ["HF_HUB_DISABLE_TELEMETRY"] = "1"

from pathlib import Path

import pytest

from vldesk.core.models.catalog import Family

#: Fixtures that build or load a tiny model; a test that needs one, even through another
#: fixture (``tiny_model``, ``engine``, ``ready_app``...), is a ``model`` test.
MODEL_FIXTURES = frozenset({"tiny_model_dirs", "model_layouts"})
#: Helpers that build a model folder: a test or fixture whose code names one is a ``model`` test.
MODEL_BUILDERS = frozenset(
    {"build_synthetic_model", "build_model_folder", "lively_model_dir", "build_vllm_model"}
)


def _names_a_builder(function: object) -> bool:
    code = getattr(function, "__code__", None)
    return code is not None and not MODEL_BUILDERS.isdisjoint(code.co_names)


def _builds_a_model(item: pytest.Item) -> bool:
    if not MODEL_FIXTURES.isdisjoint(getattr(item, "fixturenames", ())):
        return True
    if _names_a_builder(getattr(item, "function", None)):
        return True
    # The fixtures a test needs, its own module's included (an ``engine`` built from a helper).
    definitions = getattr(item, "_fixtureinfo", None)
    if definitions is None:
        return False
    return any(
        _names_a_builder(definition.func)
        for chain in definitions.name2fixturedefs.values()
        for definition in chain
    )


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Make ``-m "not model"`` leave out every test that builds or loads a model."""
    for item in items:
        if _builds_a_model(item):
            item.add_marker(pytest.mark.model)


@pytest.fixture(autouse=True)
def _private_vldesk_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every test gets its own settings, data and models folders, never the user's."""
    monkeypatch.setenv("VLDESK_HOME", str(tmp_path / "vldesk-home"))


@pytest.fixture(scope="session")
def tiny_model_dirs(tmp_path_factory: pytest.TempPathFactory) -> dict[Family, Path]:
    """A tiny random-weight model folder of each family, built once per session, laid out as a
    download: the real tokenizer, chat template and processor configs from
    ../shared/real-models (self-built ones where that is absent), shrunk dimensions."""
    from tests.helpers.real_models import reference_or_none
    from vldesk.bench.synthetic import build_synthetic_model

    root = tmp_path_factory.mktemp("tiny-models")
    return {
        family: build_synthetic_model(
            family, root / family.value, reference=reference_or_none(family)
        )
        for family in Family
    }


@pytest.fixture(scope="session")
def model_layouts(
    tmp_path_factory: pytest.TempPathFactory, tiny_model_dirs: dict[Family, Path]
) -> dict[tuple[Family, str], Path]:
    """``(family, layout) -> folder``: each tiny model as downloaded, as transformers 5 saves it
    and as a transformers 4 fine-tune (see ``vldesk.bench.synthetic.Layout``), built once."""
    from tests.helpers.real_models import reference
    from vldesk.bench.synthetic import Layout, resave

    root = tmp_path_factory.mktemp("model-layouts")
    folders: dict[tuple[Family, str], Path] = {}
    for family, download in tiny_model_dirs.items():
        reference(family)  # skips without the real files: the download was self-built
        for layout in Layout:
            folder = download
            if layout is not Layout.DOWNLOAD:
                folder = resave(family, download, root / f"{family.value}-{layout.value}", layout)
            folders[family, layout.value] = folder
    return folders


@pytest.fixture(params=list(Family), ids=lambda family: family.value)
def tiny_model(
    request: pytest.FixtureRequest, tiny_model_dirs: dict[Family, Path]
) -> tuple[Family, Path]:
    """``(family, folder)`` for each family in turn."""
    family: Family = request.param
    return family, tiny_model_dirs[family]
