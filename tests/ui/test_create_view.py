"""The Create room with the shipped melody model: generate, vary, continue, play, save as MIDI,
drag, add to the project. Screenshots land in ``tests/artifacts/screenshots/create-<lang>.png``."""

from __future__ import annotations

import gc
import os
from collections.abc import Callable, Iterator
from pathlib import Path

import mido
import pytest
from PySide6.QtCore import QCoreApplication, QEvent
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from app.context import AppContext
from app.harmony_engine import PlayedNote
from audio.devices import reinitialize
from models.melody.runner import MODEL_PATH
from tests.support.jack import JackServer
from tests.ui.conftest import save_screenshot
from ui.create import CreateRoom, install_create_view
from ui.main_window import MainWindow

pytestmark = pytest.mark.skipif(not MODEL_PATH.exists(), reason="the melody model is not built")


@pytest.fixture(autouse=True)
def release_widgets(qapp: QApplication) -> Iterator[None]:
    yield
    QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
    gc.collect()


def _open(qtbot: QtBot, context: AppContext) -> tuple[MainWindow, CreateRoom, list[list]]:
    played: list[list] = []
    window = MainWindow(context)
    qtbot.addWidget(window)
    room = install_create_view(window, played.append)
    window.show_room("create")
    window.resize(1280, 800)
    window.show()
    qtbot.waitExposed(window)
    return window, room, played


def test_generate_vary_continue_play_save_and_keep(
    qtbot: QtBot, context: AppContext, tmp_path: Path
) -> None:
    window, room, played = _open(qtbot, context)
    panel = room.panel
    assert not panel.vary_button.isEnabled() and room.hint.isVisible()
    panel.tonic.setCurrentIndex(2)  # D
    panel.meter.setCurrentIndex(panel.meter.findData("6/8"))
    panel.bars.setValue(4)
    panel.chords.setText("D G A D")
    panel.seed.setValue(5)
    panel.generate_button.click()
    assert room.ideas.count() == 1 and room.selected() == 0
    assert room.roll.note_count >= 4 and room.roll.bar_count == 4
    assert not room.hint.isVisible() and panel.vary_button.isEnabled()
    first = room.session.ideas[0]

    panel.vary_button.click()
    assert room.ideas.count() == 2 and room.session.ideas[1].tokens != first.tokens

    room.ideas.setCurrentRow(0)
    panel.extend_button.click()
    longer = room.session.ideas[2]
    assert room.roll.bar_count == 8
    assert longer.tokens[: len(first.tokens) - 1] == first.tokens[:-1]

    panel.play_button.click()
    assert played and played[-1][0][1][0] == 0x90  # a note-on first

    out = room.export_to(tmp_path / "idea.mid")
    assert out is not None
    sig = next(m for m in mido.MidiFile(out).tracks[0] if m.type == "time_signature")
    assert (sig.numerator, sig.denominator) == (6, 8)
    dragged = room.session.file_for(0)
    assert dragged is not None and dragged.exists() and mido.MidiFile(dragged).length > 0

    assert not panel.save_button.isEnabled()  # no project open
    project = window.create_project("Song with ideas")
    assert project is not None
    room.ideas.setCurrentRow(1)
    assert panel.save_button.isEnabled()
    panel.save_button.click()
    [clip] = project.content()["clips"]
    assert clip["meter"] == "6/8" and clip["key"] == "D major" and len(clip["notes"]) >= 4
    window.close()


def test_an_impossible_request_says_why_and_keeps_the_ideas(
    qtbot: QtBot, context: AppContext
) -> None:
    window, room, _ = _open(qtbot, context)
    messages: list[str] = []
    room.message.connect(messages.append)
    room.panel.generate_button.click()
    room.panel.chords.setText("C Q7")
    room.panel.generate_button.click()
    assert room.ideas.count() == 1
    assert "chord" in messages[-1]
    window.close()


def test_from_my_playing_continues_the_phrase_just_played(
    qtbot: QtBot, context: AppContext
) -> None:
    window = MainWindow(context)
    qtbot.addWidget(window)
    notes: list[PlayedNote] = []
    room = install_create_view(window, None, lambda: tuple(notes))
    window.show_room("create")
    messages: list[str] = []
    room.message.connect(messages.append)
    room.panel.played_button.click()  # nothing played yet
    assert room.ideas.count() == 0 and "Nothing was played" in messages[-1]

    room.panel.tempo.setValue(90)
    room.panel.bars.setValue(2)
    beat = 60 / 90
    for i, pitch in enumerate((67, 69, 67, 64, 60, 62, 64, 67)):
        notes.append(PlayedNote(pitch, 10 + i * beat, 10 + (i + 0.9) * beat, 90))
    assert room.panel.played_button.shortcut().toString() == "Ctrl+Shift+L"
    room.panel.played_button.click()
    assert room.ideas.count() == 1, messages
    idea = room.session.ideas[0]
    assert [n.pitch for n in idea.notes()][:8] == [67, 69, 67, 64, 60, 62, 64, 67]
    assert room.roll.bar_count == 4 and idea.tempo_bpm == 90
    window.close()


@pytest.fixture
def jack_output(jack_server: JackServer) -> Iterator[str]:
    """The JACK dummy server's playback ports as the preview output setting."""
    saved = {k: os.environ.get(k) for k in jack_server.env if k.startswith("JACK_")}
    os.environ.update({k: v for k, v in jack_server.env.items() if k.startswith("JACK_")})
    reinitialize()  # PortAudio sees JACK only if it initialises while the server runs
    try:
        yield "jack:system:playback_1,system:playback_2"
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def test_preview_plays_on_the_audio_output_with_a_moving_playhead(
    qtbot: QtBot, context: AppContext, jack_output: str
) -> None:
    window, room, played = _open(qtbot, context)
    room.session.output_device = jack_output
    panel = room.panel
    panel.tempo.setValue(240)  # a short idea: two bars of 4/4 in two seconds
    panel.bars.setValue(2)
    panel.generate_button.click()
    assert panel.preview_button.isEnabled()
    messages: list[str] = []
    room.message.connect(messages.append)
    panel.preview_button.click()
    assert room.session.previewing == 0, messages
    assert panel.preview_button.text().replace("&", "") == "Stop preview"
    qtbot.waitUntil(lambda: room.roll.playhead.isVisible() and room.roll.playhead.value() > 0.5)
    first = room.roll.playhead.value()
    qtbot.waitUntil(lambda: room.roll.playhead.value() > first + 0.5)
    save_screenshot(window, "create-preview")
    panel.preview_button.click()  # again: stop
    assert room.session.previewing is None and not room.roll.playhead.isVisible()
    assert panel.preview_button.text().replace("&", "") == "Preview"
    assert not played  # the preview is audio, not MIDI

    panel.preview_button.click()  # plays to the end, then the button and playhead reset
    qtbot.waitUntil(lambda: room.session.previewing is None, timeout=15000)
    assert not room.roll.playhead.isVisible()
    assert panel.preview_button.text().replace("&", "") == "Preview"
    window.close()


def test_a_preview_output_that_does_not_exist_says_so(
    qtbot: QtBot, context: AppContext, jack_output: str
) -> None:
    window, room, _ = _open(qtbot, context)
    room.session.output_device = "jack:nobody:in_1"
    messages: list[str] = []
    room.message.connect(messages.append)
    room.panel.generate_button.click()
    room.panel.preview_button.click()
    assert room.session.previewing is None
    assert "names no JACK input port" in messages[-1] and "nobody:in_1" in messages[-1]
    window.context.settings.set("audio.output_device", jack_output)  # the setting fixed
    window.settings_changed.emit(["audio.output_device"])
    assert room.session.output_device == jack_output
    room.panel.preview_button.click()
    assert room.session.previewing == 0
    room.session.close()
    window.close()


def test_screenshots_in_every_language(
    qtbot: QtBot, context: AppContext, ui_language: Callable[[str], str]
) -> None:
    for language in ("en", "de", "ar"):
        ui_language(language)
        window, room, _ = _open(qtbot, context)
        room.panel.chords.setText("Am F C G")
        room.panel.tonic.setCurrentIndex(9)
        room.panel.mode.setCurrentIndex(1)
        room.panel.seed.setValue(3)
        room.panel.generate_button.click()
        room.panel.vary_button.click()
        assert room.roll.note_count > 0
        save_screenshot(window, f"create-{language}")
        window.close()
