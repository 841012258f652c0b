"""Scheduled Spotify snapshots for the whole window, whether or not the Stats room is open.

:class:`SpotifySync` owns the :class:`~app.spotify.service.SpotifyService` and runs every sync in
a worker thread, one at a time; the Stats room's Spotify panel shows its state and asks it for a
sync now. Every ``check_ms`` it asks the service whether a sync is due (one small database read:
an interval after the last snapshot, never before a 429's Retry-After) and whether a sign-in
exists; only then does it call Spotify. :func:`install_spotify_sync` starts it a few seconds
after the window opens, so start-up does not pay for importing the HTTP stack.
"""

from __future__ import annotations

import logging
import threading
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, QTimer, Signal

from app.i18n import _
from app.settings import Settings
from app.spotify.service import SpotifyConfig, SpotifyService
from app.spotify.sync import SyncReport
from app.spotify.tokens import TokenStoreUnavailable
from app.storage import Database

if TYPE_CHECKING:
    from ui.main_window import MainWindow

log = logging.getLogger(__name__)

CHECK_MS = 5 * 60_000
START_DELAY_MS = 10_000


class SpotifySync(QObject):
    started = Signal()
    progress = Signal(str, float)
    finished = Signal(object)  # SyncReport
    _done = Signal(object)  # from the worker; queued to the GUI thread

    def __init__(
        self,
        settings: Settings,
        database: Database,
        parent: QObject | None = None,
        check_ms: int = CHECK_MS,
    ) -> None:
        super().__init__(parent)
        self.settings = settings
        self.database = database
        self.service = self._make_service()
        self.running = False
        self.last_report: SyncReport | None = None
        self.timer = QTimer(self)
        self.timer.setInterval(check_ms)
        self.timer.timeout.connect(self.sync_if_due)
        self._done.connect(self._finish)

    def _make_service(self) -> SpotifyService:
        return SpotifyService(self.database, SpotifyConfig.from_settings(self.settings.get))

    def reload(self) -> None:
        """Read the settings again (a new client id, other artists, another interval)."""
        self.service = self._make_service()

    def start_schedule(self) -> None:
        self.timer.start()
        self.sync_if_due()

    def sync_if_due(self) -> bool:
        if self.running or not self.service.sync_due():
            return False
        try:
            if not self.service.cache.has_token():
                return False
        except TokenStoreUnavailable:
            return False
        return self.start()

    def start(self) -> bool:
        """Sync now in a worker; False when one is already running."""
        if self.running:
            return False
        self.running = True
        self.started.emit()
        service = self.service

        def work() -> None:
            try:
                report = service.sync(progress=self.progress.emit)
            except Exception as exc:
                log.exception("Spotify sync failed")
                report = SyncReport(
                    "unavailable", _("The sync failed: {error}").format(error=type(exc).__name__)
                )
            self._done.emit(report)

        threading.Thread(target=work, name="spotify-sync", daemon=True).start()
        return True

    def _finish(self, report: SyncReport) -> None:
        self.running = False
        self.last_report = report
        self.finished.emit(report)


def window_sync(window: MainWindow) -> SpotifySync:
    """The window's one :class:`SpotifySync`, created on first use."""
    sync = getattr(window, "spotify_sync", None)
    if sync is None:
        sync = SpotifySync(window.context.settings, window.context.database, window)
        window.spotify_sync = sync  # type: ignore[attr-defined]
    return sync


def install_spotify_sync(window: MainWindow) -> None:
    """Start the window's sync schedule a few seconds after start (the Stats room's Spotify
    page shares the same :class:`SpotifySync`)."""
    # With the window as context: the call is dropped if the window is gone by then.
    QTimer.singleShot(START_DELAY_MS, window, lambda: window_sync(window).start_schedule())
