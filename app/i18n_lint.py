"""Catalog lint: a translation must use exactly the placeholders of its source text.

Run as ``python -m app.i18n_lint translations`` (``make test`` does, through the test suite).
A wrong placeholder in a catalog would raise KeyError at run time in that language only, which no
English test would ever see; this catches it before it ships.
"""

from __future__ import annotations

import string
import sys
from dataclasses import dataclass
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.pofile import read_po


@dataclass(frozen=True)
class Problem:
    catalog: str
    msgid: str
    reason: str

    def __str__(self) -> str:
        return f"{self.catalog}: {self.msgid!r}: {self.reason}"


def placeholders(text: str) -> set[str]:
    """Named ``{fields}`` of a str.format template; raises ValueError on broken braces."""
    names = set()
    for _literal, field, _spec, _conversion in string.Formatter().parse(text):
        if field is not None:
            names.add(field)
    return names


def _named(text: str) -> tuple[set[str], str | None]:
    try:
        names = placeholders(text)
    except ValueError as exc:
        return set(), f"broken braces ({exc})"
    if any(name == "" or name.isdigit() for name in names):
        return names, "positional placeholder; use a named one"
    return names, None


def _texts(value: object) -> tuple[str, ...]:
    """A message's id or string as a tuple of texts (plural entries carry several)."""
    if isinstance(value, list | tuple):
        return tuple(str(v or "") for v in value)
    return (str(value or ""),)


def check_catalog(catalog: Catalog, label: str) -> list[Problem]:
    problems: list[Problem] = []
    for message in catalog:
        if not message.id:
            continue
        ids = _texts(message.id)
        strings = _texts(message.string)
        key = ids[0]
        source_names: list[set[str]] = []
        for text in ids:
            names, error = _named(text)
            if error:
                problems.append(Problem(label, key, f"source: {error}"))
            source_names.append(names)
        allowed = set().union(*source_names)
        for index, text in enumerate(strings):
            if not text:
                continue
            names, error = _named(text)
            if error:
                problems.append(Problem(label, key, f"translation: {error}"))
                continue
            if len(ids) == 1:
                if names != source_names[0]:
                    problems.append(
                        Problem(
                            label, key, f"placeholders {sorted(names)} != {sorted(source_names[0])}"
                        )
                    )
            elif not names <= allowed:
                problems.append(
                    Problem(
                        label, key, f"plural form {index} uses unknown {sorted(names - allowed)}"
                    )
                )
            elif index == len(strings) - 1 and names != source_names[-1]:
                problems.append(
                    Problem(label, key, f"last plural form must use {sorted(source_names[-1])}")
                )
    return problems


def check_file(path: Path) -> list[Problem]:
    with open(path, "rb") as f:
        catalog = read_po(f)
    return check_catalog(catalog, str(path))


def main(argv: list[str]) -> int:
    root = Path(argv[0]) if argv else Path("translations")
    problems = [p for po in sorted(root.glob("*/LC_MESSAGES/*.po")) for p in check_file(po)]
    for problem in problems:
        print(problem, file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
