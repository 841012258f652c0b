"""Files projects refer to: the content-addressed store and the project's list of files."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import select

import app.projects.files
from app.projects import ProjectStore
from app.projects.files import (
    MAX_NAME_CHARS,
    FileError,
    FileStore,
    add_file,
    file_entries,
    file_name,
    parse_entries,
    remove_file,
)
from app.storage import BlobRow, Database

pytestmark = pytest.mark.usefixtures("english")


@pytest.fixture
def store(database: Database, tmp_path: Path) -> FileStore:
    return FileStore(tmp_path / "files", database)


def test_a_file_is_stored_under_its_hash_and_recorded(
    store: FileStore, database: Database, tmp_path: Path
) -> None:
    data = bytes(range(256)) * 5000  # 1.28 MB: more than one chunk
    source = tmp_path / "Lead vox.wav"
    source.write_bytes(data)
    sha, size, media_type = store.add_path(source)
    assert sha == hashlib.sha256(data).hexdigest()
    assert (size, media_type) == (len(data), "audio/x-wav")
    assert store.path(sha) == tmp_path / "files" / sha[:2] / sha
    assert store.read(sha) == data
    assert [p.name for p in (tmp_path / "files").rglob("*") if p.is_file()] == [sha]
    with database.read_session() as session:
        row = session.get(BlobRow, sha)
        assert row is not None and row.size == len(data)
    # the same content again: the same name, one row, no temporary file left behind
    copy = tmp_path / "copy.wav"
    copy.write_bytes(data)
    assert store.add_path(copy)[0] == sha
    with database.read_session() as session:
        assert session.scalars(select(BlobRow.sha256)).all() == [sha]
    assert [p.name for p in (tmp_path / "files").iterdir()] == [sha[:2]]


def test_received_bytes_are_kept_only_when_they_match_their_name(store: FileStore) -> None:
    data = b"a MIDI clip, say"
    sha = hashlib.sha256(data).hexdigest()
    with pytest.raises(FileError, match="does not match"):
        store.add_bytes(data + b"!", sha)
    assert not store.has(sha)
    store.add_bytes(data, sha, "audio/midi")
    assert store.read(sha) == data


def _leftovers(store: FileStore) -> list[str]:
    return [p.name for p in store.root.rglob(".incoming-*")]


def test_a_file_arriving_in_chunks_is_kept_only_whole_and_matching(store: FileStore) -> None:
    chunks = [bytes([i]) * 70_000 for i in range(40)]  # 2.8 MB in odd-sized pieces
    sha = hashlib.sha256(b"".join(chunks)).hexdigest()
    with store.receiving(sha, "audio/x-wav") as sink:
        for chunk in chunks:
            sink.write(chunk)
        assert not store.has(sha)  # nothing under the final name before the block ends
    assert store.read(sha) == b"".join(chunks) and _leftovers(store) == []

    other = hashlib.sha256(b"other").hexdigest()
    with pytest.raises(OSError, match="connection lost"), store.receiving(other) as sink:
        sink.write(b"oth")
        raise OSError("connection lost")  # the download broke off
    with pytest.raises(FileError, match="does not match"), store.receiving(other) as sink:
        sink.write(b"otter")
    assert not store.has(other) and _leftovers(store) == []


def test_a_file_arriving_larger_than_the_limit_is_refused(
    store: FileStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(app.projects.files, "MAX_FILE_BYTES", 100_000)
    data = b"\x00" * 100_001
    sha = hashlib.sha256(data).hexdigest()
    with pytest.raises(FileError, match="larger than"), store.receiving(sha) as sink:
        for start in range(0, len(data), 30_000):
            sink.write(data[start : start + 30_000])
    assert not store.has(sha) and _leftovers(store) == []


def test_a_stored_file_opens_checked_and_positioned_at_its_start(
    store: FileStore, tmp_path: Path
) -> None:
    source = tmp_path / "stem.flac"
    source.write_bytes(b"\x05" * 3_000_000)
    sha, _size, _type = store.add_path(source)
    with store.opened(sha) as stream:
        assert stream.tell() == 0 and stream.read() == source.read_bytes()
    store.path(sha).write_bytes(b"\x05" * 2_999_999)  # cut short on disk
    with pytest.raises(FileError, match="damaged"), store.opened(sha):
        pytest.fail("a damaged file must not be opened")
    assert not store.has(sha)
    with pytest.raises(FileError, match="not on this computer"), store.opened(sha):
        pytest.fail("a missing file must not be opened")


@pytest.mark.parametrize(
    "name",
    ["../../etc/passwd", "A" * 64, "a" * 63, "a" * 65, "", "ab/../" + "a" * 58, "a" * 63 + "\n"],
)
def test_names_that_are_not_hashes_are_refused(store: FileStore, name: str) -> None:
    with pytest.raises(FileError):
        store.path(name)
    with pytest.raises(FileError):
        store.add_bytes(b"x", name)


def test_a_damaged_copy_is_refused_and_removed(store: FileStore, tmp_path: Path) -> None:
    source = tmp_path / "stem.flac"
    source.write_bytes(b"\x01" * 1000)
    sha, _size, _type = store.add_path(source)
    store.path(sha).write_bytes(b"\x01" * 999 + b"\x02")  # a bit flipped on disk
    with pytest.raises(FileError, match="damaged"):
        store.read(sha)
    assert not store.has(sha)


def test_too_large_and_unreadable_files_are_refused(store: FileStore, tmp_path: Path) -> None:
    source = tmp_path / "big.wav"
    source.write_bytes(b"\x00" * 5000)
    with pytest.raises(FileError, match="larger than"):
        store.add_path(source, max_bytes=4096)
    with pytest.raises(FileError, match="cannot be read"):
        store.add_path(tmp_path / "missing.wav")
    assert not any(p.is_file() and not p.name.startswith(".") for p in store.root.rglob("*"))
    assert not any(p.name.startswith(".incoming") for p in (tmp_path / "files").iterdir())


def test_a_project_lists_its_files_and_the_list_survives_reopening(
    database: Database, store: FileStore, tmp_path: Path
) -> None:
    projects = ProjectStore(database)
    project = projects.create("Song with stems")
    source = tmp_path / "drums.wav"
    source.write_bytes(b"boom tss" * 100)
    sha, size, media_type = store.add_path(source)
    add_file(project, sha, "  drums\n take 2.wav ", size, media_type)
    add_file(project, sha, "drums again.wav", size, media_type)
    [first, second] = file_entries(project)
    assert (first.sha256, first.name, first.size) == (sha, "drums take 2.wav", 800)
    assert second.name == "drums again.wav" and first.added_at
    project.close()
    project = projects.open(project.id)
    assert [e.name for e in file_entries(project)] == ["drums take 2.wav", "drums again.wav"]
    assert remove_file(project, sha) == 2
    assert file_entries(project) == []
    assert store.has(sha)  # the copy stays: other projects may list it
    project.close()


@given(
    st.lists(
        st.one_of(
            st.none(),
            st.integers(),
            st.text(max_size=5),
            st.dictionaries(
                st.sampled_from(["sha256", "name", "size", "media_type", "added_at", "x"]),
                st.one_of(
                    st.none(),
                    st.integers(-(2**70), 2**70),
                    st.floats(),
                    st.text(max_size=300),
                    st.just("a" * 64),
                ),
            ),
        ),
        max_size=20,
    )
)
@settings(max_examples=200, deadline=None)
def test_hostile_file_lists_give_only_well_formed_entries(items: list[object]) -> None:
    """Another member's document may list anything: only well-formed entries come out."""
    for entry in parse_entries(items):
        assert len(entry.sha256) == 64 and all(c in "0123456789abcdef" for c in entry.sha256)
        assert entry.size >= 0 and isinstance(entry.size, int)
        assert 0 < len(entry.name) <= MAX_NAME_CHARS
        assert "/" not in entry.name and entry.name.isprintable()


def test_file_names_keep_only_their_last_part() -> None:
    assert file_name("C:\\Users\\me\\stems\\bass.wav") == "bass.wav"
    assert file_name("../../bass\x00.wav") == "bass .wav"
    assert file_name("🎸 riff 🎸.aiff") == "🎸 riff 🎸.aiff"
    assert len(file_name("x" * 1000)) == MAX_NAME_CHARS
