"""The composition root: builds the services every front end (GUI, CLI, tests) shares.

Thread contract: create and close on the main thread.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from app import __version__, i18n, logs
from app.paths import AppPaths, default_paths
from app.projects import ProjectStore
from app.settings import Settings
from app.storage import Database, open_database

log = logging.getLogger(__name__)


@dataclass
class AppContext:
    paths: AppPaths
    settings: Settings
    database: Database
    projects: ProjectStore
    language: str
    warnings: list[str] = field(default_factory=list)

    @classmethod
    def start(
        cls, paths: AppPaths | None = None, language: str | None = None, console_log: bool = False
    ) -> AppContext:
        paths = (paths or default_paths()).ensure()
        logs.configure(paths.log_file, console=console_log)
        log.info("Hookline %s starting; data in %s", __version__, paths.data_dir)
        settings = Settings.load(paths.settings_file)
        chosen = i18n.set_language(language or str(settings.get("ui.language")))
        database = open_database(paths.database_file)
        return cls(
            paths,
            settings,
            database,
            ProjectStore(database),
            chosen,
            warnings=list(settings.warnings),
        )

    def close(self) -> None:
        self.database.close()
        log.info("Hookline stopped")
