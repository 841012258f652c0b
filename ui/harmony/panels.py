"""The Harmony room's panels: the chord now, the key, the lane of recent chords, suggestions.

Each panel shows values the harmony session already put in words (translated, spelled in the
key); nothing here knows music theory.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

from PySide6.QtCore import QMimeData, Qt, QUrl, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QFrame,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QProgressBar,
    QTreeWidget,
    QTreeWidgetItem,
    QWidget,
)

from app.i18n import _, format_percent
from ui.live.common import DASH, Card, muted, scaled_font

LANE_LENGTH = 12

FileMaker = Callable[[int], Path | None]


class ChordPanel(Card):
    """The chord sounding now, large, with its roman numeral, function and notes."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(_("Chord"), "harmony-chord", parent)
        self.symbol = QLabel(DASH)
        self.symbol.setObjectName("harmony-chord-symbol")
        self.symbol.setFont(scaled_font(self, 4.5, bold=True))
        self.symbol.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.numeral = QLabel("")
        self.numeral.setFont(scaled_font(self, 1.8))
        self.numeral.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.notes = muted(QLabel(""))
        self.notes.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.body.addStretch(1)
        self.body.addWidget(self.symbol)
        self.body.addWidget(self.numeral)
        self.body.addWidget(self.notes)
        self.body.addStretch(1)

    def show_chord(self, symbol: str, numeral: str, function: str, notes: Sequence[str]) -> None:
        self.symbol.setText(symbol or DASH)
        self.numeral.setText(f"{numeral}  ·  {function}" if numeral and function else numeral)
        self.notes.setText("  ".join(notes))


class KeyPanel(Card):
    """The key the music is in, with how sure the tracker is."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(_("Key"), "harmony-key", parent)
        self.key = QLabel(DASH)
        self.key.setObjectName("harmony-key-name")
        self.key.setFont(scaled_font(self, 2.0, bold=True))
        self.confidence = QProgressBar()
        self.confidence.setRange(0, 100)
        self.confidence.setTextVisible(True)
        self.confidence.setToolTip(_("How clearly the notes so far point to this key"))
        self.body.addWidget(self.key)
        self.body.addWidget(self.confidence)
        self.body.addStretch(1)

    def show_key(self, name: str, confidence: float) -> None:
        self.key.setText(name or DASH)
        sure = max(0.0, min(1.0, confidence)) if name else 0.0
        self.confidence.setValue(round(100 * sure))
        # Qt's own "%p" would not follow the locale's digits and percent sign.
        text = _("{percent} sure").format(percent=format_percent(sure)) if name else ""
        self.confidence.setFormat(text)  # Qt replaces only %p, %v and %m


class ChordLane(Card):
    """The last :data:`LANE_LENGTH` chords, oldest on the leading side."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(_("Recent chords"), "harmony-lane", parent)
        self.chips: list[QLabel] = []
        row = QHBoxLayout()
        row.setSpacing(6)
        for _index in range(LANE_LENGTH):
            chip = QLabel("")
            chip.setAlignment(Qt.AlignmentFlag.AlignCenter)
            chip.setMinimumWidth(64)
            chip.setFrameShape(QFrame.Shape.StyledPanel)
            chip.setFont(scaled_font(self, 1.15, bold=True))
            chip.setVisible(False)
            self.chips.append(chip)
            row.addWidget(chip)
        row.addStretch(1)
        self.body.addLayout(row)
        self._shown: tuple[tuple[str, str], ...] = ()

    def show_lane(self, lane: Sequence[tuple[str, str]]) -> None:
        recent = tuple(lane[-LANE_LENGTH:])
        if recent == self._shown:
            return
        self._shown = recent
        for chip, entry in zip(self.chips, recent, strict=False):
            symbol, numeral = entry
            chip.setText(f"{symbol}\n{numeral}" if numeral else symbol)
            chip.setVisible(True)
        for chip in self.chips[len(recent) :]:
            chip.setVisible(False)


def _drag_files_only(view: QAbstractItemView) -> None:
    view.setDragEnabled(True)
    view.setDragDropMode(QAbstractItemView.DragDropMode.DragOnly)
    view.setDefaultDropAction(Qt.DropAction.CopyAction)


def _file_mime(file_for: FileMaker, rows: Iterable[int]) -> QMimeData:
    """Drag data naming the files ``file_for`` writes for ``rows`` (real file URLs)."""
    data = QMimeData()
    paths = (file_for(row) for row in rows)
    data.setUrls([QUrl.fromLocalFile(str(path)) for path in paths if path is not None])
    return data


class DraggableList(QListWidget):
    """A list whose items drag out as ``.mid`` files a DAW can drop (a real file URL).

    ``file_for(row)`` writes the file for that row and returns its path (or ``None``).
    """

    def __init__(self, file_for: FileMaker, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.file_for = file_for
        _drag_files_only(self)

    def mimeData(self, items: Sequence[QListWidgetItem]) -> QMimeData:  # Qt's name
        return _file_mime(self.file_for, (self.row(item) for item in items))

    def supportedDragActions(self) -> Qt.DropAction:
        return Qt.DropAction.CopyAction


class DraggableTree(QTreeWidget):
    """Rows that drag out as ``.mid`` files, like :class:`DraggableList`."""

    def __init__(self, file_for: FileMaker, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.file_for = file_for
        _drag_files_only(self)

    def mimeData(self, items: Sequence[QTreeWidgetItem]) -> QMimeData:  # Qt's name
        return _file_mime(self.file_for, (self.indexOfTopLevelItem(item) for item in items))

    def supportedDragActions(self) -> Qt.DropAction:
        return Qt.DropAction.CopyAction


class SuggestionPanel(Card):
    """What to play next: click to hear it on the MIDI output, drag it into the DAW."""

    audition_requested = Signal(int)

    def __init__(self, file_for: FileMaker, parent: QWidget | None = None) -> None:
        super().__init__(_("What to play next"), "harmony-suggestions", parent)
        self.list = DraggableTree(file_for)
        self.list.setObjectName("harmony-suggestion-list")
        self.list.setRootIsDecorated(False)
        self.list.setAllColumnsShowFocus(True)
        self.list.setHeaderLabels([_("Chord"), _("Numeral"), _("Why")])
        header = self.list.header()
        header.setStretchLastSection(True)
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.ResizeToContents)
        self.list.setToolTip(
            _("Click a chord to hear it on the MIDI output; drag it into your DAW as a MIDI file.")
        )
        self.list.itemClicked.connect(self._chosen)
        self.list.itemActivated.connect(self._chosen)
        self.chord_font = scaled_font(self, 1.2, bold=True)
        self.empty = muted(QLabel(_("Play a chord to get ideas for the next one.")))
        self.empty.setWordWrap(True)
        self.body.addWidget(self.empty)
        self.body.addWidget(self.list, 1)
        self._shown: tuple[Any, ...] = ()

    def _chosen(self, item: QTreeWidgetItem, _column: int = 0) -> None:
        self.audition_requested.emit(self.list.indexOfTopLevelItem(item))

    def row_text(self, row: int) -> tuple[str, str, str]:
        item = self.list.topLevelItem(row)
        return (item.text(0), item.text(1), item.text(2)) if item is not None else ("", "", "")

    def show_suggestions(self, rows: Sequence[tuple[str, str, str, float]]) -> None:
        """``rows``: (symbol, numeral, reason, probability) best first."""
        rows = tuple(rows)
        if rows == self._shown:
            return
        self._shown = rows
        current = self.list.indexOfTopLevelItem(self.list.currentItem())
        self.list.clear()
        for symbol, numeral, reason, probability in rows:
            item = QTreeWidgetItem([symbol, numeral, reason])
            item.setFont(0, self.chord_font)
            item.setToolTip(
                2,
                _("{percent} likely next, by what Hookline learned").format(
                    percent=format_percent(probability)
                ),
            )
            self.list.addTopLevelItem(item)
        if 0 <= current < len(rows):
            self.list.setCurrentItem(self.list.topLevelItem(current))
        self.empty.setVisible(not rows)
        self.list.setVisible(bool(rows))
