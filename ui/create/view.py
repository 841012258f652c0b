"""The Create room: melody ideas from the model, on a piano roll, to hear on the MIDI output,
drag into a DAW, save as a file or into the open project.

Keys (while the room is shown): ``Ctrl+G`` generates, ``Ctrl+R`` varies the selected idea,
``Ctrl+L`` continues it by four bars, ``Ctrl+Shift+L`` continues the phrase just played on the
MIDI input, ``Ctrl+P`` previews it with the built-in synth on the
audio output (again: stop), ``Ctrl+Shift+P`` plays it on the MIDI output, ``Ctrl+E`` saves it
as a MIDI file, ``Ctrl+Shift+S`` adds it to the open project.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QColor, QKeySequence
from PySide6.QtWidgets import (
    QApplication,
    QComboBox,
    QDoubleSpinBox,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from app.create import TONIC_NAMES, CreateError, Idea, MelodySession
from app.i18n import N_, _
from app.lyrics import LyricsError, LyricsTools, Melody, melody_from_notes, project_melodies
from app.melody import KeyChoice
from ui.create.lyrics import FitList, LyricsPane
from ui.harmony.panels import DraggableList
from ui.live.common import Card, muted
from ui.theme import theme_colors

if TYPE_CHECKING:
    from ui.main_window import MainWindow

MODE_LABELS = (("major", N_("major")), ("minor", N_("minor")), ("dorian", N_("dorian")),
               ("mixolydian", N_("mixolydian")))  # fmt: skip
MENU_METERS = ("4/4", "3/4", "6/8", "2/4", "12/8", "5/4")
Player = Callable[[list[tuple[float, bytes]]], None]


class PianoRoll(pg.PlotWidget):
    """Notes as bars (time in beats across, MIDI pitch up), bar lines, octave labels."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("create-piano-roll")
        self.setMinimumHeight(240)
        colors = theme_colors()
        self.setBackground(colors.base)
        item = self.getPlotItem()
        item.setMenuEnabled(False)
        item.hideButtons()
        item.setMouseEnabled(x=True, y=False)
        for side in ("bottom", "left"):
            axis = item.getAxis(side)
            axis.setPen(pg.mkPen(colors.mid))
            axis.setTextPen(pg.mkPen(colors.muted_text))
        item.setLabel("bottom", _("beats"))
        self.note_count = 0
        self.bar_count = 0
        self.playhead = self._new_playhead()

    @staticmethod
    def _new_playhead() -> pg.InfiniteLine:
        line = pg.InfiniteLine(angle=90, movable=False, pen=pg.mkPen(theme_colors().text, width=2))
        line.setVisible(False)
        return line

    def set_playhead(self, beat: float | None) -> None:
        """Draw the preview's position (in beats), or hide it."""
        self.playhead.setVisible(beat is not None)
        if beat is not None:
            self.playhead.setPos(beat)

    def show_idea(self, idea: Idea | None) -> None:
        item = self.getPlotItem()
        item.clear()
        self.playhead = self._new_playhead()
        item.addItem(self.playhead, ignoreBounds=True)
        self.note_count = self.bar_count = 0
        if idea is None:
            return
        colors = theme_colors()
        notes = idea.notes()
        beats_per_bar = idea.beats_per_bar
        total = max(idea.beats, beats_per_bar)
        bars = np.arange(0.0, total + 1e-9, beats_per_bar)
        grid = QColor(colors.muted_text)
        grid.setAlpha(110)
        lo = min((n.pitch for n in notes), default=60) - 2
        hi = max((n.pitch for n in notes), default=72) + 2
        item.plot(np.repeat(bars, 2), np.tile([lo, hi], len(bars)), connect="pairs",
                  pen=pg.mkPen(grid, width=1))  # fmt: skip
        if notes:
            bars_item = pg.BarGraphItem(
                x0=[n.start for n in notes],
                width=[max(0.05, n.duration - 0.03) for n in notes],
                y0=[n.pitch - 0.4 for n in notes],
                height=[0.8] * len(notes),
                brush=pg.mkBrush(colors.accent),
                pen=pg.mkPen(colors.accent_text, width=1),
            )
            item.addItem(bars_item)
        item.getAxis("left").setTicks(
            [[(p, f"C{p // 12 - 1}") for p in range(lo - lo % 12, hi + 1, 12) if p >= lo]]
        )
        item.setXRange(0.0, total, padding=0.01)
        item.setYRange(lo, hi, padding=0)
        self.note_count = len(notes)
        self.bar_count = len(bars) - 1


class MelodyPanel(Card):
    generate_requested = Signal()
    vary_requested = Signal()
    extend_requested = Signal()
    played_requested = Signal()
    preview_requested = Signal()
    play_requested = Signal()
    export_requested = Signal()
    save_requested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(_("Melody ideas"), "create-melody", parent)
        self.tonic = QComboBox()
        self.tonic.setObjectName("create-tonic")
        for pc, name in enumerate(TONIC_NAMES):
            self.tonic.addItem(name, pc)
        self.mode = QComboBox()
        self.mode.setObjectName("create-mode")
        for value, label in MODE_LABELS:
            self.mode.addItem(_(label), value)
        self.meter = QComboBox()
        self.meter.setObjectName("create-meter")
        for meter in MENU_METERS:
            self.meter.addItem(meter, meter)
        self.bars = QSpinBox()
        self.bars.setObjectName("create-bars")
        self.bars.setRange(1, 32)
        self.bars.setValue(8)
        self.chords = QLineEdit()
        self.chords.setObjectName("create-chords")
        self.chords.setPlaceholderText(_("Chords, one per bar: C Am F G"))
        self.temperature = QDoubleSpinBox()
        self.temperature.setObjectName("create-temperature")
        self.temperature.setRange(0.3, 2.0)
        self.temperature.setSingleStep(0.1)
        self.temperature.setValue(1.0)
        self.temperature.setToolTip(_("Lower: safer, more repetitive. Higher: more surprising."))
        self.tempo = QSpinBox()
        self.tempo.setObjectName("create-tempo")
        self.tempo.setRange(40, 240)
        self.tempo.setValue(110)
        self.tempo.setSuffix(" " + _("BPM"))
        self.tempo.setToolTip(_("Tempo of the preview, the MIDI output and the saved file"))
        self.seed = QSpinBox()
        self.seed.setObjectName("create-seed")
        self.seed.setRange(0, 999_999)
        self.seed.setToolTip(_("The same seed gives the same melody"))

        def button(text: str, name: str, keys: str, signal: Signal) -> QPushButton:
            b = QPushButton(text)
            b.setObjectName(name)
            b.setShortcut(QKeySequence(keys))
            b.setToolTip(f"{text.replace('&', '')} ({keys})")
            b.clicked.connect(signal.emit)
            return b

        self.generate_button = button(_("&Generate"), "create-generate", "Ctrl+G",
                                      self.generate_requested)  # fmt: skip
        self.vary_button = button(_("&Vary"), "create-vary", "Ctrl+R", self.vary_requested)
        self.extend_button = button(_("&Continue"), "create-extend", "Ctrl+L",
                                    self.extend_requested)  # fmt: skip
        self.played_button = button(_("From my playing"), "create-from-playing",
                                    "Ctrl+Shift+L", self.played_requested)  # fmt: skip
        self.played_button.setToolTip(
            _("Continue the phrase you just played on the MIDI input by the chosen number of "
              "bars, at the chosen tempo (Ctrl+Shift+L)"))  # fmt: skip
        self.preview_button = button(_("&Preview"), "create-preview", "Ctrl+P",
                                     self.preview_requested)  # fmt: skip
        self.play_button = button(_("Send to MIDI out"), "create-play", "Ctrl+Shift+P",
                                  self.play_requested)  # fmt: skip
        self.export_button = button(_("Save as MIDI…"), "create-export", "Ctrl+E",
                                    self.export_requested)  # fmt: skip
        self.save_button = button(_("Add to project"), "create-save", "Ctrl+Shift+S",
                                  self.save_requested)  # fmt: skip

        row1 = QHBoxLayout()
        for label, widget in ((_("Key:"), self.tonic), ("", self.mode), (_("Meter:"), self.meter),
                              (_("Bars:"), self.bars), (_("Tempo:"), self.tempo),
                              (_("Seed:"), self.seed),
                              (_("Temperature:"), self.temperature)):  # fmt: skip
            if label:
                buddy = QLabel(label)
                buddy.setBuddy(widget)
                row1.addWidget(buddy)
            row1.addWidget(widget)
            row1.addSpacing(8)
        row1.addStretch(1)
        row2 = QHBoxLayout()
        row2.addWidget(QLabel(_("Chords:")))
        row2.addWidget(self.chords, 1)
        buttons = QHBoxLayout()
        for b in (self.generate_button, self.vary_button, self.extend_button,
                  self.played_button, self.preview_button, self.play_button, self.export_button,
                  self.save_button):  # fmt: skip
            buttons.addWidget(b)
        buttons.addStretch(1)
        self.body.addLayout(row1)
        self.body.addLayout(row2)
        self.body.addLayout(buttons)
        self.set_has_idea(False, False)

    def key_choice(self) -> KeyChoice:
        tonic = int(self.tonic.currentData())
        mode = str(self.mode.currentData())
        return KeyChoice(tonic, mode, f"{TONIC_NAMES[tonic]} {mode}")

    def set_has_idea(self, has: bool, has_project: bool) -> None:
        for b in (self.vary_button, self.extend_button, self.preview_button, self.play_button,
                  self.export_button):  # fmt: skip
            b.setEnabled(has)
        self.save_button.setEnabled(has and has_project)
        self.save_button.setToolTip(
            _("Add this idea to the open project (Ctrl+Shift+S)")
            if has_project
            else _("Open or create a project to keep ideas in it")
        )


class CreateRoom(QWidget):
    """The melody panel, the piano roll of the selected idea, and the list of ideas."""

    message = Signal(str)

    def __init__(
        self,
        session: MelodySession,
        play: Player | None = None,
        project_getter: Callable[[], object] | None = None,
        parent: QWidget | None = None,
        played: Callable[[], Sequence[Any]] | None = None,
        lyrics: LyricsPane | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("create-room")
        self.lyrics = lyrics
        self.session = session
        self.play = play
        self.played = played or (lambda: ())
        self.project_getter = project_getter or (lambda: None)
        self.panel = MelodyPanel()
        self.roll = PianoRoll()
        self.ideas = DraggableList(session.file_for)
        self.ideas.setObjectName("create-ideas")
        self.ideas.setMaximumHeight(140)
        self.ideas.setToolTip(_("Drag into your DAW as a MIDI file"))
        self.hint = muted(QLabel(_("Choose a key and meter, then Generate (Ctrl+G).")))
        self.fit = FitList()
        self.fit_source = QComboBox()
        self.fit_source.setObjectName("lyrics-fit-source")
        self.fit_source.setToolTip(_("The melody the lyric lines are fitted to"))
        self.fit_source.currentIndexChanged.connect(lambda _i: self.refit())
        self.fit_row = QWidget()
        fit_row = QHBoxLayout(self.fit_row)
        fit_row.setContentsMargins(0, 0, 0, 0)
        fit_label = QLabel(_("Fit the lyrics to:"))
        fit_label.setBuddy(self.fit_source)
        fit_row.addWidget(fit_label)
        fit_row.addWidget(self.fit_source, 1)
        self._project_melodies: list[Melody] = []
        self.refresh_fit_sources()
        self.fit.setVisible(False)
        self.fit_row.setVisible(False)
        melody_side = QWidget()
        left = QVBoxLayout(melody_side)
        left.setContentsMargins(0, 0, 0, 0)
        left.addWidget(self.hint)
        left.addWidget(self.roll, 1)
        left.addWidget(self.fit_row)
        left.addWidget(self.fit)
        left.addWidget(self.ideas)
        self.splitter = QSplitter(Qt.Orientation.Horizontal)
        self.splitter.setObjectName("create-splitter")
        self.splitter.addWidget(melody_side)
        if lyrics is not None:
            self.splitter.addWidget(lyrics)
            self.splitter.setStretchFactor(0, 1)
            self.splitter.setStretchFactor(1, 1)
            lyrics.scanned.connect(lambda _sheet: self.refit())
            lyrics.message.connect(self.message.emit)
        layout = QVBoxLayout(self)
        layout.addWidget(self.panel)
        layout.addWidget(self.splitter, 1)
        self.panel.generate_requested.connect(self.generate)
        self.panel.vary_requested.connect(self.vary)
        self.panel.extend_requested.connect(self.extend)
        self.panel.played_requested.connect(self.from_playing)
        self.panel.play_requested.connect(self.play_selected)
        self.panel.preview_requested.connect(self.preview_selected)
        self.playhead_timer = QTimer(self)
        self.playhead_timer.setInterval(33)
        self.playhead_timer.timeout.connect(self._follow_preview)
        self.panel.export_requested.connect(self.export_dialog)
        self.panel.save_requested.connect(self.save_to_project)
        self.ideas.currentRowChanged.connect(self._show_row)

    # -- actions ---------------------------------------------------------------------------
    def selected(self) -> int:
        return self.ideas.currentRow()

    def _add(self, make: Callable[[], Idea]) -> Idea | None:
        try:
            idea = make()
        except CreateError as exc:
            self.message.emit(str(exc))
            return None
        self.ideas.addItem(idea.title)
        self.ideas.setCurrentRow(self.ideas.count() - 1)
        self.message.emit(
            _("{title}: {count} notes").format(title=idea.title, count=len(idea.notes()))
        )
        return idea

    def generate(self) -> Idea | None:
        p = self.panel
        chords = tuple(p.chords.text().split())
        key, meter, bars = p.key_choice(), str(p.meter.currentData()), p.bars.value()
        temperature, seed, tempo = p.temperature.value(), p.seed.value(), float(p.tempo.value())
        return self._add(
            lambda: self.session.generate(key, meter, bars, chords, temperature, seed, tempo)
        )

    def vary(self) -> Idea | None:
        row = self.selected()
        return self._add(lambda: self.session.vary(row)) if row >= 0 else None

    def extend(self) -> Idea | None:
        row = self.selected()
        return self._add(lambda: self.session.extend(row)) if row >= 0 else None

    def from_playing(self) -> Idea | None:
        """Continue the phrase last played on the MIDI input (the panel's key, meter, tempo,
        chords and seed; its bars are the bars added)."""
        p = self.panel
        notes = self.played()
        chords = tuple(p.chords.text().split())
        key, meter, bars = p.key_choice(), str(p.meter.currentData()), p.bars.value()
        temperature, seed, tempo = p.temperature.value(), p.seed.value(), float(p.tempo.value())
        return self._add(
            lambda: self.session.continue_played(
                notes, key, meter, bars, chords, temperature, seed, tempo
            )
        )

    def play_selected(self) -> None:
        row = self.selected()
        if row >= 0 and self.play is not None:
            self.play(self.session.clip(row))

    def preview_selected(self) -> bool:
        """Preview the selected idea on the audio output; if it is already playing, stop.
        Returns whether a preview plays now."""
        row = self.selected()
        if row < 0:
            return False
        if self.session.previewing == row:
            self.stop_preview()
            return False
        try:
            seconds = self.session.preview(row)
        except CreateError as exc:
            self.message.emit(str(exc))
            return False
        self.panel.preview_button.setText(_("Stop &preview"))
        self.playhead_timer.start()
        self.message.emit(_("Previewing {seconds} s on the audio output (Ctrl+P stops).").format(
            seconds=f"{seconds:.1f}"))  # fmt: skip
        return True

    def stop_preview(self) -> None:
        self.session.stop_preview()
        self._follow_preview()

    def _follow_preview(self) -> None:
        position = self.session.preview_position()
        row = self.session.previewing
        if position is None or row is None or row != self.selected():
            self.playhead_timer.stop()
            self.roll.set_playhead(None)
            self.panel.preview_button.setText(_("&Preview"))
            return
        self.roll.set_playhead(position * self.session.ideas[row].tempo_bpm / 60.0)

    def export_to(self, path: Path) -> Path | None:
        row = self.selected()
        if row < 0:
            return None
        try:
            written = self.session.export(row, path)
        except CreateError as exc:
            self.message.emit(str(exc))
            return None
        self.message.emit(_("Saved {path}").format(path=str(written)))
        return written

    def export_dialog(self) -> None:
        row = self.selected()
        if row < 0:
            return
        path, _filter = QFileDialog.getSaveFileName(
            self, _("Save melody as MIDI"), f"Hookline idea {row + 1}.mid", _("MIDI files (*.mid)")
        )
        if path:
            self.export_to(Path(path))

    def save_to_project(self) -> bool:
        row, project = self.selected(), self.project_getter()
        if row < 0 or project is None:
            return False
        self.session.save_to_project(project, row)
        self.message.emit(_("Added the idea to the project."))
        self.refresh_fit_sources()
        return True

    def refresh_fit_sources(self) -> None:
        """The fit's melody choices: the idea on the roll, then the project's saved clips."""
        project = self.project_getter()
        self._project_melodies = project_melodies(project) if project is not None else []
        chosen = self.fit_source.currentData()
        self.fit_source.blockSignals(True)
        self.fit_source.clear()
        self.fit_source.addItem(_("the idea on the piano roll"), -1)
        for i, melody in enumerate(self._project_melodies):
            label = melody.name or _("clip {number}").format(number=i + 1)
            self.fit_source.addItem(_("project clip: {name}").format(name=label), i)
        found = self.fit_source.findData(chosen) if chosen is not None else -1
        self.fit_source.setCurrentIndex(max(0, found))
        self.fit_source.blockSignals(False)
        self.refit()

    def _fit_melody(self) -> Melody | None:
        source = self.fit_source.currentData()
        if isinstance(source, int) and 0 <= source < len(self._project_melodies):
            return self._project_melodies[source]
        row = self.selected()
        idea = self.session.ideas[row] if 0 <= row < len(self.session.ideas) else None
        if idea is None:
            return None
        return melody_from_notes(idea.notes(), idea.request.meter, idea.title)

    def refit(self) -> None:
        """Fit the lyrics to the chosen melody: the idea on the piano roll or a clip saved in
        the project (hidden without lyrics or a melody)."""
        lyrics = self.lyrics
        has_lines = lyrics is not None and lyrics.sheet is not None and lyrics.sheet.sung_lines
        self.fit_row.setVisible(bool(has_lines))
        melody = self._fit_melody()
        if lyrics is None or not has_lines or melody is None:
            self.fit.setVisible(False)
            return
        try:
            fits = lyrics.tools.fit(lyrics.editor.toPlainText(), melody)
        except LyricsError as exc:
            self.message.emit(str(exc))
            return
        self.fit.show_fit(fits, melody)
        self.fit.setVisible(True)

    def _show_row(self, row: int) -> None:
        idea = self.session.ideas[row] if 0 <= row < len(self.session.ideas) else None
        if self.session.previewing is not None and self.session.previewing != row:
            self.stop_preview()  # the preview belongs to the idea on screen
        self.roll.show_idea(idea)
        self.refit()
        self.hint.setVisible(idea is None)
        self.panel.set_has_idea(idea is not None, self.project_getter() is not None)


def install_create_view(
    window: MainWindow,
    play: Player | None = None,
    played: Callable[[], Sequence[Any]] | None = None,
) -> CreateRoom:
    """Fill ``window``'s Create room; ``play`` sends a clip to the MIDI output, ``played``
    gives the notes last played on the MIDI input."""
    output = str(window.context.settings.get("audio.output_device"))
    session = MelodySession(window.context.paths.cache_dir / "ideas", output_device=output)
    tools = LyricsTools(cache_dir=window.context.paths.cache_dir)
    threading.Thread(target=tools.warm_up, name="lyrics-warm-up", daemon=True).start()
    lyrics = LyricsPane(tools, window.context.paths.data_dir / "lyrics-draft.txt")
    lyrics.bind(window.project)
    room = CreateRoom(session, play, lambda: window.project, played=played, lyrics=lyrics)
    window.project_closing.connect(lambda _project: lyrics.save())
    window.project_changed.connect(lyrics.bind)
    window.project_changed.connect(lambda _project: room.refresh_fit_sources())

    def on_settings(keys: list[str]) -> None:
        if "audio.output_device" in keys:
            session.output_device = str(window.context.settings.get("audio.output_device"))

    window.settings_changed.connect(on_settings)
    app = QApplication.instance()
    if app is not None:
        app.aboutToQuit.connect(session.close)  # streams close before PortAudio terminates
        app.aboutToQuit.connect(lyrics.save)
    window.set_room_widget("create", room)
    room.message.connect(lambda text: window.statusBar().showMessage(text, 8000))
    return room
