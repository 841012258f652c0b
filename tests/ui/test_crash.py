"""Qt messages reach the log; uncaught exceptions are logged and shown, and the app lives on."""

from __future__ import annotations

import logging
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import QTimer, qWarning
from PySide6.QtGui import QGuiApplication
from pytestqt.qtbot import QtBot

from app.context import AppContext
from ui.crash import CrashReporter, ExceptionReport
from ui.exception_dialog import ExceptionDialog
from ui.main_window import MainWindow


def _log_text(path: Path) -> str:
    for handler in logging.getLogger().handlers:
        handler.flush()
    return path.read_text(encoding="utf-8")


@pytest.fixture
def reporter(context: AppContext) -> Iterator[CrashReporter]:
    crash = CrashReporter(context.paths.log_file).install()
    yield crash
    crash.uninstall()
    if crash.dialog is not None:
        crash.dialog.close()


def test_qt_warnings_end_up_in_the_log_file(reporter: CrashReporter, context: AppContext) -> None:
    qWarning("hookline-test: the tuner lost its input")
    text = _log_text(context.paths.log_file)
    line = next(x for x in text.splitlines() if "hookline-test: the tuner" in x)
    assert "WARNING" in line and " qt: " in line


def test_hooks_are_installed_and_removed(context: AppContext) -> None:
    before_sys, before_thread = sys.excepthook, threading.excepthook
    crash = CrashReporter(context.paths.log_file).install()
    assert sys.excepthook == crash.handle_exception
    assert threading.excepthook == crash.handle_thread_exception
    crash.uninstall()
    assert sys.excepthook is before_sys and threading.excepthook is before_thread


def _raise(message: str) -> ExceptionReport:
    try:
        raise ValueError(message)
    except ValueError:
        return ExceptionReport.from_exc_info(sys.exc_info(), "MainThread")  # type: ignore[arg-type]


def test_the_dialog_names_the_log_file_and_copies_details(
    qtbot: QtBot, context: AppContext
) -> None:
    dialog = ExceptionDialog(context.paths.log_file)
    qtbot.addWidget(dialog)
    dialog.show_report(_raise("chord table is empty"))
    assert dialog.isVisible() and not dialog.isModal()
    assert "ValueError: chord table is empty" in dialog.headline.text()
    assert dialog.log_path_label.text() == str(context.paths.log_file)
    assert "Traceback" in dialog.details.toPlainText()
    dialog.copy_button.click()
    copied = QGuiApplication.clipboard().text()
    assert str(context.paths.log_file) in copied and "chord table is empty" in copied
    dialog.add_another(_raise("again"))
    dialog.add_another(_raise("and again"))
    assert dialog.more_label.text() == (
        "2 more problems happened since; every one is in the log file."
    )


def test_secrets_are_scrubbed_from_what_is_shown() -> None:
    report = _raise("login failed: access_token=abc123secret")
    assert "abc123secret" not in report.summary and "abc123secret" not in report.details


@pytest.mark.qt_no_exception_capture
def test_an_error_in_a_slot_shows_the_dialog_and_the_app_survives(
    qtbot: QtBot, reporter: CrashReporter, main_window: MainWindow, context: AppContext
) -> None:
    reporter.parent_window = main_window

    def broken_slot() -> None:
        raise RuntimeError("the spectrum had no bins")

    QTimer.singleShot(0, broken_slot)
    qtbot.waitUntil(lambda: reporter.dialog is not None and reporter.dialog.isVisible())
    dialog = reporter.dialog
    assert "RuntimeError: the spectrum had no bins" in dialog.headline.text()
    assert str(context.paths.log_file) in dialog.log_path_label.text()
    assert "the spectrum had no bins" in _log_text(context.paths.log_file)
    # the event loop goes on: timers fire, shortcuts work, the window is still there
    ticks = []
    QTimer.singleShot(0, lambda: ticks.append(1))
    qtbot.waitUntil(lambda: ticks == [1])
    main_window.show_room("create")
    assert main_window.isVisible() and main_window.current_room() == "create"


@pytest.mark.qt_no_exception_capture
def test_a_flood_of_errors_opens_one_dialog(qtbot: QtBot, reporter: CrashReporter) -> None:
    def broken() -> None:
        raise KeyError("missing")

    for _ in range(5):
        QTimer.singleShot(0, broken)
    qtbot.waitUntil(lambda: len(reporter.reports) == 5)
    assert reporter.dialog.isVisible() and reporter.dialog.more_count == 4


def test_an_error_in_a_worker_thread_reaches_the_dialog_on_the_main_thread(
    qtbot: QtBot, reporter: CrashReporter, context: AppContext
) -> None:
    def worker() -> None:
        raise OSError("the ring buffer went away")

    thread = threading.Thread(target=worker, name="analysis-worker")
    thread.start()
    thread.join()
    qtbot.waitUntil(lambda: reporter.dialog is not None and reporter.dialog.isVisible())
    assert "OSError: the ring buffer went away" in reporter.dialog.headline.text()
    assert reporter.reports[-1].thread_name == "analysis-worker"
    assert "analysis-worker" in _log_text(context.paths.log_file)


def test_keyboard_interrupt_goes_to_the_previous_hook(
    context: AppContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen = []
    monkeypatch.setattr(sys, "excepthook", lambda *args: seen.append(args[0]))
    crash = CrashReporter(context.paths.log_file).install()
    try:
        crash.handle_exception(KeyboardInterrupt, KeyboardInterrupt(), None)
    finally:
        crash.uninstall()
    assert seen == [KeyboardInterrupt] and crash.reports == []
