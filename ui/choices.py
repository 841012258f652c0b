"""Combo boxes whose items carry setting values, shared by the settings dialog and the views."""

from __future__ import annotations

from PySide6.QtWidgets import QComboBox

from app import hardware
from app.i18n import _
from app.settings import Value


def fill_choices(combo: QComboBox, items: list[tuple[str, Value]], current: Value) -> QComboBox:
    """Fill ``combo`` with items that carry their setting value and select ``current``.

    A current value that is not offered (an unplugged device) is kept and marked, so opening
    and confirming a dialog never changes a setting by itself. Emits no signal."""
    combo.blockSignals(True)
    combo.clear()
    for label, value in items:
        combo.addItem(label, value)
    if combo.findData(current) < 0:
        combo.addItem(_("{value} (not available now)").format(value=current), current)
    combo.setCurrentIndex(combo.findData(current))
    combo.blockSignals(False)
    return combo


def input_device_choices(inputs: hardware.AudioInputs) -> list[tuple[str, Value]]:
    """System default, the demo input, then every device that can record."""
    items: list[tuple[str, Value]] = [
        (_("System default"), ""),
        (_("Demo input"), hardware.DEMO_INPUT),
    ]
    return items + [(name, name) for name in inputs.names if name != hardware.DEMO_INPUT]
