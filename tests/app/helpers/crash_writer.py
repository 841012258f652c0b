"""Child process for the kill -9 test: edit a project forever, acknowledging each saved edit.

Usage: ``python crash_writer.py DATABASE``. Prints ``project <id>`` once, then the sequence
number of every edit after ``Project.edit()`` has returned (and so committed), one per line,
flushed at once. It never stops by itself: the test kills it with SIGKILL.
"""

from __future__ import annotations

import sys
from pathlib import Path

from app.projects import ProjectStore
from app.storage import open_database


def main() -> None:
    database = open_database(Path(sys.argv[1]))
    project = ProjectStore(database, compact_over=None).create("Crash test")
    print(f"project {project.id}", flush=True)
    sequence = 0
    while True:
        with project.edit():
            project.markers.append(sequence)
            project.lyrics += f"{sequence} "
        print(sequence, flush=True)  # acknowledged: the edit is committed
        sequence += 1


if __name__ == "__main__":
    main()
