"""The Create room's Lyrics pane: the editor bound to the project's lyrics (and a draft file
without a project), the margin's syllable counts and rhyme letters, the fit to the melody idea
on the piano roll, and bad input. Screenshot: ``tests/artifacts/screenshots/create-lyrics.png``."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest
from PySide6.QtCore import QCoreApplication, QEvent, Qt
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from app.context import AppContext
from models.melody.runner import MODEL_PATH
from tests.ui.conftest import save_screenshot
from ui.create import CreateRoom, install_create_view
from ui.main_window import MainWindow

SONG = (
    "The night is young and full of fire,\n"
    "we run until the stars are gone,\n"
    "and every spark becomes desire,\n"
    "we sing until the break of dawn.\n"
)


@pytest.fixture(autouse=True)
def release_widgets(qapp: QApplication) -> Iterator[None]:
    yield
    QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
    gc.collect()


def _open(qtbot: QtBot, context: AppContext) -> tuple[MainWindow, CreateRoom]:
    window = MainWindow(context)
    qtbot.addWidget(window)
    room = install_create_view(window, None)
    window.show_room("create")
    window.resize(1280, 800)
    window.show()
    qtbot.waitExposed(window)
    return window, room


def test_the_margin_counts_syllables_and_letters_the_rhymes(
    qtbot: QtBot, context: AppContext
) -> None:
    window, room = _open(qtbot, context)
    pane = room.lyrics
    assert pane is not None
    pane.editor.setPlainText(SONG)
    qtbot.waitUntil(lambda: pane.sheet is not None and len(pane.sheet.sung_lines) == 4)
    assert pane.editor.marks == {0: ("9", "A"), 1: ("8", "B"), 2: ("10", "A"), 3: ("8", "B")}
    assert "ABAB" in pane.summary.text()
    pane.editor.setPlainText("love 日本 love\n")
    qtbot.waitUntil(lambda: pane.editor.marks.get(0, ("", ""))[0] == "2?")
    window.close()


def test_without_a_project_the_text_is_kept_in_a_draft_file(
    qtbot: QtBot, context: AppContext
) -> None:
    window, room = _open(qtbot, context)
    pane = room.lyrics
    assert pane is not None
    pane.editor.setPlainText("first verse 🎸\n")
    qtbot.waitUntil(lambda: pane.draft_path.exists(), timeout=3000)
    assert pane.draft_path.read_text(encoding="utf-8") == "first verse 🎸\n"
    window.close()
    # a new window (the app started again) shows the draft
    window, room = _open(qtbot, context)
    assert room.lyrics is not None
    assert room.lyrics.editor.toPlainText() == "first verse 🎸\n"
    window.close()


def test_with_a_project_the_lyrics_live_in_it_and_edits_write_only_the_change(
    qtbot: QtBot, context: AppContext
) -> None:
    window, room = _open(qtbot, context)
    pane = room.lyrics
    assert pane is not None
    project = window.create_project("Night song")
    assert project is not None and pane.project is project
    assert pane.editor.toPlainText() == ""  # a new project has no lyrics yet
    pane.editor.setPlainText("a 🎸 line\nsecond line\n")
    pane.save()
    assert str(project.lyrics) == "a 🎸 line\nsecond line\n"
    cursor = pane.editor.textCursor()
    cursor.setPosition(4)  # after the emoji: pycrdt counts UTF-8 bytes, Qt characters
    cursor.insertText("é")
    pane.save()
    assert str(project.lyrics) == "a 🎸é line\nsecond line\n"
    cursor.setPosition(0)
    cursor.setPosition(2, cursor.MoveMode.KeepAnchor)
    cursor.removeSelectedText()
    qtbot.waitUntil(lambda: str(project.lyrics) == "🎸é line\nsecond line\n", timeout=3000)
    project_id = project.id
    window.close_project()  # what was typed just before closing is saved first
    assert pane.project is None
    reopened = context.projects.open(project_id)
    try:
        assert str(reopened.lyrics) == "🎸é line\nsecond line\n"
    finally:
        reopened.close()
    window.close()


def test_a_megabyte_paste_is_scanned_in_part_and_the_window_keeps_working(
    qtbot: QtBot, context: AppContext
) -> None:
    window, room = _open(qtbot, context)
    pane = room.lyrics
    assert pane is not None
    pane.editor.setPlainText(("la la la \u202e\u0000 hotel مرحبا\n" * 40_000)[:1_000_000])
    pane.rescan()
    assert "only the start was scanned" in pane.summary.text()
    pane.editor.setPlainText(SONG)
    pane.rescan()
    assert "ABAB" in pane.summary.text()
    window.close()


@pytest.mark.skipif(not MODEL_PATH.exists(), reason="the melody model is not built")
def test_the_fit_list_compares_lines_with_the_idea_on_the_roll(
    qtbot: QtBot, context: AppContext
) -> None:
    window, room = _open(qtbot, context)
    pane = room.lyrics
    assert pane is not None
    assert not room.fit.isVisibleTo(room)  # no idea, no lyrics
    room.panel.bars.setValue(4)
    room.panel.seed.setValue(2)
    room.generate()
    pane.editor.setPlainText(SONG)
    pane.rescan()
    assert room.fit.isVisibleTo(room) and room.fit.rows == 4
    texts = [room.fit.item(i).text() for i in range(room.fit.count())]
    assert all("syllables: " in t and ", notes: " in t for t in texts), texts
    save_screenshot(window, "create-lyrics")
    window.close()


def test_rhymes_for_the_word_under_the_cursor_go_into_the_text(
    qtbot: QtBot, context: AppContext
) -> None:
    window, room = _open(qtbot, context)
    pane = room.lyrics
    assert pane is not None
    pane.editor.setPlainText("my heart is full of fire")
    cursor = pane.editor.textCursor()
    cursor.setPosition(len("my heart is full of fi"))
    pane.editor.setTextCursor(cursor)
    pane.rhymes_for_cursor()
    assert pane.rhyme_word.text() == "fire"
    words = [pane.rhyme_list.item(i).data(Qt.ItemDataRole.UserRole)
             for i in range(pane.rhyme_list.count())]  # fmt: skip
    assert "desire" in words and "fire" not in words
    pane.rhyme_syllables.setValue(1)  # one-syllable rhymes only
    words = [pane.rhyme_list.item(i).data(Qt.ItemDataRole.UserRole)
             for i in range(pane.rhyme_list.count())]  # fmt: skip
    assert words and "desire" not in words
    cursor.movePosition(cursor.MoveOperation.End)
    pane.editor.setTextCursor(cursor)
    pane.editor.insertPlainText("\nand ")
    pane.rhyme_list.itemActivated.emit(pane.rhyme_list.item(0))
    assert pane.editor.toPlainText() == f"my heart is full of fire\nand {words[0]}"
    pane.rhyme_word.setText("日本")
    messages: list[str] = []
    pane.message.connect(messages.append)
    pane.show_rhymes()
    assert pane.rhyme_list.count() == 0 and "no known pronunciation" in messages[-1]
    window.close()


def test_suggested_lines_have_the_syllables_and_rhyme_asked(
    qtbot: QtBot, context: AppContext
) -> None:
    window, room = _open(qtbot, context)
    pane = room.lyrics
    assert pane is not None
    pane.editor.setPlainText("we drive all night")
    pane.suggest_syllables.setValue(6)
    pane.rhyme_with.setText("night")
    pane.suggest_button.click()
    assert pane.suggest_list.count() == 5
    pane.suggest_list.itemActivated.emit(pane.suggest_list.item(0))
    text = pane.editor.toPlainText().split("\n")
    assert len(text) == 2 and text[0] == "we drive all night"
    pane.rescan()
    assert pane.sheet is not None
    second = pane.sheet.sung_lines[1]
    assert second.syllables == 6 and second.letter == pane.sheet.sung_lines[0].letter
    window.close()


def test_the_rhyme_panel_follows_the_word_under_the_cursor(
    qtbot: QtBot, context: AppContext
) -> None:
    window, room = _open(qtbot, context)
    pane = room.lyrics
    assert pane is not None
    _ = pane.tools.rhyme_index  # loaded (the app loads it in a worker when the room opens)
    pane.editor.setPlainText("shine a light tonight")
    cursor = pane.editor.textCursor()
    cursor.setPosition(len("shine a li"))
    pane.editor.setTextCursor(cursor)
    qtbot.waitUntil(lambda: pane.rhyme_word.text() == "light", timeout=3000)
    words = [pane.rhyme_list.item(i).data(Qt.ItemDataRole.UserRole)
             for i in range(pane.rhyme_list.count())]  # fmt: skip
    assert "night" in words
    window.close()


@pytest.mark.skipif(not MODEL_PATH.exists(), reason="the melody model is not built")
def test_the_fit_can_use_a_clip_saved_in_the_project(qtbot: QtBot, context: AppContext) -> None:
    window, room = _open(qtbot, context)
    pane = room.lyrics
    assert pane is not None
    project = window.create_project("Clips")
    assert project is not None
    room.panel.bars.setValue(2)
    room.generate()
    room.panel.save_button.click()  # the idea, saved as a project clip
    with project.edit():  # a clip another writer damaged: left out, not raised on
        from pycrdt import Array, Map

        project.clips.append(Map({"name": "broken", "notes": Array([["x", None, -1], 7])}))
    room.refresh_fit_sources()
    labels = [room.fit_source.itemText(i) for i in range(room.fit_source.count())]
    assert labels[0] == "the idea on the piano roll" and len(labels) == 2
    assert labels[1].startswith("project clip: Idea 1")
    pane.editor.setPlainText("one line\ntwo lines\n")
    pane.rescan()
    room.ideas.clear()  # nothing on the roll: only the saved clip can be fitted
    room.session.ideas.clear()
    room.fit_source.setCurrentIndex(1)
    assert room.fit.isVisibleTo(room) and room.fit.rows == 2
    window.close()
