"""The progression builder: key, length, style and seed in; chords out, to hear, save or drag.

The panel only collects choices and shows the result; the harmony session generates, plays and
writes the files. ``Ctrl+G`` generates, ``Ctrl+Shift+P`` plays or stops, ``Ctrl+E`` saves.
"""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QKeySequence
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSlider,
    QSpinBox,
    QWidget,
)

from app.i18n import _
from ui.harmony.panels import DraggableList, FileMaker
from ui.live.common import Card, muted, scaled_font

DETECTED = ""  # the key combo's value for "the key Hookline hears"


class ProgressionBuilder(Card):
    generate_requested = Signal()
    play_requested = Signal()
    export_requested = Signal()

    def __init__(
        self,
        keys: Sequence[tuple[str, str]],
        file_for: FileMaker,
        parent: QWidget | None = None,
    ) -> None:
        """``keys``: (value, label) of every key the combo offers after "Detected key"."""
        super().__init__(_("Progression builder"), "harmony-builder", parent)
        self.key = QComboBox()
        self.key.setObjectName("harmony-builder-key")
        self.key.addItem(_("Detected key"), DETECTED)
        for value, label in keys:
            self.key.addItem(label, value)
        self.bars = QComboBox()
        self.bars.setObjectName("harmony-builder-bars")
        for bars in (4, 8):
            self.bars.addItem(_("{count} bars").format(count=bars), bars)
        self.bars.setCurrentIndex(1)
        self.style_slider = QSlider(Qt.Orientation.Horizontal)
        self.style_slider.setObjectName("harmony-builder-style")
        self.style_slider.setRange(0, 100)
        self.style_slider.setValue(15)  # mostly the key's own chords, a little colour
        self.style_slider.setToolTip(
            _(
                "Diatonic keeps to the chords of the key; adventurous adds secondary dominants "
                "and chords borrowed from the parallel key."
            )
        )
        self.seed = QSpinBox()
        self.seed.setObjectName("harmony-builder-seed")
        self.seed.setRange(0, 999_999)
        self.seed.setToolTip(_("The same seed gives the same progression"))
        self.generate_button = QPushButton(_("&Generate"))
        self.generate_button.setObjectName("harmony-generate")
        self.generate_button.setShortcut(QKeySequence("Ctrl+G"))
        self.generate_button.clicked.connect(self.generate_requested.emit)
        self.play_button = QPushButton(_("Play"))
        self.play_button.setObjectName("harmony-play")
        self.play_button.setShortcut(QKeySequence("Ctrl+Shift+P"))
        self.play_button.clicked.connect(self.play_requested.emit)
        self.export_button = QPushButton(_("Save as MIDI…"))
        self.export_button.setObjectName("harmony-export")
        self.export_button.setShortcut(QKeySequence("Ctrl+E"))
        self.export_button.clicked.connect(self.export_requested.emit)
        self.chords = DraggableList(file_for)
        self.chords.setObjectName("harmony-progression")
        self.chords.setFlow(DraggableList.Flow.LeftToRight)
        self.chords.setWrapping(True)
        self.chords.setSpacing(6)
        self.chords.setFont(scaled_font(self, 1.25, bold=True))
        self.chords.setMaximumHeight(120)
        self.chords.setToolTip(_("Drag into your DAW as a MIDI file"))
        self.hint = muted(QLabel(_("Generate a progression to hear it, save it or drag it out.")))

        choices = QHBoxLayout()
        for label, widget in (
            (_("Key:"), self.key),
            (_("Length:"), self.bars),
            (_("Seed:"), self.seed),
        ):
            buddy = QLabel(label)
            buddy.setBuddy(widget)
            choices.addWidget(buddy)
            choices.addWidget(widget)
            choices.addSpacing(12)
        choices.addStretch(1)
        style_row = QHBoxLayout()
        style_row.addWidget(muted(QLabel(_("Diatonic"))))
        style_row.addWidget(self.style_slider, 1)
        style_row.addWidget(muted(QLabel(_("Adventurous"))))
        buttons = QHBoxLayout()
        buttons.addWidget(self.generate_button)
        buttons.addWidget(self.play_button)
        buttons.addWidget(self.export_button)
        buttons.addStretch(1)
        self.body.addLayout(choices)
        self.body.addLayout(style_row)
        self.body.addLayout(buttons)
        self.body.addWidget(self.hint)
        self.body.addWidget(self.chords)
        self.set_playing(False)
        self.show_progression([])

    def key_value(self) -> str:
        data = self.key.currentData()
        return data if isinstance(data, str) else DETECTED

    def bars_value(self) -> int:
        return int(self.bars.currentData())

    def style_value(self) -> float:
        return self.style_slider.value() / 100.0

    def set_playing(self, playing: bool) -> None:
        self.play_button.setText(_("Stop") if playing else _("Play"))

    def show_progression(self, chords: Sequence[tuple[str, str]]) -> None:
        self.chords.clear()
        for symbol, numeral in chords:
            self.chords.addItem(f"{symbol}\n{numeral}")
        has = bool(chords)
        self.chords.setVisible(has)
        self.hint.setVisible(not has)
        self.play_button.setEnabled(has)
        self.export_button.setEnabled(has)
