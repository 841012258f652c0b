"""The Harmony room on the real stack: a JACK dummy server, a sender process playing chords into
"Hookline In", a receiver on "Hookline Out" for auditions; progressions saved and dragged as
real ``.mid`` files. Screenshots land in ``tests/artifacts/screenshots/harmony-<language>.png``.
"""

from __future__ import annotations

import gc
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import mido
import pytest
from PySide6.QtCore import QCoreApplication, QEvent
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from app.context import AppContext
from app.paths import AppPaths
from audio.midi_in import MidiInput
from tests.support.jack import JackServer
from tests.support.midi_sender import SenderProcess, jack_environment
from tests.ui.conftest import save_screenshot
from ui.harmony import HarmonyRoom, install_harmony_view
from ui.main_window import MainWindow

C, F, G7 = (48, 64, 67, 72), (53, 65, 69, 72), (43, 59, 62, 65, 67)


@pytest.fixture(autouse=True)
def release_widgets(qapp: QApplication) -> Iterator[None]:
    yield
    QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
    gc.collect()


@pytest.fixture
def jack_env(jack_server: JackServer) -> Iterator[dict[str, str]]:
    with jack_environment(jack_server.env):
        yield jack_server.env


def _open(qtbot: QtBot, context: AppContext) -> tuple[MainWindow, HarmonyRoom]:
    context.settings.set("midi.api", "jack")
    window = MainWindow(context)
    qtbot.addWidget(window)
    room = install_harmony_view(window, autostart=False)
    window.tabs.setCurrentWidget(room)
    window.resize(1180, 760)
    window.show()
    qtbot.waitExposed(window)
    room.start()
    return window, room


def _play(qtbot: QtBot, sender: SenderProcess, room: HarmonyRoom, chord: tuple[int, ...]) -> None:
    sender.send([bytes((0x90, n, 90)) for n in chord], per_cycle=8)
    qtbot.waitUntil(lambda: len(room.chord.notes.text().split()) == len(chord), timeout=5000)
    time.sleep(0.15)  # longer than the lane's merge window
    sender.send([bytes((0x80, n, 0)) for n in chord], per_cycle=8)


def test_chords_played_in_show_up_and_a_suggestion_plays_on_hookline_out(
    qtbot: QtBot, app_paths: AppPaths, jack_env: dict[str, str]
) -> None:
    context = AppContext.start(app_paths, "en")
    receiver = None
    sender = SenderProcess(jack_env, "hl-ui-sender")
    try:
        window, room = _open(qtbot, context)
        qtbot.waitUntil(lambda: room.session.running, timeout=5000)
        sender.connect("Hookline In:Hookline In")
        for chord in (C, F, G7):
            _play(qtbot, sender, room, chord)
        qtbot.waitUntil(lambda: room.lane.chips[2].isVisible(), timeout=5000)
        assert [c.text().split("\n")[0] for c in room.lane.chips[:3]] == ["C", "F", "G7"]
        assert room.key.key.text() == "C major"
        assert room.suggestions.row_text(0) == ("C", "I", "V7→I: authentic cadence")

        receiver = MidiInput(["Hookline Out:Hookline Out"], api="jack", client_name="hl-ui-recv")
        room.audition(0)  # what a click on the first suggestion does
        got: list[bytes] = []

        def heard() -> bool:
            got.extend(e.to_bytes() for e in receiver.read(64))  # type: ignore[union-attr]
            return sum(1 for m in got if m[0] & 0xF0 == 0x90) >= 3

        qtbot.waitUntil(heard, timeout=5000)
        assert {m[1] % 12 for m in got if m[0] & 0xF0 == 0x90} == {0, 4, 7}  # a C major chord
        window.close()
        assert not room.session.running
    finally:
        sender.close()
        if receiver is not None:
            receiver.close()
        context.close()


def test_a_generated_progression_saves_and_drags_as_a_midi_file(
    qtbot: QtBot, app_paths: AppPaths, tmp_path: Path
) -> None:
    context = AppContext.start(app_paths, "en")
    try:
        window, room = _open(qtbot, context)
        builder = room.builder
        builder.key.setCurrentIndex(builder.key.findData("A minor"))
        builder.seed.setValue(7)
        builder.generate_button.click()
        assert builder.chords.count() == 8
        symbols = [builder.chords.item(i).text().split("\n")[0] for i in range(8)]
        assert symbols[-1] in ("Am", "A")  # a cadence home (a Picardy third is allowed)

        saved = tmp_path / "progression.mid"
        assert room.export(saved)
        dragged = builder.chords.mimeData([builder.chords.item(0)]).urls()
        assert len(dragged) == 1 and dragged[0].isLocalFile()
        for path in (saved, Path(dragged[0].toLocalFile())):
            midi = mido.MidiFile(str(path))
            onsets = [m for m in midi.tracks[0] if m.type == "note_on" and m.velocity > 0]
            assert len(onsets) == 8 * 4  # four voices per chord
        suggestion_drag = room.suggestions.list.mimeData([])
        assert suggestion_drag.urls() == []
        window.close()
    finally:
        context.close()


def test_without_a_midi_system_the_room_says_so_and_keeps_working(
    qtbot: QtBot, app_paths: AppPaths, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("JACK_DEFAULT_SERVER", "hookline-no-such-server")
    context = AppContext.start(app_paths, "en")
    try:
        window, room = _open(qtbot, context)
        qtbot.waitUntil(lambda: "not running" in room.status_label.text(), timeout=5000)
        room.builder.generate_button.click()
        assert room.builder.chords.count() == 8  # the builder needs no MIDI system
        window.close()
    finally:
        context.close()


@pytest.mark.parametrize("language", ["en", "de", "ar"])
def test_screenshots_with_chords_played(
    qtbot: QtBot,
    app_paths: AppPaths,
    jack_env: dict[str, str],
    ui_language: Callable[[str], str],
    language: str,
) -> None:
    assert ui_language(language) == language
    context = AppContext.start(app_paths, language)
    sender = SenderProcess(jack_env, f"hl-shot-{language}")
    try:
        window, room = _open(qtbot, context)
        qtbot.waitUntil(lambda: room.session.running, timeout=5000)
        sender.connect("Hookline In:Hookline In")
        for chord in (C, F, G7, C, F):
            _play(qtbot, sender, room, chord)
        sender.send([bytes((0x90, n, 90)) for n in G7], per_cycle=8)
        qtbot.waitUntil(lambda: room.chord.symbol.text().strip("\u200e") == "G7", timeout=5000)
        room.builder.seed.setValue(3)
        room.builder.generate_button.click()
        qtbot.wait(100)
        save_screenshot(window, f"harmony-{language}")
        window.close()
    finally:
        sender.close()
        context.close()
