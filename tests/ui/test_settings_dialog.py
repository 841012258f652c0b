"""The settings dialog reads and writes through Settings and persists to disk."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from PySide6.QtWidgets import QComboBox, QDoubleSpinBox
from pytestqt.qtbot import QtBot

from app import hardware
from app.settings import Settings
from audio.midi_ports import MidiPorts
from ui.main_window import MainWindow
from ui.settings_dialog import SettingsDialog
from ui.theme import theme_colors

REPO_ROOT = Path(__file__).resolve().parents[2]


def _pick(combo: QComboBox, value: object) -> None:
    index = combo.findData(value)
    assert index >= 0, f"{value!r} not offered"
    combo.setCurrentIndex(index)


def _combo(dialog: SettingsDialog, key: str) -> QComboBox:
    widget = dialog.fields[key]
    assert isinstance(widget, QComboBox)
    return widget


def test_it_shows_the_current_settings(qtbot: QtBot, context) -> None:
    context.settings.set("audio.reference_a", 432.0)
    dialog = SettingsDialog(context.settings)
    qtbot.addWidget(dialog)
    assert dialog.values() == {
        "ui.language": "auto",
        "ui.theme": "dark",
        "audio.input_device": "",
        "audio.monitor_device": "",
        "audio.output_device": "",
        "audio.sample_rate": 48000,
        "audio.block_size": 256,
        "audio.reference_a": 432.0,
        "midi.api": "auto",
        "midi.input_port": "",
        "midi.output_port": "",
    }
    languages = [_combo(dialog, "ui.language").itemText(i) for i in range(4)]
    assert languages == ["System language", "English", "Deutsch", "العربية"]
    inputs = _combo(dialog, "audio.input_device")
    assert [inputs.itemData(i) for i in range(inputs.count())] == [
        "",
        "demo",
        "Scarlett 2i2 USB",
        "Built-in Microphone",
    ]
    assert inputs.itemText(1) == "Demo input"
    # option descriptions from app.settings.OPTIONS explain each field
    assert dialog.fields["audio.reference_a"].toolTip() == "Reference pitch of A4 in Hz"


def test_round_trip_writes_the_settings_file(qtbot: QtBot, context) -> None:
    dialog = SettingsDialog(context.settings)
    qtbot.addWidget(dialog)
    _pick(_combo(dialog, "ui.theme"), "light")
    _pick(_combo(dialog, "audio.input_device"), "Scarlett 2i2 USB")
    _pick(_combo(dialog, "audio.sample_rate"), 96000)
    _pick(_combo(dialog, "audio.block_size"), 128)
    spin = dialog.fields["audio.reference_a"]
    assert isinstance(spin, QDoubleSpinBox)
    assert (spin.minimum(), spin.maximum()) == (415.0, 466.0)
    spin.setValue(442.5)
    _pick(_combo(dialog, "midi.input_port"), "Arturia KeyStep 37")
    monitor = _combo(dialog, "audio.monitor_device")
    assert [monitor.itemData(i) for i in range(monitor.count())] == [
        "",
        "Scarlett 2i2 USB",
        "Built-in Speakers",
    ]
    _pick(monitor, "Built-in Speakers")
    dialog.accept()

    assert sorted(dialog.changed_keys) == sorted(
        [
            "ui.theme",
            "audio.input_device",
            "audio.sample_rate",
            "audio.block_size",
            "audio.reference_a",
            "midi.input_port",
            "audio.monitor_device",
        ]
    )
    on_disk = json.loads(context.paths.settings_file.read_text(encoding="utf-8"))["values"]
    assert on_disk == {
        "ui.theme": "light",
        "audio.input_device": "Scarlett 2i2 USB",
        "audio.sample_rate": 96000,
        "audio.block_size": 128,
        "audio.reference_a": 442.5,
        "midi.input_port": "Arturia KeyStep 37",
        "audio.monitor_device": "Built-in Speakers",
    }
    reloaded = Settings.load(context.paths.settings_file)
    assert reloaded.get("audio.reference_a") == 442.5 and reloaded.warnings == []


def test_cancel_changes_nothing(qtbot: QtBot, context) -> None:
    dialog = SettingsDialog(context.settings)
    qtbot.addWidget(dialog)
    _pick(_combo(dialog, "ui.theme"), "light")
    dialog.reject()
    assert context.settings.get("ui.theme") == "dark"
    assert not context.paths.settings_file.exists()


def test_changing_the_language_says_a_restart_applies_it(qtbot: QtBot, context) -> None:
    dialog = SettingsDialog(context.settings)
    qtbot.addWidget(dialog)
    dialog.show()
    assert not dialog.restart_note.isVisible()
    _pick(_combo(dialog, "ui.language"), "de")
    assert dialog.restart_note.isVisible()
    assert "next time you start" in dialog.restart_note.text()
    _pick(_combo(dialog, "ui.language"), "auto")
    assert not dialog.restart_note.isVisible()


def test_settings_from_the_main_window_apply_theme_and_status(
    qtbot: QtBot, main_window: MainWindow
) -> None:
    changed: list[list[str]] = []
    main_window.settings_changed.connect(changed.append)
    main_window.actions_by_name["settings"].trigger()
    dialog = main_window.dialogs["settings"]
    assert isinstance(dialog, SettingsDialog) and dialog.isVisible()
    _pick(_combo(dialog, "ui.theme"), "light")
    _pick(_combo(dialog, "ui.language"), "ar")
    _pick(_combo(dialog, "audio.input_device"), "demo")
    dialog.accept()
    assert changed and "ui.theme" in changed[0]
    assert theme_colors() == theme_colors("light")
    assert main_window.status.audio_label.text() == "Input: Demo input"
    assert "next time you start" in main_window.status.currentMessage()


def test_a_missing_device_stays_selected_and_is_marked(qtbot: QtBot, context) -> None:
    context.settings.set("audio.input_device", "Old Interface")
    dialog = SettingsDialog(context.settings)
    qtbot.addWidget(dialog)
    combo = _combo(dialog, "audio.input_device")
    assert combo.currentData() == "Old Interface"
    assert "not available" in combo.currentText()
    assert dialog.values()["audio.input_device"] == "Old Interface"


def test_audio_and_midi_problems_are_shown_not_raised(
    qtbot: QtBot, context, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(
        hardware, "audio_inputs", lambda: hardware.AudioInputs(error="PortAudio library not found")
    )
    monkeypatch.setattr(
        hardware,
        "list_midi",
        lambda api: MidiPorts(
            "jack", error="SystemError: MidiInJack::initialize: JACK server not running?"
        ),
    )
    dialog = SettingsDialog(context.settings)
    qtbot.addWidget(dialog)
    dialog.show()
    assert "PortAudio library not found" in dialog.audio_note.text()
    assert "demo input" in dialog.audio_note.text()
    assert dialog.midi_note.isVisible()
    assert "JACK server not running" in dialog.midi_note.text()
    assert _combo(dialog, "midi.input_port").count() == 1  # just "No MIDI input"


def test_picking_another_midi_system_lists_its_ports(
    qtbot: QtBot, context, monkeypatch: pytest.MonkeyPatch
) -> None:
    asked = []

    def ports(api: str) -> MidiPorts:
        asked.append(api)
        return MidiPorts(api, inputs=[f"{api} keyboard"], outputs=[])

    monkeypatch.setattr(hardware, "list_midi", ports)
    dialog = SettingsDialog(context.settings)
    qtbot.addWidget(dialog)
    _pick(_combo(dialog, "midi.api"), "jack")
    assert asked == ["auto", "jack"]
    assert _combo(dialog, "midi.input_port").findData("jack keyboard") >= 0


REAL_HARDWARE_SCRIPT = """
import json, sys
from pathlib import Path
from PySide6.QtWidgets import QApplication
from app.settings import Settings
from ui.settings_dialog import SettingsDialog
app = QApplication([])
dialog = SettingsDialog(Settings(Path(sys.argv[1])))
combo = dialog.fields["audio.input_device"]
print(json.dumps({
    "inputs": [combo.itemData(i) for i in range(combo.count())],
    "audio_note": dialog.audio_note.text(),
    "midi_note": dialog.midi_note.text(),
}))
"""


def test_the_real_device_lists_do_not_break_the_dialog(real_hardware: None, tmp_path: Path) -> None:
    """With the machine's own PortAudio and rtmidi (no sound card is fine). In a subprocess:
    PortAudio must not initialise inside the test process, where a session's JACK server may
    stop before it (TEST-STACK.md: that aborts the process at exit)."""
    done = subprocess.run(
        [sys.executable, "-c", REAL_HARDWARE_SCRIPT, str(tmp_path / "settings.json")],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        env=dict(os.environ, QT_QPA_PLATFORM="offscreen"),
    )
    assert done.returncode == 0, done.stderr
    shown = json.loads(done.stdout.strip().splitlines()[-1])
    assert shown["inputs"][:2] == ["", "demo"]
