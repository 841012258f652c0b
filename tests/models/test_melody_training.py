"""The melody network end to end at toy size: train a tiny configuration for a few seconds on
synthetic tunes, export the incremental step to ONNX, check ONNX against torch, and decode with
the constrained runner (bars exact, range, scale, chords, seeds)."""

from __future__ import annotations

import math
import random
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

torch = pytest.importorskip("torch", reason="torch is the training extra")

from models.melody import runner as rn  # noqa: E402
from models.melody import tokens as tk  # noqa: E402
from models.training.export_melody import (  # noqa: E402
    QuantisedReference,
    check,
    export,
    quantize,
)
from models.training.melody_model import (  # noqa: E402
    MelodyConfig,
    MelodyTransformer,
    bar_positions,
    nll_per_token,
)
from models.training.train_melody import train  # noqa: E402

MAJOR = (0, 2, 4, 5, 7, 9, 11)


def toy_tunes(n: int, seed: int) -> list[list[int]]:
    """Stepwise tunes in 3/4 and 4/4 over the major scale, quarters and eighths, a phrase of
    two bars stated twice."""
    rng = random.Random(seed)
    out = []
    for _ in range(n):
        meter = rng.choice(["3/4", "4/4"])
        bar = tk.bar_ticks(meter)
        degree = rng.randrange(7)
        phrase: list[tuple[int, int]] = []
        t = 0
        while t < 2 * bar:
            length = rng.choice([6, 12, 12]) if (2 * bar - t) >= 12 else 6
            degree = max(0, min(13, degree + rng.choice([-1, 1, 1, -2, 2])))
            phrase.append((12 * (degree // 7) + MAJOR[degree % 7], length))
            t += length
        notes, start = [], 0
        for _ in range(2):
            for rel, length in phrase:
                notes.append(tk.Note(start, length, 62 + rel))
                start += length
        out.append(tk.encode(tk.Melody(2, "major", meter, tuple(notes))))
    return out


@pytest.fixture(scope="module")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> tuple[MelodyTransformer, Path, dict]:
    torch.set_num_threads(1)
    data = {"train": toy_tunes(300, 0), "validation": toy_tunes(30, 1), "test": toy_tunes(30, 2)}
    cfg = MelodyConfig(layers=1, d_model=32, heads=2, max_len=128, dropout=0.0)
    model, info = train(cfg, data, minutes=0.25, batch_tokens=2048, eval_every=100, log=False)
    path = tmp_path_factory.mktemp("melody") / "melody.onnx"
    export(model, path)
    return model, path, {"data": data, "info": info}


def test_a_few_seconds_of_training_learn_the_toy_tunes(tiny) -> None:  # type: ignore[no-untyped-def]
    model, _, extra = tiny
    untrained = MelodyTransformer(model.cfg)
    before, _ = nll_per_token(untrained, extra["data"]["test"])
    after, count = nll_per_token(model, extra["data"]["test"])
    assert before == pytest.approx(math.log(len(tk.VOCAB)), rel=0.1)
    assert count > 1000 and after < 0.5 * before, (before, after)
    assert extra["info"]["validation_nll"] < before


def test_onnx_step_matches_torch_within_1e_4(tiny) -> None:  # type: ignore[no-untyped-def]
    model, path, extra = tiny
    seq = extra["data"]["test"][0]
    with torch.no_grad():
        logits = model(torch.tensor([seq[:-1]]), torch.tensor([bar_positions(seq)[:-1]]))[0]
    expected = torch.log_softmax(logits, -1).gather(1, torch.tensor(seq[1:]).unsqueeze(1))
    onnx = rn.MelodyModel(path)
    got = onnx.log_probs(seq)
    assert np.max(np.abs(got - expected.squeeze(1).numpy())) < 1e-4


def test_the_int8_graph_stays_close_to_torch_and_decodes(tiny, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """What ships is the float32 graph with int8 weights: its per-token log-probabilities stay
    near torch's (rounding, not a wrong graph), and the decoder runs on it unchanged."""
    model, path, extra = tiny
    int8 = tmp_path / "melody-int8.onnx"
    quantize(path, int8)
    assert int8.stat().st_size < 0.5 * path.stat().st_size
    seq = extra["data"]["test"][0]
    with torch.no_grad():
        logits = model(torch.tensor([seq[:-1]]), torch.tensor([bar_positions(seq)[:-1]]))[0]
    expected = torch.log_softmax(logits, -1).gather(1, torch.tensor(seq[1:]).unsqueeze(1))
    got = rn.MelodyModel(int8).log_probs(seq)
    want = expected.squeeze(1).numpy()
    diff = np.abs(got - want)
    # At this toy size (d_model 32, trained for a time budget, so how far it got depends on
    # the machine's load) rounding moves a log-probability by up to a few tenths of a nat; a
    # wrong graph moves them by nats. The mean cost per token stays within 0.05 nats.
    assert 1e-6 < np.max(diff) < 0.6 and np.mean(diff) < 0.08, diff
    assert abs(np.mean(got) - np.mean(want)) < 0.05
    tokens = rn.MelodyModel(int8).generate(rn.MelodyRequest(tonic=2, meter="3/4", bars=4))
    assert tk.bar_lengths(tokens) == [tk.bar_ticks("3/4")] * 4

    # Against torch doing the same int8 arithmetic the graph is exact but for inputs that sit
    # on a rounding boundary of a quantisation (float rounding order differs): nearly every
    # token's distribution agrees within 1e-5.
    reference, graph = QuantisedReference(model, int8), rn.MelodyModel(int8)
    caches, ref_caches, diffs = graph._empty(), reference.empty(), []
    positions = bar_positions(seq)
    for i, token in enumerate(seq[:-1]):
        out, caches = graph._step(token, positions[i], i, caches)
        want = torch.softmax(reference.step(token, positions[i], i, ref_caches).double(), -1)
        got = np.exp(out.astype(np.float64) - out.max())
        diffs.append(float(np.max(np.abs(got / got.sum() - want.numpy()))))
    assert np.median(diffs) < 1e-5 and np.mean(np.array(diffs) < 1e-4) > 0.9, diffs


def test_a_graph_that_disagrees_with_the_model_is_refused(tiny, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    model, path, _ = tiny
    other = MelodyTransformer(model.cfg).eval()  # untrained weights, same shape
    with pytest.raises(AssertionError, match="differs from the model"):
        check(other, path)
    assert check(model, path) < 1e-4


@settings(max_examples=200, deadline=None)
@given(
    logits=st.lists(st.floats(-30, 30), min_size=1, max_size=40),
    temperature=st.floats(0.05, 5.0),
    top_k=st.integers(0, 50),
    top_p=st.one_of(st.just(1.0), st.floats(0.01, 1.0)),
    u=st.floats(0.0, 0.999999),
)
@example(logits=[0.0, 1.0, 2.0], temperature=1.0, top_k=1, top_p=1.0, u=0.99)
@example(logits=[0.0, 1.0, 2.0, 3.0], temperature=1.0, top_k=0, top_p=0.5, u=0.99)
@example(logits=[0.0, 1.0, 2.0, 3.0], temperature=0.1, top_k=0, top_p=1.0, u=0.5)
def test_the_compiled_sampler_matches_the_definition(logits, temperature, top_k, top_p, u) -> None:  # type: ignore[no-untyped-def]
    """``_pick`` against a plain numpy reading of the same rule (temperature, top-k, top-p,
    inverse CDF)."""
    z = np.array(logits) / temperature
    order = np.argsort(-z, kind="stable")
    if 0 < top_k < len(order):
        order = order[:top_k]
    p = np.exp(z[order] - z[order[0]])
    cum = np.cumsum(p) / p.sum()
    if top_p < 1.0:
        keep = int(np.searchsorted(cum, top_p)) + 1
        cum = cum[:keep] / cum[keep - 1]
    want = order[min(int(np.searchsorted(cum, u, side="right")), len(cum) - 1)]
    idx = np.arange(len(logits), dtype=np.int64)
    got = rn._compiled_pick()(
        np.array(logits, dtype=np.float32), idx, np.zeros(0), temperature, top_k, top_p, u
    )
    # Equal logits may be ordered either way; then the two picks have the same logit.
    assert got == want or np.float32(logits[got]) == np.float32(logits[want])


def _bars(seq: list[int], meter: str) -> list[int]:
    lengths = tk.bar_lengths(seq)
    assert set(lengths) == {tk.bar_ticks(meter)}, lengths
    return lengths


@pytest.mark.parametrize("meter", ["4/4", "6/8", "5/4", "3/4"])
def test_every_bar_is_exact_and_the_melody_ends_after_the_last_bar(tiny, meter: str) -> None:  # type: ignore[no-untyped-def]
    _, path, _ = tiny
    model = rn.MelodyModel(path)
    for seed in range(5):
        request = rn.MelodyRequest(tonic=2, meter=meter, bars=8, seed=seed, temperature=1.5)
        seq = model.generate(request)
        assert seq[-1] == tk.EOS and seq.count(tk.EOS) == 1
        assert len(_bars(seq, meter)) == 8
        melody = tk.decode(seq, 2)
        assert all(55 <= n.pitch <= 84 for n in melody.notes if n.pitch is not None)
        assert all((n.pitch - 62) % 12 in MAJOR for n in melody.notes if n.pitch is not None)


def test_same_seed_same_melody_other_seed_other_melody(tiny) -> None:  # type: ignore[no-untyped-def]
    _, path, _ = tiny
    model = rn.MelodyModel(path)
    a = model.generate(rn.MelodyRequest(tonic=9, mode="minor", seed=7))
    b = model.generate(rn.MelodyRequest(tonic=9, mode="minor", seed=7))
    c = model.generate(rn.MelodyRequest(tonic=9, mode="minor", seed=8))
    assert a == b and a != c


def test_chord_tones_on_strong_beats_and_a_narrow_range(tiny) -> None:  # type: ignore[no-untyped-def]
    _, path, _ = tiny
    model = rn.MelodyModel(path)
    chords = ("D", "G", "A", "D")
    request = rn.MelodyRequest(tonic=2, chords=chords, low=62, high=74, seed=3, bars=4)
    seq = model.generate(request)
    melody = tk.decode(seq, 2)
    bar = 48
    first = melody.notes[0].start - (melody.notes[0].start % bar)
    for n in melody.notes:
        assert 62 <= n.pitch <= 74
        at = n.start - first
        if at % bar in (0, 24):
            assert n.pitch % 12 in rn.chord_pitch_classes(chords[at // bar]), (n, at)


def test_continuing_a_seed_keeps_it_and_counts_its_bars(tiny) -> None:  # type: ignore[no-untyped-def]
    _, path, extra = tiny
    model = rn.MelodyModel(path)
    seed_tune = extra["data"]["test"][0]
    meter = tk.VOCAB[seed_tune[1]][6:]
    cut = [i for i, t in enumerate(seed_tune) if t == tk.BAR][2]  # the first two bars
    prefix = tuple(seed_tune[:cut])
    seq = model.generate(rn.MelodyRequest(tonic=2, meter=meter, bars=6, prefix=prefix, seed=1))
    assert tuple(seq[:cut]) == prefix
    assert len(_bars(seq, meter)) == 6


@pytest.mark.parametrize(
    ("request_kwargs", "message"),
    [
        ({"low": 61, "high": 61}, "range"),  # C#: not in D major? it is; use a gap below
        ({"meter": "7/8"}, "meter"),
        ({"mode": "lydian"}, "mode"),
        ({"chords": ("H7",)}, "chord"),
        ({"temperature": 0.0}, "temperature"),
        ({"bars": 0}, "bars"),
    ],
)
def test_impossible_requests_get_a_clear_message(tiny, request_kwargs, message) -> None:  # type: ignore[no-untyped-def]
    _, path, _ = tiny
    model = rn.MelodyModel(path)
    kwargs = {"tonic": 0, **request_kwargs}  # C major: C# (61) is outside the scale
    with pytest.raises(rn.MelodyRequestError, match=message):
        model.generate(rn.MelodyRequest(**kwargs))


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    tonic=st.integers(0, 11),
    mode=st.sampled_from(tk.MODES),
    meter=st.sampled_from(tk.METERS),
    bars=st.integers(1, 5),
    low=st.integers(30, 90),
    span=st.integers(0, 30),
    chords=st.lists(st.sampled_from(["C", "Am", "F#dim", "Bb7", "E/G#", "Dsus4"]), max_size=3),
    density=st.floats(0, 1),
    temperature=st.floats(0.2, 3.0),
    top_k=st.integers(0, 20),
    top_p=st.floats(0.05, 1.0),
)
def test_any_request_gives_exact_bars_or_a_clear_refusal(
    tiny, tonic, mode, meter, bars, low, span, chords, density, temperature, top_k, top_p
) -> None:  # type: ignore[no-untyped-def]
    _, path, _ = tiny
    model = _cached_model(path)
    request = rn.MelodyRequest(
        tonic=tonic, mode=mode, meter=meter, bars=bars, low=low, high=low + span,
        chords=tuple(chords), density=density, temperature=temperature, top_k=top_k, top_p=top_p,
    )  # fmt: skip
    try:
        seq = model.generate(request)
    except rn.MelodyRequestError as exc:
        assert str(exc)
        return
    assert len(_bars(seq, meter)) == bars and seq[-1] == tk.EOS
    melody = tk.decode(seq, tonic)
    assert all(low <= n.pitch <= low + span for n in melody.notes if n.pitch is not None)


_MODELS: dict[Path, rn.MelodyModel] = {}


def _cached_model(path: Path) -> rn.MelodyModel:
    if path not in _MODELS:
        _MODELS[path] = rn.MelodyModel(path)
    return _MODELS[path]
