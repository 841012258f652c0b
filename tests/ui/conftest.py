"""Fixtures for the widget tests: offscreen Qt, a private Hookline home, fake hardware.

Qt reads ``QT_QPA_PLATFORM`` when the QApplication is created, so it is set here, before any
test module imports PySide6. Screens and fonts then are the same on every machine, and the
screenshots under ``tests/artifacts/screenshots/`` are comparable between runs.
"""

from __future__ import annotations

import os

os.environ["QT_QPA_PLATFORM"] = "offscreen"

from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import QLocale, Qt
from PySide6.QtWidgets import QApplication, QWidget
from pytestqt.qtbot import QtBot

from app import hardware, i18n
from app.context import AppContext
from app.paths import AppPaths
from audio.midi_ports import MidiPorts
from ui.main_window import MainWindow
from ui.qt_language import install_qt_translator, layout_direction
from ui.theme import apply_theme

SCREENSHOTS = Path(__file__).resolve().parents[1] / "artifacts" / "screenshots"

FAKE_INPUTS = hardware.AudioInputs(
    ["Scarlett 2i2 USB", "Built-in Microphone"],
    default_name="Built-in Microphone",
    output_names=["Scarlett 2i2 USB", "Built-in Speakers"],
)
FAKE_MIDI = MidiPorts("alsa", inputs=["Arturia KeyStep 37"], outputs=["Midi Through Port-0"])


@pytest.fixture(autouse=True)
def fake_hardware(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    """The same two sound cards and one keyboard on every machine, unless a test asks for the
    real ones with the ``real_hardware`` fixture."""
    if "real_hardware" in request.fixturenames:
        return
    monkeypatch.setattr(hardware, "audio_inputs", lambda: FAKE_INPUTS)
    monkeypatch.setattr(hardware, "has_audio_input", lambda: True)
    monkeypatch.setattr(hardware, "list_midi", lambda api: FAKE_MIDI)


@pytest.fixture
def real_hardware() -> None:
    """Use the machine's real PortAudio and rtmidi (no sound card is fine)."""


@pytest.fixture(autouse=True)
def qt_defaults(qapp: QApplication) -> Iterator[QApplication]:
    """Every test starts and ends with the dark theme, left to right, English Qt locale."""
    apply_theme(qapp, "dark")
    qapp.setLayoutDirection(Qt.LayoutDirection.LeftToRight)
    QLocale.setDefault(QLocale("en_US"))
    yield qapp
    apply_theme(qapp, "dark")
    qapp.setLayoutDirection(Qt.LayoutDirection.LeftToRight)
    QLocale.setDefault(QLocale("en_US"))


@pytest.fixture
def context(app_paths: AppPaths) -> Iterator[AppContext]:
    ctx = AppContext.start(app_paths, "en")
    yield ctx
    ctx.close()


@pytest.fixture
def ui_language(qapp: QApplication) -> Iterator[object]:
    """Call the yielded function with a language code to switch like the app does at start."""
    installed = []

    def switch(code: str) -> str:
        chosen = i18n.set_language(code)
        translator = install_qt_translator(qapp, chosen)
        if translator is not None:
            installed.append(translator)
        qapp.setLayoutDirection(layout_direction())
        return chosen

    yield switch
    for translator in installed:
        qapp.removeTranslator(translator)
    i18n.set_language("en")


@pytest.fixture
def main_window(qtbot: QtBot, context: AppContext) -> MainWindow:
    window = MainWindow(context)
    qtbot.addWidget(window)
    window.show()
    qtbot.waitExposed(window)
    return window


def save_screenshot(widget: QWidget, name: str) -> Path:
    """Render ``widget`` to ``tests/artifacts/screenshots/<name>.png`` and return the path."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    QApplication.processEvents()
    path = SCREENSHOTS / f"{name}.png"
    assert widget.grab().save(str(path)), path
    assert path.stat().st_size > 1000, f"{path} looks empty"
    return path
