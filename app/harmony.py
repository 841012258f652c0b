"""The harmony session: MIDI listening, suggestions, progressions and MIDI out for a front end.

Used by the Harmony room (through a display-rate timer) and by ``hookline midi listen``. Main
thread only; the engine's worker runs on its own (:mod:`app.harmony_engine`), and clips play on
the :class:`audio.midi_out.ClipPlayer`'s thread. Every failure a user can act on is a
:class:`HarmonyError` with a translated message, or a message from :meth:`HarmonySession.poll`.

Each direction is its own MIDI client, named like its port (JACK: "Hookline In:Hookline In",
"Hookline Out:Hookline Out"; one client per direction is how rtmidi opens ports).
Inputs: Hookline's own virtual port "Hookline In" is always open where the MIDI system has
virtual ports, plus the port the ``midi.input_port`` setting names. Output: "Hookline Out", plus
the port ``midi.output_port`` names.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from app import hardware
from app.harmony_engine import DEFAULT_STYLE, HarmonyEngine, HarmonySnapshot, PlayedNote
from app.harmony_text import (
    function_text,
    key_text,
    music_text,
    numeral_text,
    port_event_text,
    reason_text,
    symbol_text,
)
from app.i18n import _, format_decimal
from app.midi_export import (
    MidiExportError,
    TimedNote,
    build_midi,
    progression_notes,
    write_midi,
)
from app.settings import Settings
from audio.midi_in import VIRTUAL_APIS, MidiInput
from audio.midi_out import ClipPlayer, MidiOutput
from audio.midi_ports import resolve_midi_api
from models.chords import MAJOR_KEY_NAMES, MINOR_KEY_NAMES, ChordName
from models.next_chord import NextChordModel
from models.progression import BEATS_PER_BAR, generate, voice
from models.theory import Key, pretty, simple_name

log = logging.getLogger(__name__)

INPUT_PORT = "Hookline In"
OUTPUT_PORT = "Hookline Out"
AUDITION_S = 1.2
AUDITION_VELOCITY = 84
TEMPO_BPM = 100.0


class HarmonyError(Exception):
    """A problem the user can act on; ``str()`` is the translated message."""


@dataclass(frozen=True)
class HarmonyView:
    """A snapshot in words, ready to show."""

    chord_symbol: str
    numeral: str
    function: str
    notes: tuple[str, ...]
    key_name: str
    key_confidence: float
    lane: tuple[tuple[str, str], ...]  # (symbol, numeral), oldest first
    suggestions: tuple[tuple[str, str, str, float], ...]  # symbol, numeral, reason, probability
    status: str


def key_choices() -> list[tuple[str, str]]:
    """The 24 keys as (value for :meth:`Key.parse`, label in the user's language)."""
    out = []
    for mode, names in (("major", MAJOR_KEY_NAMES), ("minor", MINOR_KEY_NAMES)):
        for name in names:
            key = Key.parse(f"{name} {mode}")
            out.append((key.name, key_text(key)))
    return out


def voicing(chord: ChordName, bass_octave: int = 3, top: int = 76) -> list[int]:
    """A plain keyboard voicing of ``chord``: its bass in octave ``bass_octave``, the other tones
    stacked above within an octave and a half, highest at most ``top``."""
    bass = 12 * (bass_octave + 1) + chord.bass
    notes = [bass]
    floor = bass + 7
    for pc in sorted(chord.pitch_classes, key=lambda pc: (pc - chord.root) % 12):
        note = floor + (pc - floor) % 12
        while note > top:
            note -= 12
        if note not in notes:
            notes.append(note)
    return sorted(notes)


def note_text(note: int, key: Key | None) -> str:
    """MIDI note ``note`` as musicians write it in ``key``: ``"F♯4"``."""
    name = key.spell(note % 12) if key is not None else simple_name(note % 12)
    return music_text(pretty(name) + str(note // 12 - 1))


def _snapshot_view(snapshot: HarmonySnapshot, status: str) -> HarmonyView:
    chord = snapshot.chord
    key = snapshot.key
    return HarmonyView(
        chord_symbol=symbol_text(chord.symbol) if chord is not None else "",
        numeral=numeral_text(snapshot.numeral),
        function=function_text(snapshot.function),
        notes=tuple(note_text(n, key) for n in snapshot.sounding),
        key_name=key_text(key),
        key_confidence=snapshot.key_confidence,
        lane=tuple((symbol_text(e.chord.symbol), numeral_text(e.numeral)) for e in snapshot.lane),
        suggestions=tuple(
            (
                symbol_text(s.chord.symbol),
                numeral_text(s.numeral),
                reason_text(s.reason, s.numeral),
                s.score,
            )
            for s in snapshot.suggestions
        ),
        status=status,
    )


class HarmonySession:
    input_port_name = INPUT_PORT
    output_port_name = OUTPUT_PORT

    def __init__(self, settings: Settings, files_dir: Path) -> None:
        self.settings = settings
        self.files_dir = files_dir
        self.engine: HarmonyEngine | None = None
        self.output: MidiOutput | None = None
        self.player: ClipPlayer | None = None
        self.messages: list[str] = []
        self.style = DEFAULT_STYLE
        self._model: NextChordModel | None = None
        self._snapshot: HarmonySnapshot | None = None
        self._view: HarmonyView | None = None
        self._progression: Any = None
        self._midi_was_up = False

    # -- ports ------------------------------------------------------------------------------

    @property
    def api(self) -> str:
        return resolve_midi_api(str(self.settings.get("midi.api")))

    def port_names(self) -> tuple[list[str], list[str]]:
        """Other programs' MIDI ports: (inputs, outputs), Hookline's own left out."""
        ports = hardware.list_midi(self.api)
        own = ("Hookline",)
        inputs = [p for p in ports.inputs if not p.startswith(own)]
        outputs = [p for p in ports.outputs if not p.startswith(own)]
        return inputs, outputs

    def model(self) -> NextChordModel:
        if self._model is None:
            self._model = NextChordModel.load()
        return self._model

    # -- listening ----------------------------------------------------------------------------

    @property
    def running(self) -> bool:
        return self.engine is not None and self.engine.running

    def played_notes(self) -> tuple[PlayedNote, ...]:
        """The notes last played on the MIDI input (for the Create room's "from my playing")."""
        engine = self.engine
        return engine.played() if engine is not None else ()

    def start(self) -> None:
        """(Re)start listening on the ports the settings name; problems become messages."""
        self.stop()
        port = str(self.settings.get("midi.input_port"))
        api = self.api
        try:
            midi_in = MidiInput(
                [port] if port else [],
                virtual=api in VIRTUAL_APIS,
                api=api,
                client_name=INPUT_PORT,
                virtual_name=INPUT_PORT,
            )
        except (ValueError, RuntimeError, SystemError, OSError) as exc:
            log.warning("MIDI input could not open: %s", exc)
            self.messages.append(
                _("MIDI input could not be opened: {error}").format(error=str(exc))
            )
            return
        self.engine = HarmonyEngine(midi_in, self.model(), self.style)
        self.engine.start()
        if self.output is None:
            self.reopen_output()

    def stop(self) -> None:
        if self.engine is not None:
            self.engine.stop()
            self.engine = None

    def close(self) -> None:
        """Stop everything for good: listening, playback, the output port."""
        self.stop()
        self.stop_playback()
        if self.output is not None:
            self.output.close()
            self.output = None

    def set_style(self, style: float) -> None:
        self.style = style
        if self.engine is not None:
            self.engine.set_style(style)

    def poll(self) -> tuple[HarmonyView | None, list[str]]:
        """The newest snapshot in words (the same object while nothing changed) and messages."""
        messages, self.messages = self.messages, []
        engine = self.engine
        if engine is None:
            return self._view, messages
        for event in engine.drain():
            if event.kind == "server_lost" and not self._midi_was_up:
                continue  # never there (no JACK here): the room's status line says so quietly
            if event.port:
                messages.append(port_event_text(event.kind, event.port))
        snapshot = engine.latest()
        if snapshot is not None and snapshot.input is not None and snapshot.input.server_ok:
            self._midi_was_up = True
        if snapshot is not None and snapshot is not self._snapshot:
            self._snapshot = snapshot
            self._view = _snapshot_view(snapshot, self._status(snapshot))
        return self._view, messages

    def _status(self, snapshot: HarmonySnapshot) -> str:
        status = snapshot.input
        if status is None:
            return ""
        if not status.server_ok:
            return _("MIDI system not running")
        parts = [
            s.name if s.state == "open" else _("{port} (lost)").format(port=s.name)
            for s in status.sources
        ]
        text = _("Listening to {ports}").format(ports=", ".join(parts))
        text += "  ·  " + _("Events: {count}").format(count=format_decimal(snapshot.events))
        if status.xruns:
            text += "  ·  " + _("Dropouts: {count}").format(count=format_decimal(status.xruns))
        return text

    # -- MIDI out -----------------------------------------------------------------------------

    def reopen_output(self) -> None:
        """Open (again) Hookline Out and the output port the settings name."""
        self.stop_playback()
        if self.output is not None:
            self.output.close()
        port = str(self.settings.get("midi.output_port")) or None
        api = self.api
        try:
            self.output = MidiOutput(
                port,
                virtual=api in VIRTUAL_APIS,
                api=api,
                client_name=OUTPUT_PORT,
                virtual_name=OUTPUT_PORT,
            )
        except (ValueError, RuntimeError, SystemError, OSError) as exc:
            self.output = None
            self.messages.append(
                _("MIDI output could not be opened: {error}").format(error=str(exc))
            )
            return
        status = self.output.status
        if status.error and status.server_ok:  # no MIDI system at all: the room's status says so
            if port is not None and status.error.startswith("no-such-port"):
                self.messages.append(port_event_text("open_failed", port))
            else:
                self.messages.append(
                    _("MIDI output could not be opened: {error}").format(error=status.error)
                )
        self.player = ClipPlayer(self.output)

    @property
    def playing(self) -> bool:
        return self.player is not None and self.player.playing

    def stop_playback(self) -> None:
        if self.player is not None:
            self.player.stop()

    def play_clip(self, clip: list[tuple[float, bytes]]) -> None:
        if self.player is None:
            self.reopen_output()
        if self.player is None:
            return
        self.player.play(clip)

    def suggestion(self, index: int) -> Any:
        snapshot = self._snapshot
        if snapshot is None or not 0 <= index < len(snapshot.suggestions):
            return None
        return snapshot.suggestions[index]

    def audition(self, index: int) -> None:
        """Play suggestion ``index`` on the MIDI output, as a held chord."""
        suggestion = self.suggestion(index)
        if suggestion is not None:
            self.play_clip(chord_clip(voicing(suggestion.chord), AUDITION_S))

    def suggestion_file(self, index: int) -> Path | None:
        """A one-bar ``.mid`` of suggestion ``index`` (for a drag into a DAW)."""
        suggestion = self.suggestion(index)
        if suggestion is None:
            return None
        notes = [TimedNote(n, 0.0, float(BEATS_PER_BAR)) for n in voicing(suggestion.chord)]
        name = _file_name(suggestion.chord.symbol)
        return self._write(build_midi(notes, TEMPO_BPM, suggestion.chord.symbol), name)

    # -- progressions -------------------------------------------------------------------------

    def generate(
        self, key_text: str | None, bars: int, style: float, seed: int
    ) -> list[tuple[str, str]]:
        """Make a progression in ``key_text`` (``None``: the key Hookline hears, else C major);
        returns its (symbol, numeral) pairs for display."""
        if key_text is None:
            heard = self._snapshot.key if self._snapshot is not None else None
            key = heard or Key(0, "major")
        else:
            try:
                key = Key.parse(key_text)
            except ValueError as exc:
                raise HarmonyError(
                    _("“{text}” is not a key Hookline knows.").format(text=key_text)
                ) from exc
        progression = generate(key, bars, style, seed, model=self.model())
        self._progression = (progression, voice(progression))
        return [(symbol_text(c.chord.symbol), numeral_text(c.numeral)) for c in progression.chords]

    def progression_title(self) -> str:
        if self._progression is None:
            return _("Progression")
        progression = self._progression[0]
        return _("Progression in {key}").format(key=key_text(progression.key))

    def _progression_midi(self) -> Any:
        if self._progression is None:
            raise HarmonyError(_("Generate a progression first."))
        progression, voicings = self._progression
        notes = progression_notes(progression, voicings)
        return build_midi(notes, TEMPO_BPM, self.progression_title())

    def progression_file(self) -> Path | None:
        """The current progression as a ``.mid`` in the cache folder (for a drag)."""
        if self._progression is None:
            return None
        return self._write(self._progression_midi(), _file_name(self.progression_title()))

    def export_progression(self, path: Path) -> Path:
        """Save the current progression to ``path`` (atomically)."""
        try:
            return write_midi(self._progression_midi(), path)
        except MidiExportError as exc:
            raise HarmonyError(str(exc)) from exc

    def play_progression(self) -> None:
        """Play the current progression on the MIDI output at :data:`TEMPO_BPM`."""
        if self._progression is None:
            return
        progression, voicings = self._progression
        beat = 60.0 / TEMPO_BPM
        clip: list[tuple[float, bytes]] = []
        for note in progression_notes(progression, voicings):
            clip.append((note.start * beat, bytes((0x90, note.pitch, note.velocity))))
            end = (note.start + note.duration) * beat - 0.01
            clip.append((end, bytes((0x80, note.pitch, 0))))
        self.play_clip(clip)

    def _write(self, midi: Any, name: str) -> Path | None:
        try:
            self.files_dir.mkdir(parents=True, exist_ok=True)
            return write_midi(midi, self.files_dir / name)
        except (MidiExportError, OSError) as exc:
            self.messages.append(str(exc))
            return None


def _file_name(title: str) -> str:
    """A file name from a title: characters file systems refuse are dropped."""
    cleaned = "".join(c for c in title if c not in '<>:"/\\|?*' and ord(c) >= 32).strip(" .")
    return (cleaned or "Hookline")[:80] + ".mid"


def chord_clip(notes: list[int], seconds: float, channel: int = 0) -> list[tuple[float, bytes]]:
    on = [(0.0, bytes((0x90 | channel, n, AUDITION_VELOCITY))) for n in notes]
    off = [(seconds, bytes((0x80 | channel, n, 0))) for n in notes]
    return on + off
