"""Melody tokens (models.melody.tokens) and the Kneser–Ney baseline (models.melody.ngram)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from models.melody import ngram
from models.melody import tokens as tk


def test_a_pickup_is_completed_by_a_rest_and_ties_cross_the_barline() -> None:
    # 3/4 in G: a quarter-note pickup D, then G (dotted half) tied into the next bar as a quarter.
    melody = tk.Melody(
        tonic=7,
        mode="major",
        meter="3/4",
        notes=(tk.Note(0, 12, 62), tk.Note(12, 48, 67), tk.Note(60, 24, 71)),
        pickup=12,
    )
    names = tk.names(tk.encode(melody))
    assert names == [
        "BOS", "METER_3/4", "MODE_major",
        "BAR", "REST", "D24", "P-5", "D12",
        "BAR", "P0", "D36",
        "BAR", "HOLD", "D12", "P4", "D24",
        "EOS",
    ]  # fmt: skip
    back = tk.decode(tk.encode(melody), 7)
    # The decoded melody starts at the grid's first barline: the pickup's rest is dropped.
    assert [(n.start - 24, n.length, n.pitch) for n in back.notes] == [
        (0, 12, 62),
        (12, 48, 67),
        (60, 24, 71),
    ]


def test_one_sequence_serves_every_key() -> None:
    notes = (tk.Note(0, 12, 60), tk.Note(12, 12, 64), tk.Note(24, 24, 67))
    in_c = tk.encode(tk.Melody(0, "major", "4/4", notes))
    up_a_fifth = tuple(tk.Note(n.start, n.length, (n.pitch or 0) + 7) for n in notes)
    assert tk.encode(tk.Melody(7, "major", "4/4", up_a_fifth)) == in_c


@pytest.mark.parametrize(
    "bad",
    [
        tk.Melody(0, "major", "7/8", (tk.Note(0, 6, 60),)),  # meter not in the vocabulary
        tk.Melody(0, "lydian", "4/4", (tk.Note(0, 6, 60),)),  # mode not in the vocabulary
        tk.Melody(0, "major", "4/4", (tk.Note(0, 12, 100),)),  # far above the tonic
        tk.Melody(0, "major", "4/4", (tk.Note(0, 12, 60), tk.Note(6, 12, 62))),  # overlap
    ],
)
def test_what_the_vocabulary_cannot_say_is_refused(bad: tk.Melody) -> None:
    with pytest.raises(tk.TokenError):
        tk.encode(bad)


@pytest.mark.parametrize(
    "seq",
    [
        [tk.BOS],
        [tk.BOS, tk.BAR, tk.BAR],
        [tk.BOS, tk.INDEX["METER_4/4"], tk.INDEX["MODE_major"], tk.BAR, tk.FIRST_PITCH],
        # a barline one quarter into the bar
        [tk.BOS, tk.INDEX["METER_4/4"], tk.INDEX["MODE_major"], tk.BAR, tk.REST,
         tk.duration_token(12), tk.BAR],
        # a note longer than the bar's rest
        [tk.BOS, tk.INDEX["METER_2/4"], tk.INDEX["MODE_major"], tk.BAR, tk.REST,
         tk.duration_token(12), tk.FIRST_PITCH, tk.duration_token(24)],
        [tk.BOS, tk.INDEX["METER_2/4"], tk.INDEX["MODE_major"], tk.BAR, tk.HOLD,
         tk.duration_token(12)],
    ],
)  # fmt: skip
def test_malformed_sequences_are_refused(seq: list[int]) -> None:
    with pytest.raises(tk.TokenError):
        tk.decode(seq, 0)


@st.composite
def melodies(draw: st.DrawFn) -> tk.Melody:
    meter = draw(st.sampled_from(tk.METERS))
    tonic = draw(st.integers(0, 11))
    notes = []
    cursor = draw(st.integers(0, 48))
    for _ in range(draw(st.integers(1, 40))):
        length = draw(st.integers(1, 100))
        pitch = 60 + tonic + draw(st.integers(-tk.PITCH_SPAN, tk.PITCH_SPAN))
        notes.append(tk.Note(cursor, length, pitch))
        cursor += length + draw(st.sampled_from([0, 0, 0, 3, 12, 50]))
    first = notes[0].start
    notes = [tk.Note(n.start - first, n.length, n.pitch) for n in notes]
    pickup = draw(st.integers(0, tk.bar_ticks(meter) - 1))
    return tk.Melody(tonic, draw(st.sampled_from(tk.MODES)), meter, tuple(notes), pickup)


@settings(max_examples=200, deadline=None)
@given(melodies())
def test_encode_then_decode_gives_the_melody_back_with_every_bar_full(melody: tk.Melody) -> None:
    seq = tk.encode(melody)
    bar = melody.bar_ticks
    # every bar's durations add up to exactly one bar
    assert set(tk.bar_lengths(seq)) == {bar}
    back = tk.decode(seq, melody.tonic)
    offset = back.notes[0].start - melody.notes[0].start
    assert [(n.start + offset, n.length, n.pitch) for n in melody.notes] == [
        (n.start, n.length, n.pitch) for n in back.notes
    ]
    pos = tk.positions(seq)
    assert all(0 <= p < bar for p in pos)


def _toy_corpus(rng: np.random.Generator, n: int, pool: int = 0) -> list[list[int]]:
    """Tunes that state a 4-bar phrase three times: a new random phrase per tune, or (with
    ``pool``) one of ``pool`` fixed phrases."""
    fixed = np.random.default_rng(99).integers(tk.FIRST_PITCH + 20, tk.FIRST_PITCH + 30, (9, 8))
    out = []
    for _ in range(n):
        if pool:
            phrase = [int(v) for v in fixed[rng.integers(pool)]]
        else:
            phrase = [int(v) for v in rng.integers(tk.FIRST_PITCH + 20, tk.FIRST_PITCH + 30, 8)]
        body: list[int] = []
        for _ in range(3):
            for p in phrase:
                body += [p, tk.duration_token(6)]
        out.append([tk.BOS, tk.INDEX["METER_2/4"], tk.INDEX["MODE_major"], *body, tk.EOS])
    return out


@pytest.mark.parametrize("order", [1, 2, 4, 8])
def test_kneser_ney_distributions_sum_to_one(order: int) -> None:
    rng = np.random.default_rng(1)
    train = _toy_corpus(rng, 50)
    model = ngram.KneserNey(train, order)
    context = train[0][:12]
    total = sum(
        math.exp(model.log_probs([[*context, w]], skip=len(context))[-1])
        for w in range(len(tk.VOCAB))
    )
    assert total == pytest.approx(1.0, abs=1e-9)


def test_higher_orders_learn_phrases_seen_in_training_and_the_best_is_picked() -> None:
    rng = np.random.default_rng(2)
    train, validation = _toy_corpus(rng, 300, pool=9), _toy_corpus(rng, 40, pool=9)
    test = _toy_corpus(rng, 40, pool=9)
    model, scores = ngram.best_order(train, validation, orders=(1, 2, 3, 6, 12))
    assert scores[12] < scores[3] < scores[1]
    assert model.order in (6, 12)
    # Nine phrases of eight pitches: once the phrase is known, little is left to guess.
    assert model.nll(test) < 0.25 * ngram.KneserNey(train, 1).nll(test)


def test_an_ngram_cannot_use_a_tunes_own_repeats() -> None:
    """A phrase new to the model, stated three times: an n-gram predicts the repeats no better
    than the first statement (what a model that looks back over the whole tune can exploit)."""
    rng = np.random.default_rng(3)
    model = ngram.KneserNey(_toy_corpus(rng, 300), 12)
    lp = model.log_probs(_toy_corpus(rng, 40), skip=3).reshape(40, -1)
    pitches = lp[:, 0:48:2]  # BAR-less toy tunes: pitch, duration, pitch, ...; then EOS
    first, repeats = -pitches[:, :8].mean(), -pitches[:, 8:].mean()
    assert repeats > 0.8 * first
