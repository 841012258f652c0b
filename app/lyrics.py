"""Lyric writing help for the app and the command line, without Qt: scan a sheet, fit it to a
melody, find rhymes, suggest lines. The work is in :mod:`models.lyrics`; this module loads the
pieces once (lazily: the pronunciation dictionary takes about a second, the rhyme index and the
line model a little more), turns their failures into translated messages, and reads melodies
from MIDI files and from the Create room's ideas.

Thread: any one thread at a time (the GUI calls it from the main thread; the heavy first loads
can be started early with :meth:`LyricsTools.warm_up` from a worker).
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from app.i18n import N_, _
from app.midi_export import TimedNote
from app.midi_files import MidiFileError, MidiNotes, read_midi
from models.lyrics.dictionary import Pronouncer
from models.lyrics.scan import LineFit, MelodyNote, SheetScan, fit, scan

log = logging.getLogger(__name__)
__all__ = [  # the ui reaches the scan types through here, never models/ directly
    "KIND_LABELS", "LineFit", "LineIdeas", "LyricsError", "LyricsTools", "Melody", "RhymeView",
    "SheetScan", "lyric_languages", "melody_from_midi", "melody_from_notes", "meter_beats",
    "project_melodies", "supported_language",
]  # fmt: skip
MAX_TEXT_CHARS = 1_000_000
_SHARED: dict[str, Any] = {}  # see LyricsTools: read-only models shared by the process
_SHARED_LOCK = threading.Lock()  # longer pastes are scanned up to here


class LyricsError(Exception):
    """What went wrong, translated, for a message or the command line."""


def lyric_languages() -> list[str]:
    """``en`` and the languages Pyphen hyphenates (short codes where they exist)."""
    import pyphen

    codes = {code.split("_")[0] for code in pyphen.LANGUAGES}
    return ["en", *sorted(codes - {"en"})]


def supported_language(language: str) -> bool:
    return language.split("_")[0].lower() in lyric_languages()


@dataclass(frozen=True)
class Melody:
    """A melody to fit lyrics to: notes in beats and the meter's bar length in beats."""

    notes: tuple[MelodyNote, ...]
    beats_per_bar: float = 4.0
    beat_unit: float = 1.0  # 1.5 for compound meters (6/8, 9/8, 12/8)
    name: str = ""


def meter_beats(numerator: int, denominator: int) -> tuple[float, float]:
    """(bar length, felt beat) in quarter notes: 4/4 → (4, 1); 6/8 → (3, 1.5)."""
    compound = denominator == 8 and numerator % 3 == 0 and numerator > 3
    return numerator * 4 / denominator, 1.5 if compound else 4 / denominator


def melody_from_notes(notes: Sequence[TimedNote], meter: str = "4/4", name: str = "") -> Melody:
    num, den = (int(p) for p in meter.split("/"))
    bar, unit = meter_beats(num, den)
    return Melody(tuple(MelodyNote(n.pitch, n.start, n.duration) for n in notes), bar, unit, name)


def melody_from_midi(path: Path) -> Melody:
    """The non-drum notes of a MIDI file (all tracks; the fit keeps the top line) and its
    first time signature."""
    try:
        midi: MidiNotes = read_midi(path)
    except MidiFileError as exc:
        raise LyricsError(str(exc)) from exc
    notes = tuple(
        MelodyNote(n.pitch, n.onset_beat, n.offset_beat - n.onset_beat)
        for n in midi.notes
        if not n.is_drum
    )
    if not notes:
        raise LyricsError(_("{path} has no notes to fit the lyrics to.").format(path=str(path)))
    sig = midi.time_signatures[0] if midi.time_signatures else None
    bar, unit = meter_beats(sig.numerator, sig.denominator) if sig else (4.0, 1.0)
    return Melody(notes, bar, unit, path.name)


KIND_LABELS = {
    "perfect": N_("perfect"),
    "multi": N_("multi-syllable"),
    "near": N_("near"),
    "assonance": N_("assonance"),
    "consonance": N_("consonance"),
}


@dataclass(frozen=True)
class RhymeView:
    word: str
    kind: str  # one of models.lyrics.rhymes.KINDS
    score: float
    syllables: int
    stress: str

    @property
    def kind_label(self) -> str:
        return _(KIND_LABELS.get(self.kind, self.kind))


@dataclass(frozen=True)
class LineIdeas:
    lines: tuple[str, ...]
    stresses: tuple[str, ...]
    note: str = ""  # translated: why there are fewer lines than asked


MAX_CLIP_NOTES = 20_000


def project_melodies(project: Any) -> list[Melody]:
    """The MIDI clips saved in ``project`` (``clips``: maps with ``name``, ``meter`` and
    ``notes`` as ``[pitch, start beat, length, velocity]``) as melodies to fit lyrics to.
    Clips that are not shaped like that (an older or a foreign writer, a damaged sync) are
    left out, never raised on."""
    try:
        clips = project.content().get("clips", [])
    except Exception:  # a closed or damaged project: nothing to offer
        log.warning("the project's clips could not be read", exc_info=True)
        return []
    out: list[Melody] = []
    for clip in clips if isinstance(clips, list) else []:
        if not isinstance(clip, dict):
            continue
        notes: list[TimedNote] = []
        for raw in (
            clip.get("notes", [])[:MAX_CLIP_NOTES] if isinstance(clip.get("notes"), list) else []
        ):
            if (
                isinstance(raw, list) and len(raw) >= 3
                and all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in raw[:3])
                and 0 <= raw[0] <= 127 and 0 <= raw[1] < 1e6 and 0 < raw[2] < 1e6
            ):  # fmt: skip
                notes.append(TimedNote(int(raw[0]), float(raw[1]), float(raw[2])))
        meter = clip.get("meter", "4/4")
        if not isinstance(meter, str) or not re.fullmatch(r"[1-9][0-9]?/(1|2|4|8|16|32)", meter):
            meter = "4/4"
        name = clip.get("name")
        if notes:
            out.append(melody_from_notes(notes, meter, name if isinstance(name, str) else ""))
    return out


class LyricsTools:
    """The loaded pieces, shared by the Lyrics pane and the command line."""

    def __init__(self, language: str = "en", cache_dir: Path | None = None) -> None:
        """``language``: ``en``, or any language Pyphen hyphenates (syllables only; rhymes
        and line ideas are English). ``cache_dir``: where the rhyme index is kept between
        runs (built there on first use, about two seconds; loaded in a fraction of one
        afterwards)."""
        if not supported_language(language):
            raise LyricsError(
                _("Lyrics in “{language}” are not supported; known: {known}.").format(
                    language=language, known=", ".join(lyric_languages())
                )
            )
        self.language = language
        self.cache_dir = cache_dir

    # -- loading -----------------------------------------------------------------------------
    # The dictionary, the rhyme index and the line model are read-only once built and take
    # seconds to load: every LyricsTools of the process shares one of each (per language for
    # the dictionary). The first caller loads; others wait on the lock.
    @property
    def pronouncer(self) -> Pronouncer:
        key = f"pronouncer:{self.language}"
        found = _SHARED.get(key)  # loaded: no lock (a load of something else may hold it)
        if found is None:
            with _SHARED_LOCK:
                if key not in _SHARED:
                    _SHARED[key] = _load_pronouncer(self.language)
                found = _SHARED[key]
        assert isinstance(found, Pronouncer)
        return found

    @property
    def ready(self) -> bool:
        """The dictionary is loaded: scanning will not wait for it."""
        return f"pronouncer:{self.language}" in _SHARED

    @property
    def rhymes_ready(self) -> bool:
        return "rhymes" in _SHARED

    def warm_up(self) -> None:
        """Load the dictionary (and the G2P), the rhyme index and the line model now rather
        than on the first request (from a worker thread: each takes a second or two; nothing
        when they are loaded already)."""
        try:
            self.pronouncer.pronounce("warm")
            _ = self.rhyme_index
            _ = self.line_model
        except (LyricsError, OSError, ValueError) as exc:
            log.warning("warming up the lyrics tools failed: %s", exc)

    @property
    def line_model(self) -> Any:
        """The shipped line model (:class:`models.lyrics.lines.LineModel`), loaded once."""
        if "lines" in _SHARED:
            return _SHARED["lines"]
        with _SHARED_LOCK:
            if "lines" not in _SHARED:
                from models.lyrics.lines import LineModel

                try:
                    _SHARED["lines"] = LineModel.load()
                except (OSError, ValueError, KeyError) as exc:
                    raise LyricsError(
                        _("The line model could not be loaded: {reason}").format(reason=str(exc))
                    ) from exc
            return _SHARED["lines"]

    @property
    def rhyme_index(self) -> Any:
        """The rhyme index (:class:`models.lyrics.rhymes.RhymeIndex`), loaded once (from the
        cache folder of the first LyricsTools that asks, or built there)."""
        if "rhymes" in _SHARED:
            return _SHARED["rhymes"]
        with _SHARED_LOCK:
            if "rhymes" not in _SHARED:
                from models.lyrics.rhymes import RhymeIndex

                if self.cache_dir is None:
                    _SHARED["rhymes"] = RhymeIndex()
                else:
                    _SHARED["rhymes"] = RhymeIndex.cached(self.cache_dir / "lyrics")
            return _SHARED["rhymes"]

    # -- rhymes ------------------------------------------------------------------------------
    def rhymes(
        self,
        word: str,
        near: bool = False,
        syllables: int | None = None,
        kinds: Sequence[str] | None = None,
        limit: int = 50,
        stress: str | None = None,
    ) -> list[RhymeView]:
        """Rhymes of ``word``: perfect and multi-syllable ones, and near ones with ``near``
        (or exactly ``kinds``). A word the dictionary lacks is looked up by its G2P
        pronunciation; a word with none raises :class:`LyricsError`."""
        chosen = tuple(kinds) if kinds else ("perfect", "multi", *(("near",) if near else ()))
        unknown = [k for k in chosen if k not in KIND_LABELS]
        if unknown:
            raise LyricsError(
                _("Unknown kind of rhyme: {kinds}. Known: {known}.").format(
                    kinds=", ".join(unknown), known=", ".join(KIND_LABELS)
                )
            )
        index = self.rhyme_index
        text = word.strip()[:64]
        phones = None
        if not index.knows(text):
            said = self.pronouncer.pronounce(text)
            phones = said.phones or None
            if phones is None:
                raise LyricsError(
                    _("“{word}” has no known pronunciation, so its rhymes are unknown.").format(
                        word=text
                    )
                )
        if stress is not None and (not stress or set(stress) - set("012")):
            raise LyricsError(_('A stress pattern is digits 0, 1 and 2, one a syllable: "10".'))
        found = index.rhymes(
            text, kinds=chosen, syllables=syllables, stress=stress, limit=limit, phones=phones
        )
        return [RhymeView(r.word, r.kind, r.score, r.syllables, r.stress) for r in found]

    # -- line ideas --------------------------------------------------------------------------
    def suggest(
        self,
        syllables: int,
        rhyme_with: str | None = None,
        after: str = "",
        topic: Sequence[str] = (),
        stress: str | None = None,
        count: int = 5,
        seed: int = 0,
    ) -> LineIdeas:
        """Line ideas of exactly ``syllables`` syllables (ending in a perfect rhyme of
        ``rhyme_with`` when given); ``note`` says, translated, why there are fewer than
        ``count`` (empty when all were found)."""
        from models.lyrics.lines import LineRequestError

        if not 1 <= syllables <= 24:
            raise LyricsError(_("A line has between 1 and 24 syllables."))
        if stress is not None and (len(stress) != syllables or set(stress) - set("01x")):
            raise LyricsError(
                _("The stress pattern needs one character a syllable ({count}): 0 unstressed, "
                  "1 stressed, x either.").format(count=syllables)
            )  # fmt: skip
        word = (rhyme_with or "").strip()[:64] or None
        try:
            found = self.line_model.suggest(
                syllables, rhyme_with=word, stress=stress, after=after[-4000:],
                topic=tuple(topic), count=count, seed=seed,
            )  # fmt: skip
        except LineRequestError as exc:
            raise LyricsError(
                _("These constraints cannot be met: {reason}").format(reason=str(exc))
            ) from exc
        note = ""
        if found.reason:
            log.info("line ideas: %s", found.reason)
            if not found and word and not self.pronouncer.all_phones(word):
                note = _("“{word}” is not in the pronunciation dictionary, so its rhymes are "
                         "unknown.").format(word=word)  # fmt: skip
            elif not found and word:
                note = _("No line of {count} syllables can end in a rhyme of “{word}”.").format(
                    count=syllables, word=word
                )
            elif not found:
                note = _("No line of exactly {count} syllables could be made with these "
                         "constraints.").format(count=syllables)  # fmt: skip
            else:
                note = _("Only {found} different lines were found.").format(found=len(found))
        return LineIdeas(tuple(s.text for s in found), tuple(s.stress for s in found), note)

    # -- scanning ----------------------------------------------------------------------------
    def scan(self, text: str) -> SheetScan:
        return scan(text[:MAX_TEXT_CHARS], self.pronouncer)

    def fit(self, text: str, melody: Melody) -> list[LineFit]:
        sheet = self.scan(text)
        return fit(sheet, melody.notes, melody.beats_per_bar, melody.beat_unit)


def _load_pronouncer(language: str) -> Pronouncer:
    """CMUdict with the shipped G2P attached (English), or hyphenation (other languages)."""
    if not language.lower().startswith("en"):
        return Pronouncer(language)
    from models.lyrics.g2p import default_pronouncer

    return default_pronouncer()
