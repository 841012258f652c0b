"""The Live room's control strip: Start/Stop, the input picker and the pipeline's health.

The picker offers the system default, the demo input and every device that can record; its
items carry the value of the ``audio.input_device`` setting. The device list is read again
each time the list opens, so a device plugged in later shows up without a restart.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QKeySequence
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QPushButton, QStyle, QWidget

from app import hardware
from app.i18n import _, format_decimal
from ui.choices import fill_choices, input_device_choices
from ui.live.common import muted

SPACE = QKeySequence(Qt.Key.Key_Space)


class InputPicker(QComboBox):
    """Emits :attr:`input_chosen` with the setting's value when the user picks another input."""

    input_chosen = Signal(str)

    def __init__(self, current: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("live-input")
        self.setToolTip(_("Where the live analysis takes its sound from"))
        self.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        self.setMinimumContentsLength(14)
        self.refresh(current)
        self.currentIndexChanged.connect(self._changed)

    def value(self) -> str:
        data = self.currentData()
        return data if isinstance(data, str) else ""

    def refresh(self, current: str | None = None) -> None:
        """Re-read the devices and keep ``current`` (the shown value by default) selected."""
        current = self.value() if current is None else current
        inputs = hardware.audio_inputs()
        fill_choices(self, input_device_choices(inputs), current)

    def select(self, value: str) -> None:
        """Show ``value`` without emitting (the settings changed elsewhere)."""
        if value != self.value():
            self.refresh(value)

    def showPopup(self) -> None:
        self.refresh()
        super().showPopup()

    def _changed(self, _index: int) -> None:
        self.input_chosen.emit(self.value())


class ControlStrip(QWidget):
    start_stop_clicked = Signal()

    def __init__(self, current_input: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.start_button = QPushButton()
        self.start_button.setObjectName("live-start-stop")
        self.start_button.setMinimumWidth(104)
        self.start_button.clicked.connect(self.start_stop_clicked.emit)
        self.input_picker = InputPicker(current_input)
        input_label = QLabel(_("Input:"))
        input_label.setBuddy(self.input_picker)
        self.status_label = muted(QLabel())
        self.status_label.setObjectName("live-status")
        self.status_label.setToolTip(
            _(
                "Dropouts: blocks the sound card lost. Overflows: audio the analysis could not "
                "keep. Late: analysis steps shown late because the computer was busy."
            )
        )
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(8)
        layout.addWidget(self.start_button)
        layout.addSpacing(12)
        layout.addWidget(input_label)
        layout.addWidget(self.input_picker)
        layout.addStretch(1)
        layout.addWidget(self.status_label)
        self.set_running(False)
        self._status: tuple[str, int, int, int] | None = None

    def set_running(self, running: bool) -> None:
        icon = QStyle.StandardPixmap.SP_MediaStop if running else QStyle.StandardPixmap.SP_MediaPlay
        self.start_button.setIcon(self.style().standardIcon(icon))
        self.start_button.setText(_("Stop") if running else _("Start"))
        self.start_button.setToolTip(
            (_("Stop the live analysis") if running else _("Start the live analysis"))
            + " ("
            + SPACE.toString(QKeySequence.SequenceFormat.NativeText)
            + ")"
        )

    def set_status(
        self, source: str, xruns: int, overflows: int, late_hops: int, running: bool = True
    ) -> None:
        """``source`` is already in words ("Demo input", a device name); empty while the input
        is not open (starting, lost) or the analysis is stopped (``running`` false)."""
        status = (source if running else "\0", xruns, overflows, late_hops)
        if status == self._status:
            return
        self._status = status
        if not running:
            self.status_label.setText(_("Stopped"))
            return
        if not source:
            self.status_label.setText(_("Waiting for the input…"))
            return
        parts = [
            _("Listening to {source}").format(source=source),
            _("Dropouts: {count}").format(count=format_decimal(xruns)),
            _("Overflows: {count}").format(count=format_decimal(overflows)),
            _("Late: {count}").format(count=format_decimal(late_hops)),
        ]
        self.status_label.setText("  ·  ".join(parts))
