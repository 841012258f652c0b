"""Team-sync server: sustained small Yjs updates per second through one server process.

Claims (issue 9): ≥ 1,000 small updates/s on SQLite and ≥ 5,000/s on PostgreSQL through one
server process, with batched writes. Each of ``--clients`` threads owns a project and pushes real
pycrdt updates (one typed character each, made before the clock starts) in batches of ``--batch``
as fast as answers come back, for ``--seconds``; every push is validated, committed and
acknowledged by a real ``python -m server`` (uvicorn) on 127.0.0.1. The reference in the same run
is the naive client: one update per push, so one transaction (and on SQLite with
synchronous=FULL one fsync) per update. The ratio is batched / naive updates per second.
PostgreSQL runs in a throwaway cluster (fsync on) when initdb is found, otherwise it is left out.

Run: ``python benchmarks/bench_sync_server.py [--seconds 5] [--clients 4] [--batch 50]
[--no-sqlite] [--no-postgres]``.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import shutil
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from _support import final_json, percentiles, table

from tests.server.client import Api, Writer
from tests.server.postgres import PostgresCluster, find_binary
from tests.support.sync_server import SyncServer


def make_updates(count: int) -> list[bytes]:
    writer = Writer()
    for i in range(count):
        writer.type("abcdefghij"[i % 10])
    return writer.take()


def run(url: str, clients: int, batch: int, seconds: float) -> dict[str, float]:
    with Api(url) as api:
        user = api.user()
        team = api.team(user)
        projects = [api.project(user, team) for _ in range(clients)]
    per_client = int(20_000 * seconds / clients) + batch
    updates = [make_updates(per_client) for _ in range(clients)]
    latencies: list[float] = []
    counts = [0] * clients
    lock = threading.Lock()
    start_at = time.perf_counter() + 0.5
    stop_at = start_at + seconds

    def client(index: int) -> None:
        mine, offset = updates[index], 0
        with Api(url) as own:
            while time.perf_counter() < start_at:
                time.sleep(0.001)
            while time.perf_counter() < stop_at and offset + batch <= len(mine):
                sent = time.perf_counter()
                r = own.push(user, projects[index], mine[offset : offset + batch])
                took = time.perf_counter() - sent
                if r.status_code != 200:
                    raise RuntimeError(r.text)
                offset += batch
                counts[index] += batch
                with lock:
                    latencies.append(took)

    with concurrent.futures.ThreadPoolExecutor(clients) as pool:
        list(pool.map(client, range(clients)))
    elapsed = max(time.perf_counter(), stop_at) - start_at
    p50, p99 = percentiles(np.array(latencies) * 1000)
    return {
        "updates_per_s": sum(counts) / elapsed,
        "pushes_per_s": len(latencies) / elapsed,
        "push_p50_ms": p50,
        "push_p99_ms": p99,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--batch", type=int, default=50)
    parser.add_argument("--no-postgres", action="store_true")
    parser.add_argument("--no-sqlite", action="store_true")
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="bench-sync-"))
    rows, figures = [], {}
    backends: list[tuple[str, str | None, dict]] = []
    if not args.no_sqlite:
        backends += [
            ("sqlite FULL", None, {"sqlite_synchronous": "FULL"}),
            ("sqlite NORMAL", None, {"sqlite_synchronous": "NORMAL"}),
        ]
    cluster = None
    if not args.no_postgres and find_binary("initdb"):
        cluster = PostgresCluster(Path(tempfile.mkdtemp(prefix="bench-pg-"))).start()
        backends.append(("postgresql", "pg", {}))
    try:
        for name, database, settings in backends:
            results = {}
            for mode, batch in (("batched", args.batch), ("naive", 1)):
                url = None
                if database == "pg":
                    assert cluster is not None
                    url = cluster.create_database(f"bench_{mode}")
                root = work / f"{name.replace(' ', '-')}-{mode}"
                with SyncServer(root, url, **settings) as server:
                    results[mode] = run(server.url, args.clients, batch, args.seconds)
                r = results[mode]
                rows.append(
                    [
                        name,
                        mode,
                        batch,
                        r["updates_per_s"],
                        r["pushes_per_s"],
                        r["push_p50_ms"],
                        r["push_p99_ms"],
                    ]
                )
            key = name.replace(" ", "_").lower()
            figures[f"{key}_updates_per_s"] = round(results["batched"]["updates_per_s"], 1)
            figures[f"{key}_naive_updates_per_s"] = round(results["naive"]["updates_per_s"], 1)
            figures[f"{key}_ratio"] = round(
                results["batched"]["updates_per_s"] / results["naive"]["updates_per_s"], 2
            )
    finally:
        if cluster is not None:
            cluster.stop()
            shutil.rmtree(cluster.root, ignore_errors=True)
        shutil.rmtree(work, ignore_errors=True)
    print(table(["backend", "mode", "batch", "updates/s", "pushes/s", "p50 ms", "p99 ms"], rows))
    figures.update(clients=args.clients, batch=args.batch, seconds=args.seconds)
    final_json(figures)


if __name__ == "__main__":
    main()
