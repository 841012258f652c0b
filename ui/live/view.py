"""The Live room: tuner, key/chord/tempo card, level and loudness meters, spectrum and
spectrogram of the input.

Threads: everything here runs on the main thread. The engine's worker publishes readings into a
latest-value slot and spectrogram columns into a bounded queue; :attr:`LiveView.timer` pulls
both at :data:`REFRESH_HZ` through :meth:`app.live.LiveSession.poll`, which never waits. While
the room is hidden (another room, a minimised window) a tick only drains the queue into the
spectrogram's ring and forwards messages and dropout counts; nothing is drawn.

Wiring (:func:`install_live_view`): the view fills the window's "live" room, sends messages to
the status bar, dropouts to ``status.set_dropouts`` and the input in use to
``status.set_audio_input``; it follows the settings dialog and stops its session when the
window closes. The session starts from a zero-delay timer, so the window is on screen first.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QHBoxLayout, QVBoxLayout, QWidget

from app import hardware
from app.i18n import _
from app.settings import Settings
from ui.live.controls import SPACE, ControlStrip
from ui.live.meters import LevelPanel, LoudnessPanel
from ui.live.music import MusicPanel
from ui.live.spectrum import SpectrumPanel
from ui.live.tuner import TunerPanel
from ui.source_cache import forget_module_sources

if TYPE_CHECKING:
    from app.live import LiveReading, LiveSession
    from ui.main_window import MainWindow

REFRESH_HZ = 60
SIDE_WIDTH = 300
RESTART_KEYS = frozenset(
    {
        "audio.input_device",
        "audio.sample_rate",
        "audio.block_size",
        "audio.channels",
        "audio.monitor_device",
    }
)


class LiveView(QWidget):
    message = Signal(str)  # for the status bar
    dropouts_changed = Signal(int)  # xruns + ring overflows
    input_changed = Signal(str, bool)  # the input setting, whether the demo plays

    def __init__(self, settings: Settings, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("live-view")
        self.settings = settings
        self.session: LiveSession | None = None
        self.tick_durations: deque[float] = deque(maxlen=4096)  # seconds per timer slot
        self._source_label: Callable[[str], str] = str
        self._last_reading: LiveReading | None = None
        self._last_frame = time.monotonic()
        self._dropouts = -1
        self._source: str | None = None
        self._closed = False

        self.controls = ControlStrip(str(settings.get("audio.input_device")))
        self.tuner = TunerPanel(float(settings.get("audio.reference_a")))
        self.levels = LevelPanel()
        self.loudness = LoudnessPanel()
        self.music = MusicPanel()
        self.spectrum = SpectrumPanel()
        for panel in (self.tuner, self.music, self.loudness):
            panel.setFixedWidth(SIDE_WIDTH)

        side = QVBoxLayout()
        side.setSpacing(10)
        side.addWidget(self.tuner, 1)
        side.addWidget(self.music)
        side.addWidget(self.loudness)
        panels = QHBoxLayout()
        panels.setSpacing(10)
        panels.addLayout(side)
        panels.addWidget(self.levels)
        panels.addWidget(self.spectrum, 1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(12, 10, 12, 12)
        layout.setSpacing(10)
        layout.addWidget(self.controls)
        layout.addLayout(panels, 1)

        self.timer = QTimer(self)
        self.timer.setInterval(round(1000 / REFRESH_HZ))
        self.timer.timeout.connect(self._tick)
        # A shortcut of this widget, so Space starts and stops only while the Live room shows.
        self.start_stop_action = QAction(_("Start or stop the live analysis"), self)
        self.start_stop_action.setShortcut(SPACE)
        self.start_stop_action.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
        self.start_stop_action.triggered.connect(self.toggle)
        self.addAction(self.start_stop_action)

        self.controls.start_stop_clicked.connect(self.toggle)
        self.controls.input_picker.input_chosen.connect(self.choose_input)
        self.tuner.reference_changed.connect(self.set_reference_a)
        self.loudness.reset_requested.connect(self.reset_loudness)
        self.controls.set_status("", 0, 0, 0, running=False)

    # -- what the user does ---------------------------------------------------------------------

    @property
    def running(self) -> bool:
        return self.session is not None and self.session.running

    def start(self) -> None:
        """Start (or restart) the session on the input the settings name."""
        if self._closed:  # the window closed before the deferred start came round
            return
        if self.session is None:
            from app import live  # numba and scipy: loaded when the room first starts

            self.session = live.LiveSession(self.settings)
            self._source_label = live.source_label
        self.session.start()
        self._source = None
        self._last_reading = None
        self.controls.set_running(self.session.running)
        self.timer.start()
        self._tick()

    def stop(self) -> None:
        if self.session is not None:
            self.session.stop()
            self._tick()  # hand on the last messages
        self.timer.stop()
        self.controls.set_running(False)
        self.controls.set_status("", 0, 0, 0, running=False)
        self.tuner.clear()
        self.music.clear()
        self.levels.bars.clear()
        self.spectrum.clear_spectrum()

    def toggle(self) -> None:
        if self.running:
            self.stop()
        else:
            self.start()

    def shutdown(self) -> None:
        """Stop for good (the window closes)."""
        self._closed = True
        self.timer.stop()
        if self.session is not None:
            self.session.stop()

    def choose_input(self, value: str) -> None:
        """Remember the input the user picked and restart on it."""
        self.settings.set("audio.input_device", value)
        try:
            self.settings.save()
        except OSError as exc:
            self.message.emit(_("The settings could not be saved: {error}").format(error=exc))
        self.input_changed.emit(value, hardware.uses_demo_input(value))
        self.start()

    def set_reference_a(self, hz: float) -> None:
        if self.session is not None:
            self.session.set_reference_a(hz)
        else:
            self.settings.set("audio.reference_a", float(hz))
            self.settings.save()

    def reset_loudness(self) -> None:
        if self.session is not None:
            self.session.reset_loudness()

    def apply_settings(self, keys: Iterable[str]) -> None:
        """Follow settings saved elsewhere (the settings dialog)."""
        keys = set(keys)
        if "ui.theme" in keys:
            self.spectrum.apply_colors()  # the painted parts read the theme as they paint
            self.update()
        if "audio.reference_a" in keys:
            spin = self.tuner.reference_spin
            spin.blockSignals(True)
            spin.setValue(float(self.settings.get("audio.reference_a")))
            spin.blockSignals(False)
            self.set_reference_a(spin.value())
        if keys & RESTART_KEYS:
            self.controls.input_picker.select(str(self.settings.get("audio.input_device")))
            if self.running:
                self.start()

    # -- the display timer ----------------------------------------------------------------------

    def on_screen(self) -> bool:
        return self.isVisible() and not self.window().isMinimized()

    def _tick(self) -> None:
        began = time.perf_counter()
        session = self.session
        if session is None:
            return
        reading, messages, columns = session.poll()
        for text in messages:
            self.message.emit(text)
        # always, so the engine's queue never overflows
        self.spectrum.add_columns(columns, session.column_seconds)
        if reading is not None:
            dropouts = reading.xruns + reading.overflows
            if dropouts != self._dropouts:
                self._dropouts = dropouts
                self.dropouts_changed.emit(dropouts)
        source = session.source_name
        if source != self._source:
            self._source = source
            if source:
                forget_module_sources()  # the engine's imports are done by now
                device = str(self.settings.get("audio.input_device"))
                self.input_changed.emit(device, source == hardware.DEMO_INPUT)
        if self.on_screen():
            now = time.monotonic()
            dt, self._last_frame = now - self._last_frame, now
            if reading is not None and reading is not self._last_reading:
                self._show(reading, min(dt, 0.25))
            elif reading is None:
                self.tuner.show_reading(None, now)
            # every tick, so the beat light keeps time between readings
            self.music.show_music(reading.music if reading is not None else None)
            self.spectrum.render_spectrogram()
            if reading is not None and source:
                self.controls.set_status(
                    self._source_label(source), reading.xruns, reading.overflows, reading.late_hops
                )
            elif not source:
                self.controls.set_status("", 0, 0, 0, running=session.running)
        if not session.running:
            self.timer.stop()
            self.controls.set_running(False)
        self.tick_durations.append(time.perf_counter() - began)

    def _show(self, reading: Any, dt: float) -> None:
        self._last_reading = reading
        self.tuner.show_reading(reading.tuner)
        levels = reading.levels
        self.levels.bars.set_levels(levels.peak_dbfs, levels.rms_dbfs, levels.peak_hold_dbfs, dt)
        self.loudness.show_loudness(reading.loudness)
        spectrum = reading.spectrum
        self.spectrum.show_spectrum(spectrum.frequencies, spectrum.level_db, spectrum.peak_hold_db)


def install_live_view(window: MainWindow, autostart: bool = True) -> LiveView:
    """Fill ``window``'s Live room with a :class:`LiveView` wired to its status bar."""
    view = LiveView(window.context.settings)
    window.set_room_widget("live", view)
    view.message.connect(lambda text: window.statusBar().showMessage(text, 8000))
    view.dropouts_changed.connect(window.status.set_dropouts)
    view.input_changed.connect(window.status.set_audio_input)
    window.settings_changed.connect(view.apply_settings)
    window.closed.connect(view.shutdown)
    if autostart:
        QTimer.singleShot(0, view, view.start)
    return view
