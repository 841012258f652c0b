"""The Harmony room: the chord and key of what comes in on MIDI, what to play next, and a
progression builder whose results play on the MIDI output or drag into a DAW.

Threads: everything here runs on the main thread. The harmony engine's worker publishes an
immutable :class:`app.harmony.HarmonyView` into a latest-value slot; :attr:`HarmonyRoom.timer`
pulls it at :data:`REFRESH_HZ` through :meth:`app.harmony.HarmonySession.poll`, which never
waits. Keys: Space starts and stops listening while the room has focus; the builder's own
shortcuts are in :mod:`ui.harmony.builder`.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (
    QComboBox,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QStyle,
    QVBoxLayout,
    QWidget,
)

from app.harmony import HarmonyError, HarmonySession, HarmonyView, key_choices
from app.i18n import _
from app.settings import Settings
from ui.harmony.builder import DETECTED, ProgressionBuilder
from ui.harmony.panels import ChordLane, ChordPanel, KeyPanel, SuggestionPanel
from ui.live.common import muted

if TYPE_CHECKING:
    from ui.main_window import MainWindow

REFRESH_HZ = 30


class PortPicker(QComboBox):
    """A MIDI port choice; item data is the setting's value ("" = Hookline's own port)."""

    port_chosen = Signal(str)

    def __init__(self, own_port: str, ports: list[str], current: str, name: str) -> None:
        super().__init__()
        self.setObjectName(name)
        self.own_port = own_port
        self.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        self.fill(ports, current)
        self.currentIndexChanged.connect(lambda _i: self.port_chosen.emit(self.value()))

    def value(self) -> str:
        data = self.currentData()
        return data if isinstance(data, str) else ""

    def fill(self, ports: list[str], current: str) -> None:
        self.blockSignals(True)
        self.clear()
        self.addItem(_("{port} (Hookline's own port)").format(port=self.own_port), "")
        for port in ports:
            self.addItem(port, port)
        if current and current not in ports:
            self.addItem(_("{port} (not connected)").format(port=current), current)
        self.setCurrentIndex(max(0, self.findData(current)))
        self.blockSignals(False)


class HarmonyRoom(QWidget):
    message = Signal(str)  # for the status bar

    def __init__(self, session: HarmonySession, settings: Settings) -> None:
        super().__init__()
        self.setObjectName("harmony-view")
        self.session = session
        self.settings = settings
        self._closed = False
        self._last: HarmonyView | None = None

        inputs, outputs = session.port_names()
        self.start_button = QPushButton()
        self.start_button.setObjectName("harmony-start-stop")
        self.start_button.clicked.connect(self.toggle)
        self.input_picker = PortPicker(
            session.input_port_name, inputs, str(settings.get("midi.input_port")), "midi-input"
        )
        self.input_picker.port_chosen.connect(self.choose_input)
        self.output_picker = PortPicker(
            session.output_port_name, outputs, str(settings.get("midi.output_port")), "midi-output"
        )
        self.output_picker.port_chosen.connect(self.choose_output)
        self.status_label = muted(QLabel(""))
        self.status_label.setObjectName("harmony-status")
        strip = QHBoxLayout()
        strip.addWidget(self.start_button)
        strip.addSpacing(12)
        strip.addWidget(QLabel(_("MIDI in:")))
        strip.addWidget(self.input_picker)
        strip.addWidget(QLabel(_("MIDI out:")))
        strip.addWidget(self.output_picker)
        strip.addStretch(1)
        strip.addWidget(self.status_label)

        self.chord = ChordPanel()
        self.key = KeyPanel()
        self.lane = ChordLane()
        self.suggestions = SuggestionPanel(session.suggestion_file)
        self.suggestions.audition_requested.connect(self.audition)
        self.builder = ProgressionBuilder(key_choices(), lambda _row: session.progression_file())
        self.builder.generate_requested.connect(self.generate)
        self.builder.play_requested.connect(self.play_or_stop)
        self.builder.export_requested.connect(self.ask_export)
        self.builder.style_slider.valueChanged.connect(
            lambda value: session.set_style(value / 100.0)
        )
        session.set_style(self.builder.style_value())

        top = QHBoxLayout()
        top.addWidget(self.chord, 3)
        side = QVBoxLayout()
        side.addWidget(self.key)
        top.addLayout(side, 2)
        top.addWidget(self.suggestions, 3)
        layout = QVBoxLayout(self)
        layout.addLayout(strip)
        layout.addLayout(top, 3)
        layout.addWidget(self.lane)
        layout.addWidget(self.builder, 2)

        self.start_stop_action = QAction(self)
        self.start_stop_action.setShortcut(QKeySequence(Qt.Key.Key_Space))
        self.start_stop_action.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        self.start_stop_action.triggered.connect(self.toggle)
        self.addAction(self.start_stop_action)

        self.timer = QTimer(self)
        self.timer.setInterval(1000 // REFRESH_HZ)
        self.timer.timeout.connect(self._tick)
        self.export_dialog: QFileDialog | None = None
        self._set_running(False)

    # -- what the user does ---------------------------------------------------------------------

    def start(self) -> None:
        if self._closed:
            return
        self.session.start()
        self._set_running(self.session.running)
        self.timer.start()
        self._tick()

    def stop(self) -> None:
        self.session.stop()
        self._tick()
        self._set_running(False)

    def toggle(self) -> None:
        if self.session.running:
            self.stop()
        else:
            self.start()

    def shutdown(self) -> None:
        self._closed = True
        self.timer.stop()
        self.session.close()

    def choose_input(self, port: str) -> None:
        self._save_setting("midi.input_port", port)
        if self.session.running:
            self.start()

    def choose_output(self, port: str) -> None:
        self._save_setting("midi.output_port", port)
        self.session.reopen_output()
        self._tick()

    def audition(self, index: int) -> None:
        self.session.audition(index)
        self._tick()

    def generate(self) -> None:
        key = self.builder.key_value()
        try:
            chords = self.session.generate(
                key if key != DETECTED else None,
                self.builder.bars_value(),
                self.builder.style_value(),
                self.builder.seed.value(),
            )
        except HarmonyError as exc:
            self.message.emit(str(exc))
            return
        self.builder.show_progression(chords)

    def play_or_stop(self) -> None:
        if self.session.playing:
            self.session.stop_playback()
        else:
            self.session.play_progression()
        self.builder.set_playing(self.session.playing)
        self.timer.start()
        self._tick()

    def ask_export(self) -> QFileDialog:
        dialog = QFileDialog(self, _("Save the progression as MIDI"))
        dialog.setAcceptMode(QFileDialog.AcceptMode.AcceptSave)
        dialog.setNameFilter(_("MIDI files (*.mid)"))
        dialog.setDefaultSuffix("mid")
        dialog.selectFile(self.session.progression_title() + ".mid")
        dialog.fileSelected.connect(lambda path: self.export(Path(path)))
        dialog.open()
        self.export_dialog = dialog
        return dialog

    def export(self, path: Path) -> bool:
        try:
            self.session.export_progression(path)
        except HarmonyError as exc:
            self.message.emit(str(exc))
            return False
        self.message.emit(_("Saved {file}").format(file=path.name))
        return True

    # -- the display timer ----------------------------------------------------------------------

    def _save_setting(self, key: str, value: str) -> None:
        self.settings.set(key, value)
        try:
            self.settings.save()
        except OSError as exc:
            self.message.emit(_("The settings could not be saved: {error}").format(error=exc))

    def _set_running(self, running: bool) -> None:
        icon = QStyle.StandardPixmap.SP_MediaStop if running else QStyle.StandardPixmap.SP_MediaPlay
        self.start_button.setIcon(self.style().standardIcon(icon))
        self.start_button.setText(_("Stop") if running else _("Listen"))
        self.start_button.setToolTip(
            _("Stop listening to MIDI") if running else _("Listen to MIDI input")
        )

    def _tick(self) -> None:
        view, messages = self.session.poll()
        for text in messages:
            self.message.emit(text)
        self.builder.set_playing(self.session.playing)
        if view is not None and view is not self._last:
            self._last = view
            self.chord.show_chord(view.chord_symbol, view.numeral, view.function, view.notes)
            self.key.show_key(view.key_name, view.key_confidence)
            self.lane.show_lane(view.lane)
            self.suggestions.show_suggestions(view.suggestions)
            self.status_label.setText(view.status)
        if not self.session.running:
            self._set_running(False)
            if not self.session.playing:
                self.timer.stop()


def install_harmony_view(window: MainWindow, autostart: bool = True) -> HarmonyRoom:
    """Fill ``window``'s Harmony room, wired to its status bar and closing with it."""
    session = HarmonySession(window.context.settings, window.context.paths.cache_dir / "midi")
    room = HarmonyRoom(session, window.context.settings)
    window.set_room_widget("harmony", room)
    room.message.connect(lambda text: window.statusBar().showMessage(text, 8000))
    window.closed.connect(room.shutdown)
    if autostart:
        QTimer.singleShot(0, room, room.start)
    return room
