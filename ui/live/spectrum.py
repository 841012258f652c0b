"""The spectrum (level per log-spaced band, with peak hold) and a scrolling spectrogram below it.

Both plots share one frequency axis, 20 Hz to 20 kHz on a log scale, and keep it left to right in
every language (frequency grows to the right, as on every mixing desk and analyser). The
spectrogram is a waterfall: the newest column of the engine's band levels enters at the top and
history scrolls down. Columns land in a preallocated ring twice the visible height, so the shown
window is always one contiguous view of it and nothing is allocated per frame.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QColor, QFont
from PySide6.QtWidgets import QGraphicsItem, QWidget

from app.i18n import _, format_decimal
from ui.live.common import Card
from ui.theme import theme_colors

FMIN, FMAX = 20.0, 20000.0
DB_RANGE = (-100.0, 0.0)
FLOOR_DB = -120.0
ROWS = 400  # spectrogram history rows
ROW_SECONDS = 0.02  # engine columns (one analysis hop each) merged into rows by their maximum
COLOR_LEVELS = (-96.0, -12.0)
AXIS_WIDTH = 46
MAJOR_HZ = (20, 50, 100, 200, 500, 1000, 2000, 5000, 10000, 20000)
MINOR_HZ = (
    30,
    40,
    60,
    70,
    80,
    90,
    300,
    400,
    600,
    700,
    800,
    900,
    3000,
    4000,
    6000,
    7000,
    8000,
    9000,
)


def frequency_label(hz: float) -> str:
    if hz >= 1000:
        return _("{value}k").format(value=format_decimal(hz / 1000))
    return format_decimal(hz)


def frequency_ticks() -> list[list[tuple[float, str]]]:
    major = [(math.log10(f), frequency_label(f)) for f in MAJOR_HZ]
    minor = [(math.log10(f), "") for f in MINOR_HZ]
    return [major, minor]


def spectrogram_colormap() -> pg.ColorMap:
    """A floor that melts into the plot background; loud is far from it in lightness.

    Dark theme: through violet and red to the accent and a pale yellow (an inferno-like ramp).
    Light theme: the same hues the other way round, from pale yellow to deep violet.
    """
    colors = theme_colors()
    stops = [0.0, 0.22, 0.45, 0.7, 0.88, 1.0]
    if QColor(colors.base).lightness() < 128:
        rgb = [colors.base, "#2d1b4e", "#7a1f5c", "#d1453b", colors.accent, "#fff3c4"]
    else:
        rgb = [colors.base, "#fde9b0", "#f3a04a", "#d1453b", "#7a1f5c", "#2d1b4e"]
    return pg.ColorMap(stops, [QColor(c) for c in rgb])


def _set_up_plot(widget: pg.PlotWidget) -> pg.PlotItem:
    # Charts read left to right in every language: frequency grows to the right. The graphics
    # items take the application's direction unless told, so the plot item is told too.
    widget.setLayoutDirection(Qt.LayoutDirection.LeftToRight)
    widget.setMouseEnabled(x=False, y=False)
    widget.setMenuEnabled(False)
    widget.setAntialiasing(True)
    item = widget.getPlotItem()
    item.setLayoutDirection(Qt.LayoutDirection.LeftToRight)
    item.hideButtons()
    tick_font = QFont(widget.font())
    if tick_font.pointSizeF() > 0:
        tick_font.setPointSizeF(tick_font.pointSizeF() * 0.85)
    for name in ("left", "bottom"):
        axis = item.getAxis(name)
        axis.setStyle(tickFont=tick_font, tickLength=-4)
        # An axis with a grid spans the whole plot, so every new curve repainted its ticks and
        # labels: half of each frame's painting, all of it holding the GIL the analysis worker
        # needs. Cached, it is one pixmap blit until its ticks change.
        axis.setCacheMode(QGraphicsItem.CacheMode.DeviceCoordinateCache)
    item.getAxis("left").setWidth(AXIS_WIDTH)
    item.setXRange(math.log10(FMIN), math.log10(FMAX), padding=0)
    item.getAxis("bottom").setTicks(frequency_ticks())
    return item


def _color_plot(widget: pg.PlotWidget) -> None:
    colors = theme_colors()
    widget.setBackground(colors.base)
    item = widget.getPlotItem()
    for name in ("left", "bottom"):
        axis = item.getAxis(name)
        axis.setPen(pg.mkPen(colors.mid))
        axis.setTextPen(pg.mkPen(colors.muted_text))


class SpectrumPanel(Card):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(_("Spectrum"), "live-spectrum", parent)
        self.body.setSpacing(4)

        self.spectrum_plot = pg.PlotWidget()
        self.spectrum_plot.setObjectName("live-spectrum-plot")
        plot = _set_up_plot(self.spectrum_plot)
        plot.setYRange(*DB_RANGE, padding=0)
        plot.showGrid(x=True, y=True, alpha=0.18)
        plot.getAxis("left").setTicks(
            [[(float(db), format_decimal(db)) for db in range(-100, 1, 20)], []]
        )
        self.hold_curve = plot.plot(skipFiniteCheck=True)
        self.curve = plot.plot(fillLevel=FLOOR_DB, skipFiniteCheck=True)
        self.spectrum_plot.setToolTip(_("Level per frequency band; the thin line holds peaks"))

        self.spectrogram_plot = pg.PlotWidget()
        self.spectrogram_plot.setObjectName("live-spectrogram-plot")
        waterfall = _set_up_plot(self.spectrogram_plot)
        waterfall.getAxis("bottom").setStyle(showValues=False)
        seconds = ROWS * ROW_SECONDS
        waterfall.setYRange(-seconds, 0, padding=0)
        waterfall.getAxis("left").setTicks(
            [
                [
                    (-float(s), _("{seconds} s").format(seconds=format_decimal(-s)))
                    for s in range(2, int(seconds), 2)
                ],
                [],
            ]
        )
        waterfall.setXLink(plot)
        self.image = pg.ImageItem(axisOrder="row-major")
        self.image.setLevels(COLOR_LEVELS)
        waterfall.addItem(self.image)
        self.spectrogram_plot.setToolTip(_("Spectrogram: newest at the top, 8 seconds of history"))

        self.body.addWidget(self.spectrum_plot, 3)
        self.body.addWidget(self.spectrogram_plot, 2)
        self.apply_colors()

        self._log_frequencies: np.ndarray | None = None
        self._image_rect: QRectF | None = None  # applied once the image has its first data
        self._ring: np.ndarray | None = None  # (2 * ROWS, bands), each row written twice
        self._row = 0  # next row to write, 0..ROWS-1
        self._pending: np.ndarray | None = None  # the row being merged from engine columns
        self._pending_count = 0
        self._pending_seconds = 0.0  # audio time the pending row covers so far
        self._dirty = False

    def apply_colors(self) -> None:
        """Take the current theme's colours (at start and when the theme changes)."""
        colors = theme_colors()
        for widget in (self.spectrum_plot, self.spectrogram_plot):
            _color_plot(widget)
        self.spectrum_plot.getPlotItem().getAxis("left").setLabel(
            _("dBFS"), color=colors.muted_text
        )
        accent = QColor(colors.accent)
        fill = QColor(accent)
        fill.setAlpha(55)
        hold = QColor(colors.muted_text)
        hold.setAlpha(170)
        self.hold_curve.setPen(pg.mkPen(hold, width=1))
        self.curve.setPen(pg.mkPen(accent, width=1.6))
        self.curve.setBrush(fill)
        self.image.setColorMap(spectrogram_colormap())

    # -- spectrum -------------------------------------------------------------------------------

    def show_spectrum(
        self, frequencies: np.ndarray, level_db: np.ndarray, peak_hold_db: np.ndarray
    ) -> None:
        if self._log_frequencies is None or len(self._log_frequencies) != len(frequencies):
            self._log_frequencies = np.log10(frequencies)
            self._place_image(frequencies)
        x = self._log_frequencies
        self.curve.setData(x, level_db)
        self.hold_curve.setData(x, peak_hold_db)

    def clear_spectrum(self) -> None:
        self.curve.setData([], [])
        self.hold_curve.setData([], [])

    # -- spectrogram ----------------------------------------------------------------------------

    def add_columns(self, columns: Sequence[np.ndarray], column_seconds: float) -> None:
        """Store new engine columns, each ``column_seconds`` of audio (cheap; call on every tick,
        shown or not). A row is ROW_SECONDS of audio: short columns are merged by their maximum,
        a column longer than a row fills as many rows as it lasts."""
        if column_seconds <= 0.0:
            return
        for column in columns:
            if self._ring is None or self._ring.shape[1] != column.shape[0]:
                self._ring = np.full((2 * ROWS, column.shape[0]), FLOOR_DB, dtype=np.float32)
                self._pending = np.full(column.shape[0], FLOOR_DB, dtype=np.float32)
                self._row = 0
                self._pending_count = 0
                self._pending_seconds = 0.0
            assert self._pending is not None
            if self._pending_count == 0:
                self._pending[:] = column
            else:
                np.maximum(self._pending, column, out=self._pending)
            self._pending_count += 1
            self._pending_seconds += column_seconds
            # a small tolerance, so 2 x 10 ms makes a 20 ms row despite rounding
            while self._pending_seconds >= ROW_SECONDS * 0.999:
                self._ring[self._row] = self._pending
                self._ring[self._row + ROWS] = self._pending
                self._row = (self._row + 1) % ROWS
                self._pending_seconds -= ROW_SECONDS
                self._dirty = True
                if self._pending_seconds < ROW_SECONDS * 0.001:
                    self._pending_seconds = 0.0
                    self._pending_count = 0
                else:  # the rest of a long column starts the next row
                    self._pending_count = 1

    def render_spectrogram(self) -> None:
        """Hand the visible window (oldest row first, so newest at the top) to the image."""
        if self._ring is None or not self._dirty:
            return
        self._dirty = False
        self.image.setImage(self._ring[self._row : self._row + ROWS], autoLevels=False)
        if self._image_rect is not None:  # pyqtgraph scales by the image size: data first
            self.image.setRect(self._image_rect)
            self._image_rect = None

    def spectrogram_rows(self) -> np.ndarray | None:
        """The rows the image shows now (oldest first), for tests."""
        return None if self._ring is None else self._ring[self._row : self._row + ROWS]

    def _place_image(self, frequencies: np.ndarray) -> None:
        """Stretch the image over the bands' edges: columns are equal steps of log frequency."""
        logs = np.log10(frequencies)
        step = (logs[-1] - logs[0]) / max(1, len(logs) - 1)
        seconds = ROWS * ROW_SECONDS
        self._image_rect = QRectF(logs[0] - step / 2, -seconds, step * len(logs), seconds)
