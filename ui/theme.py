"""Colour themes: a dark one that sits quietly beside a DAW, and a light one.

Both use Qt's Fusion style with a full palette (no style sheets), so every standard widget and
dialog follows, and one warm accent colour marks selection, focus and links. Contrast is chosen
so that disabled text still reads (at least 4:1 against the window) and selected text is clear.
Charts (pyqtgraph) read their colours from :func:`theme_colors`.
"""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import QApplication

THEMES = ("dark", "light")


@dataclass(frozen=True)
class ThemeColors:
    window: str
    base: str
    alternate_base: str
    button: str
    text: str
    muted_text: str
    disabled_text: str
    accent: str
    accent_text: str
    link: str
    tooltip_base: str
    mid: str
    dark: str
    shadow: str


DARK = ThemeColors(
    window="#2b2d31",
    base="#1f2023",
    alternate_base="#27292d",
    button="#383a3f",
    text="#e8e8ea",
    muted_text="#a9abb2",
    disabled_text="#8b8e95",
    accent="#f0a53a",
    accent_text="#1b1b1b",
    link="#f3b860",
    tooltip_base="#3a3c42",
    mid="#45484e",
    dark="#18191b",
    shadow="#0e0e10",
)

LIGHT = ThemeColors(
    window="#efeff1",
    base="#ffffff",
    alternate_base="#f5f5f7",
    button="#e4e4e8",
    text="#1d1d20",
    muted_text="#55575e",
    disabled_text="#6e7078",
    accent="#9a5a00",
    accent_text="#ffffff",
    link="#8a5000",
    tooltip_base="#fffbe8",
    mid="#b8b9be",
    dark="#8e9096",
    shadow="#5a5b60",
)

_COLORS = {"dark": DARK, "light": LIGHT}
_current = "dark"


def theme_colors(name: str | None = None) -> ThemeColors:
    """The colours of theme ``name`` (the one applied last when ``None``)."""
    return _COLORS.get(name or _current, DARK)


def build_palette(colors: ThemeColors) -> QPalette:
    palette = QPalette()
    c = QColor
    roles = {
        QPalette.ColorRole.Window: colors.window,
        QPalette.ColorRole.WindowText: colors.text,
        QPalette.ColorRole.Base: colors.base,
        QPalette.ColorRole.AlternateBase: colors.alternate_base,
        QPalette.ColorRole.ToolTipBase: colors.tooltip_base,
        QPalette.ColorRole.ToolTipText: colors.text,
        QPalette.ColorRole.PlaceholderText: colors.muted_text,
        QPalette.ColorRole.Text: colors.text,
        QPalette.ColorRole.Button: colors.button,
        QPalette.ColorRole.ButtonText: colors.text,
        QPalette.ColorRole.BrightText: "#ff6b6b",
        QPalette.ColorRole.Highlight: colors.accent,
        QPalette.ColorRole.HighlightedText: colors.accent_text,
        QPalette.ColorRole.Link: colors.link,
        QPalette.ColorRole.LinkVisited: colors.link,
        QPalette.ColorRole.Light: colors.button,
        QPalette.ColorRole.Midlight: colors.mid,
        QPalette.ColorRole.Mid: colors.mid,
        QPalette.ColorRole.Dark: colors.dark,
        QPalette.ColorRole.Shadow: colors.shadow,
        QPalette.ColorRole.Accent: colors.accent,
    }
    for role, value in roles.items():
        palette.setColor(QPalette.ColorGroup.All, role, c(value))
    disabled = QPalette.ColorGroup.Disabled
    for role in (
        QPalette.ColorRole.WindowText,
        QPalette.ColorRole.Text,
        QPalette.ColorRole.ButtonText,
        QPalette.ColorRole.HighlightedText,
    ):
        palette.setColor(disabled, role, c(colors.disabled_text))
    palette.setColor(disabled, QPalette.ColorRole.Highlight, c(colors.mid))
    palette.setColor(disabled, QPalette.ColorRole.Base, c(colors.window))
    palette.setColor(disabled, QPalette.ColorRole.Button, c(colors.window))
    return palette


def apply_theme(app: QApplication, name: str) -> ThemeColors:
    """Switch the whole application to theme ``name`` ("dark" or "light"); unknown means dark."""
    global _current
    _current = name if name in _COLORS else "dark"
    colors = _COLORS[_current]
    app.setStyle("Fusion")
    app.setPalette(build_palette(colors))
    return colors


def contrast_ratio(foreground: str, background: str) -> float:
    """WCAG contrast ratio between two colours (1 to 21)."""

    def luminance(color: str) -> float:
        q = QColor(color)
        channels = []
        for v in (q.redF(), q.greenF(), q.blueF()):
            channels.append(v / 12.92 if v <= 0.04045 else ((v + 0.055) / 1.055) ** 2.4)
        r, g, b = channels
        return 0.2126 * r + 0.7152 * g + 0.0722 * b

    lighter, darker = sorted((luminance(foreground), luminance(background)), reverse=True)
    return (lighter + 0.05) / (darker + 0.05)
