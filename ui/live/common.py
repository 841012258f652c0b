"""Small pieces the Live view's panels share: cards, headers, colours and number readouts.

Readouts go through :func:`app.i18n.format_decimal`, so German shows "440,0 Hz"; a value the
engine has not measured yet (``-inf`` or NaN) reads as a dash, never as "-inf".
"""

from __future__ import annotations

import math

from PySide6.QtGui import QColor, QFont, QPalette
from PySide6.QtWidgets import QFrame, QLabel, QVBoxLayout, QWidget

from app.i18n import format_decimal

DASH = "—"
IN_TUNE = "#4cc66a"  # green of the in-tune light, the meters' safe zone
CAUTION = "#e6c04a"  # the meters' loud zone
DANGER = "#ff5f57"  # clipping, true peak over the limit
# Levels below this read as silence (the engine's floor is -120 dB).
SILENCE_DB = -119.0


def is_measured(value: float) -> bool:
    return math.isfinite(value) and value > SILENCE_DB


def number(value: float, digits: int = 1) -> str:
    """``value`` in the user's locale, or a dash when it is not a measurement."""
    if not is_measured(value):
        return DASH
    rounded = round(value, digits)
    if rounded == 0:
        rounded = 0.0  # never "-0.0"
    return format_decimal(rounded, digits)


def signed(value: float, digits: int = 0) -> str:
    """Like :func:`number` with an explicit plus sign for positive values (cents)."""
    if not math.isfinite(value):
        return DASH
    rounded = round(value, digits)
    if rounded == 0:
        return format_decimal(0.0, digits)
    text = format_decimal(rounded, digits)
    return "+" + text if rounded > 0 else text


def scaled_font(widget: QWidget, factor: float, bold: bool = False) -> QFont:
    font = QFont(widget.font())
    size = font.pointSizeF()
    if size > 0:
        font.setPointSizeF(size * factor)
    font.setBold(bold)
    return font


def tabular(font: QFont) -> QFont:
    """Digits of equal width, so a changing readout does not jitter."""
    font.setFeature(QFont.Tag("tnum"), 1)
    return font


def set_text_color(widget: QWidget, color: str | None) -> None:
    """Colour a label's text; ``None`` returns it to the theme's text colour."""
    if color is None:
        widget.setPalette(QPalette())  # nothing set: inherit the theme again
        return
    palette = QPalette()
    palette.setColor(QPalette.ColorRole.WindowText, QColor(color))
    widget.setPalette(palette)


def muted(label: QLabel) -> QLabel:
    label.setForegroundRole(QPalette.ColorRole.PlaceholderText)
    return label


def section_title(text: str) -> QLabel:
    """The small heading at the top of a card ("Tuner", "Loudness"...)."""
    label = QLabel(text)
    font = scaled_font(label, 0.92, bold=True)
    font.setCapitalization(QFont.Capitalization.AllUppercase)
    font.setLetterSpacing(QFont.SpacingType.PercentageSpacing, 108)
    label.setFont(font)
    return muted(label)


class Card(QFrame):
    """A panel on the alternate background with a title, like the rooms' empty-state card."""

    def __init__(self, title: str, name: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName(name)
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.setAutoFillBackground(True)
        self.setBackgroundRole(QPalette.ColorRole.AlternateBase)
        self.body = QVBoxLayout(self)
        self.body.setContentsMargins(14, 10, 14, 12)
        self.body.setSpacing(8)
        self.title_label = section_title(title)
        self.body.addWidget(self.title_label)
