"""Daily-count forecasts with prediction intervals and a rolling-origin backtest.

Input: one daily series (dates and values, e.g. streams per day). Output: a :class:`Forecast` for
the next ``days`` days with a point forecast, 80 % and 95 % prediction intervals, the chosen
model's name, the backtested error of every candidate, and the notes the caller should show.

Candidates, from simplest to most complex (ties go to the simpler one):

* ``mean_28``: the mean of the last 28 days, flat; normal intervals from the standard deviation of
  those 28 days times sqrt(1 + 1/28).
* ``seasonal_naive``: the same weekday last week; normal intervals from the week-on-week
  differences of the last 365 training days, widened by sqrt(weeks ahead).
* ``ets``: statsmodels ``ETSModel`` with additive error, damped additive trend and additive
  weekly seasonality (period 7) on the series divided by its mean (for numerical range).
* ``ets_log``: the same model on ``log1p(values)``, i.e. multiplicative weekly seasonality on the
  count scale; the point forecast is ``expm1`` of the log-scale mean (a median, not a mean).

ETS intervals are statsmodels' analytic ("exact") intervals for additive-error models, so
nothing is random and the same input gives the same output. ETS models are fitted on the last
``MAX_TRAIN_DAYS`` days only. Every forecast and bound is clipped at 0; upper bounds are limited
to ``UPPER_CAP`` times the largest observed value so that they stay finite.

Backtest: up to ``origins`` forecast origins spaced ``spacing`` days apart, the latest one
``days`` days before the end of the series; each candidate is refitted on the data before each
origin and forecasts up to ``days`` days (fewer at the latest origins when the history is short).
Errors are pooled over all origins and steps: MAE (count units) and wMAPE, the weighted MAPE
``100 · Σ|actual − forecast| / Σ|actual|`` (defined at zero actuals, NaN only when every actual in
the backtest is zero). The candidate with the lowest pooled MAE is chosen; since every candidate
shares the same actuals this is also the lowest wMAPE. Coverage is the fraction of backtest
actuals inside the candidate's 80 % (and 95 %) interval.

Input rules: dates are parsed with numpy (``date``, ``datetime``, ``datetime64``, ISO strings)
and sorted; duplicate dates are refused. Missing days (absent dates, NaN or None values) inside
the series are filled by linear interpolation and reported; missing values at either end are
dropped and reported. Negative values are refused (``negative_values``), not clipped; infinite
values are refused. Fewer than ``MIN_DAYS`` observed days is refused (``too_short``).

Thread contract: every public function is pure and may run on any worker thread. The only
shared object is a lock around the statsmodels fits, because ``warnings.catch_warnings`` (used to
turn statsmodels' convergence and runtime warnings into notes instead of printing them) changes
process-wide state in Python 3.11; concurrent forecasts therefore fit one at a time.
"""

from __future__ import annotations

import threading
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import numpy as np

MIN_DAYS = 28
"""Fewest observed days accepted; shorter series are refused with code ``too_short``."""
MIN_TRAIN = 21
"""Fewest training days before a backtest origin."""
MAX_TRAIN_DAYS = 730
"""ETS models are fitted on at most this many trailing days."""
MAX_HORIZON = 730
UPPER_CAP = 1000.0
"""Upper bounds are limited to this multiple of the largest observed value (at least 1)."""
SEASON = 7
Z80 = 1.2815515655446004
Z95 = 1.959963984540054
CANDIDATES = ("mean_28", "seasonal_naive", "ets", "ets_log")

_FIT_LOCK = threading.Lock()
_Warm = dict[str, np.ndarray]


class ForecastError(ValueError):
    """A series that cannot be forecast; ``code`` is a stable machine-readable reason."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message


@dataclass(frozen=True)
class Note:
    """Something the caller should show next to the forecast (``code`` is stable)."""

    code: str
    message: str


@dataclass(frozen=True)
class CandidateScore:
    """Pooled rolling-origin backtest figures of one candidate model."""

    name: str
    mae: float
    """Mean absolute error in the series' units; ``inf`` when the candidate failed."""
    wmape: float
    """Weighted MAPE in percent (Σ|error| / Σ|actual| × 100); NaN when every actual is 0."""
    coverage80: float
    """Fraction of backtest actuals inside the 80 % interval (0–1)."""
    coverage95: float
    origins: int
    """Number of origins evaluated."""
    points: int
    """Number of (origin, step) pairs evaluated."""


@dataclass(frozen=True)
class Forecast:
    """A forecast for ``len(dates)`` days after the last observed day."""

    dates: tuple[date, ...]
    point: tuple[float, ...]
    lower80: tuple[float, ...]
    upper80: tuple[float, ...]
    lower95: tuple[float, ...]
    upper95: tuple[float, ...]
    model: str
    """Name of the chosen candidate (one of ``CANDIDATES``)."""
    backtest: tuple[CandidateScore, ...]
    """Every candidate's backtest figures, in ``CANDIDATES`` order."""
    history_days: int
    """Days used after filling gaps (first to last observed day)."""
    filled_days: int
    """Days that were interpolated."""
    notes: tuple[Note, ...] = field(default_factory=tuple)

    @property
    def chosen(self) -> CandidateScore:
        """The chosen model's backtest figures."""
        return next(s for s in self.backtest if s.name == self.model)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dictionary (dates as ISO strings, NaN/inf as None)."""

        def num(x: float) -> float | None:
            return float(x) if np.isfinite(x) else None

        return {
            "model": self.model,
            "history_days": self.history_days,
            "filled_days": self.filled_days,
            "days": [
                {
                    "date": d.isoformat(),
                    "point": p,
                    "lower80": lo8,
                    "upper80": hi8,
                    "lower95": lo9,
                    "upper95": hi9,
                }
                for d, p, lo8, hi8, lo9, hi9 in zip(
                    self.dates,
                    self.point,
                    self.lower80,
                    self.upper80,
                    self.lower95,
                    self.upper95,
                    strict=True,
                )
            ],
            "backtest": [
                {
                    "model": s.name,
                    "mae": num(s.mae),
                    "wmape": num(s.wmape),
                    "coverage80": num(s.coverage80),
                    "coverage95": num(s.coverage95),
                    "origins": s.origins,
                    "points": s.points,
                }
                for s in self.backtest
            ],
            "notes": [{"code": n.code, "message": n.message} for n in self.notes],
        }


@dataclass(frozen=True)
class _Path:
    point: np.ndarray
    lo80: np.ndarray
    hi80: np.ndarray
    lo95: np.ndarray
    hi95: np.ndarray


@dataclass(frozen=True)
class Prepared:
    """A gap-free daily series: ``start`` is the date of ``values[0]``."""

    start: np.datetime64
    values: np.ndarray
    filled_days: int
    notes: tuple[Note, ...]


def prepare_series(
    dates: Sequence[Any] | np.ndarray, values: Sequence[Any] | np.ndarray
) -> Prepared:
    """Validate, sort and gap-fill a daily series; raise :class:`ForecastError` when unusable."""
    try:
        days = np.asarray(dates).astype("datetime64[D]")
    except (ValueError, TypeError) as exc:
        raise ForecastError("bad_dates", f"dates could not be read as days ({exc})") from exc
    try:
        vals = np.asarray(
            [np.nan if v is None else v for v in np.asarray(values, dtype=object).ravel()],
            dtype=float,
        )
    except (ValueError, TypeError) as exc:
        raise ForecastError("bad_values", f"values must be numbers ({exc})") from exc
    if days.ndim != 1 or days.shape != vals.shape:
        raise ForecastError("bad_dates", "dates and values must be 1-D and of equal length")
    if days.size == 0:
        raise ForecastError("empty", "the series has no days")
    if np.isnat(days).any():
        raise ForecastError("bad_dates", "a date is missing (NaT)")
    if np.isinf(vals).any():
        raise ForecastError("non_finite", "values contain infinity")
    if (vals < 0).any():
        raise ForecastError("negative_values", "values must be counts (≥ 0); negatives refused")
    order = np.argsort(days, kind="stable")
    days, vals = days[order], vals[order]
    if (np.diff(days) == np.timedelta64(0, "D")).any():
        raise ForecastError("duplicate_dates", "each day may appear once; aggregate first")
    observed = ~np.isnan(vals)
    n_obs = int(observed.sum())
    if n_obs < MIN_DAYS:
        raise ForecastError("too_short", f"{n_obs} observed days; at least {MIN_DAYS} are needed")
    notes: list[Note] = []
    first, last = days[observed][0], days[observed][-1]
    dropped = int((days < first).sum() + (days > last).sum())
    if dropped:
        notes.append(Note("ends_dropped", f"{dropped} missing days at the ends were dropped"))
    keep = (days >= first) & (days <= last) & observed
    span = int((last - first).astype(int)) + 1
    idx = (days[keep] - first).astype(int)
    full = np.full(span, np.nan)
    full[idx] = vals[keep]
    missing = np.isnan(full)
    filled = int(missing.sum())
    if filled * 2 > span:
        raise ForecastError(
            "too_sparse", f"{filled} of {span} days are missing; at most half may be"
        )
    if filled:
        grid = np.arange(span)
        full[missing] = np.interp(grid[missing], grid[~missing], full[~missing])
        notes.append(Note("gaps_filled", f"{filled} missing days filled by linear interpolation"))
    return Prepared(first, full, filled, tuple(notes))


def _normal_path(point: np.ndarray, sd: np.ndarray) -> _Path:
    return _Path(point, point - Z80 * sd, point + Z80 * sd, point - Z95 * sd, point + Z95 * sd)


def _mean_28(train: np.ndarray, h: int, notes: set[str], warm: _Warm) -> _Path:
    last = train[-28:]
    sd = float(np.std(last, ddof=1)) * np.sqrt(1.0 + 1.0 / len(last)) if len(last) > 1 else 0.0
    return _normal_path(np.full(h, float(last.mean())), np.full(h, sd))


def _seasonal_naive(train: np.ndarray, h: int, notes: set[str], warm: _Warm) -> _Path:
    week = train[-SEASON:]
    steps = np.arange(h)
    point = week[steps % SEASON].astype(float)
    recent = train[-365:]
    diffs = recent[SEASON:] - recent[:-SEASON]
    sigma = float(np.sqrt(np.mean(diffs**2))) if diffs.size else 0.0
    return _normal_path(point, sigma * np.sqrt(steps // SEASON + 1.0))


def _ets_fit_predict(y: np.ndarray, h: int, notes: set[str], warm: _Warm, key: str) -> _Path:
    import pandas as pd
    from statsmodels.tsa.exponential_smoothing.ets import ETSModel

    n = len(y)
    if np.ptp(y) == 0.0:  # a constant series has no variance to estimate
        notes.add("constant_series: training data are constant; ETS repeats the value")
        flat = np.full(h, float(y[0]))
        return _Path(flat, flat, flat, flat, flat)
    model = ETSModel(
        pd.Series(y),
        error="add",
        trend="add",
        damped_trend=True,
        seasonal="add",
        seasonal_periods=SEASON,
    )
    with _FIT_LOCK, warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = model.fit(start_params=warm.get(key), disp=False, maxiter=200)
        params = np.asarray(result.params, dtype=float)
        if np.isfinite(params).all():
            warm[key] = params
        pred = result.get_prediction(start=n, end=n + h - 1)
        f80 = pred.summary_frame(alpha=0.2)
        f95 = pred.summary_frame(alpha=0.05)
    for w in caught:
        notes.add(f"statsmodels: {w.category.__name__}: {str(w.message).splitlines()[0]}")
    return _Path(
        f80["mean"].to_numpy(float),
        f80["pi_lower"].to_numpy(float),
        f80["pi_upper"].to_numpy(float),
        f95["pi_lower"].to_numpy(float),
        f95["pi_upper"].to_numpy(float),
    )


def _ets(train: np.ndarray, h: int, notes: set[str], warm: _Warm) -> _Path:
    y = train[-MAX_TRAIN_DAYS:]
    scale = max(float(np.mean(y)), 1e-9)
    p = _ets_fit_predict(y / scale, h, notes, warm, "ets")
    return _Path(p.point * scale, p.lo80 * scale, p.hi80 * scale, p.lo95 * scale, p.hi95 * scale)


def _ets_log(train: np.ndarray, h: int, notes: set[str], warm: _Warm) -> _Path:
    y = np.log1p(train[-MAX_TRAIN_DAYS:])
    p = _ets_fit_predict(y, h, notes, warm, "ets_log")
    cap = np.log1p(UPPER_CAP * max(float(train.max()), 1.0))

    def back(a: np.ndarray) -> np.ndarray:
        return np.expm1(np.minimum(a, cap))

    return _Path(back(p.point), back(p.lo80), back(p.hi80), back(p.lo95), back(p.hi95))


_MODELS: dict[str, Callable[[np.ndarray, int, set[str], _Warm], _Path]] = {
    "mean_28": _mean_28,
    "seasonal_naive": _seasonal_naive,
    "ets": _ets,
    "ets_log": _ets_log,
}


def _tidy(p: _Path, top: float) -> _Path:
    """Clip at 0 and at ``top``, replace non-finite values, and force the bounds' order."""

    def clean(a: np.ndarray) -> np.ndarray:
        a = np.nan_to_num(np.asarray(a, dtype=float), nan=0.0, posinf=top, neginf=0.0)
        return np.clip(a, 0.0, top)

    point = clean(p.point)
    lo80 = np.minimum(clean(p.lo80), point)
    hi80 = np.maximum(clean(p.hi80), point)
    lo95 = np.minimum(clean(p.lo95), lo80)
    hi95 = np.maximum(clean(p.hi95), hi80)
    return _Path(point, lo80, hi80, lo95, hi95)


def _run(name: str, train: np.ndarray, h: int, notes: set[str], warm: _Warm) -> _Path | None:
    """Fit one candidate; ``None`` (with a note) when it fails or returns non-finite numbers."""
    try:
        p = _MODELS[name](train, h, notes, warm)
    except Exception as exc:  # a failing model must not stop the others
        notes.add(f"model_failed: {name}: {type(exc).__name__}: {exc}")
        return None
    if not np.isfinite(p.point).all():
        notes.add(f"model_failed: {name}: non-finite point forecast")
        return None
    top = UPPER_CAP * max(float(train.max()), 1.0)
    return _tidy(p, top)


def backtest_origins(n: int, days: int, origins: int, spacing: int) -> list[int]:
    """Origin indices (first forecast day) for a series of ``n`` days, latest first."""
    latest = max(MIN_TRAIN, n - days)
    return [o for o in (latest - spacing * j for j in range(origins)) if MIN_TRAIN <= o < n]


def forecast(
    dates: Sequence[Any] | np.ndarray,
    values: Sequence[Any] | np.ndarray,
    days: int = 30,
    *,
    origins: int = 6,
    spacing: int = 14,
    candidates: Sequence[str] = CANDIDATES,
) -> Forecast:
    """Forecast the ``days`` days after the last observed day; see the module docstring.

    Raises :class:`ForecastError` (a ``ValueError``) with a stable ``code`` when the input is
    refused: ``empty``, ``too_short``, ``too_sparse``, ``negative_values``, ``non_finite``,
    ``bad_dates``, ``bad_values``, ``duplicate_dates``, ``bad_horizon``, ``bad_candidates``.
    """
    if not isinstance(days, int | np.integer) or not 1 <= days <= MAX_HORIZON:
        raise ForecastError("bad_horizon", f"days must be an integer in 1..{MAX_HORIZON}")
    if origins < 1 or spacing < 1:
        raise ForecastError("bad_horizon", "origins and spacing must be at least 1")
    names = [c for c in CANDIDATES if c in set(candidates)]
    if not names or set(candidates) - set(CANDIDATES):
        raise ForecastError("bad_candidates", f"candidates must be drawn from {CANDIDATES}")
    h = int(days)
    prep = prepare_series(dates, values)
    y = prep.values
    n = len(y)
    notes: list[Note] = list(prep.notes)
    raw_notes: set[str] = set()
    warm: _Warm = {}  # each ETS fit starts from the previous origin's parameters

    cuts = backtest_origins(n, h, origins, spacing)
    if len(cuts) < origins or n - cuts[0] < h:
        notes.append(
            Note(
                "short_history",
                f"{n} days of history: backtest used {len(cuts)} of {origins} origins, "
                f"horizon up to {min(h, n - cuts[0])} of {h} days",
            )
        )
    errors: dict[str, list[np.ndarray]] = {c: [] for c in names}
    inside80: dict[str, list[np.ndarray]] = {c: [] for c in names}
    inside95: dict[str, list[np.ndarray]] = {c: [] for c in names}
    failed: set[str] = set()
    actual_parts: list[np.ndarray] = []
    for o in sorted(cuts):
        hb = min(h, n - o)
        actual = y[o : o + hb]
        actual_parts.append(actual)
        for c in names:
            if c in failed:
                continue
            p = _run(c, y[:o], hb, raw_notes, warm)
            if p is None:
                failed.add(c)
                continue
            errors[c].append(np.abs(actual - p.point))
            inside80[c].append((actual >= p.lo80) & (actual <= p.hi80))
            inside95[c].append((actual >= p.lo95) & (actual <= p.hi95))
    total_actual = float(np.sum(np.concatenate(actual_parts)))
    scores: list[CandidateScore] = []
    for c in names:
        if c in failed or not errors[c]:
            scores.append(CandidateScore(c, np.inf, np.nan, np.nan, np.nan, 0, 0))
            continue
        err = np.concatenate(errors[c])
        mae = float(err.mean())
        wmape = 100.0 * float(err.sum()) / total_actual if total_actual > 0 else np.nan
        scores.append(
            CandidateScore(
                c,
                mae,
                wmape,
                float(np.concatenate(inside80[c]).mean()),
                float(np.concatenate(inside95[c]).mean()),
                len(errors[c]),
                len(err),
            )
        )
    ranked = sorted(range(len(scores)), key=lambda i: (scores[i].mae, i))
    chosen: str | None = None
    path: _Path | None = None
    for i in ranked:
        path = _run(scores[i].name, y, h, raw_notes, warm)
        if path is not None:
            chosen = scores[i].name
            break
    if chosen is None or path is None:  # the baselines cannot fail on valid input
        raise ForecastError("model_failed", "no candidate model produced a forecast")
    if total_actual == 0:
        notes.append(Note("all_zero_backtest", "every backtest actual is 0: wMAPE undefined"))
    for text in sorted(raw_notes):
        code, _, message = text.partition(": ")
        notes.append(Note(code, message))

    start = prep.start + np.timedelta64(n, "D")
    out_days = tuple(
        (start + np.timedelta64(k, "D")).astype("datetime64[D]").item() for k in range(h)
    )

    def tup(a: np.ndarray) -> tuple[float, ...]:
        return tuple(float(v) for v in a)

    return Forecast(
        dates=out_days,
        point=tup(path.point),
        lower80=tup(path.lo80),
        upper80=tup(path.hi80),
        lower95=tup(path.lo95),
        upper95=tup(path.hi95),
        model=chosen,
        backtest=tuple(scores),
        history_days=n,
        filled_days=prep.filled_days,
        notes=tuple(notes),
    )
