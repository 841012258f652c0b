"""The Stats room's day-of-week chart: seven bars, Monday to Sunday, each weekday's figure
against the average of the other six days of the same week (computed in
:func:`app.stats_store.weekday_pattern`), with the number of weeks it rests on. When there is no
pattern to show, the chart gives way to a sentence saying why.
"""

from __future__ import annotations

import math

import numpy as np
import pyqtgraph as pg
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget

from app.i18n import _, current_locale, format_percent, ngettext
from app.stats_store import WeekdayPattern
from ui.live.common import DASH, muted
from ui.theme import theme_colors


def weekday_names() -> list[str]:
    """Monday to Sunday, abbreviated, in the user's language."""
    names = current_locale().days["format"]["abbreviated"]
    return [str(names[d]) for d in range(7)]


def signed_percent(fraction: float) -> str:
    if not math.isfinite(fraction):
        return DASH
    rounded = round(fraction, 2)
    if rounded == 0:
        return format_percent(0.0)
    text = format_percent(rounded)
    return "+" + text if rounded > 0 else text


class WeekdayChart(QWidget):
    """Bars of :attr:`WeekdayPattern.vs_other_days` in percent, one per weekday."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("stats-weekday")
        colors = theme_colors()
        self.title = QLabel(_("Day of the week"))
        self.caption = muted(QLabel(""))
        self.caption.setObjectName("stats-weekday-caption")
        self.caption.setWordWrap(True)
        self.plot = pg.PlotWidget()
        self.plot.setObjectName("stats-weekday-plot")
        self.plot.setBackground(colors.base)
        self.plot.setMinimumHeight(140)
        item = self.plot.getPlotItem()
        item.setMenuEnabled(False)
        item.setMouseEnabled(x=False, y=False)
        item.hideButtons()
        item.showGrid(y=True, alpha=0.15)
        item.getAxis("left").setWidth(44)
        self._up = pg.mkBrush(colors.accent)
        down = QColor(colors.text)
        down.setAlpha(140)
        self._down = pg.mkBrush(down)
        self.bars = pg.BarGraphItem(x=np.arange(7), height=np.zeros(7), width=0.7)
        item.addItem(self.bars)
        item.addLine(y=0, pen=pg.mkPen(colors.text, width=1))
        self.values: list[pg.TextItem] = []
        for d in range(7):
            text = pg.TextItem("", color=colors.text, anchor=(0.5, 1.0))
            text.setPos(d, 0)
            item.addItem(text)
            self.values.append(text)
        self.pattern: WeekdayPattern | None = None
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.title)
        layout.addWidget(self.plot, 1)
        layout.addWidget(self.caption)
        self.show_pattern(None, _("Choose a daily series to see its weekly pattern."))

    def show_pattern(self, pattern: WeekdayPattern | None, reason: str = "") -> None:
        """Draw ``pattern``; with ``None`` hide the bars and say ``reason``."""
        self.pattern = pattern
        item = self.plot.getPlotItem()
        item.getAxis("bottom").setTicks([list(enumerate(weekday_names()))])
        if pattern is None:
            self.bars.setOpts(height=np.zeros(7))
            for text in self.values:
                text.setText("")
            self.plot.setEnabled(False)
            self.caption.setText(reason)
            return
        self.plot.setEnabled(True)
        percent = np.nan_to_num(np.array(pattern.vs_other_days) * 100.0, nan=0.0)
        brushes = [self._up if v >= 0 else self._down for v in percent]
        self.bars.setOpts(height=percent, brushes=brushes)
        top = max(5.0, float(percent.max()) * 1.3)  # room for the value labels
        bottom = min(-5.0, float(percent.min()) * 1.3)
        item.setXRange(-0.6, 6.6, padding=0)
        item.setYRange(bottom - 0.12 * (top - bottom), top, padding=0)
        for d, (text, fraction) in enumerate(zip(self.values, pattern.vs_other_days, strict=True)):
            text.setText(signed_percent(fraction))
            value = percent[d]
            text.setAnchor((0.5, 1.0) if value >= 0 else (0.5, 0.0))
            text.setPos(d, value)
        weeks = pattern.weeks
        self.caption.setText(
            ngettext(
                "Each day against the other six days of its week, over {weeks} week.",
                "Each day against the other six days of its week, over {weeks} weeks.",
                weeks,
            ).format(weeks=weeks)
        )
