"""A stem through the team server: upload and download a 48 MB file with hash checks.

    python benchmarks/bench_sync_blobs.py [--mb 48] [--repeats 5] [--s3]

The real server (uvicorn in a subprocess, SQLite, local-disk blobs) on 127.0.0.1; the client side
is what file sync does (``app.sync.files``): the stem is a checked copy in one member's
``FileStore``, opened (hash-checked in chunks) and streamed by ``SyncClient.put_blob`` with its
known hash; the server hashes while streaming to a temp file, fsyncs and renames; the download is
streamed by ``SyncClient.download_blob`` into another member's ``FileStore.receiving`` sink,
hashed as it comes and kept only when it matches. Reference in the same run: the floor of the
same work without HTTP: hash, write + fsync to a local file, read back, hash again. Target: a
round trip (upload + download) ≤ 2 s. Memory: one extra untimed round trip under ``tracemalloc``
gives this process's peak Python allocations for each direction (the file is never held whole).

``--s3`` also runs the same round trip against a server whose blobs are in an S3-compatible store
(``moto_server`` on 127.0.0.1, in memory): the client PUTs to a presigned URL, the server moves
the upload aside, reads it back to check size and sha256 and copies it into place, and the
download comes from a presigned URL. The local-disk figures of the same run are its reference
(ratio S3 / local disk). moto is a Python stand-in, far slower than a real S3 endpoint, so the
S3 figures are an upper bound of the server's own share.
"""

from __future__ import annotations

import argparse
import filecmp
import hashlib
import os
import statistics
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import keyring
from _support import final_json, table

from app.projects.files import FileStore
from app.storage import open_database
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


def write_random(path: Path, size: int) -> None:
    with open(path, "wb") as f:
        for start in range(0, size, 1 << 20):
            f.write(os.urandom(min(1 << 20, size - start)))


class Desks:
    """Two members' file stores and a signed-in client of ``server``."""

    def __init__(self, server: SyncServer, folder: Path) -> None:
        self.team_id, emails = make_team(server.url, 1, prefix="stems")
        self.client = SyncClient(server.url)
        self.client.login(emails[0], PASSWORD)
        self.folder = folder
        self.sent = FileStore(folder / "sent", open_database(folder / "sent.sqlite3"))
        self.got = FileStore(folder / "got", open_database(folder / "got.sqlite3"))

    def new_stem(self, mb: int) -> str:
        """A new random stem each time (nothing cached), stored as a checked copy."""
        source = self.folder / "stem.wav"
        write_random(source, mb * 1024 * 1024)
        sha, _size, _type = self.sent.add_path(source)
        source.unlink()
        return sha

    def up(self, sha: str) -> None:
        with self.sent.opened(sha) as stream:
            assert self.client.put_blob(self.team_id, stream, sha256=sha) == sha

    def down(self, sha: str) -> None:
        with self.got.receiving(sha, "audio/x-wav") as sink:
            self.client.download_blob(self.team_id, sha, sink)

    def drop(self, sha: str) -> None:
        self.sent.path(sha).unlink()
        self.got.path(sha).unlink()


def round_trips(
    server: SyncServer, folder: Path, mb: int, repeats: int, label: str
) -> tuple[list[list[float]], tuple[int, int]]:
    """Upload, download and round-trip seconds of ``repeats`` fresh ``mb`` MB stems, and the
    peak Python allocations (bytes) of an upload and a download measured once more untimed."""
    desks = Desks(server, folder)
    ups, downs, trips = [], [], []
    for r in range(repeats):
        sha = desks.new_stem(mb)
        t0 = time.perf_counter()
        desks.up(sha)
        t1 = time.perf_counter()
        desks.down(sha)
        t2 = time.perf_counter()
        assert filecmp.cmp(desks.sent.path(sha), desks.got.path(sha), shallow=False)
        desks.drop(sha)
        ups.append(t1 - t0)
        downs.append(t2 - t1)
        trips.append(t2 - t0)
        print(f"{label} repeat {r + 1}: round trip {t2 - t0:.2f} s", file=sys.stderr)
    sha = desks.new_stem(mb)
    tracemalloc.start()
    desks.up(sha)
    up_peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.reset_peak()
    desks.down(sha)
    down_peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    desks.client.close()
    return [ups, downs, trips], (up_peak, down_peak)


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
    s3_peaks = (0, 0)
    with tempfile.TemporaryDirectory() as tmp:
        with SyncServer(Path(tmp) / "server") as server:
            (ups, downs, trips), peaks = round_trips(
                server, Path(tmp), args.mb, args.repeats, "local disk"
            )
        for _ in range(args.repeats):
            floors.append(local_floor(os.urandom(args.mb * 1024 * 1024), Path(tmp)))
        if args.s3:
            with MotoServer(Path(tmp) / "moto.log") as moto:
                moto.create_bucket("bench-stems")
                with SyncServer(
                    Path(tmp) / "s3-server", blobs_url="s3://bench-stems/blobs", env=moto.env
                ) as server:
                    s3, s3_peaks = round_trips(
                        server, Path(tmp), args.mb, args.repeats, "S3 (moto)"
                    )
    median = statistics.median
    rows = [
        ["upload (check copy, stream, server hash + fsync)", median(ups), min(ups)],
        ["download (stream into the file store, hash check, fsync)", median(downs), min(downs)],
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
    mib = 1024 * 1024
    memory = [["local disk", peaks[0] / mib, peaks[1] / mib]]
    if s3:
        memory.append(["S3 (moto)", s3_peaks[0] / mib, s3_peaks[1] / mib])
    print(f"peak Python allocations of this process, MiB, for a {args.mb} MiB stem:")
    print(table(["store", "upload", "download"], memory))
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
        "peak_alloc_upload_mib": round(peaks[0] / mib, 2),
        "peak_alloc_download_mib": round(peaks[1] / mib, 2),
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
                "s3_peak_alloc_upload_mib": round(s3_peaks[0] / mib, 2),
                "s3_peak_alloc_download_mib": round(s3_peaks[1] / mib, 2),
            }
        )
    final_json(figures)


if __name__ == "__main__":
    main()
