"""kill -9 in the middle of saving: every acknowledged edit survives and the file stays sound.

A child process (``helpers/crash_writer.py``) edits a project in a loop and prints each edit's
number as soon as ``edit()`` has returned. The parent reads those acknowledgements and, once it
has seen enough, sends SIGKILL while the child is busy with the next save. Then it reopens the
database (SQLite recovers the WAL) and checks that every acknowledged edit is there, in order.

Why this test can fail: the acknowledgement is printed by the child, after ``edit()`` returns, and
SIGKILL discards everything the process still holds in memory. If saving were buffered (edits
queued for a writer thread, batched every N edits, or held in an open transaction committed
later), the last acknowledged edits would still be in the dead process's memory and the check
below would find them missing. If a commit could be torn (a half-written row), the reopen would
report a damaged row or fail the integrity check. Checked while writing this test with two
deliberately broken writers: one that saved in batches of 25 edits (3 of the 4 kill points
failed) and one that acknowledged inside the edit block, before its commit (all 4 failed).

What it cannot show: SIGKILL leaves the operating system's page cache intact, so it does not
prove data reaches the platter. That is ``synchronous=FULL``'s job; test_storage checks the
pragma on every connection.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from app.projects import ProjectStore
from app.storage import migrate, open_database

HELPER = Path(__file__).parent / "helpers" / "crash_writer.py"
REPO_ROOT = Path(__file__).resolve().parents[2]
pytestmark = [
    pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs SIGKILL"),
    pytest.mark.usefixtures("english"),
]


def _start_writer(db_path: Path) -> subprocess.Popen[str]:
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT), "PYTHONUNBUFFERED": "1"}
    return subprocess.Popen(
        [sys.executable, str(HELPER), str(db_path)],
        cwd=REPO_ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


@pytest.mark.parametrize("kill_after", [1, 57, 200, 333])
def test_kill_during_saves_loses_no_acknowledged_edit(tmp_path: Path, kill_after: int) -> None:
    db_path = tmp_path / "hookline.sqlite3"
    writer = _start_writer(db_path)
    assert writer.stdout is not None
    try:
        first = writer.stdout.readline()
        assert first.startswith("project "), writer.stderr.read() if writer.stderr else first
        project_id = first.split()[1]
        acknowledged = -1
        deadline = time.monotonic() + 60
        while acknowledged < kill_after and time.monotonic() < deadline:
            line = writer.stdout.readline()
            assert line, "the writer stopped by itself"
            acknowledged = int(line)
        os.kill(writer.pid, signal.SIGKILL)  # the writer is in the middle of its next edit
        writer.wait(timeout=30)
    finally:
        if writer.poll() is None:
            writer.kill()
            writer.wait()
    assert writer.returncode == -signal.SIGKILL
    assert acknowledged >= kill_after

    database = open_database(db_path)
    try:
        assert database.check_integrity() == []
        project = ProjectStore(database).open(project_id)
        assert project.warnings == []
        markers = [int(m) for m in project.markers.to_py()]
        # Everything acknowledged is there; edits after it are either whole or absent.
        assert markers[: acknowledged + 1] == list(range(acknowledged + 1))
        assert markers == list(range(len(markers)))
        assert str(project.lyrics) == "".join(f"{i} " for i in range(len(markers)))
        project.close()
    finally:
        database.close()


@pytest.mark.parametrize("delay", [0.05, 0.4, 0.7])
def test_kill_at_any_moment_leaves_a_database_that_opens(tmp_path: Path, delay: float) -> None:
    """Killed while starting: maybe while creating the file or running the migrations."""
    db_path = tmp_path / "hookline.sqlite3"
    writer = _start_writer(db_path)
    time.sleep(delay)
    writer.kill()
    writer.wait(timeout=30)
    for stream in (writer.stdout, writer.stderr):
        if stream is not None:
            stream.close()
    database = open_database(db_path)
    try:
        assert database.revision() == migrate.head_revision()
        assert database.check_integrity() == []
        store = ProjectStore(database)
        for info in store.list():
            assert store.open(info.id).warnings == []
    finally:
        database.close()
