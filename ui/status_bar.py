"""The main window's status bar: transient messages on one side, lasting facts on the other.

Permanent fields: the open project, the audio input, the MIDI connection and the dropout count
(xruns, ring overflows and late frames together, once the live pipeline reports them).
"""

from __future__ import annotations

from PySide6.QtWidgets import QFrame, QLabel, QStatusBar, QWidget

from app.i18n import _, format_decimal


def _field(tooltip: str) -> QLabel:
    label = QLabel()
    label.setToolTip(tooltip)
    label.setFrameShape(QFrame.Shape.NoFrame)
    label.setContentsMargins(8, 0, 8, 0)
    return label


class HooklineStatusBar(QStatusBar):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setSizeGripEnabled(True)
        self.project_label = _field(_("The project you are working on"))
        self.audio_label = _field(_("Where the live analysis takes its sound from"))
        self.midi_label = _field(_("The MIDI port Hookline listens to"))
        self.dropouts_label = _field(
            _("Audio blocks lost because the computer was too busy (xruns and overflows)")
        )
        for label in (self.project_label, self.audio_label, self.midi_label, self.dropouts_label):
            self.addPermanentWidget(label)
        self.set_project(None)
        self.set_dropouts(0)

    def set_project(self, name: str | None) -> None:
        if name:
            self.project_label.setText(_("Project: {name}").format(name=name))
        else:
            self.project_label.setText(_("No project open"))

    def set_audio_input(self, device: str, demo: bool) -> None:
        """``device`` is the setting's value: "" means the system default."""
        if demo:
            text = _("Input: Demo input")
        elif device:
            text = _("Input: {device}").format(device=device)
        else:
            text = _("Input: System default")
        self.audio_label.setText(text)

    def set_midi_input(self, port: str) -> None:
        """``port`` is the setting's value: "" means Hookline's own port only."""
        self.midi_label.setText(_("MIDI in: {port}").format(port=port or "Hookline In"))

    def set_dropouts(self, count: int) -> None:
        self.dropouts_label.setText(_("Dropouts: {count}").format(count=format_decimal(count)))
