"""The tuner: the note you play, how many cents it is off, and a light that says "in tune".

Fed from the Live view's display timer with the engine's :class:`TunerReading` (or ``None`` when
the input is unvoiced). A reading below :data:`MIN_CONFIDENCE` counts as unvoiced; the last note
stays on screen, dimmed, for :data:`HOLD_SECONDS` so a short gap between notes does not flicker.
"""

from __future__ import annotations

import time
from typing import Any

from PySide6.QtCore import QPointF, QRectF, QSize, Qt, Signal
from PySide6.QtGui import QColor, QPainter, QPaintEvent, QPen
from PySide6.QtWidgets import QDoubleSpinBox, QHBoxLayout, QLabel, QSizePolicy, QWidget

from app.i18n import _
from ui.live.common import DASH, IN_TUNE, Card, number, scaled_font, signed, tabular
from ui.theme import theme_colors

MIN_CONFIDENCE = 0.55
IN_TUNE_CENTS = 5.0
HOLD_SECONDS = 0.4
SMOOTHING = 0.45  # share of a new reading in the needle's position (same note)
REFERENCE_RANGE = (415.0, 466.0)


def is_in_tune(cents: float) -> bool:
    """Within ±5 cents as the readout shows it (rounded), so "-5 cents" and the light agree."""
    return abs(round(cents)) <= IN_TUNE_CENTS


class CentsBar(QWidget):
    """A −50…+50 cent scale with a needle; flat sits at the start of the reading direction."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.cents: float | None = None
        self.setMinimumHeight(48)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)

    def sizeHint(self) -> QSize:
        return QSize(260, 52)

    def set_cents(self, cents: float | None) -> None:
        if cents != self.cents:
            self.cents = cents
            self.update()

    def x_for(self, cents: float, track: QRectF) -> float:
        share = (max(-50.0, min(50.0, cents)) + 50.0) / 100.0
        if self.layoutDirection() == Qt.LayoutDirection.RightToLeft:
            share = 1.0 - share
        return track.left() + share * track.width()

    def paintEvent(self, event: QPaintEvent) -> None:
        colors = theme_colors()
        p = QPainter(self)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        sign_width = 22.0
        track = QRectF(sign_width, 8.0, self.width() - 2 * sign_width, self.height() - 16.0)
        mid_y = track.center().y()
        # the in-tune zone
        zone_left = self.x_for(-IN_TUNE_CENTS, track)
        zone_right = self.x_for(IN_TUNE_CENTS, track)
        zone = QRectF(
            min(zone_left, zone_right), track.top(), abs(zone_right - zone_left), track.height()
        )
        green = QColor(IN_TUNE)
        green.setAlpha(60)
        p.fillRect(zone, green)
        # scale
        p.setPen(QPen(QColor(colors.mid), 2))
        p.drawLine(QPointF(track.left(), mid_y), QPointF(track.right(), mid_y))
        p.setPen(QPen(QColor(colors.muted_text), 1.5))
        for cents in range(-50, 51, 10):
            x = self.x_for(cents, track)
            half = track.height() / 2 if cents == 0 else (9.0 if cents % 50 == 0 else 5.0)
            p.drawLine(QPointF(x, mid_y - half), QPointF(x, mid_y + half))
        # flat and sharp signs at the ends
        p.setPen(QColor(colors.muted_text))
        font = scaled_font(self, 1.25, bold=True)
        p.setFont(font)
        flat_x = self.x_for(-50, track)
        sharp_x = self.x_for(50, track)
        for x, sign in ((flat_x, "♭"), (sharp_x, "♯")):
            outside = -1 if x < track.center().x() else 1
            box = QRectF(
                x + outside * sign_width / 2 - sign_width / 2,
                track.top(),
                sign_width,
                track.height(),
            )
            p.drawText(box, Qt.AlignmentFlag.AlignCenter, sign)
        # needle
        if self.cents is not None:
            in_tune = is_in_tune(self.cents)
            color = QColor(IN_TUNE if in_tune else colors.accent)
            x = self.x_for(self.cents, track)
            p.setPen(Qt.PenStyle.NoPen)
            p.setBrush(color)
            p.drawRoundedRect(QRectF(x - 3, track.top() - 4, 6, track.height() + 8), 3, 3)
        p.end()


class InTuneLight(QWidget):
    """A round light: green when the note is within ±5 cents, dark otherwise."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.lit = False
        self.setFixedSize(16, 16)
        self.setToolTip(_("Lights green when the note is within 5 cents of the target"))

    def set_lit(self, lit: bool) -> None:
        if lit != self.lit:
            self.lit = lit
            self.update()

    def paintEvent(self, event: QPaintEvent) -> None:
        p = QPainter(self)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        p.setPen(QPen(QColor(theme_colors().shadow), 1))
        p.setBrush(QColor(IN_TUNE if self.lit else theme_colors().mid))
        p.drawEllipse(QRectF(1.5, 1.5, self.width() - 3, self.height() - 3))
        p.end()


class TunerPanel(Card):
    reference_changed = Signal(float)

    def __init__(self, reference_a: float, parent: QWidget | None = None) -> None:
        super().__init__(_("Tuner"), "live-tuner", parent)
        self._shown: Any = None  # the TunerReading on screen
        self._last_voiced = -1e9
        self._needle: float | None = None

        self.note_label = QLabel(DASH)
        self.note_label.setFont(scaled_font(self, 5.2, bold=True))
        self.note_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.note_label.setTextFormat(Qt.TextFormat.RichText)
        self.note_label.setMinimumHeight(self.note_label.fontMetrics().height() + 4)
        self.note_label.setToolTip(_("The nearest note and its octave (A4 is the reference A)"))
        self.body.addStretch(1)
        self.body.addWidget(self.note_label)

        self.cents_bar = CentsBar()
        self.body.addWidget(self.cents_bar)

        row = QHBoxLayout()
        row.setSpacing(8)
        self.light = InTuneLight()
        self.cents_label = QLabel(DASH)
        self.cents_label.setFont(tabular(scaled_font(self, 1.15, bold=True)))
        self.frequency_label = QLabel(DASH)
        self.frequency_label.setFont(tabular(scaled_font(self, 1.15)))
        self.frequency_label.setAlignment(
            Qt.AlignmentFlag.AlignTrailing | Qt.AlignmentFlag.AlignVCenter
        )
        row.addWidget(self.light)
        row.addWidget(self.cents_label)
        row.addStretch(1)
        row.addWidget(self.frequency_label)
        self.body.addLayout(row)

        reference_row = QHBoxLayout()
        self.reference_spin = QDoubleSpinBox()
        self.reference_spin.setRange(*REFERENCE_RANGE)
        self.reference_spin.setDecimals(1)
        self.reference_spin.setSingleStep(1.0)
        self.reference_spin.setSuffix(" " + _("Hz"))
        self.reference_spin.setKeyboardTracking(False)  # one change per entry, not per digit
        self.reference_spin.setValue(reference_a)
        self.reference_spin.setToolTip(_("The pitch of A4 the tuner measures against"))
        self.reference_spin.valueChanged.connect(self.reference_changed.emit)
        reference_label = QLabel(_("Reference A4:"))
        reference_label.setBuddy(self.reference_spin)
        reference_row.addWidget(reference_label)
        reference_row.addStretch(1)
        reference_row.addWidget(self.reference_spin)
        self.body.addStretch(1)
        self.body.addLayout(reference_row)

    def show_reading(self, tuner: Any, now: float | None = None) -> None:
        """Show ``tuner`` (a TunerReading, or ``None`` when unvoiced)."""
        now = time.monotonic() if now is None else now
        if tuner is not None and tuner.confidence >= MIN_CONFIDENCE:
            same = self._shown is not None and (
                (self._shown.note_name, self._shown.octave) == (tuner.note_name, tuner.octave)
            )
            if same and self._needle is not None:
                self._needle += SMOOTHING * (tuner.cents - self._needle)
            else:
                self._needle = tuner.cents
            self._shown = tuner
            self._last_voiced = now
            self._render(tuner, held=False)
        elif self._shown is not None and now - self._last_voiced <= HOLD_SECONDS:
            self._render(self._shown, held=True)
        elif self._shown is not None or self.note_label.text() != DASH:
            self.clear()

    def clear(self) -> None:
        self._shown = None
        self._needle = None
        self.note_label.setText(DASH)
        self.cents_label.setText(DASH)
        self.frequency_label.setText(DASH)
        self.cents_bar.set_cents(None)
        self.light.set_lit(False)

    def _render(self, tuner: Any, held: bool) -> None:
        colors = theme_colors()
        cents = self._needle if self._needle is not None else tuner.cents
        in_tune = not held and is_in_tune(cents)
        name = tuner.note_name.replace("#", "♯")
        color = colors.muted_text if held else colors.text
        octave_pt = max(8, round(self.note_label.font().pointSizeF() * 0.5))
        self.note_label.setText(
            f'<span style="color:{color}">{name}</span>'
            f'<span style="color:{colors.muted_text}; font-size:{octave_pt}pt">'
            f"{tuner.octave}</span>"
        )
        self.cents_label.setText(_("{cents} cents").format(cents=signed(cents)))
        self.frequency_label.setText(_("{value} Hz").format(value=number(tuner.frequency_hz, 1)))
        self.cents_bar.set_cents(None if held else cents)
        self.light.set_lit(in_tune)

    @property
    def note_text(self) -> str:
        """The note as shown, without formatting ("A♯4"), or the dash."""
        if self._shown is None:
            return DASH
        return f"{self._shown.note_name.replace('#', '♯')}{self._shown.octave}"
