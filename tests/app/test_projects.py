"""Projects: every part survives a reopen; list, rename, trash, purge, export and compaction."""

from __future__ import annotations

import json
import threading
from pathlib import Path

import pytest
from pycrdt import Array, Map
from sqlalchemy import event, func, select

from app.projects import Project, ProjectError, ProjectStore
from app.storage import Database, ProjectUpdateRow, open_database

pytestmark = pytest.mark.usefixtures("english")


def _row_count(database: Database, project_id: str | None = None) -> int:
    query = select(func.count()).select_from(ProjectUpdateRow)
    if project_id is not None:
        query = query.where(ProjectUpdateRow.project_id == project_id)
    with database.read_session() as session:
        return session.scalar(query) or 0


def _fill_every_part(project: Project) -> None:
    with project.edit():
        project.meta["tempo"] = 92.0
        project.meta["key"] = "A minor"
        project.lyrics.insert(0, "Střechy v dešti, عربي, 🎸\nsecond line")
        project.notes += "Try a half-time bridge."
        project.chords.extend(
            [Map({"beat": 0.0, "symbol": "Am7"}), Map({"beat": 4.0, "symbol": "Fmaj7"})]
        )
        project.markers.append(Map({"beat": 16.0, "label": "Chorus"}))
        project.clips.append(
            Map(
                {
                    "name": "Hook",
                    "start_beat": 8.0,
                    "notes": Array([[69, 0.0, 0.5, 100], [72, 0.5, 0.5, 90]]),
                }
            )
        )
        project.files.append(
            Map(
                {
                    "sha256": "ab" * 32,
                    "name": "vocal take 3.flac",
                    "media_type": "audio/flac",
                    "size": 1234567,
                }
            )
        )


EXPECTED_PARTS = {
    "meta": {"name": "Rain on the roofs", "tempo": 92.0, "key": "A minor"},
    "lyrics": "Střechy v dešti, عربي, 🎸\nsecond line",
    "notes": "Try a half-time bridge.",
    "chords": [{"beat": 0.0, "symbol": "Am7"}, {"beat": 4.0, "symbol": "Fmaj7"}],
    "markers": [{"beat": 16.0, "label": "Chorus"}],
    "clips": [
        {
            "name": "Hook",
            "start_beat": 8.0,
            "notes": [[69.0, 0.0, 0.5, 100.0], [72.0, 0.5, 0.5, 90.0]],
        }
    ],
    "files": [
        {
            "sha256": "ab" * 32,
            "name": "vocal take 3.flac",
            "media_type": "audio/flac",
            "size": 1234567.0,
        }
    ],
}


def test_every_part_survives_closing_the_database(db_path: Path) -> None:
    db = open_database(db_path)
    store = ProjectStore(db)
    project = store.create("  Rain on   the roofs ")
    assert project.name == "Rain on the roofs"
    _fill_every_part(project)
    assert project.content() == EXPECTED_PARTS
    project_id = project.id
    db.close()  # no project.close(): edit() had already saved and committed

    db = open_database(db_path)
    try:
        reopened = ProjectStore(db).open(project_id)
        assert reopened.content() == EXPECTED_PARTS
        assert reopened.warnings == []
        reopened.close()
    finally:
        db.close()


def test_each_edit_block_is_one_row_and_empty_ones_write_nothing(
    store: ProjectStore, database: Database
) -> None:
    project = store.create("Rows")
    start = _row_count(database, project.id)
    with project.edit():
        with project.edit():  # nested blocks are one transaction
            project.lyrics += "a"
        project.lyrics += "b"
    assert _row_count(database, project.id) == start + 1
    with project.edit():
        pass
    assert _row_count(database, project.id) == start + 1
    project.notes += "outside edit() is saved at once"
    assert _row_count(database, project.id) == start + 2
    assert project.unsaved_changes == 0


def test_changes_made_before_an_exception_are_saved(store: ProjectStore) -> None:
    project = store.create("Oops")
    with pytest.raises(KeyError), project.edit():
        project.lyrics += "kept"
        raise KeyError("bug in the caller")
    project.close()
    assert str(store.open(project.id).lyrics) == "kept"


def test_part_attributes_allow_in_place_add_only(store: ProjectStore) -> None:
    project = store.create("Parts")
    with project.edit():
        project.lyrics += "la la"
    with pytest.raises(AttributeError):
        project.lyrics = project.notes


def test_a_project_belongs_to_the_thread_that_opened_it(store: ProjectStore) -> None:
    project = store.create("Main thread only")
    caught: list[BaseException] = []

    def touch() -> None:
        try:
            with project.edit():
                project.lyrics += "from a worker"
        except RuntimeError as exc:
            caught.append(exc)

    worker = threading.Thread(target=touch)
    worker.start()
    worker.join()
    assert len(caught) == 1
    assert str(project.lyrics) == ""


def test_list_rename_trash_restore_purge(store: ProjectStore, database: Database) -> None:
    first, second, third = (store.create(n) for n in ("First", "Second", "Third"))
    for p in (first, second, third):
        p.close()
    assert [i.name for i in store.list()] == ["Third", "Second", "First"]

    store.rename(first.id, "First, renamed")
    assert [i.name for i in store.list()] == ["First, renamed", "Third", "Second"]
    assert store.open(first.id).name == "First, renamed"

    store.delete(second.id)
    assert [i.name for i in store.list()] == ["First, renamed", "Third"]
    assert [(i.name, i.in_trash) for i in store.trash()] == [("Second", True)]
    with pytest.raises(ProjectError, match="in the trash"):
        store.open(second.id)
    assert store.export_json(second.id)["deleted_at"] is not None

    store.restore(second.id)
    assert store.trash() == []
    assert store.open(second.id).name == "Second"

    with pytest.raises(ProjectError, match="trash before"):
        store.purge(third.id)
    store.delete(third.id)
    store.purge(third.id)
    assert [i.name for i in store.list()] == ["First, renamed", "Second"]
    assert store.trash() == []
    assert _row_count(database, third.id) == 0  # ON DELETE CASCADE removed its updates
    with pytest.raises(ProjectError, match="could not be found"):
        store.open(third.id)


@pytest.mark.parametrize("bad", ["", "   ", "x" * 201, None])
def test_names_are_checked(store: ProjectStore, bad: object) -> None:
    with pytest.raises(ProjectError):
        store.create(bad)  # type: ignore[arg-type]
    assert store.list() == []


def test_export_json_has_everything_and_is_valid_json(store: ProjectStore) -> None:
    project = store.create("Rain on the roofs")
    _fill_every_part(project)
    with project.edit():
        project.meta["odd"] = b"\x00\x01raw"
        project.meta["not_a_number"] = float("nan")
    exported = store.export_json(project.id)
    text = json.dumps(exported, allow_nan=False, ensure_ascii=False)
    back = json.loads(text)
    assert back["format"] == "hookline-project"
    assert back["id"] == project.id
    assert back["name"] == "Rain on the roofs"
    assert back["meta"]["odd"] == {"base64": "AAFyYXc="}
    assert back["meta"]["not_a_number"] is None
    for part in ("lyrics", "notes", "chords", "markers", "clips", "files"):
        assert back[part] == EXPECTED_PARTS[part]


def test_compact_merges_rows_and_keeps_content(store: ProjectStore, database: Database) -> None:
    project = store.create("Long session")
    for i in range(60):
        if i % 15 == 14:  # several sessions: several Yjs clients in one log
            project.close()
            project = store.open(project.id)
        with project.edit():
            project.lyrics += f"word{i} "
            project.markers.append(i)
            if i % 7 == 0:
                del project.lyrics[0:3]
    before = project.content()
    assert _row_count(database, project.id) == 61
    assert project.compact() == 61
    assert _row_count(database, project.id) == 1
    assert project.compact() == 0
    with project.edit():  # editing goes on after a compaction
        project.notes += "after"
    project.close()
    reopened = store.open(project.id)
    assert reopened.content() == {**before, "notes": "after"}


def test_opening_a_long_log_compacts_it(database: Database) -> None:
    store = ProjectStore(database, compact_over=10)
    project = store.create("Many rows")
    for i in range(20):
        with project.edit():
            project.markers.append(i)
    project.close()
    reopened = store.open(project.id)
    assert _row_count(database, project.id) == 1
    assert reopened.markers.to_py() == [float(i) for i in range(20)]


def test_failed_save_keeps_the_change_and_saves_it_later(
    store: ProjectStore, database: Database
) -> None:
    project = store.create("Full disk")
    with project.edit():
        project.lyrics += "saved. "

    def limit(dbapi_connection: object, _record: object) -> None:
        dbapi_connection.execute("PRAGMA max_page_count = 1")  # type: ignore[attr-defined]

    event.listen(database.engine, "connect", limit)
    database.engine.dispose()
    with pytest.raises(ProjectError, match="could not be saved"), project.edit():
        project.lyrics += "x" * 20_000
    assert project.unsaved_changes == 1
    with pytest.raises(ProjectError):
        project.close()  # refuses to drop what is not saved
    assert not project.closed

    event.remove(database.engine, "connect", limit)
    database.engine.dispose()
    with project.edit():
        project.notes += "disk has room again"
    assert project.unsaved_changes == 0
    project.close()
    reopened = store.open(project.id)
    assert str(reopened.lyrics) == "saved. " + "x" * 20_000
    assert str(reopened.notes) == "disk has room again"


def test_deleted_for_good_while_open_is_an_error_not_a_crash(store: ProjectStore) -> None:
    project = store.create("Vanishing")
    store.delete(project.id)
    store.purge(project.id)
    with pytest.raises(ProjectError, match="deleted"), project.edit():
        project.lyrics += "nowhere to go"
