"""Level meters (peak, RMS and held peak per channel) and the loudness readouts (EBU R 128).

The bars are painted by hand: a −60…0 dBFS scale, RMS as the solid bar, the peak as a lighter
bar above it that falls at :data:`PEAK_FALL_DB_PER_SECOND` (display ballistics only; the numbers
are the engine's), and the held peak as a line. The scale sits on the leading side, so it moves
to the right in right-to-left languages; the channels stay in stereo order, L at the left.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from PySide6.QtCore import QPointF, QRectF, QSize, Qt, Signal
from PySide6.QtGui import QColor, QLinearGradient, QPainter, QPaintEvent
from PySide6.QtWidgets import QGridLayout, QLabel, QPushButton, QSizePolicy, QWidget

from app.i18n import _, format_decimal
from ui.live.common import (
    CAUTION,
    DANGER,
    IN_TUNE,
    Card,
    muted,
    number,
    scaled_font,
    set_text_color,
    tabular,
)
from ui.theme import theme_colors

FLOOR_DB = -60.0
SCALE_MARKS = (0, -6, -12, -18, -24, -30, -40, -50, -60)
CAUTION_DB = -18.0  # yellow above this
DANGER_DB = -6.0  # red above this
CLIP_DB = -0.1
PEAK_FALL_DB_PER_SECOND = 24.0
TRUE_PEAK_LIMIT_DBTP = -1.0


class LevelBars(QWidget):
    """Vertical peak/RMS bars, one per channel."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.peak: list[float] = []
        self.rms: list[float] = []
        self.hold: list[float] = []
        self.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Expanding)
        self.setMinimumSize(96, 160)
        self.setToolTip(
            _("Solid bar: RMS level. Light bar: peak level. Line: highest recent peak. dBFS.")
        )

    def sizeHint(self) -> QSize:
        return QSize(112, 320)

    def set_levels(
        self, peak: Sequence[float], rms: Sequence[float], hold: Sequence[float], dt: float
    ) -> None:
        if len(self.peak) != len(peak):
            self.peak = [FLOOR_DB] * len(peak)
        fall = PEAK_FALL_DB_PER_SECOND * dt
        self.peak = [max(float(p), shown - fall) for p, shown in zip(peak, self.peak, strict=True)]
        self.rms = [float(v) for v in rms]
        self.hold = [float(v) for v in hold]
        self.update()

    def clear(self) -> None:
        self.peak, self.rms, self.hold = [], [], []
        self.update()

    def channel_names(self) -> list[str]:
        count = len(self.peak) or 2  # two empty bars before the first reading
        if count == 1:
            return [_("Mono")]
        if count == 2:
            return [_("L"), _("R")]
        return [format_decimal(i + 1) for i in range(count)]

    def _y(self, db: float, top: float, height: float) -> float:
        share = (min(0.0, max(FLOOR_DB, db)) - FLOOR_DB) / -FLOOR_DB
        return top + height * (1.0 - share)

    def paintEvent(self, event: QPaintEvent) -> None:
        colors = theme_colors()
        p = QPainter(self)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        rtl = self.layoutDirection() == Qt.LayoutDirection.RightToLeft
        small = scaled_font(self, 0.85)
        p.setFont(small)
        line = p.fontMetrics().height()
        scale_w = p.fontMetrics().horizontalAdvance("-60") + 8
        top, bottom = 12.0 + line / 2, self.height() - line - 6.0
        height = bottom - top
        names = self.channel_names()
        count = len(names)
        gap = 6.0
        area_w = self.width() - scale_w - 4
        bar_w = min(26.0, (area_w - gap * (count - 1)) / count)
        group_w = count * bar_w + (count - 1) * gap
        # The scale sits on the leading side; channels keep their stereo order (L at the left)
        # in both directions, as the loudspeakers do.
        start = (0.0 if rtl else scale_w + 4) + (area_w - group_w) / 2

        def mirror(x: float, w: float) -> float:
            return self.width() - x - w if rtl else x

        # scale: numbers hug the bars; "-6" keeps its sign in front in right-to-left text too
        p.setPen(QColor(colors.muted_text))
        p.setLayoutDirection(Qt.LayoutDirection.LeftToRight)
        side = Qt.AlignmentFlag.AlignLeft if rtl else Qt.AlignmentFlag.AlignRight
        for db in SCALE_MARKS:
            y = self._y(db, top, height)
            box = QRectF(mirror(0, scale_w - 4), y - line / 2, scale_w - 4, line)
            p.drawText(box, Qt.AlignmentFlag.AlignVCenter | side, format_decimal(db))
        gradient = QLinearGradient(0, bottom, 0, top)
        caution = (CAUTION_DB - FLOOR_DB) / -FLOOR_DB
        danger = (DANGER_DB - FLOOR_DB) / -FLOOR_DB
        gradient.setColorAt(0.0, QColor(IN_TUNE))
        gradient.setColorAt(caution - 0.001, QColor(IN_TUNE))
        gradient.setColorAt(caution, QColor(CAUTION))
        gradient.setColorAt(danger - 0.001, QColor(CAUTION))
        gradient.setColorAt(danger, QColor(DANGER))
        gradient.setColorAt(1.0, QColor(DANGER))
        for i, name in enumerate(names):
            x = start + i * (bar_w + gap)
            p.fillRect(QRectF(x, top, bar_w, height), QColor(colors.base))
            p.setPen(QColor(colors.mid))
            for db in SCALE_MARKS[1:-1]:
                y = self._y(db, top, height)
                p.drawLine(QPointF(x, y), QPointF(x + bar_w, y))
            if i < len(self.peak):
                peak_y = self._y(self.peak[i], top, height)
                rms_y = self._y(self.rms[i], top, height)
                p.setOpacity(0.45)
                p.fillRect(QRectF(x, peak_y, bar_w, bottom - peak_y), gradient)
                p.setOpacity(1.0)
                p.fillRect(QRectF(x, rms_y, bar_w, bottom - rms_y), gradient)
                hold = self.hold[i]
                if hold > FLOOR_DB:
                    hold_y = self._y(hold, top, height)
                    color = DANGER if hold >= DANGER_DB else colors.text
                    p.fillRect(QRectF(x, hold_y - 1, bar_w, 2), QColor(color))
                clip = QColor(DANGER if hold >= CLIP_DB else colors.mid)
                p.fillRect(QRectF(x, top - 9, bar_w, 5), clip)
            else:
                p.fillRect(QRectF(x, top - 9, bar_w, 5), QColor(colors.mid))
            p.setPen(QColor(colors.muted_text))
            label_w = max(bar_w + gap, 48.0) if count == 1 else bar_w + gap
            label = QRectF(x + bar_w / 2 - label_w / 2, bottom + 4, label_w, line)
            p.drawText(label, Qt.AlignmentFlag.AlignCenter, name)
        p.end()


class LevelPanel(Card):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(_("Levels"), "live-levels", parent)
        self.bars = LevelBars()
        self.body.addWidget(self.bars, 1)
        self.unit_label = muted(QLabel(_("dBFS")))
        self.unit_label.setAlignment(Qt.AlignmentFlag.AlignHCenter)
        self.body.addWidget(self.unit_label)


class LoudnessPanel(Card):
    """Momentary, short-term and integrated loudness, loudness range, true peak, max momentary."""

    reset_requested = Signal()

    ROWS = (
        ("momentary_lufs", "LUFS", 1.0),
        ("short_term_lufs", "LUFS", 1.0),
        ("integrated_lufs", "LUFS", 1.45),
        ("loudness_range_lu", "LU", 1.0),
        ("true_peak_dbtp", "dBTP", 1.0),
        ("max_momentary_lufs", "LUFS", 1.0),
    )

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(_("Loudness"), "live-loudness", parent)
        names = {
            "momentary_lufs": (_("Momentary"), _("Loudness of the last 400 ms")),
            "short_term_lufs": (_("Short-term"), _("Loudness of the last 3 seconds")),
            "integrated_lufs": (_("Integrated"), _("Loudness since the start or the last reset")),
            "loudness_range_lu": (_("Range"), _("Loudness range (LRA): how much it varies")),
            "true_peak_dbtp": (_("True peak"), _("Highest inter-sample peak; red above −1 dBTP")),
            "max_momentary_lufs": (_("Max momentary"), _("Loudest 400 ms since the reset")),
        }
        self.units = {"LUFS": _("LUFS"), "LU": _("LU"), "dBTP": _("dBTP")}
        grid = QGridLayout()
        grid.setHorizontalSpacing(12)
        grid.setVerticalSpacing(6)
        self.values: dict[str, QLabel] = {}
        for row, (field, unit, size) in enumerate(self.ROWS):
            title, tip = names[field]
            name = QLabel(title)
            name.setToolTip(tip)
            value = QLabel("—")
            value.setToolTip(tip)
            value.setFont(tabular(scaled_font(self, size, bold=size > 1.0)))
            value.setAlignment(Qt.AlignmentFlag.AlignTrailing | Qt.AlignmentFlag.AlignVCenter)
            unit_label = muted(QLabel(self.units[unit]))
            grid.addWidget(name, row, 0)
            grid.addWidget(value, row, 1)
            grid.addWidget(unit_label, row, 2)
            self.values[field] = value
        grid.setColumnStretch(1, 1)
        self.body.addLayout(grid)
        self.reset_button = QPushButton(_("Reset"))
        self.reset_button.setToolTip(
            _("Start measuring again: integrated loudness, range, true peak and maximum")
        )
        self.reset_button.clicked.connect(self.reset_requested.emit)
        self.body.addWidget(self.reset_button, 0, Qt.AlignmentFlag.AlignTrailing)
        self._over_limit = False

    def show_loudness(self, loudness: Any) -> None:
        for field, _unit, _size in self.ROWS:
            self.values[field].setText(number(getattr(loudness, field), 1))
        over = loudness.true_peak_dbtp > TRUE_PEAK_LIMIT_DBTP
        if over != self._over_limit:
            self._over_limit = over
            set_text_color(self.values["true_peak_dbtp"], DANGER if over else None)

    def value_text(self, field: str) -> str:
        return self.values[field].text()
