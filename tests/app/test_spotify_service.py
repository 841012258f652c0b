"""The Spotify client end to end against the local stand-in of the Web API
(``tests.support.spotify_fake``): every response it sends is checked against
``../shared/spotify/openapi.yml`` when each test ends. Tokens live in an in-memory keyring here;
``test_spotify_keyring.py`` runs the same sign-in against a real Secret Service."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import requests

import app.spotify.api as api
from app.paths import AppPaths
from app.spotify.auth import Endpoints, LoginFailed
from app.spotify.service import SpotifyConfig, SpotifyService
from app.spotify.tokens import SERVICE
from app.storage import Database, open_database
from tests.support.secret_service import InMemoryTestKeyring
from tests.support.spotify_fake import FakeSpotify, spotify_server  # noqa: F401 (fixture)


@pytest.fixture
def database(app_paths: AppPaths) -> Iterator[Database]:
    db = open_database(app_paths.database_file)
    yield db
    db.close()


def config_for(server: FakeSpotify, **overrides: object) -> SpotifyConfig:
    values: dict[str, object] = {
        "client_id": server.client_id,
        "endpoints": Endpoints(server.url, server.api_prefix),
    }
    values.update(overrides)
    return SpotifyConfig(**values)  # type: ignore[arg-type]


def browser(url: str) -> None:
    """The user's browser: open Spotify's page, approve, follow the redirect to Hookline."""
    answer = requests.get(url, allow_redirects=False, timeout=10)
    assert answer.status_code == 302, answer.text
    requests.get(answer.headers["Location"], timeout=10)


@pytest.fixture
def service(
    spotify_server: FakeSpotify,  # noqa: F811
    memory_keyring: InMemoryTestKeyring,
    database: Database,
) -> SpotifyService:
    svc = SpotifyService(database, config_for(spotify_server))
    svc.login(browser, timeout=20)
    return svc


def stored_token(backend: InMemoryTestKeyring, server: FakeSpotify) -> dict[str, object]:
    return json.loads(backend.entries[(SERVICE, server.client_id)])  # type: ignore[no-any-return]


def test_development_mode_snapshot_marks_missing_fields_as_unavailable(
    service: SpotifyService,
    spotify_server: FakeSpotify,  # noqa: F811
) -> None:
    report = service.sync()
    assert report.status == "complete", report.message
    assert report.access_level == "development"
    assert {"followers", "popularity", "artist_top_tracks"} <= set(report.unavailable_data)
    snap = service.latest()
    assert snap is not None and snap.account_id == "hookline-tester"
    artists = snap.of_kind("artist")
    assert len(artists) == 3  # the three followed artists
    assert all(a.followers is None and a.popularity is None for a in artists)
    assert not snap.of_kind("artist_top_track")
    nova = spotify_server.catalog.big_artist_id
    albums = [a for a in snap.of_kind("album") if a.parent_id == nova]
    assert len(albums) == 19  # 10 albums + 9 singles, read 10 a page (development mode's limit)
    album_pages = [r for r in spotify_server.requests if r.path == f"/v1/artists/{nova}/albums"]
    assert len(album_pages) == 2 and all(int(r.query["limit"]) <= 10 for r in album_pages)
    live = [a for a in snap.of_kind("album") if a.name == "Live & Rare"]
    assert not live  # a compilation: not asked for
    assert len(snap.of_kind("top_artist")) == 5 and snap.of_kind("top_artist")[0].rank == 1
    assert service.store.history("artist", nova, "followers") == []
    status = service.status()
    assert status.signed_in and status.access_level == "development"
    assert status.next_sync > datetime.now(UTC) + timedelta(hours=23)


def test_extended_mode_keeps_a_followers_history(
    service: SpotifyService,
    spotify_server: FakeSpotify,  # noqa: F811
) -> None:
    spotify_server.mode = "extended"
    nova = spotify_server.catalog.big_artist_id
    first = service.sync()
    assert first.status == "complete" and first.access_level == "extended"
    assert "followers" not in first.unavailable_data
    spotify_server.set_artist_stats(nova, followers=50_000, popularity=63)
    second = service.sync()
    assert second.status == "complete"
    history = service.store.history("artist", nova, "followers")
    assert [v for _t, v in history] == [48_210, 50_000]
    assert [v for _t, v in service.store.history("artist", nova, "popularity")] == [61, 63]
    snap = service.latest()
    assert snap is not None and snap.of_kind("artist_top_track")


def test_expired_access_token_is_refreshed_and_the_new_refresh_token_stored(
    service: SpotifyService,
    spotify_server: FakeSpotify,  # noqa: F811
    memory_keyring: InMemoryTestKeyring,
) -> None:
    before = stored_token(memory_keyring, spotify_server)
    spotify_server.expire_access_tokens()
    assert service.sync().status == "complete"
    after = stored_token(memory_keyring, spotify_server)
    assert after["refresh_token"] != before["refresh_token"]
    assert after["access_token"] != before["access_token"]
    # Spotify rotates refresh tokens: the old one no longer works.
    old = requests.post(
        spotify_server.token_url,
        data={
            "grant_type": "refresh_token",
            "refresh_token": before["refresh_token"],
            "client_id": spotify_server.client_id,
        },
        timeout=10,
    )
    assert old.status_code == 400
    # An access token about to expire is refreshed before the call, not after a 401.
    token = stored_token(memory_keyring, spotify_server)
    token["expires_at"] = int(time.time()) + 10
    memory_keyring.entries[(SERVICE, spotify_server.client_id)] = json.dumps(token)
    assert service.sync().status == "complete"
    assert stored_token(memory_keyring, spotify_server)["refresh_token"] != token["refresh_token"]


def test_a_revoked_sign_in_asks_to_sign_in_again(
    service: SpotifyService,
    spotify_server: FakeSpotify,  # noqa: F811
    memory_keyring: InMemoryTestKeyring,
) -> None:
    token = stored_token(memory_keyring, spotify_server)
    token["refresh_token"] = "revoked"
    token["expires_at"] = 0
    memory_keyring.entries[(SERVICE, spotify_server.client_id)] = json.dumps(token)
    report = service.sync()
    assert report.status == "not_signed_in" and "sign in again" in report.message
    assert (SERVICE, spotify_server.client_id) not in memory_keyring.entries


def test_429_with_a_long_retry_after_blocks_without_calling_again(
    service: SpotifyService,
    spotify_server: FakeSpotify,  # noqa: F811
    database: Database,
) -> None:
    assert service.sync().status == "complete"
    good = service.latest()
    spotify_server.inject("rate_limit", retry_after=7200)
    started = time.monotonic()
    report = service.sync()
    assert time.monotonic() - started < 5  # no sleeping through the Retry-After
    assert report.status == "rate_limited"
    assert report.retry_at is not None
    wait = (report.retry_at - datetime.now(UTC)).total_seconds()
    assert 7100 < wait <= 7200
    calls = len(spotify_server.requests)
    again = service.sync()
    assert again.status == "rate_limited" and len(spotify_server.requests) == calls
    # The block survives a restart, and the last good snapshot stays the newest.
    restarted = SpotifyService(database, service.config)
    assert restarted.sync().status == "rate_limited"
    assert len(spotify_server.requests) == calls
    status = restarted.status()
    assert status.blocked_until == report.retry_at
    assert restarted.next_sync() >= report.retry_at
    latest = restarted.latest()
    assert latest is not None and good is not None and latest.id == good.id
    # When the time has passed, calls go out again.
    later = SpotifyService(
        database, service.config, now=lambda: datetime.now(UTC) + timedelta(hours=2, minutes=1)
    )
    assert later.sync().status == "complete"


def test_quota_exceeded_is_named(
    service: SpotifyService,
    spotify_server: FakeSpotify,  # noqa: F811
) -> None:
    spotify_server.inject("rate_limit", retry_after=86_400, reason="QUOTA_EXCEEDED")
    report = service.sync()
    assert report.status == "rate_limited" and "quota" in report.message
    assert service.status().block_reason == "QUOTA_EXCEEDED"


def test_5xx_bursts_are_retried_then_reported(
    service: SpotifyService,
    spotify_server: FakeSpotify,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(api, "FIRST_WAIT_S", 0.01)
    spotify_server.inject("status", status=503, count=2)
    spotify_server.inject("status", status=502, path="/v1/albums", count=1)
    report = service.sync()
    assert report.status == "complete", report.message
    assert spotify_server.pending_scenarios == 0
    spotify_server.inject("status", status=500, count=4)
    failed = service.sync()
    assert failed.status == "unavailable" and "500" in failed.message
    snapshots = service.store.snapshots()
    assert [s.status for s in snapshots] == ["complete"]  # nothing half-stored
    assert service.status().last_error == failed.message


def test_malformed_json_is_a_clear_error_and_stores_nothing(
    service: SpotifyService,
    spotify_server: FakeSpotify,  # noqa: F811
) -> None:
    spotify_server.inject("malformed", path="/v1/artists")
    report = service.sync()
    assert report.status == "unavailable" and "could not read" in report.message
    assert service.latest() is None
    assert spotify_server.deliberately_invalid == 1


def test_slow_replies_and_timeouts(
    service: SpotifyService,
    spotify_server: FakeSpotify,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    spotify_server.inject("slow", seconds=0.6, count=2)
    assert service.sync().status == "complete"
    monkeypatch.setattr(api, "HTTP_TIMEOUT_S", (2.0, 0.3))
    monkeypatch.setattr(api, "FIRST_WAIT_S", 0.01)
    spotify_server.inject("slow", seconds=1.0, count=4)
    report = service.sync()
    assert report.status == "unavailable" and "Timeout" in report.message


def test_wrong_state_and_declined_sign_in_store_no_token(
    spotify_server: FakeSpotify,  # noqa: F811
    memory_keyring: InMemoryTestKeyring,
    database: Database,
) -> None:
    svc = SpotifyService(database, config_for(spotify_server))
    spotify_server.authorize_state = "forged-state"
    with pytest.raises(LoginFailed, match="state"):
        svc.login(browser, timeout=20)
    spotify_server.authorize_state = None
    spotify_server.authorize_error = "access_denied"
    with pytest.raises(LoginFailed, match="declined"):
        svc.login(browser, timeout=20)
    assert memory_keyring.entries == {}
    assert not svc.status().signed_in


def test_a_wrong_client_id_is_reported_by_the_accounts_service(
    spotify_server: FakeSpotify,  # noqa: F811
    memory_keyring: InMemoryTestKeyring,
    database: Database,
) -> None:
    svc = SpotifyService(database, config_for(spotify_server, client_id="someoneelse"))

    def approve_anyway(url: str) -> None:
        answer = requests.get(url, allow_redirects=False, timeout=10)
        assert answer.status_code == 400  # Spotify shows its error page; nothing comes back

    with pytest.raises(LoginFailed, match="did not answer"):
        svc.login(approve_anyway, timeout=1.0)


def test_sign_out_erases_the_tokens_and_keeps_the_history(
    service: SpotifyService,
    spotify_server: FakeSpotify,  # noqa: F811
    memory_keyring: InMemoryTestKeyring,
) -> None:
    assert service.sync().status == "complete"
    assert service.logout() is True
    assert memory_keyring.entries == {}
    assert service.sync().status == "not_signed_in"
    assert service.latest() is not None
    assert service.logout() is False


def test_chosen_artists_replace_the_followed_ones(
    service: SpotifyService,
    spotify_server: FakeSpotify,  # noqa: F811
    database: Database,
) -> None:
    ids = list(spotify_server.catalog.artists)
    chosen = SpotifyService(
        database, config_for(spotify_server, artist_ids=(ids[3], "not an id!", ids[4]))
    )
    report = chosen.sync()
    assert report.status == "complete"
    snap = chosen.latest()
    assert snap is not None
    assert {a.spotify_id for a in snap.of_kind("artist")} == {ids[3], ids[4]}
    assert not any(r.path == "/v1/me/following" for r in spotify_server.requests)


def test_cli_status_and_sync(
    service: SpotifyService,
    spotify_server: FakeSpotify,  # noqa: F811
    app_paths: AppPaths,
    hookline_home: Path,
) -> None:
    from click.testing import CliRunner

    from app.cli import build_cli
    from app.settings import Settings

    settings = Settings.load(app_paths.settings_file)
    settings.set("spotify.client_id", spotify_server.client_id)
    settings.set("spotify.accounts_url", spotify_server.url)
    settings.set("spotify.api_url", spotify_server.api_prefix)
    settings.save()
    runner = CliRunner()
    result = runner.invoke(build_cli(), ["spotify", "sync", "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["status"] == "complete"
    result = runner.invoke(build_cli(), ["spotify", "status", "--json"])
    state = json.loads(result.stdout)
    assert state["signed_in"] and state["access_level"] == "development"
    spotify_server.inject("rate_limit", retry_after=600)
    result = runner.invoke(build_cli(), ["spotify", "sync"])
    assert result.exit_code == 2 and "slow down" in result.stdout
    result = runner.invoke(build_cli(), ["spotify", "status"])
    assert "Rate-limited" in result.stdout
    result = runner.invoke(build_cli(), ["spotify", "logout"])
    assert result.exit_code == 0 and "Signed out" in result.stdout


def test_cli_login_opens_the_browser_and_waits(
    spotify_server: FakeSpotify,  # noqa: F811
    memory_keyring: InMemoryTestKeyring,
    app_paths: AppPaths,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import webbrowser

    from click.testing import CliRunner

    from app.cli import build_cli
    from app.settings import Settings

    settings = Settings.load(app_paths.settings_file)
    settings.set("spotify.accounts_url", spotify_server.url)
    settings.set("spotify.api_url", spotify_server.api_prefix)
    settings.save()
    runner = CliRunner()
    result = runner.invoke(build_cli(), ["spotify", "login"])
    assert result.exit_code == 1 and "developer.spotify.com" in result.output
    monkeypatch.setattr(webbrowser, "open", browser)
    result = runner.invoke(
        build_cli(), ["spotify", "login", "--client-id", spotify_server.client_id, "--json"]
    )
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == {"signed_in": True}
    assert (
        Settings.load(app_paths.settings_file).get("spotify.client_id") == spotify_server.client_id
    )
    assert (SERVICE, spotify_server.client_id) in memory_keyring.entries
    assert "code=" not in result.output  # the address shown carries no code or token
