"""Crash handling a user can act on.

* Qt's own messages (``qWarning`` and friends, from C++ or Python) go into :mod:`logging`, so
  they land in the rotating log file with everything else.
* An exception nobody caught — on the main thread (``sys.excepthook``, which PySide6 calls for
  errors inside slots and event handlers) or on any other thread (``threading.excepthook``) — is
  logged with its traceback (the log scrubs secrets) and shown in a non-modal dialog that says
  what happened and where the log file is, with a button to copy the details. The app keeps
  running.

Thread contract: create, install and uninstall on the main thread; the hooks may fire on any
thread and hand the report to the main thread through a queued signal.
"""

from __future__ import annotations

import logging
import sys
import threading
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any

import shiboken6
from PySide6.QtCore import QMessageLogContext, QObject, QtMsgType, Signal, qInstallMessageHandler

from app.logs import scrub

log = logging.getLogger(__name__)
qt_log = logging.getLogger("qt")

QT_LEVELS = {
    QtMsgType.QtDebugMsg: logging.DEBUG,
    QtMsgType.QtInfoMsg: logging.INFO,
    QtMsgType.QtWarningMsg: logging.WARNING,
    QtMsgType.QtCriticalMsg: logging.ERROR,
    QtMsgType.QtFatalMsg: logging.CRITICAL,
}

MessageHandler = Callable[[QtMsgType, QMessageLogContext, str], Any]
ExcInfo = tuple[type[BaseException], BaseException, TracebackType | None]


def qt_message_to_log(msg_type: QtMsgType, context: QMessageLogContext, message: str) -> None:
    """Qt message handler: one log record per Qt message, at the matching level."""
    level = QT_LEVELS.get(msg_type, logging.WARNING)
    category = context.category if context is not None and context.category else "default"
    where = f" ({context.file}:{context.line})" if context is not None and context.file else ""
    qt_log.log(level, "[%s] %s%s", category, message, where)
    if msg_type == QtMsgType.QtFatalMsg:  # Qt aborts right after this returns
        for handler in logging.getLogger().handlers:
            handler.flush()


def install_qt_message_handler() -> MessageHandler | None:
    """Route Qt messages into logging; returns the handler that was installed before."""
    return qInstallMessageHandler(qt_message_to_log)


@dataclass(frozen=True)
class ExceptionReport:
    """An uncaught exception, ready to show: secrets already scrubbed."""

    summary: str  # "ValueError: bad value"
    details: str  # the full traceback
    thread_name: str

    @classmethod
    def from_exc_info(cls, exc_info: ExcInfo, thread_name: str) -> ExceptionReport:
        exc_type, exc, tb = exc_info
        text = "".join(traceback.format_exception(exc_type, exc, tb))
        message = str(exc).strip()
        summary = f"{exc_type.__name__}: {message}" if message else exc_type.__name__
        return cls(scrub(summary), scrub(text), thread_name)


class CrashReporter(QObject):
    """Installs the exception hooks and shows one exception dialog at a time.

    Further exceptions while the dialog is open are counted on it instead of opening more
    dialogs, so an error in a 60 Hz timer cannot bury the screen.
    """

    reported = Signal(object)  # ExceptionReport; crosses threads as a queued connection

    def __init__(self, log_file: Path, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.log_file = log_file
        self.parent_window: Any = None  # the QWidget dialogs are parented to, if any
        self.dialog: Any = None  # the ExceptionDialog, created on first use
        self.reports: list[ExceptionReport] = []
        self._previous_excepthook: Callable[..., Any] | None = None
        self._previous_thread_hook: Callable[..., Any] | None = None
        self._previous_qt_handler: MessageHandler | None = None
        self._installed = False
        self._showing = False
        self.reported.connect(self._show)

    def install(self) -> CrashReporter:
        if not self._installed:
            self._previous_excepthook = sys.excepthook
            self._previous_thread_hook = threading.excepthook
            sys.excepthook = self.handle_exception
            threading.excepthook = self.handle_thread_exception
            self._previous_qt_handler = install_qt_message_handler()
            self._installed = True
        return self

    def uninstall(self) -> None:
        if not self._installed:
            return
        if sys.excepthook == self.handle_exception:
            sys.excepthook = self._previous_excepthook or sys.__excepthook__
        if threading.excepthook == self.handle_thread_exception:
            threading.excepthook = self._previous_thread_hook or threading.__excepthook__
        qInstallMessageHandler(self._previous_qt_handler)
        self._installed = False

    def handle_exception(
        self, exc_type: type[BaseException], exc: BaseException, tb: TracebackType | None
    ) -> None:
        """``sys.excepthook``: log, then show (or queue to the main thread)."""
        if issubclass(exc_type, KeyboardInterrupt):
            (self._previous_excepthook or sys.__excepthook__)(exc_type, exc, tb)
            return
        self._report((exc_type, exc, tb), threading.current_thread().name)

    def handle_thread_exception(self, args: threading.ExceptHookArgs) -> None:
        """``threading.excepthook``: same as :meth:`handle_exception`, from a worker thread."""
        if args.exc_type is SystemExit or args.exc_value is None:
            return
        name = args.thread.name if args.thread is not None else "?"
        self._report((args.exc_type, args.exc_value, args.exc_traceback), name)

    def _report(self, exc_info: ExcInfo, thread_name: str) -> None:
        log.critical("Uncaught exception in thread %s", thread_name, exc_info=exc_info)
        try:
            report = ExceptionReport.from_exc_info(exc_info, thread_name)
            self.reported.emit(report)  # direct on the main thread, queued from others
        except Exception:  # never let the hook itself raise
            log.exception("could not report the exception")

    def _show(self, report: ExceptionReport) -> None:
        self.reports.append(report)
        if self._showing:  # an error while building the dialog: the log has it
            return
        self._showing = True
        try:
            from ui.exception_dialog import ExceptionDialog

            if self.dialog is not None and not shiboken6.isValid(self.dialog):
                self.dialog = None  # its parent window was closed and deleted it
            if self.dialog is not None and self.dialog.isVisible():
                self.dialog.add_another(report)
            else:
                if self.dialog is None:
                    self.dialog = ExceptionDialog(self.log_file, self.parent_window)
                self.dialog.show_report(report)
        except Exception:
            log.exception("could not show the exception dialog")
            print(report.details, file=sys.stderr)
        finally:
            self._showing = False


def install_crash_handling(log_file: Path) -> CrashReporter:
    """Install the Qt message handler and both exception hooks; undo with ``uninstall()``."""
    return CrashReporter(log_file).install()
