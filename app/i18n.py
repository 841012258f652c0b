"""Languages: gettext catalogs made with Babel, and locale-aware formatting.

Mark every user-facing string with ``_()`` (translated now), ``N_()`` (marked, translated later)
or ``ngettext()``. Placeholders are always named: ``_("Saved {name}").format(name=title)``.
Numbers and dates go through :func:`format_decimal` / :func:`format_datetime`, never by hand.
"""

from __future__ import annotations

import contextlib
import gettext
import locale
import os
import threading
from datetime import date, datetime
from pathlib import Path

from babel import Locale, UnknownLocaleError
from babel.dates import format_date as _babel_format_date
from babel.dates import format_datetime as _babel_format_datetime
from babel.numbers import format_decimal as _babel_format_decimal
from babel.numbers import format_percent as _babel_format_percent

from app.paths import TRANSLATIONS_DIR

DOMAIN = "hookline"
SOURCE_LANGUAGE = "en"
# Each language is named in its own tongue, so a user can find theirs whatever is shown now.
LANGUAGES: dict[str, str] = {"en": "English", "de": "Deutsch", "ar": "العربية"}

_lock = threading.Lock()
_translations: gettext.NullTranslations = gettext.NullTranslations()
_locale: Locale = Locale.parse(SOURCE_LANGUAGE)


def _(message: str) -> str:
    """Translate ``message`` into the current language."""
    return _translations.gettext(message)


def N_(message: str) -> str:
    """Mark ``message`` for extraction without translating it yet (for tables of constants)."""
    return message


def ngettext(singular: str, plural: str, n: int) -> str:
    """Translate a message whose form depends on the count ``n``."""
    return _translations.ngettext(singular, plural, n)


def system_language() -> str:
    """The supported language closest to the user's environment, or English."""
    candidates = [os.environ.get(v, "") for v in ("LANGUAGE", "LC_ALL", "LC_MESSAGES", "LANG")]
    with contextlib.suppress(ValueError):
        candidates.append(locale.getlocale()[0] or "")
    for candidate in candidates:
        for part in candidate.split(":"):
            code = part.split(".")[0].split("_")[0].split("-")[0].lower()
            if code in LANGUAGES:
                return code
    return SOURCE_LANGUAGE


def set_language(code: str, translations_dir: Path = TRANSLATIONS_DIR) -> str:
    """Switch the process to ``code`` ("auto" means the system's language).

    Returns the language actually in use: an unknown code falls back to English.
    """
    global _translations, _locale
    if code == "auto":
        code = system_language()
    if code not in LANGUAGES:
        code = SOURCE_LANGUAGE
    translations = gettext.translation(
        DOMAIN, localedir=str(translations_dir), languages=[code], fallback=True
    )
    try:
        new_locale = Locale.parse(code)
    except (UnknownLocaleError, ValueError):
        new_locale = Locale.parse(SOURCE_LANGUAGE)
    with _lock:
        _translations, _locale = translations, new_locale
    return code


def current_language() -> str:
    return str(_locale.language)


def current_locale() -> Locale:
    return _locale


def is_right_to_left() -> bool:
    return _locale.character_order == "right-to-left"


def catalog_available(code: str, translations_dir: Path = TRANSLATIONS_DIR) -> bool:
    """Whether a compiled catalog exists for ``code`` (English needs none)."""
    if code == SOURCE_LANGUAGE:
        return True
    return (translations_dir / code / "LC_MESSAGES" / f"{DOMAIN}.mo").is_file()


def format_decimal(value: float, digits: int | None = None) -> str:
    """A number in the current locale's digits, separators and decimal mark."""
    if digits is None:
        return _babel_format_decimal(value, locale=_locale)
    pattern = "#,##0" + ("." + "0" * digits if digits > 0 else "")
    return _babel_format_decimal(value, format=pattern, locale=_locale)


def format_percent(fraction: float, digits: int = 0) -> str:
    """``0.42`` as the current locale writes 42 percent ("42 %" in German, "٤٢٪" in Arabic)."""
    if digits <= 0:
        return _babel_format_percent(fraction, locale=_locale)
    rounded = round(fraction * 100.0, digits) / 100.0  # the locale's pattern, more decimals
    return _babel_format_percent(rounded, locale=_locale, decimal_quantization=False)


def format_datetime(value: datetime, width: str = "medium") -> str:
    return _babel_format_datetime(value, format=width, locale=_locale)


def format_date(value: date, width: str = "medium") -> str:
    return _babel_format_date(value, format=width, locale=_locale)
