"""Sign-in and sync with a real Secret Service (GNOME Keyring on a private D-Bus session bus),
then a search of every file Hookline wrote (data folder, settings, logs at DEBUG level) and of
the keyring's own files for the tokens: they must be in the keyring and nowhere else."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from pathlib import Path

import keyring
import pytest
from keyring.backends import SecretService as SecretServiceBackend

from app import logs
from app.paths import AppPaths
from app.spotify.service import SpotifyService
from app.spotify.tokens import SERVICE
from app.storage import open_database
from tests.app.test_spotify_service import browser, config_for
from tests.support.secret_service import SecretService
from tests.support.spotify_fake import FakeSpotify, spotify_server  # noqa: F401 (fixture)


@pytest.fixture
def secret_service(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[SecretService]:
    previous = keyring.get_keyring()
    with SecretService(tmp_path / "secret-service") as service:
        monkeypatch.setenv("DBUS_SESSION_BUS_ADDRESS", service.env["DBUS_SESSION_BUS_ADDRESS"])
        backend = SecretServiceBackend.Keyring()
        keyring.set_keyring(backend)
        try:
            yield service
        finally:
            keyring.set_keyring(previous)


def _files_holding(root: Path, secrets: list[str]) -> list[str]:
    found = []
    for path in root.rglob("*"):
        if path.is_file():
            data = path.read_bytes()
            found += [f"{path}: {s[:6]}…" for s in secrets if s.encode() in data]
    return found


def test_tokens_live_only_in_the_keyring(
    secret_service: SecretService,
    spotify_server: FakeSpotify,  # noqa: F811
    app_paths: AppPaths,
    hookline_home: Path,
) -> None:
    logs.configure(app_paths.log_dir / "hookline.log", level=logging.DEBUG)
    try:
        database = open_database(app_paths.database_file)
        service = SpotifyService(database, config_for(spotify_server))
        service.login(browser, timeout=20)
        first = json.loads(keyring.get_password(SERVICE, spotify_server.client_id) or "{}")
        spotify_server.expire_access_tokens()  # the sync must refresh, and store the rotation
        report = service.sync()
        assert report.status == "complete", report.message
        second = json.loads(keyring.get_password(SERVICE, spotify_server.client_id) or "{}")
        assert second["refresh_token"] != first["refresh_token"]
        database.close()
        logging.getLogger("app.spotify").debug(
            "a careless debug line: %s", {"refresh_token": second["refresh_token"]}
        )
    finally:
        root = logging.getLogger()
        for handler in list(root.handlers):
            handler.flush()
            if getattr(handler, "_hookline", False):
                root.removeHandler(handler)
                handler.close()
        root.setLevel(logging.WARNING)
    secrets = [
        first["access_token"],
        first["refresh_token"],
        second["access_token"],
        second["refresh_token"],
    ]
    assert all(isinstance(s, str) and len(s) >= 16 for s in secrets)
    log_text = (app_paths.log_dir / "hookline.log").read_text(encoding="utf-8")
    assert "redacted" in log_text  # the careless line reached the log, scrubbed
    assert _files_holding(hookline_home, secrets) == []
    # GNOME Keyring stores them encrypted: not even its own files hold them in clear.
    assert secret_service.keyrings.exists()
    assert _files_holding(secret_service.home, secrets) == []
    assert SpotifyService(open_database(app_paths.database_file), service.config).logout()
    assert keyring.get_password(SERVICE, spotify_server.client_id) is None
