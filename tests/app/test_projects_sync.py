"""Merging concurrent and offline edits, refusing hostile updates, and loading damaged logs."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pycrdt
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pycrdt import Map
from sqlalchemy import func, select, update

from app.projects import Project, ProjectError, ProjectStore, document
from app.storage import Database, ProjectUpdateRow, open_database

pytestmark = pytest.mark.usefixtures("english")


def _rows(database: Database, project_id: str) -> list[tuple[int, bytes]]:
    query = (
        select(ProjectUpdateRow.id, ProjectUpdateRow.data)
        .where(ProjectUpdateRow.project_id == project_id)
        .order_by(ProjectUpdateRow.id)
    )
    with database.read_session() as session:
        return [(int(i), bytes(d)) for i, d in session.execute(query)]


def _exchange(a: Project, b: Project) -> None:
    """What sync does: each side sends what the other has not seen."""
    to_b = a.state_update(b.state_vector())
    to_a = b.state_update(a.state_vector())
    b.apply_update(to_b)
    a.apply_update(to_a)


def _offline_edits(alice: Project, bob: Project) -> None:
    with alice.edit():
        alice.lyrics.insert(0, "Alice's verse. ")
        alice.chords.append(Map({"beat": 0.0, "symbol": "C"}))
        alice.meta["tempo"] = 120.0
    with bob.edit():
        bob.lyrics += "Bob's chorus."
        bob.chords.append(Map({"beat": 8.0, "symbol": "G"}))
        bob.meta["key"] = "C major"
    with alice.edit():
        alice.markers.append(Map({"beat": 32.0, "label": "Bridge"}))
    with bob.edit():
        bob.notes += "Bob: double the hook."


def _assert_merged(content: dict[str, object]) -> None:
    lyrics = content["lyrics"]
    assert isinstance(lyrics, str)
    assert "Alice's verse. " in lyrics and "Bob's chorus." in lyrics and "Shared start" in lyrics
    chords = content["chords"]
    assert isinstance(chords, list)
    assert sorted(c["symbol"] for c in chords) == ["C", "G"]
    assert content["markers"] == [{"beat": 32.0, "label": "Bridge"}]
    assert content["notes"] == "Bob: double the hook."
    meta = content["meta"]
    assert isinstance(meta, dict)
    assert (meta["tempo"], meta["key"]) == (120.0, "C major")


def test_two_machines_edit_offline_and_merge_without_loss(tmp_path: Path) -> None:
    db_a, db_b = open_database(tmp_path / "a.sqlite3"), open_database(tmp_path / "b.sqlite3")
    alice = ProjectStore(db_a).create("Together")
    with alice.edit():
        alice.lyrics += "Shared start. "
    bob = ProjectStore(db_b).create_from_update(alice.id, alice.state_update())
    assert bob.name == "Together"

    _offline_edits(alice, bob)
    _exchange(alice, bob)
    assert alice.content() == bob.content()
    _assert_merged(alice.content())
    assert alice.apply_update(bob.state_update()) is False  # nothing new: nothing stored

    project_id, expected = alice.id, alice.content()
    db_a.close()
    db_b.close()
    for name in ("a.sqlite3", "b.sqlite3"):
        db = open_database(tmp_path / name)
        assert ProjectStore(db).open(project_id).content() == expected
        db.close()


def test_two_open_copies_of_one_project_merge(store: ProjectStore) -> None:
    project = store.create("Two windows")
    with project.edit():
        project.lyrics += "Shared start. "
    project.close()
    alice, bob = store.open(project.id), store.open(project.id)
    _offline_edits(alice, bob)
    # Both logs live in one database: a fresh open sees everyone's saved edits merged.
    merged = store.open(project.id).content()
    _assert_merged(merged)
    _exchange(alice, bob)
    assert alice.content() == bob.content() == merged


def test_updates_arriving_out_of_order_are_kept_until_they_fit(
    store: ProjectStore, tmp_path: Path
) -> None:
    remote_doc: pycrdt.Doc[object] = pycrdt.Doc()
    updates: list[bytes] = []
    remote_doc.observe(lambda event: updates.append(event.update))
    text = remote_doc.get("lyrics", type=pycrdt.Text)
    for word in ("one ", "two ", "three "):
        with remote_doc.transaction():
            text += word
    project = store.create("Late mail")
    assert project.apply_update(updates[2]) is True  # waits for "two "
    assert str(project.lyrics) == ""
    project.close()
    assert any("missing" in w for w in store.open(project.id).warnings)
    project = store.open(project.id)
    project.apply_update(updates[1])
    project.apply_update(updates[0])
    assert str(project.lyrics) == "one two three "
    project.close()
    reopened = store.open(project.id)
    assert str(reopened.lyrics) == "one two three "
    assert reopened.warnings == []


def test_state_vector_is_decoded_whatever_the_client_order() -> None:
    docs = [pycrdt.Doc(client_id=client) for client in (1, 300, 2**40 + 7)]
    for n, doc in enumerate(docs, start=1):
        doc.get("lyrics", type=pycrdt.Text).insert(0, "x" * n)
    merged: pycrdt.Doc[object] = pycrdt.Doc(client_id=99)
    for doc in reversed(docs):
        merged.apply_update(doc.get_update())
    assert document.state_vector(merged) == {1: 1, 300: 2, 2**40 + 7: 3}


# -- hostile and damaged input ---------------------------------------------------------------


@pytest.fixture(scope="module")
def target(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Database, Project]]:
    db = open_database(tmp_path_factory.mktemp("hostile") / "hookline.sqlite3")
    project = ProjectStore(db).create("Target")
    with project.edit():
        project.lyrics += "Do not touch these lyrics."
        project.chords.append(Map({"beat": 0.0, "symbol": "Dm"}))
    yield db, project
    db.close()


def _real_update() -> bytes:
    doc: pycrdt.Doc[object] = pycrdt.Doc()
    with doc.transaction():
        doc.get("lyrics", type=pycrdt.Text).insert(0, "hello world")
        doc.get("meta", type=pycrdt.Map)["name"] = "x"
        doc.get("clips", type=pycrdt.Array).append(Map({"notes": pycrdt.Array([1, 2, 3])}))
    with doc.transaction():
        del doc.get("lyrics", type=pycrdt.Text)[0:3]
    return doc.get_update()


REAL_UPDATE = _real_update()


def _assert_refused_or_harmless(database: Database, project: Project, data: bytes) -> None:
    rows_before = _rows(database, project.id)
    content_before = project.content()
    try:
        stored = project.apply_update(data)
    except ProjectError:
        assert _rows(database, project.id) == rows_before
        assert project.content() == content_before
        return
    # Bytes that happen to be a valid update are a collaborator's change: kept, never harmful.
    assert len(_rows(database, project.id)) == len(rows_before) + (1 if stored else 0)
    assert "Do not touch these lyrics." in str(project.lyrics)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.binary(max_size=512))
def test_random_bytes_are_refused(target: tuple[Database, Project], data: bytes) -> None:
    _assert_refused_or_harmless(*target, data)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    edits=st.lists(
        st.tuples(
            st.integers(0, len(REAL_UPDATE) - 1),
            st.integers(0, 255),
            st.sampled_from(["set", "insert", "delete"]),
        ),
        min_size=1,
        max_size=4,
    )
)
def test_damaged_real_updates_never_half_apply(
    target: tuple[Database, Project], edits: list[tuple[int, int, str]]
) -> None:
    data = bytearray(REAL_UPDATE)
    for position, value, how in edits:
        position %= max(len(data), 1)
        if how == "set" and data:
            data[position] = value
        elif how == "insert":
            data.insert(position, value)
        elif data:
            del data[position]
    _assert_refused_or_harmless(*target, bytes(data))


@pytest.mark.parametrize("bad", ["text, not bytes", 42, None, b"\x01" * (33 << 20)])
def test_wrong_kinds_of_input_are_refused(target: tuple[Database, Project], bad: object) -> None:
    database, project = target
    rows_before = _rows(database, project.id)
    with pytest.raises(ProjectError):
        project.apply_update(bad)  # type: ignore[arg-type]
    assert _rows(database, project.id) == rows_before


def test_update_that_fails_half_way_changes_nothing(
    store: ProjectStore, database: Database
) -> None:
    """pycrdt can raise *after* integrating part of an update; the scratch copy catches it."""
    # Found by fuzzing: this mutation decodes, then fails on a block whose parent is not a type.
    half_way = bytearray(REAL_UPDATE)
    candidates = []
    for position in range(len(half_way)):
        for value in (0x04, 0x08, 0x28, 0x84, 0x87):
            mutated = bytearray(half_way)
            mutated[position] = value
            probe: pycrdt.Doc[object] = pycrdt.Doc()
            probe.get("lyrics", type=pycrdt.Text).insert(0, "abc")
            before = probe.get_update()
            try:
                probe.apply_update(bytes(mutated))
            except (ValueError, RuntimeError):
                if probe.get_update() != before:
                    candidates.append(bytes(mutated))
    assert candidates, "pycrdt no longer half-applies bad updates; keep the test anyway"
    project = store.create("Half")
    with project.edit():
        project.lyrics += "abc"
    for data in candidates[:20]:
        _assert_refused_or_harmless(database, project, data)
        assert str(project.lyrics) == "abc"


def test_damaged_row_is_skipped_reported_and_kept(store: ProjectStore, database: Database) -> None:
    project = store.create("Damaged")
    with project.edit():
        project.lyrics += "Verse one."
    project.close()
    session_two = store.open(project.id)  # each open is a new Yjs client
    with session_two.edit():
        session_two.markers.append(Map({"beat": 4.0, "label": "Intro"}))
    session_two.close()
    session_three = store.open(project.id)
    with session_three.edit():
        session_three.notes += "Remember the bridge."
    session_three.close()

    rows = _rows(database, project.id)
    bad_id, bad_data = rows[2]
    garbage = bad_data[: len(bad_data) // 2] + b"\xff\xfe"
    with database.session() as session:
        session.execute(
            update(ProjectUpdateRow).where(ProjectUpdateRow.id == bad_id).values(data=garbage)
        )

    loaded = store.open(project.id)
    assert loaded.skipped_updates == (bad_id,)
    assert loaded.warnings and "damaged" in loaded.warnings[0]
    assert str(loaded.lyrics) == "Verse one."
    assert str(loaded.notes) == "Remember the bridge."
    assert loaded.markers.to_py() == []
    with loaded.edit():  # the project stays usable
        loaded.lyrics += " Verse two."
    loaded.close()
    assert dict(_rows(database, project.id))[bad_id] == garbage  # never deleted
    assert store.export_json(project.id)["warnings"] == loaded.warnings
    assert store.compact(project.id) > 0
    assert dict(_rows(database, project.id))[bad_id] == garbage  # compaction keeps it too
    assert str(store.open(project.id).lyrics) == "Verse one. Verse two."


def test_damaged_row_hides_the_later_edits_that_build_on_it(
    store: ProjectStore, database: Database
) -> None:
    project = store.create("Chain")
    for word in ("one ", "two ", "three "):
        with project.edit():
            project.lyrics += word
    project.close()
    rows = _rows(database, project.id)
    bad_id = rows[2][0]  # "two "
    with database.session() as session:
        session.execute(
            update(ProjectUpdateRow)
            .where(ProjectUpdateRow.id == bad_id)
            .values(data=b"not an update")
        )
    loaded = store.open(project.id)
    assert str(loaded.lyrics) == "one "
    assert loaded.skipped_updates == (bad_id,)
    assert len(loaded.warnings) == 2 and "missing" in loaded.warnings[1]
    with database.read_session() as session:
        count = session.scalar(
            select(func.count())
            .select_from(ProjectUpdateRow)
            .where(ProjectUpdateRow.project_id == project.id)
        )
    assert count == len(rows)
