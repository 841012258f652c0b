"""Tests of models/forecast.py: accuracy on known series, model choice, bad input, properties."""

from __future__ import annotations

import datetime as dt
import threading

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from models.forecast import (
    CANDIDATES,
    MIN_DAYS,
    Forecast,
    ForecastError,
    backtest_origins,
    forecast,
    prepare_series,
)

START = dt.date(2023, 1, 2)


def _dates(n: int, start: dt.date = START) -> list[dt.date]:
    return [start + dt.timedelta(days=i) for i in range(n)]


def _seasonal(n: int, noise: float = 3.0, seed: int = 1) -> np.ndarray:
    t = np.arange(n + 90)
    weekly = np.array([0.0, 5.0, 10.0, 20.0, 30.0, -25.0, -40.0])
    rng = np.random.default_rng(seed)
    return 200.0 + 0.05 * t + weekly[t % 7] + rng.normal(0.0, noise, len(t))


def _ordered(f: Forecast) -> None:
    lo95, lo80, p = np.array(f.lower95), np.array(f.lower80), np.array(f.point)
    hi80, hi95 = np.array(f.upper80), np.array(f.upper95)
    for a in (lo95, lo80, p, hi80, hi95):
        assert np.isfinite(a).all()
        assert (a >= 0).all()
    assert (lo95 <= lo80).all() and (lo80 <= p).all() and (p <= hi80).all()
    assert (hi80 <= hi95).all()


def test_seasonal_series_forecast_close_to_truth_and_covered() -> None:
    full = _seasonal(400)
    truth = full[400:430]
    f = forecast(_dates(400), full[:400], 30)
    assert f.model in ("ets", "ets_log")
    assert len(f.dates) == 30 and f.dates[0] == START + dt.timedelta(days=400)
    err = np.abs(np.array(f.point) - truth)
    assert err.mean() < 6.0  # noise sd 3, weekly swing 70
    inside80 = (truth >= np.array(f.lower80)) & (truth <= np.array(f.upper80))
    inside95 = (truth >= np.array(f.lower95)) & (truth <= np.array(f.upper95))
    assert inside80.mean() >= 0.6 and inside95.mean() >= 0.85
    ets = next(s for s in f.backtest if s.name == f.model)
    naive = next(s for s in f.backtest if s.name == "seasonal_naive")
    flat = next(s for s in f.backtest if s.name == "mean_28")
    assert ets.mae < naive.mae < flat.mae
    assert 0.6 <= ets.coverage80 <= 1.0
    assert [s.name for s in f.backtest] == list(CANDIDATES)
    _ordered(f)


def test_pure_weekly_repetition_picks_seasonal_naive() -> None:
    week = np.array([10.0, 50.0, 20.0, 80.0, 5.0, 0.0, 33.0])
    y = np.tile(week, 30)
    f = forecast(_dates(len(y)), y, 30)
    assert f.model == "seasonal_naive"
    assert f.chosen.mae == 0.0 and f.chosen.wmape == 0.0
    assert np.allclose(f.point, np.tile(week, 5)[:30])


def test_flat_noise_prefers_mean_baseline_over_seasonal_naive() -> None:
    rng = np.random.default_rng(5)
    y = rng.poisson(40, 300).astype(float)
    f = forecast(_dates(300), y, 30)
    scores = {s.name: s for s in f.backtest}
    assert scores["mean_28"].mae < scores["seasonal_naive"].mae
    assert f.model != "seasonal_naive"


def test_gaps_and_nans_are_filled_and_reported() -> None:
    y = _seasonal(200)[:200].tolist()
    dates = _dates(200)
    y[50] = float("nan")
    y[51] = None
    del dates[100:103], y[100:103]
    f = forecast(dates, y, 14)
    assert f.filled_days == 5 and f.history_days == 200
    assert any(n.code == "gaps_filled" and "5" in n.message for n in f.notes)
    _ordered(f)


def test_interpolated_values_lie_between_neighbours() -> None:
    dates = _dates(40)
    y = [float(i) for i in range(40)]
    del dates[10], y[10]
    prep = prepare_series(dates, y)
    assert prep.values[10] == pytest.approx(10.0)


def test_missing_ends_are_dropped() -> None:
    y = [None, None, *range(1, 41), float("nan")]
    f = forecast(_dates(len(y)), y, 7)
    assert f.history_days == 40
    assert f.dates[0] == START + dt.timedelta(days=42)
    assert any(n.code == "ends_dropped" for n in f.notes)


@pytest.mark.parametrize("n", [0, 1, 7, MIN_DAYS - 1])
def test_too_short_is_refused(n: int) -> None:
    with pytest.raises(ForecastError) as info:
        forecast(_dates(n), np.ones(n), 30)
    assert info.value.code == ("empty" if n == 0 else "too_short")


def test_minimum_length_works_with_short_history_note() -> None:
    y = _seasonal(MIN_DAYS)[:MIN_DAYS]
    f = forecast(_dates(MIN_DAYS), y, 90)
    assert len(f.point) == 90
    assert any(n.code == "short_history" for n in f.notes)
    assert all(s.origins >= 1 for s in f.backtest if np.isfinite(s.mae))
    _ordered(f)


def test_too_sparse_is_refused() -> None:
    dates = _dates(200)[::3]
    with pytest.raises(ForecastError) as info:
        forecast(dates, np.ones(len(dates)), 30)
    assert info.value.code == "too_sparse"


def test_constant_zero_series() -> None:
    f = forecast(_dates(120), np.zeros(120), 30)
    assert f.point == (0.0,) * 30 and f.upper95 == (0.0,) * 30
    assert all(s.mae == 0.0 for s in f.backtest)
    assert f.model == "mean_28"  # ties go to the simplest
    assert any(n.code == "all_zero_backtest" for n in f.notes)
    assert all(np.isnan(s.wmape) for s in f.backtest)


def test_huge_values_stay_finite() -> None:
    y = _seasonal(300)[:300] * 1e10
    f = forecast(_dates(300), y, 90)
    _ordered(f)
    assert 1e11 < np.median(f.point) < 1e13


def test_release_spike_then_decay_never_negative() -> None:
    t = np.arange(200)
    y = np.where(t < 150, 5.0, 5.0 + 5000.0 * np.exp(-(t - 150) / 6.0))
    f = forecast(_dates(200), y, 90)
    _ordered(f)


def test_negative_values_are_refused() -> None:
    y = np.ones(60)
    y[10] = -1.0
    with pytest.raises(ForecastError) as info:
        forecast(_dates(60), y, 30)
    assert info.value.code == "negative_values"


@pytest.mark.parametrize(
    ("dates", "values", "code"),
    [
        (["2024-01-01", "not a date"], [1.0, 2.0], "bad_dates"),
        (["😀"] * 30, [1.0] * 30, "bad_dates"),
        (["2024-\x01-01"] * 30, [1.0] * 30, "bad_dates"),
        (_dates(30), ["ten"] * 30, "bad_values"),
        (_dates(30), [1.0] * 29, "bad_dates"),
        (_dates(30), [float("inf")] + [1.0] * 29, "non_finite"),
        (_dates(30) + _dates(1), [1.0] * 31, "duplicate_dates"),
    ],
)
def test_bad_input_codes(dates: list[object], values: list[object], code: str) -> None:
    with pytest.raises(ForecastError) as info:
        forecast(dates, values, 7)
    assert info.value.code == code


@pytest.mark.parametrize("days", [0, -3, 10_000])
def test_bad_horizon(days: int) -> None:
    with pytest.raises(ForecastError) as info:
        forecast(_dates(60), np.ones(60), days)
    assert info.value.code == "bad_horizon"


def test_unsorted_dates_are_sorted() -> None:
    y = _seasonal(100)[:100]
    d = _dates(100)
    order = np.random.default_rng(3).permutation(100)
    a = forecast(d, y, 14)
    b = forecast([d[i] for i in order], y[order], 14)
    assert a == b


def test_deterministic_and_thread_safe() -> None:
    y = _seasonal(500, seed=9)[:500]
    d = _dates(500)
    first = forecast(d, y, 30)
    results: list[Forecast] = []

    def work() -> None:
        results.append(forecast(d, y, 30))

    threads = [threading.Thread(target=work) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results == [first, first]


def test_statsmodels_warnings_become_notes(recwarn: pytest.WarningsRecorder) -> None:
    y = np.tile(np.array([1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0]), 10)
    f = forecast(_dates(70), y, 14, candidates=("ets",))
    assert len(recwarn) == 0
    assert f.model == "ets"
    assert any(n.code == "statsmodels" for n in f.notes)


def test_to_dict_is_json_ready() -> None:
    import json

    f = forecast(_dates(60), np.zeros(60), 7)
    text = json.dumps(f.to_dict(), allow_nan=False)
    back = json.loads(text)
    assert len(back["days"]) == 7 and back["model"] == f.model
    assert back["backtest"][0]["wmape"] is None


def test_backtest_origins_spacing() -> None:
    assert backtest_origins(3650, 90, 6, 14) == [3560 - 14 * j for j in range(6)]
    assert backtest_origins(40, 90, 6, 14) == [21]
    assert all(o >= 21 for o in backtest_origins(100, 30, 6, 14))


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(
        st.floats(min_value=0.0, max_value=1e9, allow_nan=False, allow_infinity=False),
        min_size=MIN_DAYS,
        max_size=80,
    ),
    st.integers(min_value=1, max_value=40),
)
def test_property_intervals_ordered_finite_non_negative(values: list[float], days: int) -> None:
    f = forecast(_dates(len(values)), values, days)
    assert len(f.point) == days
    _ordered(f)
