"""The Stats room's per-song and per-playlist tables: sortable by any column, filtered by a
text box (any column, case-insensitive), a row chosen with the mouse or the keyboard sends its
name so the room shows that timeline.

Rows are :class:`app.stats_store.EntityFigures` computed in the room's worker thread; this
module only formats them (numbers, dates and percentages in the user's locale; a dash for a
figure that is not stored).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

from PySide6.QtCore import (
    QAbstractTableModel,
    QModelIndex,
    QPersistentModelIndex,
    QSortFilterProxyModel,
    Qt,
    Signal,
)
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from app.i18n import _, format_date, format_decimal, format_percent
from app.stats_store import MIN_WINDOW_DAYS, WINDOW_DAYS, EntityFigures
from ui.live.common import DASH, muted

Index = QModelIndex | QPersistentModelIndex
SORT_ROLE = Qt.ItemDataRole.UserRole + 1
ENTITY_ROLE = Qt.ItemDataRole.UserRole + 2
MISSING = -math.inf  # sorts below every figure


@dataclass(frozen=True)
class Column:
    title: Callable[[], str]
    text: Callable[[EntityFigures], str]
    key: Callable[[EntityFigures], object]
    numeric: bool = False
    tip: Callable[[EntityFigures], str] | None = None


def _number(value: float | None) -> str:
    return DASH if value is None or not math.isfinite(value) else format_decimal(value, 0)


def _num_key(value: float | None) -> float:
    return MISSING if value is None or not math.isfinite(value) else value


def _day(value: date | None) -> str:
    return DASH if value is None else format_date(value, "medium")


def _day_key(value: date | None) -> str:
    return "" if value is None else value.isoformat()


def _change(row: EntityFigures) -> str:
    if row.change is None:
        return DASH
    text = format_percent(row.change, 1)
    return "+" + text if row.change > 0 else text


def _change_tip(row: EntityFigures) -> str:
    if row.window_end is None:
        return _("No daily streams are stored for this one.")
    if row.change is None:
        return _(
            "No change shown: a window holds fewer than {days} days of values, or nothing "
            "came before."
        ).format(days=MIN_WINDOW_DAYS)
    return _("Change of the daily average, {recent} days against {previous} days.").format(
        recent=row.recent_days, previous=row.previous_days
    )


def _total_tip(row: EntityFigures) -> str:
    if row.total_from == "daily":
        return _("The sum of the stored daily streams.")
    if row.total_from == "period":
        return _("The streams of the latest imported period export (no daily values stored).")
    return ""


def _window_tip(row: EntityFigures) -> str:
    if row.window_end is None:
        return ""
    return _("The {days} days up to {day}, the latest day of daily streams imported.").format(
        days=WINDOW_DAYS, day=format_date(row.window_end, "medium")
    )


def _figure_columns(saves: bool) -> list[Column]:
    columns = [
        Column(lambda: _("Total streams"), lambda r: _number(r.streams_total),
               lambda r: _num_key(r.streams_total), True, _total_tip),
        Column(lambda: _("Last {days} days").format(days=WINDOW_DAYS),
               lambda r: _number(r.streams_recent), lambda r: _num_key(r.streams_recent), True,
               _window_tip),
        Column(lambda: _("{days} days before").format(days=WINDOW_DAYS),
               lambda r: _number(r.streams_previous), lambda r: _num_key(r.streams_previous),
               True),
        Column(lambda: _("Change"), _change, lambda r: _num_key(r.change), True, _change_tip),
        Column(lambda: _("Listeners"), lambda r: _number(r.listeners),
               lambda r: _num_key(r.listeners), True),
    ]  # fmt: skip
    if saves:
        columns.append(Column(lambda: _("Saves"), lambda r: _number(r.saves),
                              lambda r: _num_key(r.saves), True))  # fmt: skip
    return columns


def song_columns() -> list[Column]:
    return [
        Column(lambda: _("Title"), lambda r: r.entity, lambda r: r.entity.casefold()),
        Column(lambda: _("ISRC"), lambda r: r.isrc or DASH, lambda r: r.isrc or ""),
        Column(lambda: _("Released"), lambda r: _day(r.release_date),
               lambda r: _day_key(r.release_date)),
        *_figure_columns(saves=True),
    ]  # fmt: skip


def playlist_columns() -> list[Column]:
    return [
        Column(lambda: _("Playlist"), lambda r: r.entity, lambda r: r.entity.casefold()),
        Column(lambda: _("Author"), lambda r: r.author or DASH,
               lambda r: (r.author or "").casefold()),
        Column(lambda: _("Added"), lambda r: _day(r.date_added),
               lambda r: _day_key(r.date_added)),
        *_figure_columns(saves=False),
    ]  # fmt: skip


class EntityModel(QAbstractTableModel):
    """Rows of :class:`EntityFigures` shown through ``columns``; sorts on :data:`SORT_ROLE`."""

    def __init__(self, columns: list[Column], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.columns = columns
        self.rows: list[EntityFigures] = []

    def set_rows(self, rows: list[EntityFigures]) -> None:
        self.beginResetModel()
        self.rows = list(rows)
        self.endResetModel()

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.rows)

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.columns)

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> object:
        if not index.isValid():
            return None
        row, column = self.rows[index.row()], self.columns[index.column()]
        if role == Qt.ItemDataRole.DisplayRole:
            return column.text(row)
        if role == SORT_ROLE:
            return column.key(row)
        if role == ENTITY_ROLE:
            return row.entity
        if role == Qt.ItemDataRole.TextAlignmentRole and column.numeric:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        if role == Qt.ItemDataRole.ToolTipRole:
            if column.tip is not None:
                return column.tip(row) or None
            return column.text(row) if index.column() == 0 else None
        return None

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> object:
        if (
            role == Qt.ItemDataRole.DisplayRole
            and orientation == Qt.Orientation.Horizontal
            and 0 <= section < len(self.columns)
        ):
            return self.columns[section].title()
        return None


class _TextFilter(QSortFilterProxyModel):
    """Keeps the rows whose name or second column (ISRC, author) holds the filter text."""

    TEXT_COLUMNS = (0, 1)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.needle = ""

    def set_needle(self, text: str) -> None:
        if hasattr(self, "beginFilterChange"):  # Qt 6.9 and later
            self.beginFilterChange()
            self.needle = text.casefold()
            self.endFilterChange(QSortFilterProxyModel.Direction.Rows)
        else:
            self.needle = text.casefold()
            self.invalidateRowsFilter()

    def filterAcceptsRow(self, source_row: int, source_parent: Index) -> bool:
        if not self.needle:
            return True
        model = self.sourceModel()
        for column in self.TEXT_COLUMNS:
            text = model.data(model.index(source_row, column, source_parent))
            if isinstance(text, str) and self.needle in text.casefold():
                return True
        return False


class EntityPanel(QWidget):
    """A filter box over a sortable table of songs or playlists; :attr:`chosen` sends the name
    of the row the user selects."""

    chosen = Signal(str)

    def __init__(
        self, name: str, columns: list[Column], empty_text: str, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.setObjectName(f"stats-{name}-panel")
        self.filter = QLineEdit()
        self.filter.setObjectName(f"stats-{name}-filter")
        self.filter.setClearButtonEnabled(True)
        self.filter.setPlaceholderText(_("Filter (Ctrl+F)"))
        self.count = muted(QLabel(""))
        self.empty = muted(QLabel(empty_text))
        self.empty.setWordWrap(True)
        self._sized = False
        self.model = EntityModel(columns, self)
        self.proxy = _TextFilter(self)
        self.proxy.setSourceModel(self.model)
        self.proxy.setSortRole(SORT_ROLE)
        self.view = QTableView()
        self.view.setObjectName(f"stats-{name}-table")
        self.view.setModel(self.proxy)
        self.view.setSortingEnabled(True)
        self.view.sortByColumn(3, Qt.SortOrder.DescendingOrder)  # total streams, largest first
        self.view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.view.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.view.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.view.setWordWrap(False)
        self.view.setTextElideMode(Qt.TextElideMode.ElideRight)
        self.view.verticalHeader().setVisible(False)
        header = self.view.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        header.setStretchLastSection(True)
        top = QHBoxLayout()
        top.addWidget(self.filter, 1)
        top.addWidget(self.count)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(top)
        layout.addWidget(self.empty, 1)
        layout.addWidget(self.view, 1)
        self.empty.setAlignment(Qt.AlignmentFlag.AlignLeading | Qt.AlignmentFlag.AlignTop)
        self.filter.textChanged.connect(self._filter)
        self.view.selectionModel().currentRowChanged.connect(self._current)
        self._show_count()

    def set_rows(self, rows: list[EntityFigures]) -> None:
        chosen = self.current_entity()
        self.model.set_rows(rows)
        has = bool(rows)
        self.empty.setVisible(not has)
        for widget in (self.view, self.filter, self.count):
            widget.setVisible(has)
        if has and not self._sized:
            self._size_columns()
        for c, column in enumerate(self.model.columns):  # no column of dashes only
            empty = column.numeric and all(column.key(r) == MISSING for r in rows)
            self.view.setColumnHidden(c, empty and has)
        if chosen is not None:
            self.select(chosen, emit=False)
        self._show_count()

    def _size_columns(self) -> None:
        """Widths from the font (a title, an ISRC, a date, an 11-digit count), not from the
        rows: measuring every row (``resizeColumnsToContents``) took 90 ms for 200 songs."""
        metrics = self.view.fontMetrics()
        header = self.view.horizontalHeader()
        pad = 3 * metrics.averageCharWidth()
        samples = {0: "W" * 18, 1: "QZABC2612345", 2: format_date(date(2026, 12, 28), "medium")}
        for c, column in enumerate(self.model.columns):
            sample = samples.get(c, format_decimal(12_345_678_901, 0) if column.numeric else "")
            width = max(
                metrics.horizontalAdvance(sample), metrics.horizontalAdvance(column.title())
            )
            header.resizeSection(c, width + pad)
        self._sized = True

    def current_entity(self) -> str | None:
        index = self.view.currentIndex()
        return str(index.data(ENTITY_ROLE)) if index.isValid() else None

    def select(self, entity: str, emit: bool = True) -> bool:
        """Select ``entity``'s row if the filter shows it; True when it did."""
        for r in range(self.proxy.rowCount()):
            index = self.proxy.index(r, 0)
            if index.data(ENTITY_ROLE) == entity:
                blocked = self.view.selectionModel().blockSignals(not emit)
                self.view.setCurrentIndex(index)
                self.view.selectionModel().blockSignals(blocked)
                return True
        return False

    def clear_choice(self) -> None:
        """No row chosen (the room shows a series of another kind); sends nothing."""
        selection = self.view.selectionModel()
        blocked = selection.blockSignals(True)
        selection.clearCurrentIndex()
        selection.clearSelection()
        selection.blockSignals(blocked)

    def focus_filter(self) -> None:
        self.filter.setFocus(Qt.FocusReason.ShortcutFocusReason)
        self.filter.selectAll()

    def _filter(self, text: str) -> None:
        self.proxy.set_needle(text.strip())
        self._show_count()

    def _show_count(self) -> None:
        shown, total = self.proxy.rowCount(), self.model.rowCount()
        if shown == total:
            self.count.setText(format_decimal(total, 0))
        else:
            self.count.setText(
                _("{shown} of {total}").format(
                    shown=format_decimal(shown, 0), total=format_decimal(total, 0)
                )
            )

    def _current(self, current: QModelIndex, _previous: QModelIndex) -> None:
        if current.isValid():
            self.chosen.emit(str(current.data(ENTITY_ROLE)))
