"""The Library: audio files the user added, analysed once in the background and kept in SQLite.

:class:`Library` queues files and folders (:meth:`Library.add_paths`), analyses them one at a
time on a plain worker thread with :func:`audio.track.analyze_file`, and stores each result (or
the reason a file could not be analysed) as an :class:`app.storage.AnalysedTrackRow`. A file
already in the database is skipped when its size and modification time are unchanged, or when
only its time changed and its fast fingerprint (:func:`fingerprint`) is the same.

Besides the analysis, the worker reads the file once more to keep a small waveform overview, the
DC offset and the silence at both ends (:func:`summarise`), which the streaming-readiness checks
(:func:`readiness`) need and the analysis does not report.

Threads: :meth:`Library.add_paths`, :meth:`Library.cancel`, :meth:`Library.poll`,
:meth:`Library.tracks`, :meth:`Library.remove` and :meth:`Library.close` are called from one
thread (the UI's). The worker talks back only through a lock-protected progress record and a
message list that :meth:`Library.poll` drains without waiting; it writes the database in its own
sessions. No Qt here.
"""

from __future__ import annotations

import hashlib
import logging
import math
import threading
from collections import deque
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
from sqlalchemy import delete, select

from app.analyze_cli import AUDIO_SUFFIXES, problem_text
from app.i18n import _, format_decimal, format_percent, ngettext
from app.storage import AnalysedTrackRow, Database, StorageError

log = logging.getLogger(__name__)

# Bump when the stored analysis changes: rows of an older version are analysed again on re-add.
ANALYSIS_VERSION = 2  # 2: downbeats and beats per bar
FINGERPRINT_CHUNK = 1 << 20  # 1 MiB from each end
ENVELOPE_POINTS = 800
SILENCE_LEVEL = 10 ** (-60 / 20)  # -60 dBFS: quieter than this counts as silence
ANALYSIS_SHARE = 0.9  # of one file's progress; the waveform summary takes the rest

NOTE_NAMES = ("C", "C#", "D", "Eb", "E", "F", "F#", "G", "Ab", "A", "Bb", "B")

Analyse = Callable[[Path, Callable[[float], None], threading.Event], Any]


def fingerprint(path: Path, size: int | None = None) -> str:
    """A fast content fingerprint: SHA-256 of the size (8 bytes, little-endian), the first MiB
    and the last MiB (the whole file once when it is shorter than 2 MiB). Two files with the
    same fingerprint almost certainly hold the same audio; it is not a hash of the whole file."""
    size = path.stat().st_size if size is None else size
    digest = hashlib.sha256(size.to_bytes(8, "little"))
    with open(path, "rb") as f:
        if size <= 2 * FINGERPRINT_CHUNK:
            digest.update(f.read())
        else:
            digest.update(f.read(FINGERPRINT_CHUNK))
            f.seek(size - FINGERPRINT_CHUNK)
            digest.update(f.read(FINGERPRINT_CHUNK))
    return digest.hexdigest()


@dataclass(frozen=True)
class WaveSummary:
    """What the readiness checks and the overview need beyond the analysis."""

    envelope_min: list[float]
    envelope_max: list[float]
    dc_offset: float  # the channel mean furthest from zero, full scale = 1
    leading_silence_s: float
    trailing_silence_s: float


def summarise(
    path: Path,
    points: int = ENVELOPE_POINTS,
    cancel: threading.Event | None = None,
    progress: Callable[[float], None] | None = None,
) -> WaveSummary:
    """Read ``path`` once: a min/max envelope over ``points`` equal slices (all channels),
    the DC offset and the silence (below -60 dBFS) at the start and the end."""
    from audio.audio_file import blocks, open_info
    from audio.track import Cancelled

    info = open_info(path)
    frames = max(1, info.frames)
    points = max(1, min(points, frames))
    edges = np.linspace(0, frames, points + 1).astype(np.int64)
    lows = np.zeros(points, dtype=np.float64)
    highs = np.zeros(points, dtype=np.float64)
    sums = np.zeros(info.channels, dtype=np.float64)
    first_loud = -1
    last_loud = -1
    start = 0
    for block in blocks(info):
        if cancel is not None and cancel.is_set():
            raise Cancelled(str(path))
        n = len(block)
        sums += block.sum(axis=0, dtype=np.float64)
        low = block.min(axis=1)
        high = block.max(axis=1)
        loud = np.flatnonzero(np.abs(block).max(axis=1) > SILENCE_LEVEL)
        if len(loud):
            if first_loud < 0:
                first_loud = start + int(loud[0])
            last_loud = start + int(loud[-1])
        # Slices that overlap this block: reduce each overlapping part into its slot.
        first = int(np.searchsorted(edges, start, side="right")) - 1
        last = int(np.searchsorted(edges, start + n, side="left"))
        for slot in range(max(first, 0), min(last, points)):
            a = max(int(edges[slot]), start) - start
            b = min(int(edges[slot + 1]), start + n) - start
            if b > a:
                lows[slot] = min(lows[slot], float(low[a:b].min()))
                highs[slot] = max(highs[slot], float(high[a:b].max()))
        start += n
        if progress is not None:
            progress(min(1.0, start / frames))
    total = max(1, start)
    means = sums / total
    dc = float(means[int(np.argmax(np.abs(means)))]) if len(means) else 0.0
    rate = float(info.sample_rate)
    if first_loud < 0:
        leading = trailing = start / rate
    else:
        leading = first_loud / rate
        trailing = (start - 1 - last_loud) / rate
    return WaveSummary(
        [round(float(v), 4) for v in lows],
        [round(float(v), 4) for v in highs],
        dc,
        leading,
        trailing,
    )


@dataclass(frozen=True)
class Section:
    start_s: float
    end_s: float
    label: str


@dataclass(frozen=True)
class ChordSpan:
    start_s: float
    end_s: float
    name: str


@dataclass(frozen=True)
class Track:
    """One row of the Library, as the view shows it. Measurements are ``None`` when unknown."""

    id: int
    path: str
    size: int
    analysed_at: datetime
    error: str | None = None
    duration_s: float | None = None
    tempo_bpm: float | None = None
    tempo_confidence: float | None = None
    key_tonic: int | None = None
    mode: str | None = None
    key_confidence: float | None = None
    camelot: str | None = None
    loudness_lufs: float | None = None
    loudness_range_lu: float | None = None
    true_peak_dbtp: float | None = None
    sample_peak_dbfs: float | None = None
    energy: float | None = None
    danceability: float | None = None
    brightness: float | None = None
    dc_offset: float | None = None
    leading_silence_s: float | None = None
    trailing_silence_s: float | None = None
    beats: tuple[float, ...] = ()
    beats_per_bar: int | None = None
    downbeats: tuple[float, ...] = ()
    sections: tuple[Section, ...] = ()
    chords: tuple[ChordSpan, ...] = ()
    envelope_min: tuple[float, ...] = ()
    envelope_max: tuple[float, ...] = ()

    @property
    def name(self) -> str:
        return Path(self.path).name

    @property
    def key(self) -> str | None:
        return None if self.key_tonic is None else NOTE_NAMES[self.key_tonic % 12]

    @property
    def analysed(self) -> bool:
        return self.error is None and self.tempo_bpm is not None

    @classmethod
    def from_row(cls, row: AnalysedTrackRow) -> Track:
        envelope = row.envelope or {}
        return cls(
            id=row.id,
            path=row.path,
            size=row.size,
            analysed_at=row.analysed_at,
            error=row.error,
            duration_s=row.duration_s,
            tempo_bpm=row.tempo_bpm,
            tempo_confidence=row.tempo_confidence,
            key_tonic=row.key_tonic,
            mode=row.mode,
            key_confidence=row.key_confidence,
            camelot=row.camelot,
            loudness_lufs=row.loudness_lufs,
            loudness_range_lu=row.loudness_range_lu,
            true_peak_dbtp=row.true_peak_dbtp,
            sample_peak_dbfs=row.sample_peak_dbfs,
            energy=row.energy,
            danceability=row.danceability,
            brightness=row.brightness,
            dc_offset=row.dc_offset,
            leading_silence_s=row.leading_silence_s,
            trailing_silence_s=row.trailing_silence_s,
            beats=tuple(float(b) for b in row.beats or ()),
            beats_per_bar=row.beats_per_bar,
            downbeats=tuple(float(b) for b in row.downbeats or ()),
            sections=tuple(
                Section(float(s["start_s"]), float(s["end_s"]), str(s["label"]))
                for s in row.sections or ()
            ),
            chords=tuple(
                ChordSpan(float(c["start_s"]), float(c["end_s"]), str(c["name"]))
                for c in row.chords or ()
            ),
            envelope_min=tuple(float(v) for v in envelope.get("min", ())),
            envelope_max=tuple(float(v) for v in envelope.get("max", ())),
        )


@dataclass(frozen=True)
class Progress:
    """Where the background analysis stands. ``done`` counts finished files of this batch (also
    skipped and failed ones); ``fraction`` is how far the current file is."""

    busy: bool = False
    done: int = 0
    total: int = 0
    current: str = ""
    fraction: float = 0.0

    @property
    def overall(self) -> float:
        if self.total <= 0:
            return 0.0
        return min(1.0, (self.done + (self.fraction if self.busy else 0.0)) / self.total)


@dataclass(frozen=True)
class Poll:
    progress: Progress
    messages: list[str]
    revision: int  # grows whenever the stored tracks changed


# -- harmonic mixing ---------------------------------------------------------------------------


def parse_camelot(code: str | None) -> tuple[int, str] | None:
    if not code or len(code) < 2 or code[-1] not in "AB" or not code[:-1].isdigit():
        return None
    number = int(code[:-1])
    return (number, code[-1]) if 1 <= number <= 12 else None


def camelot_neighbours(code: str) -> dict[str, str]:
    """The Camelot codes that mix with ``code``, each with how they relate (a code word):
    ``same`` key, one step ``up`` or ``down`` the wheel, ``relative`` major/minor."""
    parsed = parse_camelot(code)
    if parsed is None:
        return {}
    number, letter = parsed
    other = "A" if letter == "B" else "B"
    return {
        f"{number}{letter}": "same",
        f"{number % 12 + 1}{letter}": "up",
        f"{(number - 2) % 12 + 1}{letter}": "down",
        f"{number}{other}": "relative",
    }


def relation_text(relation: str) -> str:
    texts = {
        "same": _("same key"),
        "up": _("one step up the Camelot wheel"),
        "down": _("one step down the Camelot wheel"),
        "relative": _("relative major or minor"),
    }
    return texts.get(relation, relation)


@dataclass(frozen=True)
class Match:
    track: Track
    relation: str  # a key of camelot_neighbours
    tempo_factor: float  # 1, 2 (the other runs at half tempo) or 0.5 (double tempo)
    bpm_difference: float  # percent, after the tempo factor

    def text(self) -> str:
        bpm = format_decimal(self.track.tempo_bpm or 0.0, 1)
        if self.tempo_factor == 2.0:
            tempo = _("{bpm} BPM (half tempo)").format(bpm=bpm)
        elif self.tempo_factor == 0.5:
            tempo = _("{bpm} BPM (double tempo)").format(bpm=bpm)
        else:
            tempo = _("{bpm} BPM").format(bpm=bpm)
        return _("{file} · {camelot} · {tempo} · {relation}").format(
            file=self.track.name,
            camelot=self.track.camelot or "",
            tempo=tempo,
            relation=relation_text(self.relation),
        )


def compatible(track: Track, tracks: Iterable[Track], bpm_range: float = 0.06) -> list[Match]:
    """Tracks that mix with ``track``: a Camelot-compatible key (same code, one number up or
    down with the same letter, same number with the other letter) and a tempo within
    ``bpm_range`` (a fraction) of its tempo, directly or at half or double tempo. Best first:
    same key before neighbours, then the smaller tempo difference."""
    if not track.analysed or not track.tempo_bpm or track.camelot is None:
        return []
    neighbours = camelot_neighbours(track.camelot)
    order = {"same": 0, "relative": 1, "up": 1, "down": 1}
    matches: list[Match] = []
    for other in tracks:
        if other.id == track.id or not other.analysed or not other.tempo_bpm:
            continue
        relation = neighbours.get(other.camelot or "")
        if relation is None:
            continue
        best: tuple[float, float] | None = None
        for factor in (1.0, 2.0, 0.5):
            difference = abs(other.tempo_bpm * factor - track.tempo_bpm) / track.tempo_bpm
            if difference <= bpm_range and (best is None or difference < best[1]):
                best = (factor, difference)
        if best is not None:
            matches.append(Match(other, relation, best[0], best[1] * 100.0))
    matches.sort(key=lambda m: (order[m.relation], m.bpm_difference, m.track.name.lower()))
    return matches


# -- streaming readiness -----------------------------------------------------------------------


@dataclass(frozen=True)
class Platform:
    name: str
    target_lufs: float
    turns_up: bool  # raises quiet tracks (only as far as the peak headroom allows)


# Published loudness-normalisation targets (default settings), as of 2025.
PLATFORMS: tuple[Platform, ...] = (
    Platform("Spotify", -14.0, True),
    Platform("Apple Music", -16.0, True),
    Platform("YouTube", -14.0, False),
    Platform("Amazon Music", -14.0, True),
)
TRUE_PEAK_LIMIT = -1.0  # dBTP: headroom for lossy encoding
CLIP_LEVEL = -0.1  # dBFS: a sample this high is (or is at the edge of) clipping
DC_LIMIT = 0.001  # about -60 dBFS of offset
LEADING_SILENCE_LIMIT = 1.0  # seconds
TRAILING_SILENCE_LIMIT = 3.0
ADJUSTMENT_TOLERANCE = 0.5  # dB: smaller changes count as "plays as it is"

PASS, WARN, FAIL, INFO = "pass", "warn", "fail", "info"


@dataclass(frozen=True)
class Check:
    key: str  # "spotify", "true_peak", "clipping", "dc_offset", "silence_start", ...
    status: str  # PASS, WARN, FAIL or INFO
    title: str
    detail: str


def _db(value: float) -> str:
    return format_decimal(round(abs(value), 1) or 0.0, 1)


def platform_check(platform: Platform, lufs: float, true_peak: float | None) -> Check:
    """What ``platform``'s loudness normalisation does to a track at ``lufs``."""
    key = platform.name.lower().replace(" ", "_")
    change = platform.target_lufs - lufs
    target = format_decimal(platform.target_lufs, 0)
    if change < -ADJUSTMENT_TOLERANCE:
        detail = _("turns it down by {db} dB (target {target} LUFS)").format(
            db=_db(change), target=target
        )
        return Check(key, PASS, platform.name, detail)
    if change <= ADJUSTMENT_TOLERANCE:
        detail = _("plays it as it is (target {target} LUFS)").format(target=target)
        return Check(key, PASS, platform.name, detail)
    if not platform.turns_up:
        detail = _(
            "does not turn quiet tracks up: it plays {db} dB quieter than the target "
            "({target} LUFS)"
        ).format(db=_db(change), target=target)
        return Check(key, WARN, platform.name, detail)
    headroom = TRUE_PEAK_LIMIT - true_peak if true_peak is not None else change
    raised = max(0.0, min(change, headroom))
    if change - raised <= ADJUSTMENT_TOLERANCE:
        detail = _("turns it up by {db} dB (target {target} LUFS)").format(
            db=_db(raised), target=target
        )
        return Check(key, PASS, platform.name, detail)
    detail = _(
        "can turn it up by only {raised} dB of {db} dB (the peaks are in the way): it plays "
        "quieter than the target ({target} LUFS)"
    ).format(raised=_db(raised), db=_db(change), target=target)
    return Check(key, WARN, platform.name, detail)


def readiness(track: Track) -> list[Check]:
    """The streaming-readiness checks for ``track``: what each platform's loudness normalisation
    does to it, true peak, clipping, DC offset and silence at both ends. Empty for a track that
    was not analysed."""
    if not track.analysed:
        return []
    checks: list[Check] = []
    lufs = track.loudness_lufs
    if lufs is None:
        checks.append(
            Check("loudness", INFO, _("Loudness"), _("too quiet to measure its loudness"))
        )
    else:
        checks.extend(platform_check(p, lufs, track.true_peak_dbtp) for p in PLATFORMS)
    peak = track.true_peak_dbtp
    if peak is not None:
        text = _("{value} dBTP (limit {limit} dBTP)").format(
            value=format_decimal(round(peak, 1), 1), limit=format_decimal(TRUE_PEAK_LIMIT, 1)
        )
        checks.append(
            Check("true_peak", PASS if peak <= TRUE_PEAK_LIMIT else WARN, _("True peak"), text)
        )
    sample_peak = track.sample_peak_dbfs
    if sample_peak is not None:
        clipping = sample_peak >= CLIP_LEVEL
        text = (
            _("samples reach {value} dBFS: it probably clips").format(
                value=format_decimal(round(sample_peak, 2), 2)
            )
            if clipping
            else _("highest sample {value} dBFS").format(
                value=format_decimal(round(sample_peak, 1), 1)
            )
        )
        checks.append(Check("clipping", FAIL if clipping else PASS, _("Clipping"), text))
    if track.dc_offset is not None:
        offset = abs(track.dc_offset)
        text = _("{percent} of full scale").format(percent=format_percent(offset, 2))
        checks.append(Check("dc_offset", PASS if offset < DC_LIMIT else WARN, _("DC offset"), text))
    for key, title, seconds, limit in (
        (
            "silence_start",
            _("Silence at the start"),
            track.leading_silence_s,
            LEADING_SILENCE_LIMIT,
        ),
        ("silence_end", _("Silence at the end"), track.trailing_silence_s, TRAILING_SILENCE_LIMIT),
    ):
        if seconds is None:
            continue
        text = _("{seconds} s").format(seconds=format_decimal(round(seconds, 2), 2))
        checks.append(Check(key, PASS if seconds <= limit else WARN, title, text))
    return checks


# -- the service -------------------------------------------------------------------------------


def _finite(value: float) -> float | None:
    return float(value) if math.isfinite(value) else None


def _default_analyse(path: Path, progress: Callable[[float], None], cancel: threading.Event) -> Any:
    from audio.track import analyze_file

    return analyze_file(path, progress, cancel)


@dataclass
class _State:
    progress: Progress = field(default_factory=Progress)
    messages: list[str] = field(default_factory=list)
    revision: int = 0


class Library:
    """The analysed tracks in ``database`` and the background worker that adds to them."""

    def __init__(self, database: Database, analyse: Analyse | None = None) -> None:
        self._database = database
        self._analyse: Analyse = analyse or _default_analyse
        self._lock = threading.Lock()
        self._wake = threading.Condition(self._lock)
        self._queue: deque[Path] = deque()
        self._cancel = threading.Event()  # replaced for every file, so a cancel stays with it
        self._generation = 0  # grows with every cancel; a folder listed before one is dropped
        self._cancelled = False  # the current batch was cancelled
        self._state = _State()
        self._closed = False
        self._thread: threading.Thread | None = None
        self._batch_analysed = 0
        self._batch_failed = 0
        self._batch_skipped = 0

    # -- what the UI calls ---------------------------------------------------------------------

    def add_paths(self, paths: Iterable[Path | str]) -> int:
        """Queue files, and folders (searched recursively for audio files, on the worker).
        Returns how many entries were queued; work starts at once in the background."""
        added = [Path(p).expanduser().absolute() for p in paths]
        if not added:
            return 0
        with self._wake:
            if self._closed:
                return 0
            if not self._state.progress.busy:
                self._start_batch()
            self._queue.extend(added)
            files = sum(1 for p in added if not p.is_dir())
            self._set_progress(total=self._state.progress.total + files, busy=True)
            self._wake.notify()
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="library-worker", daemon=True)
            self._thread.start()
        return len(added)

    def cancel(self) -> None:
        """Stop the file being analysed and forget the rest of the queue."""
        with self._wake:
            self._queue.clear()
            self._generation += 1
            self._cancel.set()
            if self._state.progress.busy:
                self._cancelled = True

    def poll(self) -> Poll:
        """The progress, the messages since the last call, and the tracks' revision. Never
        waits for the worker."""
        with self._lock:
            messages, self._state.messages = self._state.messages, []
            return Poll(self._state.progress, messages, self._state.revision)

    @property
    def busy(self) -> bool:
        with self._lock:
            return self._state.progress.busy

    def tracks(self) -> list[Track]:
        """Every track in the library, by file name."""
        with self._database.read_session() as session:
            rows = session.scalars(select(AnalysedTrackRow)).all()
            tracks = [Track.from_row(row) for row in rows]
        tracks.sort(key=lambda t: (t.name.lower(), t.path))
        return tracks

    def track(self, track_id: int) -> Track | None:
        with self._database.read_session() as session:
            row = session.get(AnalysedTrackRow, track_id)
            return None if row is None else Track.from_row(row)

    def remove(self, track_ids: Sequence[int]) -> int:
        """Forget these tracks (the files stay where they are). Returns how many went."""
        if not track_ids:
            return 0
        with self._database.session() as session:
            result = session.execute(
                delete(AnalysedTrackRow).where(AnalysedTrackRow.id.in_(list(track_ids)))
            )
            count = int(getattr(result, "rowcount", 0) or 0)
        with self._lock:
            self._state.revision += 1
        return count

    def compatible(self, track: Track, bpm_range: float = 0.06) -> list[Match]:
        return compatible(track, self.tracks(), bpm_range)

    def readiness(self, track: Track) -> list[Check]:
        return readiness(track)

    def close(self, timeout: float = 10.0) -> None:
        """Cancel the work and stop the worker thread (waits up to ``timeout`` seconds)."""
        with self._wake:
            self._closed = True
            self._queue.clear()
            self._cancel.set()
            self._wake.notify_all()
        if self._thread is not None:
            self._thread.join(timeout)

    # -- the worker ----------------------------------------------------------------------------

    def _start_batch(self) -> None:
        self._cancelled = False
        self._batch_analysed = self._batch_failed = self._batch_skipped = 0
        self._state.progress = Progress(busy=True)

    def _end_batch(self, cancelled: bool) -> None:
        p = self._state.progress
        self._state.progress = Progress(False, p.done, p.total, "", 0.0)
        if cancelled:
            self._state.messages.append(_("Analysis cancelled"))
        else:
            self._state.messages.append(self._batch_summary())
        self._cancelled = False

    def _batch_summary(self) -> str:
        parts = [ngettext("{count} file analysed", "{count} files analysed", self._batch_analysed)]
        if self._batch_skipped:
            parts.append(
                ngettext(
                    "{skipped} unchanged file skipped",
                    "{skipped} unchanged files skipped",
                    self._batch_skipped,
                )
            )
        if self._batch_failed:
            parts.append(
                ngettext(
                    "{failed} file could not be analysed",
                    "{failed} files could not be analysed",
                    self._batch_failed,
                )
            )
        return (
            _("; ")
            .join(parts)
            .format(
                count=self._batch_analysed, skipped=self._batch_skipped, failed=self._batch_failed
            )
        )

    def _set_progress(self, **changes: Any) -> None:
        self._state.progress = replace(self._state.progress, **changes)

    def _run(self) -> None:
        while True:
            with self._wake:
                while not self._queue and not self._closed:
                    if self._state.progress.busy:
                        self._end_batch(cancelled=self._cancelled)
                    self._wake.wait()
                if self._closed:
                    return
                path = self._queue.popleft()
                generation = self._generation
                cancel = self._cancel = threading.Event()
            if path.is_dir():
                self._expand(path, generation)
                continue
            try:
                self._process(path, cancel)
            except StorageError as exc:
                log.error("library: cannot store %s: %s", path, exc)
                with self._lock:
                    self._state.messages.append(str(exc))
                    self._set_progress(done=self._state.progress.done + 1, current="")
            except Exception:  # a bug: keep the worker alive for the next file
                log.exception("library: analysing %s failed", path)
                with self._lock:
                    self._batch_failed += 1
                    self._set_progress(done=self._state.progress.done + 1, current="")

    def _expand(self, folder: Path, generation: int) -> None:
        try:
            found = sorted(
                p for p in folder.rglob("*") if p.is_file() and p.suffix.lower() in AUDIO_SUFFIXES
            )
        except OSError as exc:
            with self._lock:
                self._state.messages.append(
                    _("The folder {folder} could not be read: {error}").format(
                        folder=folder.name, error=exc.strerror or str(exc)
                    )
                )
            return
        with self._lock:
            if generation != self._generation or self._closed:
                return
            # Folder contents go first, so files are analysed in the order they were added.
            self._queue.extendleft(reversed(found))
            self._set_progress(total=self._state.progress.total + len(found))

    def _process(self, path: Path, cancel: threading.Event) -> None:
        with self._lock:
            self._set_progress(current=path.name, fraction=0.0)
        outcome = self._analyse_or_skip(path, cancel)
        with self._lock:
            if outcome == "analysed":
                self._batch_analysed += 1
            elif outcome == "skipped":
                self._batch_skipped += 1
            elif outcome == "failed":
                self._batch_failed += 1
            if outcome in ("analysed", "failed"):
                self._state.revision += 1
            done = self._state.progress.done + (outcome != "cancelled")
            self._set_progress(done=done, current="", fraction=0.0)

    def _analyse_or_skip(self, path: Path, cancel: threading.Event) -> str:
        from audio.audio_file import AudioFileError
        from audio.track import Cancelled

        key = str(path)
        try:
            stat = path.stat()
            size, mtime_ns = stat.st_size, stat.st_mtime_ns
        except OSError:
            size, mtime_ns = 0, 0
        with self._database.read_session() as session:
            row = session.scalars(
                select(AnalysedTrackRow).where(AnalysedTrackRow.path == key)
            ).one_or_none()
            known = (
                (row.size, row.mtime_ns, row.fingerprint, row.analysis_version)
                if row is not None
                else None
            )
        digest = None
        if size and known is not None and known[3] == ANALYSIS_VERSION and known[0] == size:
            if known[1] == mtime_ns:
                return "skipped"
            try:
                digest = fingerprint(path, size)
            except OSError:
                digest = None
            if digest is not None and digest == known[2]:
                self._update_mtime(key, mtime_ns)
                return "skipped"

        def report(share: float, offset: float) -> Callable[[float], None]:
            def progress(fraction: float) -> None:
                with self._lock:
                    self._set_progress(fraction=offset + share * max(0.0, min(1.0, fraction)))

            return progress

        try:
            if digest is None and size:
                digest = fingerprint(path, size)
            result = self._analyse(path, report(ANALYSIS_SHARE, 0.0), cancel)
            summary = summarise(
                path,
                cancel=cancel,
                progress=report(1.0 - ANALYSIS_SHARE, ANALYSIS_SHARE),
            )
        except Cancelled:
            return "cancelled"
        except AudioFileError as exc:
            error = problem_text(exc.problem, exc.detail)
            self._store_error(key, size, mtime_ns, digest, error)
            with self._lock:
                self._state.messages.append(
                    _("{file} could not be analysed: {problem}").format(
                        file=path.name, problem=error
                    )
                )
            return "failed"
        except OSError as exc:
            error = problem_text("unreadable", exc.strerror or str(exc))
            self._store_error(key, size, mtime_ns, None, error)
            return "failed"
        except MemoryError:
            error = _("there was not enough memory to analyse it")
            self._store_error(key, size, mtime_ns, digest, error)
            return "failed"
        self._store_result(key, size, mtime_ns, digest, result, summary)
        return "analysed"

    def _row_for(self, session: Any, key: str) -> AnalysedTrackRow:
        row = session.scalars(
            select(AnalysedTrackRow).where(AnalysedTrackRow.path == key)
        ).one_or_none()
        if row is None:
            row = AnalysedTrackRow(path=key)
            session.add(row)
        return row

    def _update_mtime(self, key: str, mtime_ns: int) -> None:
        with self._database.session() as session:
            self._row_for(session, key).mtime_ns = mtime_ns

    def _store_error(
        self, key: str, size: int, mtime_ns: int, digest: str | None, error: str
    ) -> None:
        with self._database.session() as session:
            row = self._row_for(session, key)
            for column in AnalysedTrackRow.__table__.columns:
                if column.nullable and column.name not in ("path",):
                    setattr(row, column.name, None)
            row.size, row.mtime_ns, row.fingerprint = size, mtime_ns, digest
            row.analysed_at = datetime.now(UTC)
            row.analysis_version = ANALYSIS_VERSION
            row.error = error

    def _store_result(
        self,
        key: str,
        size: int,
        mtime_ns: int,
        digest: str | None,
        result: Any,
        summary: WaveSummary,
    ) -> None:
        data = result.to_json()
        with self._database.session() as session:
            row = self._row_for(session, key)
            row.size, row.mtime_ns, row.fingerprint = size, mtime_ns, digest
            row.analysed_at = datetime.now(UTC)
            row.analysis_version = ANALYSIS_VERSION
            row.error = None
            row.duration_s = float(result.duration_s)
            row.sample_rate = int(result.sample_rate)
            row.channels = int(result.channels)
            row.tempo_bpm = _finite(result.tempo_bpm)
            row.tempo_confidence = _finite(result.tempo_confidence)
            row.key_tonic = int(result.key_tonic)
            row.mode = str(result.mode)
            row.key_confidence = _finite(result.key_confidence)
            row.camelot = str(result.camelot)
            row.tuning_cents = _finite(result.tuning_cents)
            row.loudness_lufs = _finite(result.loudness_lufs)
            row.loudness_range_lu = _finite(result.loudness_range_lu)
            row.true_peak_dbtp = _finite(result.true_peak_dbtp)
            row.sample_peak_dbfs = _finite(result.sample_peak_dbfs)
            row.energy = _finite(result.energy)
            row.danceability = _finite(result.danceability)
            row.brightness = _finite(result.brightness)
            row.dc_offset = summary.dc_offset
            row.leading_silence_s = summary.leading_silence_s
            row.trailing_silence_s = summary.trailing_silence_s
            row.beats = list(data["beats_s"])
            row.beats_per_bar = int(result.beats_per_bar) or None
            row.downbeats = list(data["downbeats_s"])
            row.sections = list(data["sections"])
            row.chords = list(data["chords"])
            row.envelope = {"min": summary.envelope_min, "max": summary.envelope_max}
