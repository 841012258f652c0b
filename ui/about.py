"""The About box: what this is, which versions run, where its files are, and whose work it uses."""

from __future__ import annotations

import platform
from pathlib import Path

from PySide6 import __version__ as pyside_version
from PySide6.QtCore import Qt, QUrl, qVersion
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import (
    QApplication,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from app import __version__
from app.i18n import _
from app.paths import AppPaths
from ui.qt_language import layout_direction

# Third-party parts the app ships with, and their licences (names are not translated).
COMPONENTS = (
    ("Qt, PySide6", "LGPL-3.0"),
    ("pyqtgraph", "MIT"),
    ("NumPy, SciPy, Numba", "BSD-3-Clause"),
    ("sounddevice, PortAudio", "MIT"),
    ("mido, python-rtmidi", "MIT"),
    ("SQLAlchemy, Alembic", "MIT"),
    ("pycrdt", "MIT"),
    ("Babel, platformdirs, click", "BSD-3-Clause / MIT"),
)


def _path_label(path: Path) -> QLabel:
    label = QLabel(str(path))
    label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    label.setWordWrap(True)
    # File paths read left to right in every language.
    label.setLayoutDirection(Qt.LayoutDirection.LeftToRight)
    label.setAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignAbsolute)
    return label


class AboutDialog(QDialog):
    def __init__(self, paths: AppPaths, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.paths = paths
        self.setWindowTitle(_("About Hookline"))
        self.setLayoutDirection(layout_direction())
        self.setMinimumWidth(540)

        title = QLabel("Hookline")
        font = title.font()
        font.setPointSizeF(font.pointSizeF() * 2.0)
        font.setBold(True)
        title.setFont(font)
        tagline = QLabel(
            _(
                "A companion for music makers: live analysis, harmony, melody and "
                "lyric help beside your DAW."
            )
        )
        tagline.setWordWrap(True)

        facts = QFormLayout()
        facts.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        self.version_label = QLabel(_("Version {version}").format(version=__version__))
        facts.addRow(_("Hookline:"), self.version_label)
        facts.addRow(
            _("Built with:"),
            QLabel(
                _("Qt {qt}, PySide6 {pyside}, Python {python}").format(
                    qt=qVersion(), pyside=pyside_version, python=platform.python_version()
                )
            ),
        )
        facts.addRow(_("Log file:"), _path_label(paths.log_file))
        facts.addRow(_("Your data:"), _path_label(paths.data_dir))
        facts.addRow(_("Settings file:"), _path_label(paths.settings_file))

        components = ", ".join(f"{name} ({lic})" for name, lic in COMPONENTS)
        self.licence_label = QLabel(
            _(
                "Hookline is proprietary software. It is built on open-source components, each "
                "under its own licence: {components}."
            ).format(components=components)
        )
        self.licence_label.setWordWrap(True)
        self.licence_label.setTextFormat(Qt.TextFormat.PlainText)

        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        open_logs = QPushButton(_("Open log folder"))
        open_logs.clicked.connect(lambda: self._open_folder(paths.log_dir))
        buttons.addButton(open_logs, QDialogButtonBox.ButtonRole.ActionRole)
        about_qt = QPushButton(_("About Qt"))
        about_qt.clicked.connect(lambda: QApplication.aboutQt())
        buttons.addButton(about_qt, QDialogButtonBox.ButtonRole.ActionRole)

        layout = QVBoxLayout(self)
        layout.setSpacing(12)
        layout.addWidget(title)
        layout.addWidget(tagline)
        layout.addLayout(facts)
        layout.addWidget(self.licence_label)
        layout.addStretch(1)
        layout.addWidget(buttons)

    def text(self) -> str:
        """All the text shown, for tests and for copying."""
        return "\n".join(label.text() for label in self.findChildren(QLabel))

    @staticmethod
    def _open_folder(folder: Path) -> None:
        QDesktopServices.openUrl(QUrl.fromLocalFile(str(folder)))
