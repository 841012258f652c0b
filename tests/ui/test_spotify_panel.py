"""The Stats room's Spotify panel against the stand-in Web API: sign-in with its waiting dialog,
a sync filling the tables, "not available for this API access level" in development mode, a
followers history in extended mode, and a 429 with a long Retry-After while the event loop keeps
ticking. Every response the stand-in sent is checked against openapi.yml at the end."""

from __future__ import annotations

import itertools
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import QTimer
from pytestqt.qtbot import QtBot

from app.context import AppContext
from app.spotify.images import ImageCache
from tests.app.test_spotify_service import browser
from tests.support.secret_service import InMemoryTestKeyring
from tests.support.spotify_fake import FakeSpotify
from tests.ui.conftest import save_screenshot
from ui.stats.spotify_panel import PICTURE_PX, ClientIdDialog, LoginDialog, SpotifyPanel

# A client id as Spotify's dashboard shows them: 32 hexadecimal digits.
CLIENT_ID = "0f3c9a1b2d4e5f60718293a4b5c6d7e8"


@pytest.fixture
def spotify_server() -> Iterator[FakeSpotify]:
    """The stand-in with a dashboard-shaped client id; fails the test if any response it sent
    broke the Web API contract."""
    with FakeSpotify(client_id=CLIENT_ID) as server:
        yield server
    assert server.validation_errors == [], "\n".join(server.validation_errors)


@pytest.fixture
def panel(
    qtbot: QtBot,
    context: AppContext,
    spotify_server: FakeSpotify,
    memory_keyring: InMemoryTestKeyring,
    tmp_path: Path,
) -> SpotifyPanel:
    settings = context.settings
    settings.set("spotify.accounts_url", spotify_server.url)
    settings.set("spotify.api_url", spotify_server.api_prefix)
    pictures = ImageCache(tmp_path / "pictures")
    widget = SpotifyPanel(
        settings, context.database, open_url=browser, login_timeout=20, images=pictures
    )
    qtbot.addWidget(widget)
    widget.resize(1000, 700)
    widget.show()
    qtbot.waitExposed(widget)
    return widget


def _ticking() -> tuple[QTimer, list[float]]:
    ticks: list[float] = []
    timer = QTimer()
    timer.timeout.connect(lambda: ticks.append(time.monotonic()))
    timer.start(10)
    return timer, ticks


def _largest_gap(ticks: list[float]) -> float:
    return max((b - a for a, b in itertools.pairwise(ticks)), default=99.0)


def test_first_run_asks_for_a_client_id_then_signs_in_and_syncs(
    qtbot: QtBot,
    panel: SpotifyPanel,
    spotify_server: FakeSpotify,
) -> None:
    assert "Client ID" in panel.status_label.text()
    assert panel.login_button.isEnabled() and not panel.sync_button.isEnabled()
    timer, ticks = _ticking()
    spotify_server.inject("slow", seconds=0.5, path="/api/token")
    # First run: "Sign in…" explains what a client id is and asks for it, then signs in.
    dialog = panel.start_login()
    assert isinstance(dialog, ClientIdDialog)
    dialog.field.setText("not valid!")
    dialog._accept()
    assert dialog.isVisible() and "letters and digits" in dialog.error.text()
    dialog.field.setText(CLIENT_ID)
    dialog._accept()
    assert panel.settings.get("spotify.client_id") == CLIENT_ID
    waiting = panel.login_dialog
    assert isinstance(waiting, LoginDialog)
    qtbot.waitUntil(lambda: panel.snapshot is not None and not panel.syncing, timeout=30000)
    timer.stop()
    assert _largest_gap(ticks) < 0.25, "the window froze during sign-in or sync"
    assert panel.login_dialog is None
    assert panel.logout_button.isEnabled() and not panel.login_button.isEnabled()
    assert panel.artists.rowCount() == 3
    followers = [panel.artists.item(r, 1).text() for r in range(3)]
    assert followers == ["not available for this API access level"] * 3
    assert panel.top_artists.rowCount() == 5 and panel.top_tracks.rowCount() > 0
    assert "development mode" in panel.status_label.text()
    assert "not available" in panel.history_note.text()
    save_screenshot(panel, "stats_spotify_development")


def test_extended_mode_history_and_a_long_rate_limit(
    qtbot: QtBot,
    panel: SpotifyPanel,
    spotify_server: FakeSpotify,
) -> None:
    panel.set_client_id(spotify_server.client_id)
    spotify_server.mode = "extended"
    panel.service.login(browser, timeout=20)
    panel.refresh()
    nova = spotify_server.catalog.big_artist_id
    for followers, popularity in ((48_210, 61), (49_000, 63), (51_500, 62)):
        spotify_server.set_artist_stats(nova, followers=followers, popularity=popularity)
        assert panel.start_sync()
        qtbot.waitUntil(lambda: not panel.syncing, timeout=30000)
        assert panel.last_report is not None and panel.last_report.status == "complete"
    names = [panel.artists.item(r, 0).text() for r in range(panel.artists.rowCount())]
    panel.artists.selectRow(names.index("Nova Harbor"))
    assert "3 snapshots" in panel.history_note.text()
    # the artist's picture, fetched in a worker from the address the snapshot kept, then cached
    qtbot.waitUntil(panel.picture.isVisible, timeout=5000)
    pixmap = panel.picture.pixmap()
    assert not pixmap.isNull() and pixmap.width() == PICTURE_PX
    nova_picture = pixmap.toImage().pixelColor(1, 1)
    picture_url = panel.picture_url
    assert picture_url is not None and picture_url.startswith(spotify_server.url + "/images/")
    assert panel.images.cached(picture_url) is not None
    y = panel.history_curve.yData
    assert y is not None and list(y) == [48_210, 49_000, 51_500]
    save_screenshot(panel, "stats_spotify_extended")
    # The same artist's popularity, then a top track's: tracks have no followers.
    panel.history_metric.setCurrentIndex(panel.history_metric.findData("popularity"))
    assert "Popularity of Nova Harbor (0–100), 3 snapshots" in panel.history_note.text()
    assert list(panel.history_curve.yData) == [61, 63, 62]
    panel.tabs.setCurrentIndex(2)
    panel.top_tracks.selectRow(0)
    assert "3 snapshots" in panel.history_note.text(), panel.history_note.text()
    # a track shows its album's cover
    qtbot.waitUntil(lambda: panel.picture_url != picture_url and panel.picture.isVisible())
    assert panel.picture.pixmap().toImage().pixelColor(1, 1) != nova_picture
    assert len(panel.history_curve.yData) == 3
    panel.history_metric.setCurrentIndex(panel.history_metric.findData("followers"))
    assert "no followers" in panel.history_note.text() and not panel.history.isVisible()
    # Nova Harbor's albums and singles (19 of its 23 releases: compilations and appearances are
    # not synced), newest first, with their covers fetched in a worker
    panel.tabs.setCurrentIndex(3)
    albums = panel.albums
    assert panel.albums_of == nova and albums.rowCount() == 19
    released = [albums.item(r, 2).text() for r in range(19)]
    assert released == sorted(released, reverse=True)
    assert {albums.item(r, 1).text() for r in range(19)} == {"Album", "Single"}
    qtbot.waitUntil(lambda: all(not albums.item(r, 0).icon().isNull() for r in range(19)))
    albums.selectRow(0)
    assert "no followers or popularity for albums" in panel.history_note.text()
    qtbot.waitUntil(panel.picture.isVisible)
    assert panel.picture.toolTip() == albums.item(0, 0).text()
    save_screenshot(panel, "stats_spotify_albums")
    panel.tabs.setCurrentIndex(0)

    timer, ticks = _ticking()
    spotify_server.inject("rate_limit", retry_after=3 * 3600)
    started = time.monotonic()
    assert panel.start_sync()
    qtbot.waitUntil(lambda: not panel.syncing, timeout=10000)
    timer.stop()
    assert time.monotonic() - started < 5
    assert _largest_gap(ticks) < 0.25
    assert panel.last_report is not None and panel.last_report.status == "rate_limited"
    assert "next try is after" in panel.limit_label.text() and panel.limit_label.isVisible()
    # The last good data stays on screen.
    assert panel.artists.rowCount() == 3
    assert list(panel.history_curve.yData) == [48_210, 49_000, 51_500]
    # The schedule does not call Spotify before the Retry-After has passed.
    calls = len(spotify_server.requests)
    assert panel.sync_if_due() is False
    assert len(spotify_server.requests) == calls
    save_screenshot(panel, "stats_spotify_rate_limited")

    panel.logout()
    assert panel.login_button.isEnabled() and not panel.sync_button.isEnabled()
    assert panel.artists.rowCount() == 3  # history stays after signing out
