"""Fixtures for the application core: a real SQLite database in a temporary folder."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from app.i18n import set_language
from app.projects import ProjectStore
from app.storage import Database, open_database


@pytest.fixture
def english() -> Iterator[None]:
    """Messages are asserted in English, whatever language an earlier test left behind."""
    set_language("en")
    yield
    set_language("en")


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "data" / "hookline.sqlite3"


@pytest.fixture
def database(db_path: Path) -> Iterator[Database]:
    db = open_database(db_path)
    yield db
    db.close()


@pytest.fixture
def store(database: Database) -> ProjectStore:
    return ProjectStore(database)
