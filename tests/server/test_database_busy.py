"""A database that is locked, restarting or unreachable gives a clean 503 with Retry-After
(which the desktop retries), never a 500 with a stack trace."""

from __future__ import annotations

import sqlite3
import warnings
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.exc import OperationalError

from server import protocol
from server.app import create_app
from server.config import ServerConfig


def test_a_locked_database_answers_503_with_retry_after(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    config = ServerConfig(
        database_url=f"sqlite:///{tmp_path / 'sync.sqlite3'}", blobs_path=str(tmp_path / "b")
    )
    app = create_app(config)
    service: Any = app.state.service

    def locked(*_args: object) -> str:
        raise OperationalError(
            "INSERT INTO users", {}, sqlite3.OperationalError("database is locked")
        )

    monkeypatch.setattr(service.accounts, "create_user", locked)
    with warnings.catch_warnings():  # starlette's test client warns about httpx at import
        warnings.simplefilter("ignore", DeprecationWarning)
        from fastapi.testclient import TestClient
    with TestClient(app) as client:
        r = client.post(
            protocol.API_PREFIX + "/auth/register",
            json={"email": "a@example.org", "password": "correct horse battery", "name": "A"},
        )
    assert r.status_code == 503 and r.headers["Retry-After"] == "1"
    assert r.json()["error"]["code"] == "unavailable"
    assert "database is locked" in caplog.text and "Traceback" not in caplog.text
