"""A stem through the team server: upload and download a 48 MB file with hash checks.

    python benchmarks/bench_sync_blobs.py [--mb 48] [--repeats 5] [--s3]

The real server (uvicorn in a subprocess, SQLite, local-disk blobs) on 127.0.0.1; the client is
``app.sync.client.SyncClient`` (``put_blob`` hashes before sending and checks the server's
answer; the server hashes while streaming to a temp file, fsyncs and renames; ``get_blob``
hashes what arrives and refuses a mismatch). Reference in the same run: the floor of the same
work without HTTP: hash, write + fsync to a local file, read back, hash again. Target: a
round trip (upload + download) ≤ 2 s.

``--s3`` also runs the same round trip against a server whose blobs are in an S3-compatible store
(``moto_server`` on 127.0.0.1, in memory): the client PUTs to a presigned URL, the server moves
the upload aside, reads it back to check size and sha256 and copies it into place, and the
download comes from a presigned URL. The local-disk figures of the same run are its reference
(ratio S3 / local disk). moto is a Python stand-in, far slower than a real S3 endpoint, so the
S3 figures are an upper bound of the server's own share.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import keyring
from _support import final_json, table

from app.sync import SyncClient
from tests.e2e.sync_clients import PASSWORD, make_team
from tests.support.s3_server import MotoServer
from tests.support.secret_service import InMemoryTestKeyring
from tests.support.sync_server import SyncServer

TARGET_S = 2.0


def local_floor(data: bytes, folder: Path) -> float:
    t0 = time.perf_counter()
    digest = hashlib.sha256(data).hexdigest()
    path = folder / digest
    with open(path, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())
    back = path.read_bytes()
    assert hashlib.sha256(back).hexdigest() == digest
    seconds = time.perf_counter() - t0
    path.unlink()
    return seconds


def round_trips(server: SyncServer, mb: int, repeats: int, label: str) -> list[list[float]]:
    """Upload, download and round-trip seconds of ``repeats`` fresh ``mb`` MB stems."""
    team_id, emails = make_team(server.url, 1, prefix="stems")
    client = SyncClient(server.url)
    client.login(emails[0], PASSWORD)
    ups, downs, trips = [], [], []
    for r in range(repeats):
        data = os.urandom(mb * 1024 * 1024)  # a new stem each time: nothing cached
        t0 = time.perf_counter()
        digest = client.put_blob(team_id, data)
        t1 = time.perf_counter()
        back = client.get_blob(team_id, digest)
        t2 = time.perf_counter()
        assert back == data
        ups.append(t1 - t0)
        downs.append(t2 - t1)
        trips.append(t2 - t0)
        print(f"{label} repeat {r + 1}: round trip {t2 - t0:.2f} s", file=sys.stderr)
    client.close()
    return [ups, downs, trips]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--mb", type=int, default=48)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--s3", action="store_true", help="also through moto_server (S3)")
    args = parser.parse_args()
    keyring.set_keyring(InMemoryTestKeyring())
    load_before = " ".join(f"{x:.2f}" for x in os.getloadavg())
    floors = []
    s3: list[list[float]] = []
    with tempfile.TemporaryDirectory() as tmp:
        with SyncServer(Path(tmp) / "server") as server:
            ups, downs, trips = round_trips(server, args.mb, args.repeats, "local disk")
        for _ in range(args.repeats):
            floors.append(local_floor(os.urandom(args.mb * 1024 * 1024), Path(tmp)))
        if args.s3:
            with MotoServer(Path(tmp) / "moto.log") as moto:
                moto.create_bucket("bench-stems")
                with SyncServer(
                    Path(tmp) / "s3-server", blobs_url="s3://bench-stems/blobs", env=moto.env
                ) as server:
                    s3 = round_trips(server, args.mb, args.repeats, "S3 (moto)")
    median = statistics.median
    rows = [
        ["upload (hash, stream, server hash + fsync)", median(ups), min(ups)],
        ["download (stream, hash check)", median(downs), min(downs)],
        ["round trip", median(trips), min(trips)],
    ]
    if s3:
        rows += [
            ["S3: upload (presigned PUT, server reads back + writes)", median(s3[0]), min(s3[0])],
            ["S3: download (presigned GET, hash check)", median(s3[1]), min(s3[1])],
            ["S3: round trip", median(s3[2]), min(s3[2])],
        ]
    rows.append(
        ["reference: hash, write + fsync, read, hash (no HTTP)", median(floors), min(floors)]
    )
    print(table(["measure", "median s", "min s"], rows))
    load_after = " ".join(f"{x:.2f}" for x in os.getloadavg())
    print(f"load average before: {load_before}; after: {load_after}")
    figures: dict[str, object] = {
        "bench": "sync_blobs",
        "mb": args.mb,
        "repeats": args.repeats,
        "upload_s": round(median(ups), 3),
        "download_s": round(median(downs), 3),
        "round_trip_s": round(median(trips), 3),
        "reference_s": round(median(floors), 3),
        "ratio_round_trip_over_reference": round(median(trips) / median(floors), 2),
        "target_s": TARGET_S,
        "claim_round_trip_le_2s": median(trips) <= TARGET_S,
        "loadavg_before": load_before,
        "loadavg_after": load_after,
    }
    if s3:
        figures.update(
            {
                "s3_store": "moto_server",
                "s3_upload_s": round(median(s3[0]), 3),
                "s3_download_s": round(median(s3[1]), 3),
                "s3_round_trip_s": round(median(s3[2]), 3),
                "ratio_s3_round_trip_over_local_disk": round(median(s3[2]) / median(trips), 2),
                "claim_s3_round_trip_le_2s": median(s3[2]) <= TARGET_S,
            }
        )
    final_json(figures)


if __name__ == "__main__":
    main()
