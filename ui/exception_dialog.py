"""The dialog that tells the user an unexpected error happened and where the log file is.

It is non-modal: the rest of the app stays usable while it is open, and tests can inspect it
without an event loop of its own.
"""

from __future__ import annotations

import platform
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6 import __version__ as pyside_version
from PySide6.QtCore import Qt, QUrl, qVersion
from PySide6.QtGui import QDesktopServices, QFontDatabase, QGuiApplication
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QStyle,
    QVBoxLayout,
    QWidget,
)

from app import __version__
from app.i18n import _, ngettext
from ui.qt_language import layout_direction

if TYPE_CHECKING:
    from ui.crash import ExceptionReport


class ExceptionDialog(QDialog):
    def __init__(self, log_file: Path, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.log_file = log_file
        self.report: ExceptionReport | None = None
        self.more_count = 0
        self.setWindowTitle(_("Hookline ran into a problem"))
        self.setModal(False)
        self.setLayoutDirection(layout_direction())
        self.setMinimumWidth(560)

        icon = QLabel()
        icon.setPixmap(
            self.style().standardIcon(QStyle.StandardPixmap.SP_MessageBoxCritical).pixmap(48, 48)
        )
        icon.setAlignment(Qt.AlignmentFlag.AlignTop)
        self.headline = QLabel()
        self.headline.setWordWrap(True)
        self.headline.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        font = self.headline.font()
        font.setBold(True)
        self.headline.setFont(font)
        explanation = QLabel(
            _(
                "Hookline keeps running, but what you just did may not have "
                "finished. The details were written to the log file:"
            )
        )
        explanation.setWordWrap(True)
        self.log_path_label = QLabel(str(log_file))
        self.log_path_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.log_path_label.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        self.log_path_label.setWordWrap(True)
        self.more_label = QLabel()
        self.more_label.setWordWrap(True)
        self.more_label.hide()
        self.details = QPlainTextEdit()
        self.details.setReadOnly(True)
        self.details.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        self.details.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
        self.details.setMinimumHeight(160)
        # A traceback reads left to right whatever the interface language.
        self.details.setLayoutDirection(Qt.LayoutDirection.LeftToRight)

        buttons = QDialogButtonBox()
        self.copy_button = QPushButton(_("Copy details"))
        self.copy_button.clicked.connect(self.copy_details)
        buttons.addButton(self.copy_button, QDialogButtonBox.ButtonRole.ActionRole)
        open_folder = QPushButton(_("Open log folder"))
        open_folder.clicked.connect(self.open_log_folder)
        buttons.addButton(open_folder, QDialogButtonBox.ButtonRole.ActionRole)
        close = buttons.addButton(QDialogButtonBox.StandardButton.Close)
        close.clicked.connect(self.close)

        text_column = QVBoxLayout()
        for widget in (self.headline, explanation, self.log_path_label, self.more_label):
            text_column.addWidget(widget)
        top = QHBoxLayout()
        top.addWidget(icon)
        top.addLayout(text_column, 1)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.details, 1)
        layout.addWidget(buttons)

    def show_report(self, report: ExceptionReport) -> None:
        """Show ``report`` (replacing any earlier one) and bring the dialog to the front."""
        self.report = report
        self.more_count = 0
        self.more_label.hide()
        self.headline.setText(_("Something went wrong: {error}").format(error=report.summary))
        self.details.setPlainText(report.details)
        self.show()
        self.raise_()
        self.activateWindow()

    def add_another(self, report: ExceptionReport) -> None:
        """Count a further exception while this one is still on screen."""
        self.more_count += 1
        self.more_label.setText(
            ngettext(
                "{count} more problem happened since; every one is in the log file.",
                "{count} more problems happened since; every one is in the log file.",
                self.more_count,
            ).format(count=self.more_count)
        )
        self.more_label.show()

    def details_text(self) -> str:
        """Everything a bug report needs, in plain text (not translated: it is for developers)."""
        lines = [
            f"Hookline {__version__}",
            f"Python {platform.python_version()} on {platform.platform()} ({sys.platform})",
            f"Qt {qVersion()}, PySide6 {pyside_version}",
            f"Log file: {self.log_file}",
        ]
        if self.report is not None:
            lines += [f"Thread: {self.report.thread_name}", "", self.report.details.rstrip()]
        if self.more_count:
            lines.append(f"(+{self.more_count} more, see the log file)")
        return "\n".join(lines) + "\n"

    def copy_details(self) -> None:
        QGuiApplication.clipboard().setText(self.details_text())

    def open_log_folder(self) -> None:
        QDesktopServices.openUrl(QUrl.fromLocalFile(str(self.log_file.parent)))
