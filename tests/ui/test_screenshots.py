"""Screenshots of every room and dialog in English, German and Arabic.

They land in ``tests/artifacts/screenshots/`` (git-ignored) for a person to look at; the
assertions here check what a picture cannot prove by itself: the direction of the layout.
Until the German and Arabic catalogs exist, those screenshots show English text, mirrored for
Arabic.
"""

from __future__ import annotations

import sys
from collections.abc import Callable

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from app.context import AppContext
from app.paths import AppPaths
from tests.ui.conftest import SCREENSHOTS, save_screenshot
from ui.crash import ExceptionReport
from ui.exception_dialog import ExceptionDialog
from ui.main_window import MainWindow
from ui.rooms import ROOM_KEYS
from ui.theme import apply_theme

LANGUAGES = ["en", "de", "ar"]


def _report() -> ExceptionReport:
    chords: dict[str, str] = {}
    try:
        chords["Cmaj7"]
    except KeyError:
        return ExceptionReport.from_exc_info(sys.exc_info(), "MainThread")  # type: ignore[arg-type]
    raise AssertionError


@pytest.mark.parametrize("language", LANGUAGES)
def test_screenshots(
    qtbot: QtBot, app_paths: AppPaths, ui_language: Callable[[str], str], language: str
) -> None:
    assert ui_language(language) == language
    context = AppContext.start(app_paths, language)
    try:
        window = MainWindow(context)
        qtbot.addWidget(window)
        window.resize(1100, 700)
        window.show()
        qtbot.waitExposed(window)
        expected = (
            Qt.LayoutDirection.RightToLeft if language == "ar" else (Qt.LayoutDirection.LeftToRight)
        )
        assert window.layoutDirection() == expected

        bar = window.tabs.tabBar()
        first_tab_x = bar.mapTo(window, bar.tabRect(0).center()).x()
        if language == "ar":  # "Live", the first room, sits at the right edge
            assert first_tab_x > window.width() // 2
        else:
            assert first_tab_x < window.width() // 2

        for number, key in enumerate(ROOM_KEYS, start=1):
            window.show_room(key)
            save_screenshot(window, f"main-{language}-{number}-{key}")

        settings = window.open_settings()
        settings.adjustSize()
        assert settings.layoutDirection() == expected
        save_screenshot(settings, f"settings-{language}")
        settings.reject()

        about = window.show_about()
        about.adjustSize()
        assert about.layoutDirection() == expected
        save_screenshot(about, f"about-{language}")
        about.close()

        shortcuts = window.show_shortcuts()
        save_screenshot(shortcuts, f"shortcuts-{language}")
        shortcuts.close()

        crash = ExceptionDialog(context.paths.log_file, window)
        crash.show_report(_report())
        crash.adjustSize()
        assert crash.layoutDirection() == expected
        save_screenshot(crash, f"exception-{language}")
        crash.close()
    finally:
        context.close()
    assert (SCREENSHOTS / f"main-{language}-1-live.png").is_file()


def test_light_theme_screenshots(qtbot: QtBot, qapp: QApplication, context: AppContext) -> None:
    apply_theme(qapp, "light")
    window = MainWindow(context)
    qtbot.addWidget(window)
    window.resize(1100, 700)
    window.show()
    qtbot.waitExposed(window)
    assert window.create_project("Night Drive") is not None
    save_screenshot(window, "main-en-light")
    settings = window.open_settings()
    settings.adjustSize()
    save_screenshot(settings, "settings-en-light")
    settings.reject()
