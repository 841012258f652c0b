"""The Stats room: Spotify for Artists exports imported into the database, a timeline of any
stored series with release markers, a forecast and its backtested error, the series' day-of-week
pattern, per-song and per-playlist tables, the per-series summary table, and exports of the chart
(PNG) and of the series (CSV, formula cells neutralised).

Imports, forecasts and the queries that scan every stored value (the summary, the song and
playlist tables, the release days) run in worker threads (an import of ten years of 200 songs
takes a few seconds, a 90-day forecast about one, the scans a few tenths); results come back
through queued signals and the window keeps redrawing meanwhile. Switching series reads one
series (a few thousand values) on the GUI thread into numpy arrays once; the curve draws a
peak-downsampled copy clipped to the view, so zooming and panning do not touch the data again.
A file whose columns are not recognised opens the column-mapping dialog, and is imported with the
mapping the user gives.

Keys: ``Ctrl+I`` import, ``Ctrl+Shift+F`` forecast, ``Ctrl+Shift+E`` export the series as CSV,
``Ctrl+F`` filter the song or playlist table.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtGui import QColor, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from app.i18n import N_, _, ngettext
from app.spotify.service import SpotifyConfig
from app.spotify.store import SpotifyStore
from app.stats_import import FIELDS, KINDS, ColumnMapping, Layout, MappingError, write_csv
from app.stats_releases import with_spotify_releases
from app.stats_store import (
    EntityFigures,
    ForecastFailed,
    ImportReport,
    ReleaseMarker,
    SeriesSummary,
    StatsStore,
    forecast_points,
    weekday_pattern,
)
from ui.live.common import muted
from ui.stats.entities import EntityPanel, playlist_columns, song_columns
from ui.stats.markers import ReleaseMarkers
from ui.stats.weekday import WeekdayChart
from ui.theme import ThemeColors, theme_colors

if TYPE_CHECKING:
    from ui.main_window import MainWindow

log = logging.getLogger(__name__)

KIND_LABELS = {"audience": N_("audience"), "song": N_("song"), "playlist": N_("playlist")}
METRIC_LABELS = {"listeners": N_("listeners"), "streams": N_("streams"),
                 "followers": N_("followers"), "saves": N_("saves")}  # fmt: skip


def _kind(kind: str) -> str:
    return _(KIND_LABELS.get(kind, kind))


def _epoch(day: date) -> float:
    return datetime.combine(day, time(12), tzinfo=UTC).timestamp()


def _epochs(days: np.ndarray) -> np.ndarray:
    """``datetime64[D]`` days as the timeline's x: seconds since 1970 at noon UTC."""
    return days.astype("datetime64[s]").astype(np.float64) + 43200.0


def _mix(a: str, b: str, t: float) -> QColor:
    """Colour ``a`` moved the fraction ``t`` towards ``b`` (opaque)."""
    ca, cb = QColor(a), QColor(b)
    return QColor(
        round(ca.red() + (cb.red() - ca.red()) * t),
        round(ca.green() + (cb.green() - ca.green()) * t),
        round(ca.blue() + (cb.blue() - ca.blue()) * t),
    )


def quiet_grid(item: pg.PlotItem, colors: ThemeColors) -> None:
    """A faint grid drawn in an opaque colour (the background mixed with the text colour), major
    and first minor ticks only: blending translucent grid lines over the whole plot was most of
    a repaint's time (about 20 of 28 ms at 1280 x 800)."""
    grid = _mix(colors.base, colors.text, 0.13)
    for name in ("bottom", "left"):
        axis = item.getAxis(name)
        axis.setPen(pg.mkPen(colors.muted_text))
        axis.setTextPen(pg.mkPen(colors.muted_text))
        axis.setTickPen(pg.mkPen(grid))
        axis.setStyle(tickAlpha=255, maxTickLevel=1)
    item.showGrid(x=True, y=True)


class _Loaded:
    """What the loading worker read: everything the room shows besides the chosen series."""

    def __init__(self, store: StatsStore, spotify: SpotifyReleases | None = None) -> None:
        self.summaries: list[SeriesSummary] = store.summary()
        self.songs: list[EntityFigures] = store.entity_figures("song", summaries=self.summaries)
        self.playlists: list[EntityFigures] = store.entity_figures(
            "playlist", summaries=self.summaries
        )
        self.releases: list[ReleaseMarker] = store.release_markers()
        if spotify is not None:
            self.releases = with_spotify_releases(
                self.releases,
                spotify.store,
                spotify.chosen_artists(),
                (song.entity for song in self.songs),
            )


@dataclass(frozen=True)
class SpotifyReleases:
    """Where the room finds Spotify's releases: the snapshot store, and the artists the user
    chose in the settings (read at each reload)."""

    store: SpotifyStore
    chosen_artists: Callable[[], Sequence[str]]


class _Relay(QObject):
    """Carries results from worker threads to the GUI thread (queued connections)."""

    imported = Signal(object)  # list[ImportReport]
    forecast_done = Signal(object, object)  # (series key, Forecast or an error message)
    loaded = Signal(int, object)  # (generation, _Loaded or an error message)


class MappingDialog(QDialog):
    """Which column holds what, for a file whose headers were not recognised."""

    def __init__(self, layout: Layout, name: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("stats-mapping-dialog")
        self.setWindowTitle(_("Columns of {name}").format(name=name))
        self.layout_info = layout
        form = QFormLayout(self)
        form.addRow(muted(QLabel(_("Hookline does not know this layout. Say what each column "
                                   "holds; columns left on “ignore” are skipped."))))  # fmt: skip
        self.kind = QComboBox()
        for kind in KINDS:
            self.kind.addItem(_kind(kind), kind)
        form.addRow(_("The file holds:"), self.kind)
        self.roles: list[QComboBox] = []
        for index, header in enumerate(layout.headers):
            combo = QComboBox()
            combo.addItem(_("ignore"), "")
            for name in FIELDS:
                combo.addItem(name, name)
            sample = ", ".join(row[index] for row in layout.sample[:3] if index < len(row))
            label = f"{header or _('column {number}').format(number=index + 1)}"
            combo.setToolTip(_("For example: {values}").format(values=sample[:80]))
            self.roles.append(combo)
            form.addRow(label, combo)
        self.error = QLabel("")
        self.error.setWordWrap(True)
        form.addRow(self.error)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        buttons.accepted.connect(self._accept)
        buttons.rejected.connect(self.reject)
        form.addRow(buttons)
        self.mapping: ColumnMapping | None = None

    def chosen(self) -> ColumnMapping:
        columns = {str(c.currentData()): i for i, c in enumerate(self.roles) if c.currentData()}
        return ColumnMapping(self.kind.currentData(), columns)

    def _accept(self) -> None:
        try:
            self.mapping = self.chosen()
        except MappingError as exc:
            self.error.setText(str(exc))
            return
        self.accept()


class StatsRoom(QWidget):
    message = Signal(str)

    def __init__(
        self,
        store: StatsStore,
        parent: QWidget | None = None,
        spotify: SpotifyReleases | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("stats-room")
        self.store = store
        self.spotify = spotify
        self.relay = _Relay()
        self.relay.imported.connect(self._on_imported)
        self.relay.forecast_done.connect(self._on_forecast)
        self.relay.loaded.connect(self._on_loaded)
        self.busy = False
        self.loading = False
        self._generation = 0
        self._summaries: dict[tuple[str, str, str], SeriesSummary] = {}
        self.series_keys: list[tuple[str, str, str]] = []
        self.forecast: Any = None

        self.import_button = QPushButton(_("Import CSV…"))
        self.import_button.setObjectName("stats-import")
        self.import_button.setShortcut(QKeySequence("Ctrl+I"))
        self.import_button.setToolTip(_("Import Spotify for Artists exports (Ctrl+I)"))
        self.series = QComboBox()
        self.series.setObjectName("stats-series")
        self.series.setMinimumContentsLength(24)
        self.series.setSizeAdjustPolicy(
            QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon
        )
        self.metric_picker = QComboBox()
        self.metric_picker.setObjectName("stats-metric")
        self.releases_box = QCheckBox(_("Releases"))
        self.releases_box.setObjectName("stats-releases")
        self.releases_box.setChecked(True)
        self.releases_box.setToolTip(
            _(
                "Show release days on the timeline: your exports' songs, and your singles and "
                "albums from Spotify"
            )
        )
        self.days = QComboBox()
        self.days.setObjectName("stats-forecast-days")
        for n in (30, 90):
            self.days.addItem(ngettext("{count} day", "{count} days", n).format(count=n), n)
        self.forecast_button = QPushButton(_("Forecast"))
        self.forecast_button.setObjectName("stats-forecast")
        self.forecast_button.setShortcut(QKeySequence("Ctrl+Shift+F"))
        self.png_button = QPushButton(_("Save chart…"))
        self.csv_button = QPushButton(_("Export CSV…"))
        self.csv_button.setShortcut(QKeySequence("Ctrl+Shift+E"))
        row = QHBoxLayout()
        for w in (self.import_button, QLabel(_("Series:")), self.series, self.metric_picker,
                  self.releases_box, QLabel(_("Forecast:")), self.days, self.forecast_button,
                  self.png_button, self.csv_button):  # fmt: skip
            row.addWidget(w)
        row.addStretch(1)

        colors = theme_colors()
        self.plot = pg.PlotWidget(axisItems={"bottom": pg.DateAxisItem()})
        self.plot.setObjectName("stats-plot")
        self.plot.setBackground(colors.base)
        item = self.plot.getPlotItem()
        item.setMenuEnabled(False)
        quiet_grid(item, colors)
        item.setClipToView(True)
        item.setDownsampling(auto=True, mode="peak")
        self.curve = item.plot([], [], pen=pg.mkPen(colors.accent, width=1.5))
        self.curve.setSkipFiniteCheck(True)  # the store never holds NaN or infinity
        self.fc_curve = item.plot([], [], pen=pg.mkPen(colors.text, width=1.5,
                                                         style=Qt.PenStyle.DashLine))  # fmt: skip
        band = QColor(colors.accent)
        band.setAlpha(60)
        self._band_lo = item.plot([], [], pen=None)
        self._band_hi = item.plot([], [], pen=None)
        self.band = pg.FillBetweenItem(self._band_lo, self._band_hi, brush=pg.mkBrush(band))
        item.addItem(self.band)
        self.markers = ReleaseMarkers(item, colors.text, _epoch)
        self.forecast_label = muted(QLabel(""))
        self.forecast_label.setObjectName("stats-forecast-label")
        self.forecast_label.setWordWrap(True)
        empty_text = _("No figures yet. Import a Spotify for Artists export (audience "
                       "timeline, songs or playlists) with Ctrl+I.")  # fmt: skip
        self.empty = muted(QLabel(empty_text))
        self.empty.setWordWrap(True)
        self.weekday = WeekdayChart()
        self.weekday.setMinimumWidth(250)
        self.weekday.setMaximumWidth(380)

        self.table = QTableWidget(0, 6)
        self.table.setObjectName("stats-table")
        self.table.setHorizontalHeaderLabels(
            [_("Kind"), _("Name"), _("Metric"), _("From"), _("To"), _("Latest / total")]
        )
        self.table.horizontalHeader().setStretchLastSection(True)
        self.table.verticalHeader().setVisible(False)
        self.songs = EntityPanel("songs", song_columns(), _(
            "No songs yet. Import a Spotify for Artists songs export to see each song's "
            "streams, listeners and saves."))  # fmt: skip
        self.playlists = EntityPanel("playlists", playlist_columns(), _(
            "No playlists yet. Import a Spotify for Artists playlists export to see the "
            "playlists your music is on."))  # fmt: skip
        self.tabs = QTabWidget()
        self.tabs.setObjectName("stats-tabs")
        self.tabs.addTab(self.songs, _("Songs"))
        self.tabs.addTab(self.playlists, _("Playlists"))
        self.tabs.addTab(self.table, _("All series"))

        chart = QWidget()
        chart_box = QVBoxLayout(chart)
        chart_box.setContentsMargins(0, 0, 0, 0)
        chart_box.addWidget(self.plot, 1)
        chart_box.addWidget(self.forecast_label)
        top = QWidget()
        top_box = QHBoxLayout(top)
        top_box.setContentsMargins(0, 0, 0, 6)
        top_box.addWidget(chart, 3)
        top_box.addWidget(self.weekday, 1)
        self.splitter = QSplitter(Qt.Orientation.Vertical)
        self.splitter.setChildrenCollapsible(False)
        self.splitter.addWidget(top)
        self.splitter.addWidget(self.tabs)
        self.splitter.setStretchFactor(0, 3)
        self.splitter.setStretchFactor(1, 2)
        self.tabs.setMinimumHeight(150)
        self.splitter.setSizes([560, 340])  # scaled to the room's height when first shown

        layout = QVBoxLayout(self)
        layout.addLayout(row)
        layout.addWidget(self.empty)
        layout.addWidget(self.splitter, 1)

        self.import_button.clicked.connect(self.import_dialog)
        self.series.currentIndexChanged.connect(lambda _i: self._fill_metrics())
        self.metric_picker.currentIndexChanged.connect(lambda _i: self.show_series())
        self.releases_box.toggled.connect(self.markers.set_enabled)
        self.forecast_button.clicked.connect(self.start_forecast)
        self.png_button.clicked.connect(self.export_png_dialog)
        self.csv_button.clicked.connect(self.export_csv_dialog)
        self.songs.chosen.connect(lambda name: self.choose_series("song", name))
        self.playlists.chosen.connect(lambda name: self.choose_series("playlist", name))
        find = QShortcut(QKeySequence(QKeySequence.StandardKey.Find), self)
        find.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        find.activated.connect(self.focus_filter)
        self._apply(None)
        self.refresh()

    # -- data --------------------------------------------------------------------------------
    def refresh(self) -> None:
        """Reload the series list, the tables and the release days from the database in a
        worker; :attr:`loading` is true until they are shown."""
        self._generation += 1
        generation = self._generation
        self.loading = True

        def work() -> None:
            try:
                result: Any = _Loaded(self.store, self.spotify)
            except Exception as exc:  # a database failure: keep what is on screen
                log.exception("reading the statistics failed")
                result = str(exc)
            self.relay.loaded.emit(generation, result)

        threading.Thread(target=work, name="stats-load", daemon=True).start()

    def idle(self) -> bool:
        """No import, forecast or reload running."""
        return not self.busy and not self.loading

    def _on_loaded(self, generation: int, result: object) -> None:
        if generation != self._generation:
            return  # a newer reload is on its way
        self.loading = False
        if isinstance(result, str):
            self.message.emit(_("The statistics could not be read: {reason}").format(
                reason=result))  # fmt: skip
            return
        assert isinstance(result, _Loaded)
        self._apply(result)

    def _apply(self, loaded: _Loaded | None) -> None:
        summaries = loaded.summaries if loaded else []
        chosen = self.current_key()
        self.series.blockSignals(True)
        self.series.clear()
        self._summaries = {(s.kind, s.entity, s.resolution): s for s in summaries}
        # the item's position is its key's index: Qt does not compare tuples holding "" reliably
        self.series_keys = list(self._summaries)
        for s in summaries:
            self.series.addItem(f"{_kind(s.kind)}: {s.entity or _('the artist')}")
        found = self.find_series(chosen) if chosen is not None else -1
        self.series.setCurrentIndex(max(0, found))
        self.series.blockSignals(False)
        self.table.setRowCount(0)
        for s in summaries:
            for metric, m in s.metrics.items():
                r = self.table.rowCount()
                self.table.insertRow(r)
                latest = f"{m.latest:,.0f} / {m.total:,.0f}"
                for c, value in enumerate((_kind(s.kind), s.entity or "—",
                                           _(METRIC_LABELS.get(metric, metric)),
                                           m.first_day.isoformat(),
                                           m.last_day.isoformat(), latest)):  # fmt: skip
                    self.table.setItem(r, c, QTableWidgetItem(value))
        self.songs.set_rows(loaded.songs if loaded else [])
        self.playlists.set_rows(loaded.playlists if loaded else [])
        self.markers.set_markers(loaded.releases if loaded else [])
        has = bool(summaries)
        self.empty.setVisible(not has)
        for w in (self.series, self.metric_picker, self.forecast_button, self.png_button,
                  self.csv_button, self.releases_box):  # fmt: skip
            w.setEnabled(has)
        self.releases_box.setEnabled(bool(loaded and loaded.releases))
        if loaded is not None and not loaded.songs and loaded.playlists:
            self.tabs.setCurrentWidget(self.playlists)
        self._fill_metrics()

    def choose_series(self, kind: str, entity: str) -> bool:
        """Show ``entity``'s timeline (its daily values when stored, else its period totals);
        False when nothing of it is stored."""
        for resolution in ("daily", "period"):
            index = self.find_series((kind, entity, resolution))
            if index >= 0:
                self.series.setCurrentIndex(index)
                return True
        return False

    def current_key(self) -> tuple[str, str, str] | None:
        """(kind, entity, resolution) of the series in the picker."""
        index = self.series.currentIndex()
        return self.series_keys[index] if 0 <= index < len(self.series_keys) else None

    def find_series(self, key: tuple[str, str, str]) -> int:
        """The picker's index of ``key``, -1 when it is not stored."""
        try:
            return self.series_keys.index(key)
        except ValueError:
            return -1

    def focus_filter(self) -> None:
        """Ctrl+F: the filter of the song or playlist table on show (the songs' otherwise)."""
        if self.tabs.currentWidget() not in (self.songs, self.playlists):
            self.tabs.setCurrentWidget(self.songs)
        panel = self.tabs.currentWidget()
        assert isinstance(panel, EntityPanel)
        panel.focus_filter()

    def _fill_metrics(self) -> None:
        key = self.current_key()
        summary = self._summaries.get(key) if key else None
        chosen = self.metric_picker.currentData()
        self.metric_picker.blockSignals(True)
        self.metric_picker.clear()
        for name in summary.metrics if summary else ():
            self.metric_picker.addItem(_(METRIC_LABELS.get(name, name)), name)
        found = self.metric_picker.findData(chosen) if chosen is not None else -1
        if found < 0:
            found = self.metric_picker.findData("streams")
        self.metric_picker.setCurrentIndex(max(0, found))
        self.metric_picker.blockSignals(False)
        self.show_series()

    def current_series(self) -> list[tuple[date, float]]:
        key, metric = self.current_key(), self.metric_picker.currentData()
        if not key or not metric:
            return []
        kind, entity, resolution = key
        return self.store.series(kind, entity, metric, resolution=resolution)

    def show_series(self) -> None:
        """Read the chosen series once into arrays and hand them to the curve (which keeps its
        own downsampled, clipped copy per view) and to the day-of-week chart."""
        key, metric = self.current_key(), self.metric_picker.currentData()
        if key and metric:
            kind, entity, resolution = key
            days, y = self.store.series_array(kind, entity, metric, resolution=resolution)
        else:
            kind, entity, resolution = "", "", ""
            days, y = np.empty(0, dtype="datetime64[D]"), np.empty(0)
        self.curve.setData(_epochs(days), y)
        self._clear_forecast()
        self._fit_view()
        for panel, panel_kind in ((self.songs, "song"), (self.playlists, "playlist")):
            if kind != panel_kind or not panel.select(entity, emit=False):
                panel.clear_choice()
        if not len(days):
            why = _("Import a Spotify for Artists export to see which days of the week do best.")
            self.weekday.show_pattern(None, why)
        elif resolution != "daily":
            why = _("This series holds totals over periods, not daily values: it has no weekly "
                    "pattern.")  # fmt: skip
            self.weekday.show_pattern(None, why)
        else:
            why = _("A weekly pattern needs at least two full weeks of daily values.")
            self.weekday.show_pattern(weekday_pattern(days, y), why)

    def _fit_view(self) -> None:
        """Frame the series and the forecast (the empty band items would pull in 1970)."""
        xs = [c.xData for c in (self.curve, self.fc_curve) if c.xData is not None and len(c.xData)]
        ys = [c.yData for c in (self.curve, self._band_hi) if c.yData is not None and len(c.yData)]
        if not xs:
            return
        item = self.plot.getPlotItem()
        item.setXRange(min(float(x[0]) for x in xs), max(float(x[-1]) for x in xs), padding=0.02)
        top = max(float(np.nanmax(y)) for y in ys)
        item.setYRange(0.0, top if top > 0 else 1.0, padding=0.05)

    def _clear_forecast(self) -> None:
        self.forecast = None
        for c in (self.fc_curve, self._band_lo, self._band_hi):
            c.setData([], [])
        self.forecast_label.setText("")

    # -- importing ---------------------------------------------------------------------------
    def import_dialog(self) -> None:
        paths, _filter = QFileDialog.getOpenFileNames(
            self, _("Import Spotify for Artists exports"), "", _("CSV files (*.csv *.txt)")
        )
        if paths:
            self.import_files([Path(p) for p in paths])

    def import_files(self, paths: list[Path], mapping: ColumnMapping | None = None) -> None:
        """Import in a worker; the results arrive through :attr:`relay`."""
        if self.busy:
            self.message.emit(_("An import or a forecast is still running."))
            return
        self.busy = True
        self.message.emit(ngettext("Importing {count} file…", "Importing {count} files…",
                                   len(paths)).format(count=len(paths)))  # fmt: skip

        def work() -> None:
            reports: list[Any] = []
            for path in paths:
                try:
                    reports.append(self.store.import_csv(path, mapping))
                except Exception as exc:  # a database failure: this file is not imported
                    log.exception("importing %s failed", path)
                    reports.append(ImportReport(path, "refused", str(exc)))
            self.relay.imported.emit(reports)

        threading.Thread(target=work, name="stats-import", daemon=True).start()

    def _on_imported(self, reports: list[ImportReport]) -> None:
        self.busy = False
        self.last_reports = reports
        lines = []
        for report in reports:
            name = report.path.name
            if report.status == "imported":
                lines.append(_("{name}: {added} values added, {updated} updated, {rejected} rows "
                               "rejected.").format(name=name, added=report.values_added,
                                                   updated=report.values_updated,
                                                   rejected=report.rows_rejected))  # fmt: skip
            elif report.status == "refused":
                refused = _("{name}: not imported: {reason}")
                lines.append(refused.format(name=name, reason=report.message))
        self.refresh()
        if lines:
            self.message.emit(" ".join(lines))
        for report in reports:
            if report.status == "unknown_layout" and report.layout is not None:
                self.ask_mapping(report.path, report.layout)

    def ask_mapping(self, path: Path, layout: Layout) -> MappingDialog:
        dialog = MappingDialog(layout, path.name, self)
        dialog.accepted.connect(lambda: self.import_files([path], dialog.mapping))
        dialog.open()
        self.mapping_dialog = dialog
        return dialog

    # -- forecasting -------------------------------------------------------------------------
    def start_forecast(self) -> None:
        points = self.current_series()
        if not points or self.busy:
            return
        days = int(self.days.currentData())
        key = (self.current_key(), self.metric_picker.currentData(), days)
        self.busy = True
        self.forecast_label.setText(_("Forecasting (backtesting the models first)…"))

        def work() -> None:
            try:
                result: Any = forecast_points(points, days)
            except ForecastFailed as exc:
                result = str(exc)
            except Exception as exc:
                log.exception("the forecast failed")
                result = str(exc)
            self.relay.forecast_done.emit(key, result)

        threading.Thread(target=work, name="stats-forecast", daemon=True).start()

    def _on_forecast(self, key: object, result: object) -> None:
        self.busy = False
        if key != (self.current_key(), self.metric_picker.currentData(),
                   int(self.days.currentData())):  # fmt: skip
            return  # the user moved on
        if isinstance(result, str):
            self.forecast_label.setText(_("No forecast: {reason}").format(reason=result))
            return
        self.forecast = result
        x = np.array([_epoch(d) for d in result.dates], dtype=np.float64)
        self.fc_curve.setData(x, np.asarray(result.point, dtype=np.float64))
        self._band_lo.setData(x, np.asarray(result.lower80, dtype=np.float64))
        self._band_hi.setData(x, np.asarray(result.upper80, dtype=np.float64))
        self._fit_view()
        chosen = result.chosen
        self.forecast_label.setText(
            _("Forecast: {model}. Backtested error (wMAPE over {origins} rolling origins): "
              "{error}; the 80-percent band held {coverage} of the actual days.").format(
                model=result.model, origins=chosen.origins,
                error=f"{chosen.wmape:.1f} %" if np.isfinite(chosen.wmape) else "—",
                coverage=f"{chosen.coverage80:.0%}" if np.isfinite(chosen.coverage80) else "—",
            )
        )  # fmt: skip

    # -- exports -----------------------------------------------------------------------------
    def export_png(self, path: Path) -> bool:
        return bool(self.plot.grab().save(str(path)))

    def export_png_dialog(self) -> None:
        path, _filter = QFileDialog.getSaveFileName(self, _("Save chart"), "stats.png",
                                                    _("PNG images (*.png)"))  # fmt: skip
        if path and not self.export_png(Path(path)):
            self.message.emit(_("The chart could not be saved to {path}.").format(path=path))

    def export_csv(self, path: Path) -> None:
        key, metric = self.current_key(), self.metric_picker.currentData()
        rows: list[list[object]] = [["date", "kind", "name", "metric", "value"]]
        for day, value in self.current_series():
            rows.append([day.isoformat(), key[0], key[1], metric, value])
        with open(path, "w", encoding="utf-8", newline="") as out:
            write_csv(rows, out)

    def export_csv_dialog(self) -> None:
        path, _filter = QFileDialog.getSaveFileName(self, _("Export series"), "stats.csv",
                                                    _("CSV files (*.csv)"))  # fmt: skip
        if not path:
            return
        try:
            self.export_csv(Path(path))
        except OSError as exc:
            self.message.emit(_("The series could not be saved: {reason}").format(reason=exc))


def install_stats_view(window: MainWindow) -> StatsRoom:
    """The Stats room has two pages: the Spotify for Artists exports (:class:`StatsRoom`) and the
    Spotify account (:class:`~ui.stats.spotify_panel.SpotifyPanel`, sharing the window's
    scheduled :class:`~ui.stats.spotify_schedule.SpotifySync`). Returns the exports page."""
    from ui.stats.spotify_panel import SpotifyPanel
    from ui.stats.spotify_schedule import window_sync

    settings = window.context.settings
    releases = SpotifyReleases(
        SpotifyStore(window.context.database),
        lambda: SpotifyConfig.from_settings(settings.get).artist_ids,
    )
    room = StatsRoom(StatsStore(window.context.database), spotify=releases)
    schedule = window_sync(window)
    spotify = SpotifyPanel(settings, window.context.database, sync=schedule)
    schedule.finished.connect(lambda _report: room.refresh())  # new releases on the timeline
    pages = QTabWidget()
    pages.setObjectName("stats-pages")
    pages.setDocumentMode(True)
    pages.addTab(room, _("Spotify for Artists exports"))
    pages.addTab(spotify, _("Spotify account"))
    room.spotify_panel = spotify  # type: ignore[attr-defined]
    window.set_room_widget("stats", pages)
    for source in (room.message, spotify.message):
        source.connect(lambda text: window.statusBar().showMessage(text, 10000))
    return room
