"""Both themes read well: body text, disabled text, selection and the empty-state hints."""

from __future__ import annotations

import pytest
from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import QApplication

from ui.theme import apply_theme, contrast_ratio, theme_colors


@pytest.mark.parametrize("name", ["dark", "light"])
def test_contrast_is_readable(name: str) -> None:
    c = theme_colors(name)
    assert contrast_ratio(c.text, c.base) >= 7.0
    assert contrast_ratio(c.text, c.window) >= 7.0
    assert contrast_ratio(c.muted_text, c.window) >= 4.5
    assert contrast_ratio(c.disabled_text, c.window) >= 4.0  # disabled, yet legible
    assert contrast_ratio(c.disabled_text, c.button) >= 3.0
    assert contrast_ratio(c.accent_text, c.accent) >= 4.5
    assert contrast_ratio(c.link, c.base) >= 4.5


def test_applying_a_theme_sets_fusion_and_the_palette(qapp: QApplication) -> None:
    apply_theme(qapp, "light")
    assert qapp.style().name().lower() == "fusion"
    assert qapp.palette().color(QPalette.ColorRole.Window) == QColor(theme_colors("light").window)
    apply_theme(qapp, "dark")
    palette = qapp.palette()
    assert palette.color(QPalette.ColorRole.Highlight) == QColor(theme_colors("dark").accent)
    assert palette.color(QPalette.ColorGroup.Disabled, QPalette.ColorRole.Text) == QColor(
        theme_colors("dark").disabled_text
    )


def test_an_unknown_theme_falls_back_to_dark(qapp: QApplication) -> None:
    assert apply_theme(qapp, "neon") == theme_colors("dark")
