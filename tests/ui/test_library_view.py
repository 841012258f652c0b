"""The Library room on the real stack: real WAV files analysed by the real worker into the real
database, shown in the table and the detail pane. Screenshots land in
``tests/artifacts/screenshots/library-<language>.png``."""

from __future__ import annotations

import gc
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import QCoreApplication, QEvent, QMimeData, QPoint, QPointF, Qt, QUrl
from PySide6.QtGui import QDropEvent
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from app.context import AppContext
from tests.app.test_library import write_song
from tests.ui.conftest import save_screenshot
from ui.library import LibraryRoom, install_library_view
from ui.library.model import BPM, FILE
from ui.main_window import MainWindow


@pytest.fixture(autouse=True)
def release_widgets(qapp: QApplication) -> Iterator[None]:
    yield
    QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
    gc.collect()


@pytest.fixture(scope="module")
def music(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("library") / "music"
    write_song(folder / "Anthem 128.wav", seconds=6.0, bpm=128.0)
    write_song(folder / "Ballad 90.wav", seconds=6.0, bpm=90.0, gain=0.25)
    write_song(folder / "Groove 120.wav", seconds=6.0, bpm=120.0, gain=0.6)
    write_song(folder / "sub" / "Half time 60.wav", seconds=8.0, bpm=60.0, gain=2.5)
    (folder / "sub" / "broken.wav").write_bytes(b"RIFF\x10\x00\x00\x00WAVEfmt not audio")
    return folder


def _open(qtbot: QtBot, context: AppContext) -> tuple[MainWindow, LibraryRoom]:
    window = MainWindow(context)
    qtbot.addWidget(window)
    room = install_library_view(window)
    window.show_room("library")
    window.resize(1280, 800)
    window.show()
    qtbot.waitExposed(window)
    return window, room


def _texts(room: LibraryRoom, column: int) -> list[str]:
    return [str(room.proxy.index(row, column).data()) for row in range(room.proxy.rowCount())]


def _drop(room: LibraryRoom, paths: list[Path]) -> None:
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(p)) for p in paths])
    event = QDropEvent(
        QPointF(QPoint(20, 20)),
        Qt.DropAction.CopyAction,
        mime,
        Qt.MouseButton.LeftButton,
        Qt.KeyboardModifier.NoModifier,
    )
    room.dropEvent(event)


def _analyse(qtbot: QtBot, room: LibraryRoom, music: Path) -> None:
    _drop(room, [music])
    assert room.timer.isActive()
    qtbot.waitUntil(lambda: room.proxy.rowCount() == 5 and not room.library.busy, timeout=30000)
    qtbot.waitUntil(lambda: not room.timer.isActive(), timeout=5000)


def test_a_dropped_folder_is_analysed_sorted_filtered_and_shown(
    qtbot: QtBot, context: AppContext, music: Path
) -> None:
    window, room = _open(qtbot, context)
    assert room.empty_label.isVisible()
    seen: list[str] = []
    room.message.connect(seen.append)
    _analyse(qtbot, room, music)
    assert not room.empty_label.isVisible()
    assert not room.progress.isVisible() and not room.cancel_button.isEnabled()
    assert seen[-1] == "4 files analysed; 1 file could not be analysed"
    names = _texts(room, FILE)
    [broken] = [n for n in names if n.startswith("broken.wav")]
    assert broken.startswith("broken.wav: it ")

    room.sort_by_bpm()
    bpms = [float(t) for t in _texts(room, BPM) if t]
    assert bpms == sorted(bpms) and len(bpms) == 4
    assert bpms[0] == pytest.approx(60.0, rel=0.03)
    assert _texts(room, BPM)[-1] == ""  # the failed file sorts last
    room.sort_by_bpm(Qt.SortOrder.DescendingOrder)
    assert float(_texts(room, BPM)[0]) == pytest.approx(128.0, rel=0.03)
    assert _texts(room, BPM)[-1] == ""

    room.filter_box.setText("groove")
    assert _texts(room, FILE) == ["Groove 120.wav"]
    room.table.selectRow(0)
    assert room.overview.title.text() == "Groove 120.wav"
    assert "BPM" in room.overview.summary.text()
    assert room.overview.beat_count >= 10
    assert room.overview.bar_count >= 2  # the bar lines, drawn over the beat grid
    assert "4 beats a bar" in room.overview.summary.text()
    assert room.overview.chord_labels[:3] == ["Am", "F", "C"]  # 6 s: three bars
    assert room.overview.section_labels
    # Same loop, same key: the half-time track mixes at double tempo.
    assert any("Half time 60.wav" in row and "half tempo" in row for row in room.mixes.rows())
    readiness = room.readiness.rows()
    assert any(row.startswith("✓ Spotify:") or row.startswith("! Spotify:") for row in readiness)
    assert any("True peak" in row for row in readiness)

    room.filter_box.clear()
    assert room.proxy.rowCount() == 5
    assert room.current_track() is not None
    assert room.current_track().name == "Groove 120.wav"  # type: ignore[union-attr]

    # A track that fails shows its reason in the detail pane too.
    # (select_track, not selectRow: selectRow extends the selection when an earlier test left
    # Ctrl in Qt's keyboard state.)
    [failed] = [t for t in room.model.tracks if t.error is not None]
    assert room.select_track(failed.id)
    assert [t.name for t in room.selected_tracks()] == ["broken.wav"]
    assert room.overview.summary.text().startswith("it ")
    assert room.readiness.rows() == []

    # Delete removes it from the library, not from the disk.
    room.table.setFocus()
    qtbot.keyClick(room.table, Qt.Key.Key_Delete)
    assert room.proxy.rowCount() == 4
    assert not [n for n in _texts(room, FILE) if n.startswith("broken.wav")]
    assert (music / "sub" / "broken.wav").exists()
    window.close()


def test_screenshots_in_every_language(
    qtbot: QtBot,
    context: AppContext,
    music: Path,
    ui_language: Callable[[str], str],
) -> None:
    for language in ("en", "de", "ar"):
        ui_language(language)
        window, room = _open(qtbot, context)
        if room.model.rowCount() == 0:
            _analyse(qtbot, room, music)
        room.sort_by_bpm(Qt.SortOrder.DescendingOrder)
        # QTableView.selectRow picks no column in a right-to-left table scrolled sideways;
        # select_track names the cell itself.
        [groove] = [t for t in room.model.tracks if t.name == "Groove 120.wav"]
        assert room.select_track(groove.id)
        assert room.overview.title.text() == "Groove 120.wav"
        save_screenshot(window, f"library-{language}")
        window.close()
        room.shutdown()
