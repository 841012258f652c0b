"""The Library's table: one row per track, sortable by the numbers behind the text.

:class:`TrackTableModel` holds immutable :class:`app.library.Track` values; :class:`TrackFilter`
sorts by :data:`SORT_ROLE` (numbers, not their localised text; unknown values always last) and
filters on the shown text of every column.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from PySide6.QtCore import (
    QAbstractTableModel,
    QModelIndex,
    QPersistentModelIndex,
    QSortFilterProxyModel,
    Qt,
)
from PySide6.QtGui import QColor

from app.harmony_text import mode_text
from app.i18n import N_, _, format_decimal, format_percent
from app.library import Track
from ui.live.common import DANGER, DASH

SORT_ROLE = Qt.ItemDataRole.UserRole + 1
TRACK_ID_ROLE = Qt.ItemDataRole.UserRole + 2

FILE, BPM, KEY, CAMELOT, LUFS, TRUE_PEAK, ENERGY, DANCEABILITY, DURATION = range(9)
HEADERS = (
    N_("File"),
    N_("BPM"),
    N_("Key"),
    N_("Camelot"),
    N_("LUFS"),
    N_("True peak"),
    N_("Energy"),
    N_("Danceability"),
    N_("Duration"),
)
ModelIndex = QModelIndex | QPersistentModelIndex


def duration_text(seconds: float | None) -> str:
    if seconds is None or not math.isfinite(seconds):
        return DASH
    whole = round(seconds)
    return f"{whole // 60}:{whole % 60:02d}"


def key_name(track: Track) -> str:
    if track.key is None or track.mode is None:
        return ""
    return _("{tonic} {mode}").format(tonic=track.key, mode=mode_text(track.mode))


def _number(value: float | None, digits: int) -> str:
    if value is None or not math.isfinite(value):
        return "" if value is None else DASH
    rounded = round(value, digits) or 0.0
    return format_decimal(rounded, digits)


def _percent(value: float | None) -> str:
    return "" if value is None else format_percent(round(value, 2))


def cell_text(track: Track, column: int) -> str:
    if column == FILE:
        if track.error is not None:
            return _("{file}: {error}").format(file=track.name, error=track.error)
        return track.name
    if track.error is not None:
        return ""
    if column == BPM:
        return _number(track.tempo_bpm, 1)
    if column == KEY:
        return key_name(track)
    if column == CAMELOT:
        return track.camelot or ""
    if column == LUFS:
        return _number(track.loudness_lufs, 1)
    if column == TRUE_PEAK:
        return _number(track.true_peak_dbtp, 1)
    if column == ENERGY:
        return _percent(track.energy)
    if column == DANCEABILITY:
        return _percent(track.danceability)
    if column == DURATION:
        return duration_text(track.duration_s)
    return ""


def sort_value(track: Track, column: int) -> float | str | None:
    """What a column sorts by: the number itself (None when unknown)."""
    if column == FILE:
        return track.name.lower()
    if column == KEY:
        if track.key_tonic is None:
            return None
        return float(track.key_tonic) + (0.5 if track.mode == "minor" else 0.0)
    if column == CAMELOT:
        code = track.camelot or ""
        if not code[:-1].isdigit():
            return None
        return float(code[:-1]) + (0.5 if code.endswith("B") else 0.0)
    values = {
        BPM: track.tempo_bpm,
        LUFS: track.loudness_lufs,
        TRUE_PEAK: track.true_peak_dbtp,
        ENERGY: track.energy,
        DANCEABILITY: track.danceability,
        DURATION: track.duration_s,
    }
    return values.get(column)


class TrackTableModel(QAbstractTableModel):
    def __init__(self) -> None:
        super().__init__()
        self._tracks: list[Track] = []

    @property
    def tracks(self) -> Sequence[Track]:
        return self._tracks

    def set_tracks(self, tracks: Sequence[Track]) -> None:
        self.beginResetModel()
        self._tracks = list(tracks)
        self.endResetModel()

    def track(self, row: int) -> Track | None:
        return self._tracks[row] if 0 <= row < len(self._tracks) else None

    def row_of(self, track_id: int) -> int:
        for row, track in enumerate(self._tracks):
            if track.id == track_id:
                return row
        return -1

    def rowCount(self, parent: ModelIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._tracks)

    def columnCount(self, parent: ModelIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(HEADERS)

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> object:
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return _(HEADERS[section]) if 0 <= section < len(HEADERS) else None
        return None

    def data(self, index: ModelIndex, role: int = Qt.ItemDataRole.DisplayRole) -> object:
        track = self.track(index.row()) if index.isValid() else None
        if track is None:
            return None
        column = index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            return cell_text(track, column)
        if role == SORT_ROLE:
            return sort_value(track, column)
        if role == TRACK_ID_ROLE:
            return track.id
        if role == Qt.ItemDataRole.ToolTipRole:
            return track.error if track.error is not None else track.path
        if role == Qt.ItemDataRole.ForegroundRole and track.error is not None:
            return QColor(DANGER)
        if role == Qt.ItemDataRole.TextAlignmentRole and column not in (FILE, KEY):
            return int(Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignRight)
        return None


class TrackFilter(QSortFilterProxyModel):
    """Sorts by the numbers behind the cells; filters on any column's text."""

    def __init__(self) -> None:
        super().__init__()
        self.setSortRole(SORT_ROLE)
        self.setFilterKeyColumn(-1)
        self.setFilterCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)

    def lessThan(self, left: ModelIndex, right: ModelIndex) -> bool:
        a = left.data(SORT_ROLE)
        b = right.data(SORT_ROLE)
        descending = self.sortOrder() == Qt.SortOrder.DescendingOrder
        if a is None or b is None:
            # Unknown values stay at the bottom in both directions.
            if a is None and b is None:
                return False
            return (a is None) if descending else (b is None)
        if type(a) is not type(b):
            return str(a) < str(b)
        return bool(a < b)
