"""The selected track: a waveform overview with the beat grid and the sections, a chord lane,
the tracks that mix with it and its streaming-readiness checks.

The charts read left to right in every language (time grows to the right), like the Live room's.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QColor, QFont
from PySide6.QtWidgets import QLabel, QListWidget, QListWidgetItem, QWidget

from app.i18n import _, format_decimal, format_percent
from app.library import FAIL, INFO, PASS, WARN, Check, Match, Track
from ui.library.model import duration_text, key_name
from ui.live.common import CAUTION, DANGER, IN_TUNE, Card, muted, scaled_font
from ui.theme import theme_colors

MARKS = {PASS: ("✓", IN_TUNE), WARN: ("!", CAUTION), FAIL: ("✗", DANGER), INFO: ("i", None)}
SECTION_COLORS = ("#4c8dff", "#b06cff", "#3fbf9f", "#ff9f43", "#e05fa0", "#8fbf3f")


def _plot(name: str, height: int) -> pg.PlotWidget:
    widget = pg.PlotWidget()
    widget.setObjectName(name)
    widget.setLayoutDirection(Qt.LayoutDirection.LeftToRight)
    widget.setMouseEnabled(x=False, y=False)
    widget.setMenuEnabled(False)
    widget.setFixedHeight(height)
    colors = theme_colors()
    widget.setBackground(colors.base)
    item = widget.getPlotItem()
    item.setLayoutDirection(Qt.LayoutDirection.LeftToRight)
    item.hideButtons()
    item.hideAxis("left")
    axis = item.getAxis("bottom")
    axis.setPen(pg.mkPen(colors.mid))
    axis.setTextPen(pg.mkPen(colors.muted_text))
    return widget


def _vertical_lines(
    plot: pg.PlotItem, times: Sequence[float], color: str, alpha: int, width: int
) -> int:
    """Full-height lines at ``times`` (the waveform's −1..1) in one item; returns how many."""
    if not times:
        return 0
    xs = np.repeat(np.asarray(times, dtype=float), 2)
    ys = np.tile(np.array([-1.0, 1.0]), len(times))
    pen_color = QColor(color)
    pen_color.setAlpha(alpha)
    plot.plot(xs, ys, connect="pairs", pen=pg.mkPen(pen_color, width=width))
    return len(times)


def summary_line(track: Track) -> str:
    if track.error is not None:
        return track.error
    parts = [_("{bpm} BPM").format(bpm=format_decimal(round(track.tempo_bpm or 0.0, 1), 1))]
    if track.beats_per_bar:
        parts.append(_("{count} beats a bar").format(count=format_decimal(track.beats_per_bar, 0)))
    parts.append(_("{key} ({camelot})").format(key=key_name(track), camelot=track.camelot or ""))
    if track.loudness_lufs is not None:
        parts.append(_("{lufs} LUFS").format(lufs=format_decimal(round(track.loudness_lufs, 1), 1)))
    parts.append(duration_text(track.duration_s))
    return " · ".join(parts)


class TrackOverview(Card):
    """Waveform (min/max envelope), beat grid with the bar lines drawn stronger, labelled
    sections and the chord lane."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(_("Track"), "library-track", parent)
        self.title = QLabel("")
        self.title.setObjectName("library-track-title")
        self.title.setFont(scaled_font(self, 1.25, bold=True))
        self.title.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.summary = muted(QLabel(""))
        self.summary.setObjectName("library-track-summary")
        self.summary.setWordWrap(True)
        self.wave_plot = _plot("library-waveform", 150)
        self.chord_plot = _plot("library-chords", 44)
        self.chord_plot.getPlotItem().hideAxis("bottom")
        self.chord_plot.setXLink(self.wave_plot)
        self.body.addWidget(self.title)
        self.body.addWidget(self.summary)
        self.body.addWidget(self.wave_plot)
        self.body.addWidget(self.chord_plot)
        self.section_labels: list[str] = []
        self.chord_labels: list[str] = []
        self.beat_count = 0
        self.bar_count = 0
        self.show_track(None)

    def show_track(self, track: Track | None) -> None:
        wave = self.wave_plot.getPlotItem()
        lane = self.chord_plot.getPlotItem()
        wave.clear()
        lane.clear()
        self.section_labels = []
        self.chord_labels = []
        self.beat_count = 0
        self.bar_count = 0
        if track is None:
            self.title.setText(_("No track selected"))
            self.summary.setText(_("Select a track in the table to see its details."))
            return
        self.title.setText(track.name)
        self.summary.setText(summary_line(track))
        duration = track.duration_s or 0.0
        if not track.analysed or duration <= 0:
            return
        colors = theme_colors()
        text_color = QColor(colors.text)
        for index, section in enumerate(track.sections):
            color = QColor(SECTION_COLORS[index % len(SECTION_COLORS)])
            color.setAlpha(38)
            region = pg.LinearRegionItem(
                (section.start_s, section.end_s), movable=False, brush=pg.mkBrush(color)
            )
            region.setZValue(-10)
            for line in region.lines:
                line.setPen(pg.mkPen(None))
            wave.addItem(region)
            label = pg.TextItem(section.label, color=text_color, anchor=(0, 0))
            label.setPos(section.start_s, 1.0)
            wave.addItem(label)
            self.section_labels.append(section.label)
        self.beat_count = _vertical_lines(wave, track.beats, colors.muted_text, 90, 1)
        self.bar_count = _vertical_lines(wave, track.downbeats, colors.text, 150, 2)
        if track.envelope_max:
            highs = np.asarray(track.envelope_max, dtype=float)
            lows = np.asarray(track.envelope_min, dtype=float)
            xs = np.linspace(0.0, duration, len(highs))
            brush = pg.mkBrush(QColor(colors.accent))
            pen = pg.mkPen(QColor(colors.accent))
            wave.plot(xs, highs, pen=pen, fillLevel=0.0, brush=brush)
            wave.plot(xs, lows, pen=pen, fillLevel=0.0, brush=brush)
        wave.setXRange(0.0, duration, padding=0)
        wave.setYRange(-1.0, 1.15, padding=0)
        lane.setYRange(0.0, 1.0, padding=0)
        bounds = []
        font = QFont(self.font())
        font.setBold(True)
        for chord in track.chords:
            bounds += [chord.start_s, chord.start_s]
            label = pg.TextItem(chord.name, color=text_color, anchor=(0, 0.5))
            label.setFont(font)
            label.setPos(chord.start_s, 0.5)
            lane.addItem(label)
            self.chord_labels.append(chord.name)
        if bounds:
            ys = np.tile(np.array([0.1, 0.9]), len(bounds) // 2)
            lane.plot(np.asarray(bounds), ys, connect="pairs", pen=pg.mkPen(colors.mid))


class MixList(Card):
    """Tracks in a compatible key and tempo; activating one asks to select it."""

    track_chosen = Signal(int)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(_("Mixes with this"), "library-mixes", parent)
        self.list = QListWidget()
        self.list.setObjectName("library-mix-list")
        self.list.setWordWrap(True)
        self.list.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.list.setMinimumHeight(60)
        self.list.itemActivated.connect(self._activated)
        self.empty = muted(QLabel(""))
        self.empty.setWordWrap(True)
        self.body.addWidget(self.list)
        self.body.addWidget(self.empty)

    def show_matches(self, track: Track | None, matches: Sequence[Match]) -> None:
        self.list.clear()
        for match in matches:
            item = QListWidgetItem(match.text())
            item.setData(Qt.ItemDataRole.UserRole, match.track.id)
            self.list.addItem(item)
        self.list.setVisible(bool(matches))
        if matches or track is None:
            self.empty.setText("")
        elif not track.analysed:
            self.empty.setText(_("Only analysed tracks can be matched."))
        else:
            self.empty.setText(
                _(
                    "No track in the library has a compatible key within {percent} of its tempo."
                ).format(percent=format_percent(0.06))
            )
        self.empty.setVisible(bool(self.empty.text()))

    def rows(self) -> list[str]:
        return [self.list.item(i).text() for i in range(self.list.count())]

    def _activated(self, item: QListWidgetItem) -> None:
        track_id = item.data(Qt.ItemDataRole.UserRole)
        if isinstance(track_id, int):
            self.track_chosen.emit(track_id)


class ReadinessPanel(Card):
    """Streaming readiness: one line per check with a pass, warning or failure mark."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(_("Ready for streaming?"), "library-readiness", parent)
        self.list = QListWidget()
        self.list.setObjectName("library-readiness-list")
        self.list.setSelectionMode(QListWidget.SelectionMode.NoSelection)
        self.list.setWordWrap(True)
        self.list.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.list.setMinimumHeight(170)
        self.list.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.body.addWidget(self.list)
        self.checks: list[Check] = []

    def show_checks(self, checks: Sequence[Check]) -> None:
        self.checks = list(checks)
        self.list.clear()
        for check in checks:
            mark, color = MARKS.get(check.status, ("", None))
            item = QListWidgetItem(
                _("{mark} {check}: {result}").format(
                    mark=mark, check=check.title, result=check.detail
                )
            )
            if color is not None:
                item.setForeground(QColor(color))
            self.list.addItem(item)

    def rows(self) -> list[str]:
        return [self.list.item(i).text() for i in range(self.list.count())]
