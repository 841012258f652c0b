"""The main window: rooms, shortcuts, menus, status bar, projects and the saved window state."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QKeySequence
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QLabel, QMenu
from pytestqt.qtbot import QtBot

from app import hardware
from app.context import AppContext
from ui.main_window import MainWindow
from ui.rooms import ROOM_KEYS, RoomPlaceholder
from ui.window_state import WindowState

ROOM_TITLES = ["Live", "Harmony", "Create", "Library", "Stats", "Team"]


def _menu_titles(window: MainWindow) -> list[str]:
    return [a.text() for a in window.menuBar().actions()]


def test_six_rooms_each_say_what_will_appear(main_window: MainWindow) -> None:
    assert main_window.windowTitle() == "Hookline"
    assert [main_window.tabs.tabText(i) for i in range(main_window.tabs.count())] == ROOM_TITLES
    for key in ROOM_KEYS:
        room = main_window.room(key)
        assert isinstance(room, RoomPlaceholder)
        assert room.description_label.text().endswith("will appear here.")
    live = main_window.room("live").description_label.text()  # type: ignore[attr-defined]
    assert "tuner" in live and "spectrogram" in live


def test_menus_and_their_shortcuts(main_window: MainWindow) -> None:
    assert _menu_titles(main_window) == ["&File", "&Edit", "&View", "&Help"]
    a = main_window.actions_by_name
    assert a["new_project"].shortcut() == QKeySequence("Ctrl+N")
    assert a["quit"].shortcut() == QKeySequence("Ctrl+Q")
    assert QKeySequence("Ctrl+,") in a["settings"].shortcuts()
    assert a["full_screen"].shortcut() == QKeySequence("F11")
    for number, key in enumerate(ROOM_KEYS, start=1):
        assert a[f"room.{key}"].shortcut() == QKeySequence(f"Ctrl+{number}")
    view_menu = main_window.menuBar().actions()[2].menu()
    assert isinstance(view_menu, QMenu)
    assert [x.text() for x in view_menu.actions() if x.text()][:6] == ROOM_TITLES


def test_ctrl_number_switches_rooms(qtbot: QtBot, main_window: MainWindow) -> None:
    main_window.activateWindow()
    qtbot.waitActive(main_window)
    QTest.keyClick(main_window, Qt.Key.Key_2, Qt.KeyboardModifier.ControlModifier)
    assert main_window.current_room() == "harmony"
    assert main_window.actions_by_name["room.harmony"].isChecked()
    QTest.keyClick(main_window, Qt.Key.Key_6, Qt.KeyboardModifier.ControlModifier)
    assert main_window.current_room() == "team"
    QTest.keyClick(main_window, Qt.Key.Key_1, Qt.KeyboardModifier.ControlModifier)
    assert main_window.current_room() == "live"
    assert main_window.tabs.currentIndex() == 0


def test_a_later_feature_can_fill_a_room(main_window: MainWindow) -> None:
    main_window.show_room("stats")
    chart = QLabel("a chart")
    main_window.set_room_widget("stats", chart)
    assert main_window.room("stats") is chart
    assert main_window.current_room() == "stats"
    assert main_window.tabs.tabText(ROOM_KEYS.index("stats")) == "Stats"
    assert main_window.tabs.count() == len(ROOM_KEYS)


def test_status_bar_shows_input_midi_and_dropouts(main_window: MainWindow) -> None:
    status = main_window.status
    assert status.audio_label.text() == "Input: System default"
    assert status.midi_label.text() == "MIDI in: Hookline In"
    status.set_midi_input("Arturia KeyStep 37")
    assert status.midi_label.text() == "MIDI in: Arturia KeyStep 37"
    assert status.dropouts_label.text() == "Dropouts: 0"
    assert status.project_label.text() == "No project open"
    status.set_dropouts(1234)
    assert status.dropouts_label.text() == "Dropouts: 1,234"


def test_demo_input_when_chosen_or_when_there_is_no_sound_card(
    main_window: MainWindow, monkeypatch: object
) -> None:
    settings = main_window.context.settings
    settings.set("audio.input_device", "demo")
    main_window.refresh_status()
    assert main_window.status.audio_label.text() == "Input: Demo input"
    settings.set("audio.input_device", "Scarlett 2i2 USB")
    settings.set("midi.input_port", "Arturia KeyStep 37")
    main_window.refresh_status()
    assert main_window.status.audio_label.text() == "Input: Scarlett 2i2 USB"
    assert main_window.status.midi_label.text() == "MIDI in: Arturia KeyStep 37"
    monkeypatch.setattr(hardware, "has_audio_input", lambda: False)  # type: ignore[attr-defined]
    main_window.refresh_status()
    assert main_window.status.audio_label.text() == "Input: Demo input"


def test_new_project_from_the_name_dialog(qtbot: QtBot, main_window: MainWindow) -> None:
    created: list[object] = []
    main_window.project_created.connect(created.append)
    dialog = main_window.new_project()
    assert dialog.isVisible()
    dialog.setTextValue("  Night Drive  ")
    dialog.accept()
    assert len(created) == 1
    assert main_window.windowTitle() == "Night Drive — Hookline"
    assert main_window.status.project_label.text() == "Project: Night Drive"
    names = [getattr(p, "name", None) for p in main_window.context.projects.list()]
    assert "Night Drive" in names


def test_an_empty_project_name_creates_nothing(main_window: MainWindow) -> None:
    assert main_window.create_project("   ") is None
    assert main_window.context.projects.list() == []
    assert "needs a name" in main_window.status.currentMessage()


def test_window_state_is_saved_on_close_and_restored(qtbot: QtBot, context: AppContext) -> None:
    window = MainWindow(context)
    qtbot.addWidget(window)
    window.show()
    window.resize(760, 520)
    window.show_room("library")
    window.close()
    saved = str(context.settings.get("ui.window_state"))
    state = WindowState.decode(saved)
    assert state is not None and state.room == "library" and state.geometry
    assert "ui.window_state" in context.settings.path.read_text(encoding="utf-8")

    again = MainWindow(context)
    qtbot.addWidget(again)
    again.restore_window_state(saved)
    again.show()
    assert again.current_room() == "library"
    assert (again.width(), again.height()) == (760, 520)


def test_a_damaged_window_state_is_ignored(main_window: MainWindow) -> None:
    for text in ("{", '{"v": 1, "geometry": "%%%"}', '{"v": 99}', "[]"):
        main_window.restore_window_state(text)
    assert main_window.current_room() == "live"


def test_full_screen_toggles(qtbot: QtBot, main_window: MainWindow) -> None:
    main_window.actions_by_name["full_screen"].trigger()
    qtbot.waitUntil(main_window.isFullScreen)
    assert main_window.actions_by_name["full_screen"].isChecked()
    main_window.actions_by_name["full_screen"].trigger()
    qtbot.waitUntil(lambda: not main_window.isFullScreen())


def test_help_lists_the_shortcuts_and_about_names_the_log(main_window: MainWindow) -> None:
    shortcuts = main_window.show_shortcuts()
    rows = dict(shortcuts.rows())
    assert rows["Harmony"] == QKeySequence("Ctrl+2").toString(
        QKeySequence.SequenceFormat.NativeText
    )
    assert rows["New project"] and rows["Quit"] and rows["Full screen"]
    about = main_window.show_about()
    text = about.text()
    assert str(main_window.context.paths.log_file) in text
    assert str(main_window.context.paths.data_dir) in text
    assert "0.1.0" in text and "PySide6" in text and "LGPL" in text
