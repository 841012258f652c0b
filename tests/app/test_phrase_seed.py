"""What was just played on the MIDI input, as a seed to continue: phrase splitting, the
sixteenth/triplet grid, the top line, the last bars, bad input."""

from __future__ import annotations

import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.create import CreateError, MelodySession
from app.harmony_engine import PlayedNote
from app.melody import KeyChoice, MelodyInputError, melody_notes, phrase_seed
from models.melody import tokens as tk
from models.melody.runner import MODEL_PATH

C_MAJOR = KeyChoice(0, "major", "C major")
BEAT = 0.5  # 120 BPM


def played(notes: list[tuple[float, float, int]], jitter: float = 0.0, t0: float = 100.0,
           seed: int = 0) -> list[PlayedNote]:  # fmt: skip
    """(start beat, length in beats, pitch) at 120 BPM, with key timing off by up to
    ``jitter`` seconds."""
    rng = random.Random(seed)
    out = []
    for start, length, pitch in notes:
        a = t0 + start * BEAT + rng.uniform(-jitter, jitter)
        b = t0 + (start + length) * BEAT + rng.uniform(-jitter, jitter)
        out.append(PlayedNote(pitch, a, max(a + 0.01, b), 90))
    return out


def beats(prefix: tuple[int, ...]) -> list[tuple[float, float, int]]:
    return [(n.start, n.duration, n.pitch) for n in melody_notes([*prefix, tk.EOS], 0)]


def test_a_played_phrase_snaps_to_sixteenths_despite_loose_timing() -> None:
    phrase = [(0, 0.5, 60), (0.5, 0.5, 62), (1, 0.25, 64), (1.25, 0.25, 65), (1.5, 0.5, 67),
              (2, 2, 72), (4, 1, 71), (5, 1, 67)]  # fmt: skip
    prefix = phrase_seed(played(phrase, jitter=0.02), 120.0, C_MAJOR, "4/4")
    got = beats(prefix)
    assert [(s, p) for s, _d, p in got] == [(float(s), p) for s, _d, p in phrase]
    assert all(d == pytest.approx(length, abs=0.25) for (_s, d, _p), (_a, length, _b) in
               zip(got, phrase, strict=True))  # fmt: skip
    assert prefix[:3] == (tk.BOS, tk.INDEX["METER_4/4"], tk.INDEX["MODE_major"])
    assert prefix.count(tk.BAR) == 2


def test_triplets_snap_to_the_triplet_grid() -> None:
    third = 1 / 3
    phrase = [(i * third, third, 60 + 2 * (i % 4)) for i in range(9)] + [(3, 1, 72)]
    got = beats(phrase_seed(played(phrase, jitter=0.015), 120.0, C_MAJOR, "4/4"))
    assert [s * tk.TPQ for s, _d, _p in got] == [4 * i for i in range(10)]  # thirds, exactly


def test_only_the_last_phrase_after_a_pause_is_kept_and_chords_give_their_top_note() -> None:
    early = played([(0, 1, 50), (1, 1, 52)])
    late = played([(0, 1, 60), (0, 1, 64), (0, 1, 67), (1, 1, 65)], t0=early[-1].end_s + 3.0)
    got = beats(phrase_seed(early + late, 120.0, C_MAJOR, "4/4"))
    assert [p for _s, _d, p in got] == [67, 65]


def test_a_long_phrase_keeps_its_last_bars() -> None:
    phrase = [(float(i), 1.0, 60 + i % 12) for i in range(48)]  # twelve bars of quarters
    prefix = phrase_seed(played(phrase), 120.0, C_MAJOR, "4/4", max_bars=8)
    got = beats(prefix)
    assert len(got) == 32 and got[0][2] == 60 + 16 % 12  # bars 5 to 12


def test_nothing_played_or_a_silly_tempo_says_so() -> None:
    with pytest.raises(MelodyInputError, match="Nothing was played"):
        phrase_seed([], 120.0, C_MAJOR, "4/4")
    with pytest.raises(MelodyInputError, match="tempo"):
        phrase_seed(played([(0, 1, 60)]), 2.0, C_MAJOR, "4/4")
    with pytest.raises(MelodyInputError, match="two octaves"):
        phrase_seed(played([(0, 1, 12)]), 120.0, C_MAJOR, "4/4")


@settings(max_examples=150, deadline=None)
@given(
    st.lists(
        st.tuples(st.floats(0, 40), st.floats(0.001, 6), st.integers(0, 127)),
        min_size=1, max_size=60,
    ),
    st.sampled_from(["4/4", "3/4", "6/8", "5/4"]),
    st.floats(30, 300),
)  # fmt: skip
def test_anything_played_is_a_clean_prefix_or_a_clear_refusal(raw, meter, tempo) -> None:  # type: ignore[no-untyped-def]
    notes = [PlayedNote(p, 50.0 + s, 50.0 + s + d, 64) for s, d, p in raw]
    try:
        prefix = phrase_seed(notes, tempo, C_MAJOR, meter)
    except MelodyInputError as exc:
        assert str(exc)
        return
    assert tk.EOS not in prefix and prefix.count(tk.BAR) <= 9
    lengths = tk.bar_lengths([*prefix, tk.EOS])
    assert all(n == tk.bar_ticks(meter) for n in lengths[1:-1]), lengths


@pytest.mark.skipif(not MODEL_PATH.exists(), reason="the melody model is not built")
def test_the_session_continues_the_phrase_by_the_bars_asked(tmp_path) -> None:  # type: ignore[no-untyped-def]
    session = MelodySession(tmp_path)
    phrase = [(0, 1, 64), (1, 1, 62), (2, 2, 60), (4, 1, 62), (5, 1, 64), (6, 2, 64)]
    idea = session.continue_played(played(phrase, jitter=0.02), C_MAJOR, "4/4", 4, tempo=120.0)
    notes = [(n.start, n.pitch) for n in idea.notes()]
    assert notes[: len(phrase)] == [(float(s), p) for s, _d, p in phrase]
    assert idea.tokens.count(tk.BAR) == 6 and idea.tempo_bpm == 120.0
    assert set(tk.bar_lengths(list(idea.tokens))) == {tk.bar_ticks("4/4")}
    with pytest.raises(CreateError, match="Nothing was played"):
        session.continue_played([], C_MAJOR, "4/4", 4)
