"""Stats forecasts: backtested error of every candidate, interval coverage and speed.

Claims (issue 8): ``models.forecast.forecast`` gives 30/90-day forecasts with 80 % and 95 %
intervals, picks the candidate with the lowest rolling-origin backtest error, and a 90-day
forecast with backtest for one 10-year daily series takes ≤ 2 s on one core.

Series (synthetic, generated with a fixed seed so that the future is known): ``trend_weekly_spike``
(3 years: trend, multiplicative weekly pattern, Poisson noise, a release spike 60 days before the
end), ``flat`` (2 years of Poisson(50)), ``short`` (35 days), ``gaps`` (2 years, 10 % of days
absent and 2 % NaN), ``song_lifecycle`` (a real-looking song: release peak, power-law decay to a
catalogue plateau, a playlist add, weekend peaks, negative-binomial noise), ``ten_year`` (10 years,
trend and weekly pattern). For each: the chosen model, every candidate's backtest wMAPE
(Σ|error| / Σ|actual| × 100), the chosen model's backtest 80 %/95 % coverage, the wMAPE and 80 %
coverage on the true (held-out) future, and the time of one ``forecast`` call. Reference: the
seasonal-naive baseline's backtest wMAPE in the same run; ``ratio`` = chosen / seasonal naive.
Timing of ``ten_year``: median of 3 calls. ``--songs N`` times N song series (60–730 days each)
one after another and scales to 200.

Run: ``python benchmarks/bench_forecast.py [--days 90] [--songs 20]`` (BLAS limited to one
thread unless ``OMP_NUM_THREADS`` etc. are already set).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from datetime import date, timedelta
from pathlib import Path

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")  # one core: set before numpy loads its BLAS

import numpy as np  # noqa: E402  (after the thread settings above)

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from _support import final_json, table  # noqa: E402

from models.forecast import forecast  # noqa: E402

START = date(2016, 1, 4)
WEEK = np.array([0.9, 0.85, 0.9, 0.95, 1.1, 1.2, 1.1])


def _dates(n: int) -> list[date]:
    return [START + timedelta(days=i) for i in range(n)]


def _trend_weekly_spike(rng: np.random.Generator, n: int) -> np.ndarray:
    t = np.arange(n)
    mean = (300.0 + 0.2 * t) * WEEK[t % 7]
    spike_at = n - 60 - 90
    mean = mean + np.where(t >= spike_at, 3000.0 * np.exp(-(t - spike_at) / 10.0), 0.0)
    return rng.poisson(mean).astype(float)


def _song(rng: np.random.Generator, n: int) -> np.ndarray:
    t = np.arange(n)
    peak = rng.uniform(500, 20000)
    plateau = peak * rng.uniform(0.02, 0.1)
    mean = plateau + (peak - plateau) * (1.0 + t / 5.0) ** -1.2
    add = int(rng.integers(n // 3, max(n // 3 + 1, n - 30)))
    mean = mean * np.where(t >= add, rng.uniform(1.2, 2.0), 1.0) * WEEK[t % 7]
    shape = 20.0
    return rng.poisson(rng.gamma(shape, mean / shape)).astype(float)


def _series(seed: int, h: int) -> dict[str, tuple[list[date], np.ndarray, np.ndarray]]:
    """name → (dates, history values, true future of length ``h``)."""
    rng = np.random.default_rng(seed)
    out: dict[str, tuple[list[date], np.ndarray, np.ndarray]] = {}

    def add(name: str, full: np.ndarray, n: int) -> None:
        out[name] = (_dates(n), full[:n], full[n : n + h])

    add("trend_weekly_spike", _trend_weekly_spike(rng, 1095 + h), 1095)
    add("flat", rng.poisson(50, 730 + h).astype(float), 730)
    add("short", _trend_weekly_spike(rng, 35 + h), 35)
    gap_full = _trend_weekly_spike(rng, 730 + h)
    dates = _dates(730)
    keep = rng.random(730) > 0.10
    keep[[0, -1]] = True
    hist = gap_full[:730].copy()
    hist[(rng.random(730) < 0.02) & keep] = np.nan
    out["gaps"] = ([d for d, k in zip(dates, keep, strict=True) if k], hist[keep], gap_full[730:])
    add("song_lifecycle", _song(rng, 540 + h), 540)
    t = np.arange(3650 + h)
    ten = rng.poisson((200.0 + 0.05 * t) * WEEK[t % 7]).astype(float)
    add("ten_year", ten, 3650)
    return out


def _wmape(actual: np.ndarray, point: np.ndarray) -> float:
    total = float(np.abs(actual).sum())
    return 100.0 * float(np.abs(actual - point).sum()) / total if total else float("nan")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=int, default=90, help="forecast horizon (days)")
    parser.add_argument("--songs", type=int, default=20, help="song series to time")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    h = args.days

    forecast(_dates(60), np.arange(60.0), 7)  # import statsmodels and pandas outside the timings
    rows: list[list[object]] = []
    figures: dict[str, object] = {"days": h}
    for name, (dates, hist, future) in _series(args.seed, h).items():
        times = []
        for _ in range(3 if name == "ten_year" else 1):
            t0 = time.perf_counter()
            f = forecast(dates, hist, h)
            times.append(time.perf_counter() - t0)
        elapsed = float(np.median(times))
        s = {b.name: b for b in f.backtest}
        point = np.array(f.point)
        inside = (future >= np.array(f.lower80)) & (future <= np.array(f.upper80))
        ratio = s[f.model].wmape / s["seasonal_naive"].wmape
        rows.append(
            [
                name,
                len(hist),
                f.model,
                s["mean_28"].wmape,
                s["seasonal_naive"].wmape,
                s["ets"].wmape,
                s["ets_log"].wmape,
                ratio,
                s[f.model].coverage80,
                s[f.model].coverage95,
                _wmape(future, point),
                float(inside.mean()),
                elapsed,
                ",".join(sorted({n.code for n in f.notes})) or "-",
            ]
        )
        figures[name] = {
            "model": f.model,
            "backtest_wmape": {k: round(v.wmape, 3) for k, v in s.items()},
            "ratio_vs_seasonal_naive": round(ratio, 4),
            "backtest_coverage80": round(s[f.model].coverage80, 3),
            "backtest_coverage95": round(s[f.model].coverage95, 3),
            "future_wmape": round(_wmape(future, point), 3),
            "future_coverage80": round(float(inside.mean()), 3),
            "seconds": round(elapsed, 3),
        }
    print(
        table(
            [
                "series",
                "days",
                "chosen",
                "mean28%",
                "snaive%",
                "ets%",
                "etslog%",
                "ratio",
                "cov80",
                "cov95",
                "future%",
                "fcov80",
                "s",
                "notes",
            ],
            rows,
        )
    )
    rng = np.random.default_rng(args.seed + 1)
    songs = [_song(rng, int(rng.integers(60, 731))) for _ in range(args.songs)]
    t0 = time.perf_counter()
    for y in songs:
        forecast(_dates(len(y)), y, h)
    song_s = time.perf_counter() - t0
    per = song_s / max(args.songs, 1)
    print(f"\n{args.songs} song series (60–730 days), {h}-day forecasts: {song_s:.1f} s")
    print(f"  {per:.3f} s per series → {200 * per:.0f} s for 200 series")
    figures["songs_timed"] = args.songs
    figures["seconds_per_song"] = round(per, 3)
    figures["seconds_for_200_songs"] = round(200 * per, 1)
    ten = figures["ten_year"]
    assert isinstance(ten, dict)
    figures["ten_year_within_2s"] = ten["seconds"] <= 2.0
    final_json(figures)


if __name__ == "__main__":
    main()
