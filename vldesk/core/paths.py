"""Where vldesk keeps its files: platformdirs per user, or one folder given by ``VLDESK_HOME``."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

APP_NAME = "vldesk"

#: Set to a folder to keep every vldesk file (settings, data, models, logs) under it:
#: tests and portable use.
HOME_ENV = "VLDESK_HOME"
#: Set to a folder to keep downloaded models there instead of the per-user cache.
MODELS_ENV = "VLDESK_MODELS_DIR"


@dataclass(frozen=True)
class AppPaths:
    """The folders vldesk reads and writes. Nothing is created until :meth:`ensure` is called."""

    config_dir: Path
    data_dir: Path
    cache_dir: Path
    log_dir: Path
    models_dir: Path

    @property
    def settings_file(self) -> Path:
        return self.config_dir / "settings.json"

    @property
    def history_db(self) -> Path:
        return self.data_dir / "history.sqlite3"

    def ensure(self) -> AppPaths:
        for folder in (
            self.config_dir,
            self.data_dir,
            self.cache_dir,
            self.log_dir,
            self.models_dir,
        ):
            folder.mkdir(parents=True, exist_ok=True)
        return self


def app_paths(models_dir: str | os.PathLike[str] | None = None) -> AppPaths:
    """Resolve the folders from the environment; ``models_dir`` (a user setting) wins when given."""
    home = os.environ.get(HOME_ENV)
    if home:
        root = Path(home).expanduser()
        config, data, cache, logs = root / "config", root / "data", root / "cache", root / "logs"
    else:
        import platformdirs

        dirs = platformdirs.PlatformDirs(APP_NAME, appauthor=False)
        config = Path(dirs.user_config_dir)
        data = Path(dirs.user_data_dir)
        cache = Path(dirs.user_cache_dir)
        logs = Path(dirs.user_log_dir)
    chosen_models = models_dir or os.environ.get(MODELS_ENV)
    models = Path(chosen_models).expanduser() if chosen_models else cache / "models"
    return AppPaths(config, data, cache, logs, models)
