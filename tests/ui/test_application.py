"""``run_gui``: start-up order, the no-display message, warnings, state saved on exit."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication, QMessageBox
from pytestqt.qtbot import QtBot

from app.context import AppContext
from app.paths import AppPaths
from ui import application
from ui.application import has_display, run_gui
from ui.main_window import MainWindow

REPO_ROOT = Path(__file__).resolve().parents[2]


def test_has_display() -> None:
    assert not has_display({}, "linux")
    assert has_display({"DISPLAY": ":0"}, "linux")
    assert has_display({"WAYLAND_DISPLAY": "wayland-0"}, "linux")
    assert has_display({"QT_QPA_PLATFORM": "offscreen"}, "linux")
    assert has_display({}, "win32") and has_display({}, "darwin")


def test_without_a_display_it_explains_and_returns_1(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], hookline_home: Path
) -> None:
    for name in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr(sys, "platform", "linux")
    assert run_gui(language="en") == 1
    err = capsys.readouterr().err
    assert "no display" in err and "xvfb-run -a make run" in err
    assert not hookline_home.exists()  # it stopped before touching anything


def _corrupt_settings(home: Path) -> None:
    (home / "config").mkdir(parents=True, exist_ok=True)
    (home / "config" / "settings.json").write_text("{not json", encoding="utf-8")


def test_run_gui_shows_warnings_and_saves_window_state(
    qapp: QApplication, hookline_home: Path
) -> None:
    _corrupt_settings(hookline_home)
    seen: dict[str, object] = {}

    def look() -> None:
        window = next(w for w in qapp.topLevelWidgets() if isinstance(w, MainWindow))
        seen["status"] = window.status.currentMessage()
        seen["box"] = [
            w.text() for w in qapp.topLevelWidgets() if isinstance(w, QMessageBox) and w.isVisible()
        ]
        seen["direction"] = qapp.layoutDirection()
        window.show_room("team")

    QTimer.singleShot(200, look)
    assert run_gui(language="en", quit_after=0.6) == 0
    assert "could not be read" in str(seen["status"])
    assert any("could not be read" in text for text in seen["box"])  # type: ignore[attr-defined]
    values = json.loads((hookline_home / "config" / "settings.json").read_text())["values"]
    assert json.loads(values["ui.window_state"])["room"] == "team"
    log = (hookline_home / "logs" / "hookline.log").read_text(encoding="utf-8")
    assert "main window shown" in log and "Hookline stopped" in log
    assert sys.excepthook is not None and "CrashReporter" not in repr(sys.excepthook)


def test_corrupt_settings_warning_in_the_status_bar(qtbot: QtBot, app_paths: AppPaths) -> None:
    app_paths.settings_file.write_text('{"version": 2, "values": [', encoding="utf-8")
    context = AppContext.start(app_paths, "en")
    try:
        window = MainWindow(context)
        qtbot.addWidget(window)
        window.show()
        box = window.show_warnings(context.warnings)
        assert box is not None and box.isVisible() and not box.isModal()
        assert "could not be read" in window.status.currentMessage()
        assert str(app_paths.config_dir) in window.status.currentMessage()
        box.close()
    finally:
        context.close()


def test_the_qt_translator_loads_for_german_and_arabic(qapp: QApplication) -> None:
    for code in ("de", "ar"):
        translator = application.install_qt_translator(qapp, code)
        assert translator is not None and not translator.isEmpty()
        qapp.removeTranslator(translator)
    assert application.install_qt_translator(qapp, "en") is None


def _launch(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    code = "from ui.launcher import main; main()"
    return subprocess.run(
        [sys.executable, "-c", code, *args],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_the_hookline_command_opens_and_closes_the_window(hookline_home: Path) -> None:
    env = dict(os.environ, HOOKLINE_HOME=str(hookline_home), QT_QPA_PLATFORM="offscreen")
    done = _launch(env, "--language", "ar", "--quit-after", "0.5")
    assert done.returncode == 0, done.stderr
    log = (hookline_home / "logs" / "hookline.log").read_text(encoding="utf-8")
    assert "main window shown (language ar" in log and "Hookline stopped" in log
    assert "Traceback" not in log


def test_the_hookline_command_without_a_display(hookline_home: Path) -> None:
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM")
    }
    env["HOOKLINE_HOME"] = str(hookline_home)
    done = _launch(env, "--language", "en")
    assert done.returncode == 1
    assert "xvfb-run -a make run" in done.stderr
    assert "Aborted" not in done.stderr and "core dumped" not in done.stderr


def test_a_damaged_database_is_explained_not_a_crash(
    qapp: QApplication, hookline_home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (hookline_home / "data").mkdir(parents=True)
    (hookline_home / "data" / "hookline.sqlite3").write_bytes(b"this is not SQLite" * 100)
    seen: list[str] = []

    def look() -> None:
        seen.extend(
            w.text() for w in qapp.topLevelWidgets() if isinstance(w, QMessageBox) and w.isVisible()
        )

    QTimer.singleShot(100, look)
    assert run_gui(language="en", quit_after=0.4) == 1
    assert seen and "not a Hookline database" in seen[0]
    assert "not a Hookline database" in capsys.readouterr().err
