"""Release markers on the Stats room's timeline: one vertical line per release day (several
songs out on one day share it), labelled with the title, or the first title and how many more.

Only the days inside the visible x range are drawn, every line in one curve item (so a catalogue
of hundreds of songs costs one path, not hundreds of items); a label is drawn only where it keeps
:data:`LABEL_GAP_PX` pixels from the previous one, so zoomed out the lines stay and the text does
not pile up. A label's tooltip names every song of its day.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QFontMetrics

from app.i18n import _, format_date, ngettext
from app.stats_store import ReleaseMarker

MAX_LINES = 5000
"""At most this many release lines are drawn at once (the earliest visible ones)."""
MAX_LABELS = 40
"""At most this many labels are drawn at once."""
LABEL_GAP_PX = 110
"""A label is left out when it would start closer than this to the previous one (pixels)."""


def marker_text(marker: ReleaseMarker) -> str:
    everything = marker.everything
    first = everything[0]
    if len(first) > 28:
        first = first[:27] + "…"
    if not marker.titles:  # the day is known only from Spotify's catalogue: the label says so
        first = _("{title} (on Spotify)").format(title=first)
    more = len(everything) - 1
    if more == 0:
        return first
    return ngettext("{title} + {count} more", "{title} + {count} more", more).format(
        title=first, count=more
    )


def marker_tip(marker: ReleaseMarker) -> str:
    lines = list(marker.titles[:20])
    lines += [_("{title} (on Spotify)").format(title=t) for t in marker.on_spotify[:20]]
    titles = "\n".join(lines[:20])
    if len(lines) > 20 or len(marker.everything) > 20:
        titles += "\n…"
    return _("Released on {day}:\n{titles}").format(
        day=format_date(marker.day, "medium"), titles=titles
    )


class ReleaseMarkers:
    """Draws the release days of ``markers`` that fall in ``plot_item``'s visible x range: all
    lines as one curve of vertical segments (one item, however many releases), and at most
    :data:`MAX_LABELS` labels, reused as the view moves."""

    def __init__(self, plot_item: pg.PlotItem, color: str, epoch: Callable[[date], float]) -> None:
        self.item = plot_item
        self._epoch = epoch  # date -> x (seconds), the timeline's own mapping
        line_color = QColor(color)
        line_color.setAlpha(150)
        self._text_color = QColor(color)
        self.markers: list[ReleaseMarker] = []
        self._x = np.empty(0)
        self.lines = pg.PlotCurveItem(
            pen=pg.mkPen(line_color, width=1, style=Qt.PenStyle.DotLine),
            connect="pairs",
            skipFiniteCheck=True,
        )
        self.lines.setZValue(-5)
        plot_item.addItem(self.lines, ignoreBounds=True)
        self.labels: list[pg.TextItem] = []
        self.enabled = True
        self.visible: list[ReleaseMarker] = []
        self.labelled: list[ReleaseMarker] = []
        plot_item.getViewBox().sigRangeChanged.connect(lambda *_a: self.update())
        plot_item.getViewBox().sigResized.connect(lambda *_a: self.update())

    def set_markers(self, markers: list[ReleaseMarker]) -> None:
        self.markers = sorted(markers, key=lambda m: m.day)
        self._x = np.array([self._epoch(m.day) for m in self.markers], dtype=np.float64)
        self.update()

    def set_enabled(self, enabled: bool) -> None:
        self.enabled = enabled
        self.update()

    def _label(self, n: int) -> pg.TextItem:
        while len(self.labels) <= n:
            label = pg.TextItem("", color=self._text_color, anchor=(0.0, 0.0))
            label.setZValue(5)
            self.item.addItem(label, ignoreBounds=True)
            self.labels.append(label)
        return self.labels[n]

    def update(self) -> None:
        """Show the markers inside the current x range (call after the range or data changed)."""
        box = self.item.getViewBox()
        (x0, x1), (y0, y1) = box.viewRange()
        lo = hi = 0
        if self.enabled and len(self._x):
            lo, hi = (int(i) for i in np.searchsorted(self._x, [x0, x1], side="right"))
            hi = min(hi, lo + MAX_LINES)
        xs = self._x[lo:hi]
        self.lines.setData(np.repeat(xs, 2), np.tile([y0, y1], len(xs)))
        self.visible = self.markers[lo:hi]
        px_per_x = max(1.0, float(box.width())) / max(x1 - x0, 1e-9)
        labelled: list[tuple[ReleaseMarker, float]] = []
        last = -np.inf
        for marker, x in zip(self.visible, xs, strict=True):
            if (x - last) * px_per_x >= LABEL_GAP_PX and len(labelled) < MAX_LABELS:
                labelled.append((marker, float(x)))
                last = x
        for n, (marker, x) in enumerate(labelled):
            label = self._label(n)
            # a label that would run past the right edge is shortened to fit (its tooltip and
            # the other labels keep the whole text)
            room = int((x1 - x) * px_per_x) - 12
            text = QFontMetrics(label.textItem.font()).elidedText(
                marker_text(marker), Qt.TextElideMode.ElideRight, max(room, 24)
            )
            label.setText(text)
            label.setToolTip(marker_tip(marker))
            label.setPos(x, y1)
            label.setVisible(True)
        for label in self.labels[len(labelled) :]:
            label.setVisible(False)
        self.labelled = [m for m, _x in labelled]
