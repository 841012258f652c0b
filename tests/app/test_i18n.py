from __future__ import annotations

import io
from datetime import datetime
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

from app import i18n
from app.i18n_lint import check_catalog, check_file
from app.i18n_lint import main as lint_main

REPO_ROOT = Path(__file__).resolve().parents[2]
CATALOGS = sorted((REPO_ROOT / "translations").glob("*/LC_MESSAGES/hookline.po"))
SHIPPED = {"de", "ar"}
KEYWORDS = {"_": None, "N_": None, "ngettext": (1, 2)}


def _source_messages() -> set[str]:
    found: set[str] = set()
    for package in ("app", "audio", "models", "ui", "plugins"):
        for _file, _line, message, _comments, _context in extract_from_dir(
            REPO_ROOT / package, method_map=[("**.py", "python")], keywords=KEYWORDS
        ):
            found.add(message[0] if isinstance(message, tuple) else message)
    return found


def test_shipped_languages_have_catalogs() -> None:
    assert {p.parts[-3] for p in CATALOGS} >= SHIPPED


@pytest.mark.parametrize("po", CATALOGS, ids=lambda p: p.parts[-3])
def test_catalog_placeholders_match_the_source(po: Path) -> None:
    assert check_file(po) == []


@pytest.mark.parametrize("po", CATALOGS, ids=lambda p: p.parts[-3])
def test_catalog_is_complete_for_every_marked_string(po: Path) -> None:
    with open(po, "rb") as f:
        catalog = read_po(f)
    missing, untranslated, fuzzy = [], [], []
    for msgid in sorted(_source_messages()):
        message = catalog.get(msgid)
        if message is None:
            missing.append(msgid)
            continue
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        if not all(strings):
            untranslated.append(msgid)
        if message.fuzzy:
            fuzzy.append(msgid)
    assert (missing, untranslated, fuzzy) == ([], [], []), "run `make extract` and translate"


BAD_CATALOG = """
msgid ""
msgstr ""
"Content-Type: text/plain; charset=UTF-8\\n"
"Plural-Forms: nplurals=2; plural=(n != 1);\\n"

msgid "Saved {name}"
msgstr "Gespeichert {nom}"

msgid "Value {}"
msgstr "Wert {}"

msgid "Open {path}"
msgstr "Öffne {path"

msgid "Fine {name}"
msgstr "Gut {name}"

msgid "{count} file"
msgid_plural "{count} files"
msgstr[0] "eine Datei"
msgstr[1] "{n} Dateien"
"""


def test_lint_rejects_mismatched_positional_and_broken_placeholders() -> None:
    catalog = read_po(io.StringIO(BAD_CATALOG))
    problems = {p.msgid: p.reason for p in check_catalog(catalog, "bad.po")}
    assert set(problems) == {"Saved {name}", "Value {}", "Open {path}", "{count} file"}
    assert "positional" in problems["Value {}"]
    assert "broken braces" in problems["Open {path}"]


def test_lint_command_fails_on_a_bad_catalog(tmp_path: Path) -> None:
    po = tmp_path / "xx" / "LC_MESSAGES" / "hookline.po"
    po.parent.mkdir(parents=True)
    po.write_text(BAD_CATALOG, encoding="utf-8")
    assert lint_main([str(tmp_path)]) == 1
    assert lint_main([str(REPO_ROOT / "translations")]) == 0


def test_language_switch_and_fallback() -> None:
    assert i18n.set_language("de") == "de"
    assert i18n._("Audio devices:") == "Audiogeräte:"
    assert i18n.set_language("ar") == "ar" and i18n.is_right_to_left()
    assert i18n.set_language("tlh") == "en"
    assert i18n._("Audio devices:") == "Audio devices:" and not i18n.is_right_to_left()


def test_system_language_detection(monkeypatch: pytest.MonkeyPatch) -> None:
    for var in ("LANGUAGE", "LC_ALL", "LC_MESSAGES", "LANG"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("LANG", "de_AT.UTF-8")
    assert i18n.system_language() == "de"
    monkeypatch.setenv("LANGUAGE", "ar_EG:en")
    assert i18n.system_language() == "ar"


def test_numbers_and_dates_follow_the_locale() -> None:
    i18n.set_language("en")
    assert i18n.format_decimal(1234.5, 1) == "1,234.5"
    i18n.set_language("de")
    assert i18n.format_decimal(1234.5, 1) == "1.234,5"
    assert "November" in i18n.format_date(datetime(2026, 11, 25), "long")
    i18n.set_language("ar")
    assert "نوفمبر" in i18n.format_date(datetime(2026, 11, 25), "long")
