"""Test helpers shared by the test packages."""

from pathlib import Path

#: The project's root folder (where pyproject.toml is).
PROJECT_ROOT = Path(__file__).resolve().parents[2]
