"""The interface language, as Qt needs it: its own translator and the layout direction.

Our strings are translated by :mod:`app.i18n` (gettext); Qt's standard dialogs and buttons
("OK", "Cancel", the colour picker...) need Qt's ``qtbase_<lang>.qm`` catalog on top.
"""

from __future__ import annotations

import logging

from PySide6.QtCore import QCoreApplication, QLibraryInfo, QLocale, Qt, QTranslator

from app import i18n

log = logging.getLogger(__name__)


def layout_direction() -> Qt.LayoutDirection:
    """Right to left for Arabic and other right-to-left languages, else left to right."""
    if i18n.is_right_to_left():
        return Qt.LayoutDirection.RightToLeft
    return Qt.LayoutDirection.LeftToRight


# Qt's plain "ar" means Egyptian Arabic with Arabic-Indic digits; Babel's "ar" (our numbers and
# dates) writes Western digits. Modern Standard Arabic ("ar_001") matches Babel, so a spin box
# and a label show the same digits.
QT_LOCALES = {"ar": "ar_001"}


def qt_locale_name(language: str) -> str:
    return QT_LOCALES.get(language, language)


def install_qt_translator(app: QCoreApplication, language: str) -> QTranslator | None:
    """Load Qt's own catalog for ``language`` into ``app``; keep the result alive while used.

    Returns ``None`` for English (Qt's source language) or when no catalog ships for it.
    """
    QLocale.setDefault(QLocale(qt_locale_name(language)))
    if language == i18n.SOURCE_LANGUAGE:
        return None
    folder = QLibraryInfo.path(QLibraryInfo.LibraryPath.TranslationsPath)
    translator = QTranslator(app)
    if not translator.load(f"qtbase_{language}", folder):
        log.info("no Qt catalog qtbase_%s in %s", language, folder)
        return None
    app.installTranslator(translator)
    return translator
