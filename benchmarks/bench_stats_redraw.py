"""Stats room timeline redraw: 10 years of daily values (3,653 days per series).

Claim (issue 8): the Stats view redraws a 10-year timeline in ≤ 50 ms. Setup (not timed): a
temporary database filled through :meth:`app.stats_store.StatsStore.import_csv` with an audience
timeline, ``--songs`` daily song timelines, a songs export with release dates and a playlists
export; the room (:class:`ui.stats.StatsRoom`, 1280 x 800, offscreen Qt) shown and loaded.

Measured, each ``--repeats`` times, p50 and p99:

- (a) series switch: choosing another series in the room's picker (query, arrays, curve data,
  view fit, day-of-week chart, markers) until the timeline is repainted (``plot.grab()``);
- (b) zoom and pan: a new x range on the timeline (full span, a year, a quarter, a month,
  panned) and the repaint.

Reference, in the same run and process: a naive pyqtgraph plot of the same size with the same
date axis and pyqtgraph's own translucent grid (as the room drew it before), no downsampling and
no clipping to the view, fed the same series through ``StatsStore.series`` (a Python ``date``
per value) and repainted the same way. The ratio is
reference / ours (above 1 means ours is faster). Also shown: the room's initial load in its
worker thread and the GUI-thread part of showing it (``_apply``), and (a) repainting the whole
room instead of the timeline only.

Run: ``QT_QPA_PLATFORM=offscreen python benchmarks/bench_stats_redraw.py
[--songs 200] [--years 10] [--repeats 40]``
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import numpy as np
import pyqtgraph as pg
from _support import final_json, percentiles, table
from PySide6.QtWidgets import QApplication

from app.stats_store import StatsStore
from app.storage import open_database
from ui.stats.view import StatsRoom, _epoch
from ui.theme import apply_theme

END = date(2026, 5, 31)
TARGET_MS = 50.0


def write_exports(root: Path, songs: int, years: int) -> list[Path]:
    """The four exports: audience, song timelines, songs (release dates), playlists."""
    days = years * 365 + years // 4
    start = END - timedelta(days=days - 1)
    rng = np.random.default_rng(8)
    audience, timeline = root / "audience.csv", root / "songs-timeline.csv"
    with open(audience, "w", encoding="utf-8") as a, open(timeline, "w", encoding="utf-8") as t:
        a.write("date,listeners,streams,followers\n")
        t.write("date,song,streams\n")
        for d in range(days):
            day = (start + timedelta(days=d)).isoformat()
            weekly = 1.2 if (start + timedelta(days=d)).weekday() == 4 else 1.0
            streams = int((2000 + 3 * d) * weekly * rng.uniform(0.8, 1.2))
            a.write(f"{day},{streams // 3},{streams},{500 + d}\n")
            t.writelines(f"{day},Song {s:03d},{(d * 7 + s * 13) % 5000}\n" for s in range(songs))
    song_facts = root / "songs.csv"
    with open(song_facts, "w", encoding="utf-8") as f:
        f.write("song,isrc,listeners,streams,saves,release_date\n")
        for s in range(songs):
            released = start + timedelta(days=(s * 37) % days)
            f.write(f"Song {s:03d},QZ{s:010d},{100 + s},{1000 + s},{10 + s},{released}\n")
    playlists = root / "playlists.csv"
    with open(playlists, "w", encoding="utf-8") as f:
        f.write("playlist,author,listeners,streams,date_added\n")
        for p in range(40):
            f.write(f"Playlist {p},Curator {p % 7},{50 + p},{400 + p},{END - timedelta(p * 20)}\n")
    return [audience, timeline, song_facts, playlists]


def timed(action: Callable[[], object], repeats: int, setups: list[Callable[[], object]]) -> list:
    out = []
    for r in range(repeats):
        setup = setups[r % len(setups)]
        t0 = time.perf_counter()
        setup()
        action()
        out.append((time.perf_counter() - t0) * 1000.0)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--songs", type=int, default=200)
    parser.add_argument("--years", type=int, default=10)
    parser.add_argument("--repeats", type=int, default=40)
    args = parser.parse_args()
    app = QApplication.instance() or QApplication(sys.argv[:1])
    apply_theme(app, "dark")  # type: ignore[arg-type]
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        t0 = time.perf_counter()
        db = open_database(root / "data" / "hookline.sqlite3")
        store = StatsStore(db)
        for path in write_exports(root, args.songs, args.years):
            report = store.import_csv(path, today=END, as_of=END)
            assert report.status == "imported" and report.rows_rejected == 0, report.to_json()
        setup_s = time.perf_counter() - t0

        room = StatsRoom(store)
        room.resize(1280, 800)
        room.show()
        t0 = time.perf_counter()
        while not room.idle():
            app.processEvents()
            time.sleep(0.001)
        load_s = time.perf_counter() - t0
        loaded_items = room.series.count()
        # the GUI-thread part of showing a load (tables, combo, markers, first series)
        from ui.stats.view import _Loaded

        loaded = _Loaded(store)
        apply_ms = []
        for _ in range(5):
            t0 = time.perf_counter()
            room._apply(loaded)
            apply_ms.append((time.perf_counter() - t0) * 1000.0)

        daily = [
            i
            for i in range(room.series.count())
            if room.series_keys[i][2] == "daily" and room.series_keys[i][0] != "playlist"
        ]
        picks = [daily[(k * 7919) % len(daily)] for k in range(args.repeats + 1)]
        picks = [p for k, p in enumerate(picks) if k == 0 or p != picks[k - 1]]
        keys = [room.series_keys[i] for i in picks]
        n_points = len(room.store.series_array(keys[0][0], keys[0][1], "streams")[0])

        def pick(index: int) -> Callable[[], object]:
            return lambda: room.series.setCurrentIndex(index)

        switch = timed(room.plot.grab, args.repeats, [pick(i) for i in picks])
        switch_room = timed(room.grab, args.repeats, [pick(i) for i in picks])

        # (b) zoom and pan on the audience timeline
        room.series.setCurrentIndex(room.find_series(("audience", "", "daily")))
        room.metric_picker.setCurrentIndex(room.metric_picker.findData("streams"))
        x = room.curve.xData
        assert x is not None and len(x) == n_points, (len(x) if x is not None else None, n_points)
        first, last = float(x[0]), float(x[-1])
        day = 86400.0
        ranges = [(first, last)]
        for span in (365, 90, 30):
            for k in range(10):
                lo = last - span * day - k * span * day / 3
                ranges.append((max(first, lo), max(first, lo) + span * day))
        item = room.plot.getPlotItem()

        def view(r: tuple[float, float], it: pg.PlotItem) -> Callable[[], object]:
            return lambda: it.setXRange(*r, padding=0)

        zoom = timed(room.plot.grab, args.repeats, [view(r, item) for r in ranges])

        # the reference: a naive plot of the same series, same size, same axis
        naive = pg.PlotWidget(axisItems={"bottom": pg.DateAxisItem()})
        naive.resize(room.plot.size())
        naive.getPlotItem().showGrid(x=True, y=True, alpha=0.15)  # as the room drew it before
        naive.show()
        naive_curve = naive.getPlotItem().plot([], [], pen=pg.mkPen("#4aa3ff", width=1.5))

        def naive_pick(key: tuple[str, str, str]) -> Callable[[], object]:
            def go() -> None:
                points = store.series(key[0], key[1], "streams", resolution=key[2])
                xs = np.array([_epoch(d) for d, _v in points], dtype=np.float64)
                ys = np.array([v for _d, v in points], dtype=np.float64)
                naive_curve.setData(xs, ys)
                naive.getPlotItem().autoRange()

            return go

        naive_switch = timed(naive.grab, args.repeats, [naive_pick(k) for k in keys])
        naive_pick(("audience", "", "daily"))()
        naive_zoom = timed(naive.grab, args.repeats, [view(r, naive.getPlotItem()) for r in ranges])
        room.close()
        naive.close()
        db.close()

    rows = []
    figures: dict[str, object] = {
        "bench": "stats_redraw",
        "target_ms": TARGET_MS,
        "points_per_series": n_points,
        "songs": args.songs,
        "series_in_picker": loaded_items,
        "repeats": args.repeats,
        "setup_s": round(setup_s, 2),
        "initial_load_worker_s": round(load_s, 3),
    }
    for name, ours, ref in (
        ("switch", switch, naive_switch),
        ("zoom_pan", zoom, naive_zoom),
    ):
        o50, o99 = percentiles(np.array(ours))
        r50, r99 = percentiles(np.array(ref))
        rows.append([f"({name}) ours", o50, o99, f"{r50 / o50:.2f}"])
        rows.append([f"({name}) naive pyqtgraph", r50, r99, ""])
        figures |= {
            f"{name}_p50_ms": round(o50, 2),
            f"{name}_p99_ms": round(o99, 2),
            f"{name}_naive_p50_ms": round(r50, 2),
            f"{name}_naive_p99_ms": round(r99, 2),
            f"{name}_ratio_naive_over_ours": round(r50 / o50, 2),
        }
    w50, w99 = percentiles(np.array(switch_room))
    a50, a99 = percentiles(np.array(apply_ms))
    rows.append(["(switch) whole room repainted", w50, w99, ""])
    rows.append(["showing a load (GUI thread)", a50, a99, ""])
    figures |= {
        "switch_whole_room_p50_ms": round(w50, 2),
        "switch_whole_room_p99_ms": round(w99, 2),
        "apply_load_gui_p50_ms": round(a50, 2),
        "claim_redraw_le_50ms": max(figures["switch_p99_ms"], figures["zoom_pan_p99_ms"])  # type: ignore[type-var]
        <= TARGET_MS,
    }
    print(
        f"{n_points} days per series, {args.songs} songs, setup {setup_s:.1f} s, "
        f"initial load in the worker {load_s * 1000:.0f} ms"
    )
    print(table(["measure", "p50 ms", "p99 ms", "naive/ours"], rows))
    final_json(figures)


if __name__ == "__main__":
    main()
