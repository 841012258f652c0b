"""The Spotify part of the Stats room: sign in and out, the latest snapshot of your artists, a
followers/popularity history when the API gives them, and the sync schedule.

Every network call (sign-in, sync) runs in a worker thread; results come back through queued
signals. Sign-in shows a small dialog with a Cancel button while the browser is open; it gives up
after five minutes. A rate limit shows when the next try is; the last good snapshot stays on
screen. Fields the app's access level does not get are written out as "not available for this
API access level", never shown as 0. The chosen artist's picture (a track's: its album cover) is
shown beside its history, fetched once in a worker and cached (:mod:`app.spotify.images`); the
Albums page lists the chosen artist's albums and singles, newest first, with their covers.

Keys: ``Ctrl+Shift+Y`` sync now.
"""

from __future__ import annotations

import logging
import threading
import webbrowser
from collections.abc import Callable
from datetime import datetime
from urllib.parse import urlsplit

import pyqtgraph as pg
from PySide6.QtCore import QObject, QSize, Qt, Signal
from PySide6.QtGui import QIcon, QKeySequence, QPixmap
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QProgressBar,
    QPushButton,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from app.i18n import N_, _, format_decimal
from app.paths import default_paths
from app.settings import Settings
from app.spotify.auth import LoginFailed
from app.spotify.images import ImageCache
from app.spotify.service import CLIENT_ID_HELP, SpotifyService, SpotifyStatus
from app.spotify.store import Item, Snapshot
from app.spotify.sync import SyncReport
from app.spotify.tokens import TokenStoreUnavailable
from app.storage import Database
from ui.live.common import muted
from ui.stats.spotify_schedule import SpotifySync

log = logging.getLogger(__name__)

LOGIN_TIMEOUT_S = 300.0
PICTURE_PX = 72
COVER_PX = 32
COVER_ROLE = Qt.ItemDataRole.UserRole + 2  # an album row's cover address
MAX_COVER_FETCHES = 60  # covers fetched for one artist's list (the sync keeps at most 50 albums)


def _album_type(value: object) -> str:
    names = {"album": N_("Album"), "single": N_("Single"), "compilation": N_("Compilation")}
    return _(names[value]) if isinstance(value, str) and value in names else ""


def _image_url(item: Item) -> str | None:
    image = item.details.get("image")
    url = image.get("url") if isinstance(image, dict) else None
    return url if isinstance(url, str) else None


def _scaled(data: object, size: int) -> QPixmap | None:
    """The picture in ``data`` scaled to fit ``size`` pixels square; None when it does not
    decode (a cached file passed the format check but may still be damaged)."""
    pixmap = QPixmap()
    if not isinstance(data, bytes) or not pixmap.loadFromData(data):
        return None
    return pixmap.scaled(
        size, size, Qt.AspectRatioMode.KeepAspectRatio, Qt.TransformationMode.SmoothTransformation
    )


def _whole(value: object) -> int | str:
    """A count as stored, or an empty cell (a missing count is not an access-level gap)."""
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else ""


def not_available() -> str:
    return _("not available for this API access level")


def _when(moment: datetime | None) -> str:
    return moment.astimezone().strftime("%Y-%m-%d %H:%M") if moment else "—"


class _SortItem(QTableWidgetItem):
    """A cell shown as formatted text and sorted by its number."""

    def __init__(self, text: str, key: float) -> None:
        super().__init__(text)
        self.key = key

    def __lt__(self, other: QTableWidgetItem) -> bool:
        if isinstance(other, _SortItem):
            return self.key < other.key
        return super().__lt__(other)


class _Relay(QObject):
    login_done = Signal(object)  # None, or the error message
    picture = Signal(str, object)  # (address, bytes or None)
    cover = Signal(str, object)  # an album cover for the albums table: (address, bytes or None)


class ClientIdDialog(QDialog):
    """First run: what a client id is, where to get one, and a field for it."""

    def __init__(self, current: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(_("Connect Spotify"))
        layout = QVBoxLayout(self)
        text = QLabel(_(CLIENT_ID_HELP))
        text.setWordWrap(True)
        text.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        layout.addWidget(text)
        self.field = QLineEdit(current)
        self.field.setObjectName("spotify-client-id")
        self.field.setPlaceholderText(_("Client ID (32 letters and digits)"))
        layout.addWidget(self.field)
        self.error = QLabel("")
        layout.addWidget(self.error)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        buttons.accepted.connect(self._accept)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)
        self.resize(520, 240)

    def value(self) -> str:
        return self.field.text().strip()

    def _accept(self) -> None:
        value = self.value()
        if not value or not value.isalnum() or len(value) > 64:
            self.error.setText(_("A client id is letters and digits only, as the dashboard shows."))
            return
        self.accept()


class LoginDialog(QDialog):
    """Shown while the browser is open; Cancel stops the wait."""

    def __init__(self, cancel: threading.Event, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(_("Signing in to Spotify"))
        self.setModal(True)
        self.cancel_event = cancel
        layout = QVBoxLayout(self)
        label = QLabel(
            _(
                "Your browser shows Spotify's sign-in page. Allow Hookline access there; this "
                "window closes by itself. It gives up after five minutes."
            )
        )
        label.setWordWrap(True)
        layout.addWidget(label)
        busy = QProgressBar()
        busy.setRange(0, 0)
        layout.addWidget(busy)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)

    def reject(self) -> None:
        self.cancel_event.set()
        super().reject()


class SpotifyPanel(QWidget):
    message = Signal(str)

    def __init__(
        self,
        settings: Settings,
        database: Database,
        parent: QWidget | None = None,
        open_url: Callable[[str], object] = webbrowser.open,
        login_timeout: float = LOGIN_TIMEOUT_S,
        sync: SpotifySync | None = None,
        images: ImageCache | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("spotify-panel")
        self.images = images or ImageCache(default_paths().cache_dir / "spotify-images")
        self.settings = settings
        self.database = database
        self.open_url = open_url
        self.login_timeout = login_timeout
        self.sync = sync or SpotifySync(settings, database, self)
        self.sync.started.connect(self._on_sync_started)
        self.sync.progress.connect(self._on_sync_progress)
        self.sync.finished.connect(self._on_sync_done)
        self.relay = _Relay()
        self.relay.login_done.connect(self._on_login_done)
        self.relay.picture.connect(self._on_picture)
        self.relay.cover.connect(self._on_cover)
        self.albums_of: str | None = None  # the artist whose albums the Albums page lists
        self.picture_url: str | None = None
        self.login_dialog: LoginDialog | None = None
        self.snapshot: Snapshot | None = None

        self.status_label = QLabel("")
        self.status_label.setObjectName("spotify-status")
        self.status_label.setWordWrap(True)
        self.limit_label = QLabel("")
        self.limit_label.setObjectName("spotify-rate-limit")
        self.limit_label.setWordWrap(True)
        self.limit_label.setStyleSheet("color: #e0a030;")
        self.client_button = QPushButton(_("Client ID…"))
        self.login_button = QPushButton(_("Sign in…"))
        self.login_button.setObjectName("spotify-login")
        self.logout_button = QPushButton(_("Sign out"))
        self.logout_button.setObjectName("spotify-logout")
        self.sync_button = QPushButton(_("Sync now"))
        self.sync_button.setObjectName("spotify-sync")
        self.sync_button.setShortcut(QKeySequence("Ctrl+Shift+Y"))
        self.sync_button.setToolTip(_("Take a snapshot of your Spotify data now (Ctrl+Shift+Y)"))
        self.progress = QProgressBar()
        self.progress.setRange(0, 100)
        self.progress.setVisible(False)
        buttons = QHBoxLayout()
        for w in (self.client_button, self.login_button, self.logout_button, self.sync_button):
            buttons.addWidget(w)
        buttons.addWidget(self.progress, 1)

        self.artists = self._table(
            "spotify-artists",
            [_("Artist"), _("Followers"), _("Popularity"), _("Albums"), _("Tracks")],
        )
        self.top_artists = self._table(
            "spotify-top-artists", [_("#"), _("Artist"), _("Popularity")]
        )
        self.top_tracks = self._table(
            "spotify-top-tracks", [_("#"), _("Track"), _("Artists"), _("Popularity")]
        )
        self.albums = self._table(
            "spotify-albums", [_("Album"), _("Type"), _("Released"), _("Tracks")]
        )
        self.albums.setIconSize(QSize(COVER_PX, COVER_PX))
        self.albums.verticalHeader().setDefaultSectionSize(COVER_PX + 6)
        self.tabs = QTabWidget()
        self.tabs.addTab(self.artists, _("Your artists"))
        self.tabs.addTab(self.top_artists, _("Your top artists"))
        self.tabs.addTab(self.top_tracks, _("Your top tracks"))
        self.tabs.addTab(self.albums, _("Albums"))
        self.history = pg.PlotWidget(axisItems={"bottom": pg.DateAxisItem()})
        self.history.setObjectName("spotify-history")
        self.history.setMinimumHeight(160)
        self.history.showGrid(x=True, y=True, alpha=0.2)
        self.history_curve = self.history.plot(
            [], [], pen=pg.mkPen("#1db954", width=2), symbol="o", symbolBrush="#1db954"
        )
        self.history_note = QLabel("")
        self.history_note.setObjectName("spotify-history-note")
        muted(self.history_note)
        self.history_metric = QComboBox()
        self.history_metric.setObjectName("spotify-history-metric")
        self.history_metric.addItem(_("Followers"), "followers")
        self.history_metric.addItem(_("Popularity"), "popularity")
        self.history_metric.setToolTip(_("Which figure the chart shows over time"))
        lower = QWidget()
        lower_layout = QVBoxLayout(lower)
        lower_layout.setContentsMargins(0, 0, 0, 0)
        self.picture = QLabel()
        self.picture.setObjectName("spotify-picture")
        self.picture.setFixedSize(PICTURE_PX, PICTURE_PX)
        self.picture.setVisible(False)
        note_row = QHBoxLayout()
        note_row.addWidget(self.picture)
        note_row.addWidget(self.history_note, 1)
        note_row.addWidget(self.history_metric)
        lower_layout.addLayout(note_row)
        lower_layout.addWidget(self.history, 1)
        split = QSplitter(Qt.Orientation.Vertical)
        split.addWidget(self.tabs)
        split.addWidget(lower)
        split.setStretchFactor(0, 3)
        split.setStretchFactor(1, 2)

        layout = QVBoxLayout(self)
        layout.addWidget(self.status_label)
        layout.addWidget(self.limit_label)
        layout.addLayout(buttons)
        layout.addWidget(split, 1)

        self.client_button.clicked.connect(lambda: self.ask_client_id())
        self.login_button.clicked.connect(self.start_login)
        self.logout_button.clicked.connect(self.logout)
        self.sync_button.clicked.connect(self.start_sync)
        for table in (self.artists, self.top_artists, self.top_tracks, self.albums):
            table.itemSelectionChanged.connect(self.show_history)
        self.artists.itemSelectionChanged.connect(self._fill_albums)
        self.tabs.currentChanged.connect(lambda _index: self.show_history())
        self.history_metric.currentIndexChanged.connect(lambda _index: self.show_history())
        self.refresh()

    def _table(self, name: str, headers: list[str]) -> QTableWidget:
        table = QTableWidget(0, len(headers))
        table.setObjectName(name)
        table.setHorizontalHeaderLabels(headers)
        table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        table.setSelectionBehavior(QTableWidget.SelectionBehavior.SelectRows)
        table.setSelectionMode(QTableWidget.SelectionMode.SingleSelection)
        table.setSortingEnabled(True)
        table.sortByColumn(0, Qt.SortOrder.AscendingOrder)
        table.verticalHeader().setVisible(False)
        table.horizontalHeader().setStretchLastSection(True)
        return table

    @property
    def service(self) -> SpotifyService:
        return self.sync.service

    @property
    def syncing(self) -> bool:
        return self.sync.running

    @property
    def last_report(self) -> SyncReport | None:
        return self.sync.last_report

    # State shown

    def refresh(self) -> None:
        state = self.service.status()
        self._show_status(state)
        self.snapshot = self.service.latest()
        self._fill_tables()

    def _show_status(self, state: SpotifyStatus) -> None:
        if not state.configured:
            text = _("Connect your Spotify account: set your app's Client ID first.")
        elif state.keyring_problem:
            text = state.keyring_problem
        elif state.signed_in:
            text = _("Signed in to Spotify. Last snapshot: {time}. Next: {next}.").format(
                time=_when(state.last_sync), next=_when(state.next_sync)
            )
        else:
            text = _("Not signed in. Last snapshot: {time}.").format(time=_when(state.last_sync))
        if state.access_level == "development":
            text += " " + _(
                "This app is in Spotify's development mode: followers and popularity are "
                "not available for this API access level."
            )
        self.status_label.setText(text)
        if state.blocked_until:
            self.limit_label.setText(
                _("Spotify asked Hookline to wait: the next try is after {time}.").format(
                    time=_when(state.blocked_until)
                )
                + (
                    " " + _("(request quota used up)")
                    if state.block_reason == "QUOTA_EXCEEDED"
                    else ""
                )
            )
        elif state.last_error:
            self.limit_label.setText(_("Last problem: {message}").format(message=state.last_error))
        else:
            self.limit_label.setText("")
        self.limit_label.setVisible(bool(self.limit_label.text()))
        # Without a client id, "Sign in…" first asks for one (the first-run explanation).
        self.login_button.setEnabled(not state.signed_in and not state.keyring_problem)
        self.logout_button.setEnabled(state.signed_in)
        self.sync_button.setEnabled(state.signed_in and not self.syncing)

    @staticmethod
    def _cell(value: object) -> QTableWidgetItem:
        if value is None:
            item: QTableWidgetItem = _SortItem(not_available(), -1.0)
            item.setForeground(Qt.GlobalColor.gray)
            return item
        if isinstance(value, int):
            item = _SortItem(format_decimal(value), float(value))
            item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            return item
        return QTableWidgetItem(str(value))

    def _fill(self, table: QTableWidget, rows: list[list[object]], ids: list[str]) -> None:
        table.setSortingEnabled(False)
        table.setRowCount(len(rows))
        for r, (row, sid) in enumerate(zip(rows, ids, strict=True)):
            for c, value in enumerate(row):
                item = self._cell(value)
                item.setData(Qt.ItemDataRole.UserRole + 1, sid)
                table.setItem(r, c, item)
        table.setSortingEnabled(True)
        table.resizeColumnsToContents()

    def _selected_artist(self) -> str | None:
        selected = self.artists.selectedItems()
        return str(selected[0].data(Qt.ItemDataRole.UserRole + 1)) if selected else None

    def _fill_tables(self) -> None:
        keep = self._selected_artist()
        snap = self.snapshot
        artists: list[Item] = snap.of_kind("artist") if snap else []
        albums: dict[str, int] = {}
        tracks: dict[str, int] = {}
        if snap:
            album_owner = {a.spotify_id: a.parent_id for a in snap.of_kind("album")}
            for album in snap.of_kind("album"):
                albums[album.parent_id or ""] = albums.get(album.parent_id or "", 0) + 1
            for track in snap.of_kind("track"):
                owner = album_owner.get(track.parent_id or "") or ""
                tracks[owner] = tracks.get(owner, 0) + 1
        self._fill(
            self.artists,
            [
                [a.name, a.followers, a.popularity, albums.get(a.spotify_id, 0),
                 tracks.get(a.spotify_id, 0)]
                for a in artists
            ],
            [a.spotify_id for a in artists],
        )  # fmt: skip
        top = snap.of_kind("top_artist") if snap else []
        self._fill(
            self.top_artists,
            [[a.rank, a.name, a.popularity] for a in top],
            [a.spotify_id for a in top],
        )
        top_tracks = snap.of_kind("top_track") if snap else []
        self._fill(
            self.top_tracks,
            [
                [t.rank, t.name, ", ".join(t.details.get("artists", [])), t.popularity]
                for t in top_tracks
            ],
            [t.spotify_id for t in top_tracks],
        )
        if artists:
            rows = [
                r
                for r in range(self.artists.rowCount())
                if self.artists.item(r, 0).data(Qt.ItemDataRole.UserRole + 1) == keep
            ]
            self.artists.selectRow(rows[0] if rows else 0)
        self._fill_albums()
        self.show_history()

    def show_history(self) -> None:
        """Chart the chosen figure of the item chosen on the current page, over every snapshot
        that carried it."""
        table, kind = {
            0: (self.artists, "artist"),
            1: (self.top_artists, "top_artist"),
            2: (self.top_tracks, "top_track"),
            3: (self.albums, "album"),
        }[max(0, self.tabs.currentIndex())]
        metric = str(self.history_metric.currentData() or "followers")
        selected = table.selectedItems()
        if not selected:
            self._show_picture(None)
            self._clear_history(
                _("Sign in and sync to keep a history of your artists' followers.")
                if self.snapshot is None
                else _("Choose an artist or a track to see its figures over time.")
            )
            return
        sid = str(selected[0].data(Qt.ItemDataRole.UserRole + 1))
        name = table.item(selected[0].row(), 1 if kind.startswith("top_") else 0).text()
        self._show_picture(self._picture_of(kind, sid))
        self.picture.setToolTip(name)
        if kind == "top_track" and metric == "followers":
            self._clear_history(_("Tracks have no followers; choose Popularity."))
            return
        if kind == "album":  # the artist's album list carries no figures to chart
            self._clear_history(_("Spotify keeps no followers or popularity for albums."))
            return
        points = self.service.store.history(kind, sid, metric)
        if not points:
            self._clear_history(
                _("Followers of {name}: {note}").format(name=name, note=not_available())
                if metric == "followers"
                else _("Popularity of {name}: {note}").format(name=name, note=not_available())
            )
            return
        x = [t.timestamp() for t, _v in points]
        y = [float(v) for _t, v in points]
        self.history_curve.setData(x, y)
        self.history.setVisible(True)
        self.history.enableAutoRange()
        self.history_note.setText(
            _("Followers of {name}, {count} snapshots").format(name=name, count=len(points))
            if metric == "followers"
            else _("Popularity of {name} (0–100), {count} snapshots").format(
                name=name, count=len(points)
            )
        )

    def _fill_albums(self) -> None:
        """List the albums and singles of the artist chosen on the first page, newest first,
        with their covers (from the cache at once; the others fetched in one worker)."""
        selected = self.artists.selectedItems()
        artist = str(selected[0].data(Qt.ItemDataRole.UserRole + 1)) if selected else None
        albums = [
            a for a in (self.snapshot.of_kind("album") if self.snapshot else [])
            if artist is not None and a.parent_id == artist
        ]  # fmt: skip
        albums.sort(key=lambda a: str(a.details.get("release_date", "")), reverse=True)
        self.albums_of = artist
        self._fill(
            self.albums,
            [
                [a.name, _album_type(a.details.get("album_type")),
                 str(a.details.get("release_date", "")), _whole(a.details.get("total_tracks"))]
                for a in albums
            ],
            [a.spotify_id for a in albums],
        )  # fmt: skip
        self.albums.sortByColumn(2, Qt.SortOrder.DescendingOrder)
        covers = {a.spotify_id: _image_url(a) for a in albums}
        images, relay = self._image_cache(), self.relay
        missing: list[str] = []
        for row in range(self.albums.rowCount()):
            item = self.albums.item(row, 0)
            url = covers.get(str(item.data(Qt.ItemDataRole.UserRole + 1)))
            item.setData(COVER_ROLE, url)
            data = images.cached(url) if url else None
            if url and data is not None:
                self._on_cover(url, data)
            elif url:
                missing.append(url)
        if missing:

            def fetch_all() -> None:
                for url in missing[:MAX_COVER_FETCHES]:
                    relay.cover.emit(url, images.fetch(url))

            threading.Thread(target=fetch_all, name="spotify-covers", daemon=True).start()

    def _on_cover(self, url: str, data: object) -> None:
        pixmap = _scaled(data, COVER_PX)
        if pixmap is None:
            return
        for row in range(self.albums.rowCount()):
            item = self.albums.item(row, 0)
            if item.data(COVER_ROLE) == url:
                item.setIcon(QIcon(pixmap))

    def _image_cache(self) -> ImageCache:
        """The picture cache, allowing plain http only to the configured Web API's host."""
        api_host = urlsplit(str(self.settings.get("spotify.api_url"))).hostname
        self.images.http_hosts = {api_host.lower()} if api_host else set()
        return self.images

    def _clear_history(self, note: str) -> None:
        self.history_curve.setData([], [])
        self.history.setVisible(False)
        self.history_note.setText(note)

    def _picture_of(self, kind: str, sid: str) -> str | None:
        if self.snapshot is None:
            return None
        for item in self.snapshot.of_kind(kind):
            if item.spotify_id == sid:
                return _image_url(item)
        return None

    def _show_picture(self, url: str | None) -> None:
        """Show the picture at ``url`` (from the cache at once, else fetched in a worker)."""
        self.picture_url = url
        if url is None:
            self.picture.clear()
            self.picture.setVisible(False)
            return
        images, relay = self._image_cache(), self.relay
        data = images.cached(url)
        if data is not None:
            self._on_picture(url, data)
            return
        self.picture.setVisible(False)
        threading.Thread(
            target=lambda: relay.picture.emit(url, images.fetch(url)),
            name="spotify-picture",
            daemon=True,
        ).start()

    def _on_picture(self, url: str, data: object) -> None:
        if url != self.picture_url:
            return  # another item was chosen meanwhile
        pixmap = _scaled(data, PICTURE_PX)
        if pixmap is None:
            self.picture.clear()
        else:
            self.picture.setPixmap(pixmap)
        self.picture.setVisible(pixmap is not None)

    # Actions

    def ask_client_id(self, then_sign_in: bool = False) -> ClientIdDialog:
        dialog = ClientIdDialog(str(self.settings.get("spotify.client_id")), self)

        def accepted() -> None:
            self.set_client_id(dialog.value())
            if then_sign_in and not self.service.status().signed_in:
                self.start_login()

        dialog.accepted.connect(accepted)
        dialog.open()
        return dialog

    def set_client_id(self, value: str) -> None:
        self.settings.set("spotify.client_id", value)
        self.settings.save()
        self.sync.reload()
        self.refresh()

    def start_login(self) -> ClientIdDialog | LoginDialog:
        if not self.service.config.client_id:
            return self.ask_client_id(then_sign_in=True)
        cancel = threading.Event()
        self.login_dialog = LoginDialog(cancel, self)
        self.login_dialog.open()
        service = self.service

        def work() -> None:
            try:
                service.login(self.open_url, timeout=self.login_timeout, cancel=cancel)
            except (LoginFailed, TokenStoreUnavailable) as exc:
                self.relay.login_done.emit(str(exc))
            except Exception as exc:
                log.exception("Spotify sign-in failed")
                self.relay.login_done.emit(
                    _("Sign-in failed: {error}").format(error=type(exc).__name__)
                )
            else:
                self.relay.login_done.emit(None)

        threading.Thread(target=work, name="spotify-login", daemon=True).start()
        return self.login_dialog

    def _on_login_done(self, error: str | None) -> None:
        if self.login_dialog is not None:
            self.login_dialog.done(0)
            self.login_dialog = None
        self.refresh()
        if error:
            self.message.emit(error)
            self.limit_label.setText(error)
            self.limit_label.setVisible(True)
            return
        self.message.emit(_("Signed in to Spotify."))
        self.start_sync()

    def logout(self) -> None:
        try:
            self.service.logout()
        except TokenStoreUnavailable as exc:
            self.message.emit(str(exc))
        self.message.emit(_("Signed out of Spotify; your saved history stays."))
        self.refresh()

    def sync_if_due(self) -> bool:
        return self.sync.sync_if_due()

    def start_sync(self) -> bool:
        return self.sync.start()

    def _on_sync_started(self) -> None:
        self.sync_button.setEnabled(False)
        self.progress.setValue(0)
        self.progress.setVisible(True)

    def _on_sync_progress(self, what: str, fraction: float) -> None:
        self.progress.setValue(round(100 * fraction))
        self.progress.setFormat(what[:80])

    def _on_sync_done(self, report: SyncReport) -> None:
        self.progress.setVisible(False)
        self.refresh()
        self.message.emit(report.message)
