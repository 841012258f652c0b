"""Start the graphical interface: ``run_gui()`` is what ``hookline`` (no subcommand) runs.

Order matters: the display check comes before anything touches Qt (Qt would abort the process
without a display); the context comes before the QApplication so settings, logging and the
language are ready; crash handling is installed before the first window exists.
"""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Callable, Sequence
from typing import Any

from PySide6.QtCore import QCoreApplication, QEvent, QTimer
from PySide6.QtWidgets import QApplication, QMessageBox

from app.context import AppContext
from app.i18n import _, current_language
from app.paths import default_paths
from app.storage import StorageError
from ui.crash import install_crash_handling
from ui.harmony import install_harmony_view
from ui.live import install_live_view
from ui.main_window import MainWindow
from ui.messages import show_message
from ui.qt_language import install_qt_translator, layout_direction
from ui.source_cache import forget_module_sources
from ui.theme import apply_theme

log = logging.getLogger(__name__)


def has_display(
    environ: os._Environ[str] | dict[str, str] | None = None, platform: str | None = None
) -> bool:
    """Whether Qt can open a window. On Linux and other X11/Wayland systems a window needs
    ``DISPLAY`` or ``WAYLAND_DISPLAY``, unless ``QT_QPA_PLATFORM`` picks a platform itself
    (``offscreen``, ``vnc``...). Windows and macOS always have one."""
    env = os.environ if environ is None else environ
    platform = sys.platform if platform is None else platform
    if platform.startswith(("win", "darwin")) or platform == "cygwin":
        return True
    return any(env.get(name) for name in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM"))


def no_display_message() -> str:
    return _(
        "Hookline cannot open its window because no display was found (neither DISPLAY "
        "nor WAYLAND_DISPLAY is set). On a machine without a screen, start it inside a "
        "virtual display: {command}"
    ).format(command="xvfb-run -a make run")


def create_application(argv: list[str] | None = None) -> QApplication:
    """The process's QApplication (an existing one is reused, as under pytest-qt)."""
    existing = QApplication.instance()
    if isinstance(existing, QApplication):
        app = existing
    else:
        app = QApplication(argv if argv is not None else sys.argv[:1])
    app.setApplicationName("Hookline")
    app.setOrganizationName("Hookline")
    app.setApplicationDisplayName("Hookline")
    app.setDesktopFileName("hookline")
    return app


def run_event_loop(app: QApplication) -> int:
    """``app.exec()``, ended only by an explicit ``quit()``.

    Qt's automatic quit on the last closed window posts a second Quit event; in a QApplication
    that lives on after this (pytest-qt) it would later stop every local event loop at once.
    """
    quit_on_last_window = app.quitOnLastWindowClosed()
    app.setQuitOnLastWindowClosed(False)
    try:
        return app.exec()
    finally:
        app.setQuitOnLastWindowClosed(quit_on_last_window)
        QCoreApplication.removePostedEvents(app, QEvent.Type.Quit)


def show_start_failure(message: str, quit_after: float | None = None) -> int:
    """Tell the user why Hookline cannot start (also on stderr) and return 1 once they read it."""
    print(message, file=sys.stderr)
    app = create_application()
    app.setLayoutDirection(layout_direction())
    apply_theme(app, "dark")
    box = show_message(None, QMessageBox.Icon.Critical, _("Hookline cannot start"), message)
    box.finished.connect(app.quit)
    if quit_after is not None:
        QTimer.singleShot(int(quit_after * 1000), box.close)
    run_event_loop(app)
    return 1


def install_library_when_shown(window: MainWindow) -> None:
    """Build the Library room (its table, plots and the database rows behind them) the first
    time it is shown, not at start-up: a window that only listens stays smaller."""

    def build(key: str) -> None:
        if key == "library":
            window.room_shown.disconnect(build)
            from ui.library import install_library_view

            install_library_view(window)

    window.room_shown.connect(build)


def install_stats_when_shown(window: MainWindow) -> None:
    """Build the Stats room (its database queries and plot) the first time it is shown."""

    def build(key: str) -> None:
        if key == "stats":
            window.room_shown.disconnect(build)
            from ui.stats import install_stats_view

            install_stats_view(window)

    window.room_shown.connect(build)


def install_team_when_shown(window: MainWindow) -> None:
    """Build the Team room (and resume a saved team sign-in) the first time it is shown."""

    def build(key: str) -> None:
        if key == "team":
            window.room_shown.disconnect(build)
            from ui.team import install_team_view

            install_team_view(window)

    window.room_shown.connect(build)


def install_spotify_sync(window: MainWindow) -> None:
    from ui.stats.spotify_schedule import install_spotify_sync as install

    install(window)


def install_create_when_shown(
    window: MainWindow,
    play: Callable[..., None],
    played: Callable[[], Sequence[Any]] | None = None,
) -> None:
    """Build the Create room the first time it is shown; its ideas play through ``play`` (the
    Harmony room's MIDI output), and ``played`` gives the notes last played on the MIDI input."""

    def build(key: str) -> None:
        if key == "create":
            window.room_shown.disconnect(build)
            from ui.create import install_create_view

            install_create_view(window, play, played)

    window.room_shown.connect(build)


def run_gui(language: str | None = None, quit_after: float | None = None) -> int:
    """Open the main window and run until it closes; returns the process exit status.

    ``language`` overrides the setting ("auto", "en", "de", "ar"); ``quit_after`` closes the
    window after that many seconds (smoke tests of the installed app).
    """
    if not has_display():
        print(no_display_message(), file=sys.stderr)
        return 1
    try:
        context = AppContext.start(default_paths(), language)
    except StorageError as exc:
        log.error("cannot start: %s", exc)
        return show_start_failure(str(exc), quit_after)
    crash = None
    translator = None
    app = None
    try:
        app = create_application()
        translator = install_qt_translator(app, current_language())
        app.setLayoutDirection(layout_direction())
        apply_theme(app, str(context.settings.get("ui.theme")))
        crash = install_crash_handling(context.paths.log_file)
        window = MainWindow(context)
        install_live_view(window)  # its session starts once the window is on screen
        harmony = install_harmony_view(window)  # listens on Hookline In from then on
        install_library_when_shown(window)  # built on first visit: memory for what is used
        install_stats_when_shown(window)
        install_spotify_sync(window)  # scheduled Spotify snapshots, from 10 s after start
        install_team_when_shown(window)
        install_create_when_shown(window, harmony.session.play_clip, harmony.session.played_notes)
        crash.parent_window = window
        window.restore_window_state(str(context.settings.get("ui.window_state")))
        window.closed.connect(app.quit)
        window.show()
        window.show_warnings(context.warnings)
        QTimer.singleShot(0, forget_module_sources)
        if quit_after is not None:
            QTimer.singleShot(int(quit_after * 1000), window.close)
        log.info(
            "main window shown (language %s, platform %s)", current_language(), app.platformName()
        )
        status = run_event_loop(app)
        window.deleteLater()
        return status
    finally:
        if crash is not None:
            crash.uninstall()
        if app is not None and translator is not None:
            app.removeTranslator(translator)
        context.close()
