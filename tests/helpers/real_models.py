"""Where the tests find the real non-weight files of the models (../shared/real-models)."""

from __future__ import annotations

from pathlib import Path

import pytest

from vldesk.bench.synthetic import reference_folder
from vldesk.core.models.catalog import Family

#: Beside the repository, as in CI (a copy of shared/ lies beside the clone); read only.
REAL_MODELS = Path(__file__).resolve().parents[3] / "shared" / "real-models"


def reference_or_none(family: Family) -> Path | None:
    """``family``'s real files, or ``None`` when the collection is not beside the repository."""
    return reference_folder(REAL_MODELS, family)


def reference(family: Family) -> Path:
    """``family``'s real files; the test is skipped, saying where they were looked for, when
    they are absent."""
    folder = reference_or_none(family)
    if folder is None:
        pytest.skip(f"the real model files are not at {REAL_MODELS}")
    return folder
