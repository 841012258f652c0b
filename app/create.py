"""The Create room's melody ideas, without Qt: generate, vary, continue; files to drag or save;
clips to play on the MIDI output; clips saved into the open project.

Main thread only. Generating eight bars takes about 15 ms once the model is loaded (the first
request loads it, about a tenth of a second, and the sampler's compiled code), so requests run
in the caller's thread. A preview renders the idea with the built-in synth (a few milliseconds
for eight bars) and plays it on the audio output (:mod:`audio.synth`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from app.i18n import N_, _
from app.melody import KeyChoice, MelodyInputError, melody_midi, melody_notes, phrase_seed
from app.midi_export import MidiExportError, TimedNote, write_midi
from models.melody import tokens as tk
from models.melody.runner import MelodyModel, MelodyRequest, MelodyRequestError
from models.theory import MAJOR_KEY_NAMES

TONIC_NAMES: tuple[str, ...] = MAJOR_KEY_NAMES  # the key menu's tonics, C first

PREVIEW_VELOCITY = 96


class CreateError(Exception):
    """What went wrong, translated, for the status bar."""


@dataclass(frozen=True)
class Idea:
    """One generated melody: the request that made it and its tokens."""

    number: int
    key: KeyChoice
    request: MelodyRequest
    tokens: tuple[int, ...]
    tempo_bpm: float

    @property
    def title(self) -> str:
        return _("Idea {number} · {key} · {meter}").format(
            number=self.number, key=self.key.name, meter=self.request.meter
        )

    def notes(self) -> list[TimedNote]:
        return melody_notes(self.tokens, self.key.tonic)

    @property
    def beats_per_bar(self) -> float:
        return tk.bar_ticks(self.request.meter) / tk.TPQ

    @property
    def beats(self) -> float:
        bars = sum(1 for t in self.tokens if t == tk.BAR)
        return bars * tk.bar_ticks(self.request.meter) / tk.TPQ


_PREVIEW_ERRORS = {
    "no-output": N_("There is no audio output to preview on ({detail}); Send to MIDI out "
                    "still plays the idea on Hookline Out."),
    "bad-port": N_("The preview output setting names no JACK input port: {detail}"),
    "open-failed": N_("The audio output refused to play the preview: {detail}"),
    "empty": N_("This idea has no notes to preview."),
}  # fmt: skip


class MelodySession:
    def __init__(
        self, files_dir: Path, model_path: Path | None = None, output_device: str = ""
    ) -> None:
        """``output_device``: where previews play (the ``audio.output_device`` setting)."""
        self.files_dir = files_dir
        self.model_path = model_path
        self.output_device = output_device
        self._model: MelodyModel | None = None
        self._preview: Any = None  # audio.synth.PreviewOutput, opened on the first preview
        self.previewing: int | None = None  # the idea being previewed
        self.ideas: list[Idea] = []

    def _net(self) -> MelodyModel:
        if self._model is None:
            try:
                self._model = MelodyModel(self.model_path) if self.model_path else MelodyModel()
            except (FileNotFoundError, OSError) as exc:
                raise CreateError(
                    _("The melody model could not be loaded: {reason}").format(reason=str(exc))
                ) from exc
        return self._model

    def _run(self, key: KeyChoice, request: MelodyRequest, tempo: float) -> Idea:
        try:
            tokens = tuple(self._net().generate(request))
        except MelodyRequestError as exc:
            raise CreateError(str(exc)) from exc
        idea = Idea(len(self.ideas) + 1, key, request, tokens, tempo)
        self.ideas.append(idea)
        return idea

    def generate(
        self,
        key: KeyChoice,
        meter: str,
        bars: int,
        chords: tuple[str, ...] = (),
        temperature: float = 1.0,
        seed: int = 0,
        tempo: float = 110.0,
    ) -> Idea:
        request = MelodyRequest(
            tonic=key.tonic, mode=key.mode, meter=meter, bars=bars, chords=chords,
            temperature=temperature, seed=seed,
        )  # fmt: skip
        return self._run(key, request, tempo)

    def vary(self, index: int) -> Idea:
        """The same request with the next seed."""
        idea = self.ideas[index]
        request = replace(idea.request, seed=idea.request.seed + 1000)
        return self._run(idea.key, request, idea.tempo_bpm)

    def extend(self, index: int, bars: int = 4) -> Idea:
        """The idea continued by ``bars`` more bars (the original is kept)."""
        idea = self.ideas[index]
        request = replace(idea.request, prefix=idea.tokens[:-1], bars=idea.request.bars + bars)
        return self._run(idea.key, request, idea.tempo_bpm)

    def continue_played(
        self,
        played: Sequence[Any],
        key: KeyChoice,
        meter: str,
        bars: int,
        chords: tuple[str, ...] = (),
        temperature: float = 1.0,
        seed: int = 0,
        tempo: float = 110.0,
    ) -> Idea:
        """The phrase just played on the MIDI input (see :func:`app.melody.phrase_seed`),
        kept as it was played (snapped to the grid) and continued by ``bars`` bars."""
        try:
            prefix = phrase_seed(played, tempo, key, meter)
        except MelodyInputError as exc:
            raise CreateError(str(exc)) from exc
        played_bars = sum(1 for t in prefix if t == tk.BAR)
        request = MelodyRequest(
            tonic=key.tonic, mode=key.mode, meter=meter, bars=min(64, played_bars + bars),
            chords=chords, temperature=temperature, seed=seed, prefix=prefix,
        )  # fmt: skip
        return self._run(key, request, tempo)

    def file_for(self, index: int) -> Path | None:
        """A ``.mid`` of idea ``index`` in the cache (for a drag into a DAW)."""
        if not 0 <= index < len(self.ideas):
            return None
        idea = self.ideas[index]
        try:
            self.files_dir.mkdir(parents=True, exist_ok=True)
            return self.export(index, self.files_dir / f"Hookline idea {idea.number}.mid")
        except CreateError:
            return None

    def export(self, index: int, path: Path) -> Path:
        idea = self.ideas[index]
        try:
            midi = melody_midi(idea.tokens, idea.key.tonic, idea.request.meter, idea.tempo_bpm)
            return write_midi(midi, path)
        except (MidiExportError, OSError) as exc:
            raise CreateError(str(exc)) from exc

    def clip(self, index: int) -> list[tuple[float, bytes]]:
        """Note-on/off messages in seconds, for the MIDI output's clip player."""
        idea = self.ideas[index]
        beat_s = 60.0 / idea.tempo_bpm
        events: list[tuple[float, bytes]] = []
        for note in idea.notes():
            events.append((note.start * beat_s, bytes((0x90, note.pitch, PREVIEW_VELOCITY))))
            end = (note.start + note.duration) * beat_s - 0.005
            events.append((end, bytes((0x80, note.pitch, 0))))
        return sorted(events, key=lambda e: (e[0], e[1][0] == 0x90))

    def synth_notes(self, index: int) -> list[Any]:
        """Idea ``index`` as notes in seconds for the preview synth."""
        from audio.synth import SynthNote

        idea = self.ideas[index]
        beat_s = 60.0 / idea.tempo_bpm
        return [
            SynthNote(n.start * beat_s, (n.start + n.duration) * beat_s - 0.01, n.pitch,
                      PREVIEW_VELOCITY)
            for n in idea.notes()
        ]  # fmt: skip

    def preview(self, index: int) -> float:
        """Play idea ``index`` on the audio output with the built-in synth, replacing any
        preview that plays; returns its length in seconds."""
        from audio.synth import PreviewError, PreviewOutput, render

        try:
            if self._preview is None or self._preview.device_setting != self.output_device:
                self.stop_preview()
                self._preview = PreviewOutput(self.output_device)
            buffer = render(self.synth_notes(index), self._preview.rate)
            self._preview.play(buffer)
        except PreviewError as exc:
            self.previewing = None
            template = _PREVIEW_ERRORS.get(exc.reason, _PREVIEW_ERRORS["open-failed"])
            raise CreateError(_(template).format(detail=exc.detail or exc.reason)) from exc
        self.previewing = index
        return float(self._preview.length_s)

    def preview_position(self) -> float | None:
        """Seconds into the preview that plays, or None when none does."""
        if self._preview is None or self.previewing is None or not self._preview.playing:
            self.previewing = None
            return None
        return float(self._preview.position_s)

    def stop_preview(self) -> None:
        if self._preview is not None:
            self._preview.stop()
        self.previewing = None

    def close(self) -> None:
        """Stop and release the preview output (PortAudio must close before it terminates)."""
        self.stop_preview()
        self._preview = None

    def save_to_project(self, project: Any, index: int) -> None:
        """Append idea ``index`` to the project's clips (name, start beat 0, notes as
        [pitch, start beat, length in beats, velocity])."""
        from pycrdt import Array, Map

        idea = self.ideas[index]
        notes = [[n.pitch, n.start, n.duration, PREVIEW_VELOCITY] for n in idea.notes()]
        with project.edit():
            project.clips.append(
                Map(
                    {
                        "name": idea.title,
                        "start_beat": 0.0,
                        "meter": idea.request.meter,
                        "key": idea.key.name,
                        "notes": Array(notes),
                    }
                )
            )
