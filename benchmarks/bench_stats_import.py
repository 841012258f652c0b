"""Stats CSV import: 10 years of daily rows for 200 songs (730,400 rows of ``date,song,streams``).

Claim (issue 8): importing it takes ≤ 3 s. Measured: :meth:`app.stats_store.StatsStore.import_csv`
into a fresh database at the head revision (file detection, per-row validation, upsert, counts),
then the same file again (every value unchanged). Reference, in the same run on the same file
and an identical fresh database: a naive importer, ``csv.DictReader`` plus one ``INSERT ... ON
CONFLICT DO UPDATE`` statement per value in one transaction, with a dict of series ids (no
validation beyond ``float()`` and ``date.fromisoformat``). Timings are the median of
``--repeats`` runs; the ratio is reference / ours (above 1 means ours is faster).

``--big`` instead writes a ~200 MB file (2,200 songs x 10 years, about 8 M rows: the issue's
"200 MB file") and imports it once into a fresh database, reporting the time and the peak
resident memory of this process (``resource.getrusage``, kB on Linux) before and after; no
reference runs in that mode. The load averages before and after are printed: the machine is
shared, so read timings with them.

Run: ``python benchmarks/bench_stats_import.py [--songs 200] [--years 10] [--repeats 3]``
or ``python benchmarks/bench_stats_import.py --big``
"""

from __future__ import annotations

import argparse
import csv
import os
import resource
import sqlite3
import statistics
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from _support import final_json, table

from app.stats_import import EPOCH_ORDINAL
from app.stats_store import StatsStore
from app.storage import open_database

END = date(2026, 5, 31)
TARGET_S = 3.0
BIG_SONGS = 2200


def make_file(path: Path, songs: int, years: int) -> int:
    days = years * 365 + years // 4
    start = END - timedelta(days=days - 1)
    rows = 0
    with open(path, "w", encoding="utf-8", newline="") as f:
        f.write("date,song,streams\n")
        for d in range(days):
            day = (start + timedelta(days=d)).isoformat()
            f.writelines(f"{day},Song {s:03d},{(d * 7 + s * 13) % 5000}\n" for s in range(songs))
            rows += songs
    return rows


def naive_import(db_file: Path, csv_file: Path) -> None:
    connection = sqlite3.connect(str(db_file), isolation_level=None)
    try:
        connection.execute("PRAGMA journal_mode = WAL")
        connection.execute("PRAGMA synchronous = FULL")
        connection.execute("BEGIN IMMEDIATE")
        series: dict[str, int] = {}  # song -> stats_series id, created on first sight
        with open(csv_file, encoding="utf-8", newline="") as f:
            for row in csv.DictReader(f):
                song = row["song"]
                series_id = series.get(song)
                if series_id is None:
                    connection.execute(
                        "INSERT OR IGNORE INTO stats_series (kind, entity, resolution, metric) "
                        "VALUES ('song', ?, 'daily', 'streams')",
                        (song,),
                    )
                    series_id = series[song] = connection.execute(
                        "SELECT id FROM stats_series WHERE kind = 'song' AND entity = ? "
                        "AND resolution = 'daily' AND metric = 'streams'",
                        (song,),
                    ).fetchone()[0]
                connection.execute(
                    "INSERT INTO stats_points (series_id, day, value, source, import_id) "
                    "VALUES (?, ?, ?, 'csv', NULL) "
                    "ON CONFLICT (series_id, day) DO UPDATE SET value = excluded.value",
                    (
                        series_id,
                        date.fromisoformat(row["date"]).toordinal() - EPOCH_ORDINAL,
                        float(row["streams"]),
                    ),
                )
        connection.execute("COMMIT")
    finally:
        connection.close()


def load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def peak_rss_kb() -> int:
    return int(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)


def big(years: int) -> None:
    load_before = load()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        csv_file = root / "songs-timeline-big.csv"
        rows = make_file(csv_file, BIG_SONGS, years)
        size_mb = csv_file.stat().st_size / 1e6
        db = open_database(root / "big" / "hookline.sqlite3")
        rss_before = peak_rss_kb()
        t0 = time.perf_counter()
        report = StatsStore(db).import_csv(csv_file, today=END)
        seconds = time.perf_counter() - t0
        rss_after = peak_rss_kb()
        db.close()
        assert report.status == "imported", report.message
        assert report.values_added == rows and report.rows_rejected == 0, report.to_json()
    load_after = load()
    print(
        table(
            ["importer", "rows", "MB", "s", "rows/s", "peak RSS MB before", "peak RSS MB after"],
            [
                [
                    "hookline (fresh db)",
                    rows,
                    size_mb,
                    seconds,
                    rows / seconds,
                    rss_before / 1024,
                    rss_after / 1024,
                ]
            ],
        )
    )
    print(f"load average before: {load_before}; after: {load_after}")
    final_json(
        {
            "bench": "stats_import_big",
            "rows": rows,
            "file_mb": round(size_mb, 1),
            "import_s": round(seconds, 2),
            "peak_rss_mb_before": round(rss_before / 1024, 1),
            "peak_rss_mb_after": round(rss_after / 1024, 1),
            "loadavg_before": load_before,
            "loadavg_after": load_after,
        }
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--songs", type=int, default=200)
    parser.add_argument("--years", type=int, default=10)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--big", action="store_true", help="one ~200 MB file instead")
    args = parser.parse_args()
    if args.big:
        big(args.years)
        return
    load_before = load()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        csv_file = root / "songs-timeline.csv"
        rows = make_file(csv_file, args.songs, args.years)
        size_mb = csv_file.stat().st_size / 1e6
        first, again, reference = [], [], []
        report = None
        for r in range(args.repeats):
            db = open_database(root / f"ours{r}" / "hookline.sqlite3")
            store = StatsStore(db)
            # Every timed import starts with no dirty pages of an earlier one still being
            # written back (each commit fsyncs ~30 MB of WAL; a checkpoint on close as much).
            os.sync()
            t0 = time.perf_counter()
            report = store.import_csv(csv_file, today=END)
            first.append(time.perf_counter() - t0)
            assert report.values_added == rows and report.rows_rejected == 0, report.to_json()
            os.sync()
            t0 = time.perf_counter()
            second = store.import_csv(csv_file, today=END)
            again.append(time.perf_counter() - t0)
            assert second.values_unchanged == rows and second.values_added == 0
            db.close()
            ref_db = open_database(root / f"ref{r}" / "hookline.sqlite3")
            ref_path = ref_db.path
            ref_db.close()
            os.sync()
            t0 = time.perf_counter()
            naive_import(ref_path, csv_file)
            reference.append(time.perf_counter() - t0)
            with sqlite3.connect(str(ref_path)) as check:
                assert check.execute("SELECT COUNT(*) FROM stats_points").fetchone()[0] == rows
            check.close()
        ours, ref, re_ours = (statistics.median(x) for x in (first, reference, again))
        print(
            table(
                ["importer", "rows", "MB", "median s", "min s", "rows/s"],
                [
                    ["hookline (fresh db)", rows, size_mb, ours, min(first), rows / ours],
                    ["hookline (re-import)", rows, size_mb, re_ours, min(again), rows / re_ours],
                    ["naive csv + per-row INSERT", rows, size_mb, ref, min(reference), rows / ref],
                ],
            )
        )
        load_after = load()
        print(f"load average before: {load_before}; after: {load_after}")
        final_json(
            {
                "bench": "stats_import",
                "rows": rows,
                "file_mb": round(size_mb, 1),
                "repeats": args.repeats,
                "import_s": round(ours, 3),
                "import_min_s": round(min(first), 3),
                "reimport_s": round(re_ours, 3),
                "naive_s": round(ref, 3),
                "ratio_naive_over_ours": round(ref / ours, 2),
                "target_s": TARGET_S,
                "claim_import_le_3s": ours <= TARGET_S,
                "loadavg_before": load_before,
                "loadavg_after": load_after,
            }
        )


if __name__ == "__main__":
    main()
