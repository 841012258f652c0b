"""Reading Spotify for Artists CSV exports: encoding, separator, header recognition, per-row
validation. Qt-free and database-free; :mod:`app.stats_store` writes what this reads.

Three kinds of export are recognised from their headers (see :data:`HEADER_ALIASES`):

- ``audience``: the artist's daily timeline, ``date`` plus any of listeners/streams/followers;
- ``song``: per song, either over a period (``song,listeners,streams,saves,release_date``, maybe
  ``isrc``) or as a daily timeline (``date,song,streams``);
- ``playlist``: ``title,author,listeners,streams,date_added`` or similar.

A file with a ``date`` column gives daily values; one without gives totals over a period, stored
with the day the caller names as the period's end (``as_of``, today by default).

Header names are compared lower-cased with accents, spaces and punctuation removed, so
``"Date Added"``, ``"date_added"`` and ``"DATE-ADDED"`` are one name. A file whose headers do not
make a known layout gives a :class:`Layout` with ``kind=None``, its headers and a sample of rows:
the caller asks the user for a :class:`ColumnMapping` and imports again with it.

Encodings: UTF-8 (with or without BOM), UTF-16 (BOM, or without one when every other byte is
zero), otherwise Windows-1252. Separators: comma, semicolon, tab or bar, detected from the first
lines; an Excel ``sep=;`` first line is obeyed. Numbers may use either decimal mark and
thousands grouping (``1.234,5``, ``1,234.5``, ``1 234``, ``1'234``); a single mark followed by
exactly three digits is read as grouping, since every metric is a count.

Cells are data, never formulas: nothing here evaluates a cell. :func:`neutralise_cell` makes a
value safe to write into a CSV file a spreadsheet will open.
"""

from __future__ import annotations

import codecs
import csv
import io
import math
import re
import unicodedata
from array import array
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import IO, Literal, cast

from app.i18n import N_, _

MAX_FILE_BYTES = 256 * 1024 * 1024
"""Files larger than this (bytes) are refused before anything is read."""
MAX_ENTITY_CHARS = 500
MAX_REJECTIONS_KEPT = 1000
"""At most this many rejected rows are described one by one; all are counted."""
SAMPLE_ROWS = 10
FIELD_SIZE_LIMIT = 1 << 20

Kind = Literal["audience", "song", "playlist"]
KINDS: tuple[Kind, ...] = ("audience", "song", "playlist")
METRICS = ("listeners", "streams", "followers", "saves")
TEXT_FIELDS = ("song", "isrc", "playlist", "name", "author")
DATE_FIELDS = ("date", "release_date", "date_added")
FIELDS = ("date", *METRICS, *TEXT_FIELDS, "release_date", "date_added")


def normalise_header(name: str) -> str:
    """A header name compared by meaning: case-folded, accents, spaces and punctuation gone."""
    decomposed = unicodedata.normalize("NFKD", name.casefold())
    return "".join(ch for ch in decomposed if ch.isalnum() and not unicodedata.combining(ch))


# One line per field; add a spelling by adding it to its tuple (any case or punctuation).
HEADER_ALIASES: dict[str, tuple[str, ...]] = {
    "date": ("date", "day", "datum", "tag", "fecha", "dia", "jour", "data", "dag", "giorno"),
    "listeners": (
        "listeners", "daily listeners", "unique listeners", "hörer", "hoerer", "zuhörer",
        "oyentes", "auditeurs", "auditeurs uniques", "ouvintes", "lyssnare", "ascoltatori",
    ),
    "streams": (
        "streams", "plays", "daily streams", "wiedergaben", "abrufe", "reproducciones",
        "écoutes", "ecoutes", "reproduções", "strömningar", "ascolti",
    ),
    "followers": (
        "followers", "follower", "seguidores", "abonnés", "abonnes", "följare", "volgers",
    ),
    "saves": ("saves", "saved", "gespeichert", "guardados", "sauvegardes", "salvamentos"),
    "song": ("song", "track", "song title", "track name", "song name", "titel", "canción",
             "cancion", "titre", "musica", "låt"),
    "isrc": ("isrc",),
    "playlist": ("playlist", "playlist name", "playlist title", "liste de lecture"),
    "name": ("title", "name", "titulo", "título", "nom", "nome"),
    "author": ("author", "owner", "curator", "made by", "autor", "auteur", "ersteller"),
    "release_date": ("release date", "released", "veröffentlichung", "veröffentlichungsdatum",
                     "fecha de lanzamiento", "date de sortie"),
    "date_added": ("date added", "added", "added on", "hinzugefügt", "fecha de adición",
                   "date d'ajout"),
}  # fmt: skip

_ALIAS_TO_FIELD: dict[str, str] = {
    normalise_header(alias): name for name, aliases in HEADER_ALIASES.items() for alias in aliases
}

# Why a row was rejected: a code, and the message shown (translated when shown).
REJECTION_MESSAGES = {
    "bad_row": N_("the row cannot be read as CSV ({detail})"),
    "missing_date": N_("the date is missing"),
    "bad_date": N_("“{detail}” is not a date"),
    "ambiguous_date": N_("“{detail}” could be day/month or month/day"),
    "future_date": N_("the date {detail} is in the future"),
    "missing_entity": N_("the song or playlist name is missing"),
    "entity_too_long": N_("the name is longer than {detail} characters"),
    "bad_number": N_("“{detail}” is not a number"),
    "negative_number": N_("{detail} is negative"),
    "no_values": N_("the row holds no numbers"),
    "duplicate_day": N_("the same day again (first seen on line {detail})"),
    "duplicate_entity": N_("the same name again (first seen on line {detail})"),
}


@dataclass(frozen=True)
class Rejection:
    """A data row that was not imported. ``line`` is the file's line number (1 = first line)."""

    line: int
    reason: str
    detail: str = ""

    @property
    def message(self) -> str:
        template = REJECTION_MESSAGES.get(self.reason, N_("the row is invalid ({detail})"))
        return _(template).format(detail=self.detail)

    def to_json(self) -> dict[str, object]:
        return {"line": self.line, "reason": self.reason, "message": self.message}


@dataclass(frozen=True)
class ColumnMapping:
    """Which column holds which field: ``columns`` maps a field name (see :data:`FIELDS`) to a
    column's header text or 0-based index. Made by :func:`detect` or given by the user."""

    kind: Kind
    columns: Mapping[str, str | int]

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise MappingError(_("Unknown kind “{kind}”.").format(kind=self.kind))
        unknown = [name for name in self.columns if name not in FIELDS]
        if unknown:
            raise MappingError(_("Unknown field “{field}”.").format(field=unknown[0]))
        if not any(m in self.columns for m in METRICS):
            raise MappingError(_("The mapping names no column of numbers."))
        if self.kind == "audience" and "date" not in self.columns:
            raise MappingError(_("An audience timeline needs a date column."))
        if self.kind != "audience" and not any(
            f in self.columns for f in ("song", "isrc", "playlist", "name")
        ):
            raise MappingError(_("Songs and playlists need a name column."))

    @classmethod
    def parse(cls, text: str) -> ColumnMapping:
        """From ``kind=song,date=Tag,streams=3`` (a number is a column index) or a JSON object
        ``{"kind": "song", "date": "Tag", ...}``."""
        import json

        text = text.strip()
        pairs: dict[str, object]
        if text.startswith("{"):
            try:
                loaded = json.loads(text)
            except ValueError as exc:
                message = _("The mapping is not valid JSON: {error}").format(error=exc)
                raise MappingError(message) from None
            if not isinstance(loaded, dict):
                raise MappingError(_("The mapping must be a JSON object."))
            pairs = loaded
        else:
            pairs = {}
            for part in text.split(","):
                if not part.strip():
                    continue
                key, sep, value = part.partition("=")
                if not sep:
                    raise MappingError(_("“{part}” is not field=column.").format(part=part))
                pairs[key.strip()] = value.strip()
        kind = pairs.pop("kind", None)
        if not isinstance(kind, str) or kind not in KINDS:
            raise MappingError(_("The mapping needs kind=audience, song or playlist."))
        columns: dict[str, str | int] = {}
        for key, column in pairs.items():
            if isinstance(column, bool) or not isinstance(column, str | int):
                raise MappingError(_("“{field}” must name a column.").format(field=key))
            if isinstance(column, str) and column.isdigit():
                columns[key] = int(column)
            else:
                columns[key] = column
        return cls(cast(Kind, kind), columns)


class MappingError(ValueError):
    """A column mapping that cannot be used; the message is translated."""


@dataclass
class Layout:
    """What the start of a file looks like: the dialog for unknown layouts shows this."""

    encoding: str
    delimiter: str
    headers: list[str]
    sample: list[list[str]]
    kind: Kind | None
    mapping: ColumnMapping | None
    ignored: list[str] = field(default_factory=list)

    @property
    def known(self) -> bool:
        return self.mapping is not None

    @property
    def daily(self) -> bool:
        return self.mapping is not None and "date" in self.mapping.columns

    def to_json(self) -> dict[str, object]:
        return {
            "encoding": self.encoding,
            "delimiter": self.delimiter,
            "headers": self.headers,
            "sample": self.sample,
            "kind": self.kind,
            "columns": dict(self.mapping.columns) if self.mapping else None,
            "ignored": self.ignored,
        }


class FileRefused(Exception):
    """The file cannot be read at all (too big, missing, not text); the message is translated."""


def detect(headers: list[str]) -> tuple[ColumnMapping | None, list[str]]:
    """The mapping the headers make, if they make a known layout, and the ignored headers."""
    found: dict[str, int] = {}
    ignored: list[str] = []
    for index, header in enumerate(headers):
        name = _ALIAS_TO_FIELD.get(normalise_header(header))
        if name is None or name in found:
            ignored.append(header)
        else:
            found[name] = index
    if not any(m in found for m in METRICS):
        return None, ignored
    kind: Kind
    if any(f in found for f in ("playlist", "author", "date_added")):
        kind = "playlist"
    elif any(f in found for f in ("song", "isrc", "release_date", "saves")) or (
        "name" in found and "date" not in found
    ):
        kind = "song"
    elif "date" in found and "name" not in found:
        kind = "audience"
    else:
        return None, ignored
    if kind == "song" and "name" in found and "song" not in found:
        found["song"] = found.pop("name")
    if kind == "playlist" and "name" in found and "playlist" not in found:
        found["playlist"] = found.pop("name")
    if "name" in found:  # a title beside a song or playlist column: not used
        ignored.append(headers[found.pop("name")])
    try:
        return ColumnMapping(kind, dict(found)), ignored
    except MappingError:
        return None, ignored


# ---------------------------------------------------------------------------------------------
# Reading the bytes


def sniff_encoding(head: bytes) -> str:
    """The codec for a file that starts with ``head`` (its first few KiB)."""
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if head.startswith(codecs.BOM_UTF16_LE) or head.startswith(codecs.BOM_UTF16_BE):
        return "utf-16"
    if len(head) >= 4:
        even_zero = head[0::2].count(0) / len(head[0::2])
        odd_zero = head[1::2].count(0) / len(head[1::2])
        if odd_zero > 0.3 and even_zero < 0.05:
            return "utf-16-le"
        if even_zero > 0.3 and odd_zero < 0.05:
            return "utf-16-be"
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as exc:
        if exc.start < len(head) - 3:  # not just a character cut at the end of the sample
            return "cp1252"
    return "utf-8"


def sniff_delimiter(lines: list[str]) -> str:
    """The separator used by the first lines: the candidate found most consistently."""
    best, best_score = ",", -1.0
    for candidate in (",", ";", "\t", "|"):
        counts = [len(next(csv.reader([line], delimiter=candidate))) for line in lines if line]
        if not counts or counts[0] < 2:
            continue
        same = sum(1 for c in counts if c == counts[0]) / len(counts)
        score = same * 100 + counts[0]
        if score > best_score:
            best, best_score = candidate, score
    return best


class _Source:
    """An open CSV file: text stream, reader, and the layout read from its first lines."""

    def __init__(self, path: Path, max_bytes: int) -> None:
        try:
            size = path.stat().st_size
        except FileNotFoundError:
            raise FileRefused(_("The file does not exist.")) from None
        except OSError as exc:
            raise FileRefused(_("The file cannot be read ({error}).").format(error=exc)) from exc
        if path.is_dir():
            raise FileRefused(_("This is a folder, not a file."))
        if size > max_bytes:
            raise FileRefused(
                _("The file is larger than {limit} MB.").format(limit=max_bytes // 1_000_000)
            )
        if size == 0:
            raise FileRefused(_("The file is empty."))
        try:
            raw = open(path, "rb")  # noqa: SIM115 - closed by close()
        except OSError as exc:
            raise FileRefused(_("The file cannot be read ({error}).").format(error=exc)) from exc
        self.size = size
        head = raw.read(64 * 1024)
        raw.seek(0)
        if b"\x00" in head and sniff_encoding(head).startswith("utf-8"):
            raw.close()
            raise FileRefused(_("This is not a text file."))
        self.encoding = sniff_encoding(head)
        self._text: IO[str] = io.TextIOWrapper(
            raw, encoding=self.encoding, errors="replace", newline=""
        )
        first = self._text.readline()
        self.delimiter = ""
        if first.lower().startswith("sep=") and len(first.rstrip("\r\n")) == 5:
            self.delimiter = first[4]
            self.first_line = 2
        else:
            self._text.seek(0)
            self.first_line = 1
        if not self.delimiter:
            start = self._text.tell()
            lines = [self._text.readline().rstrip("\r\n") for _i in range(20)]
            self._text.seek(start)
            self.delimiter = sniff_delimiter(lines)
        self.reader = csv.reader(self._text, delimiter=self.delimiter)
        self.headers: list[str] = []
        self.header_line = 0
        for row in self._rows():
            if row is not None and any(cell.strip() for cell in row[1]):
                self.header_line = row[0]
                self.headers = [_clean_text(cell) for cell in row[1]]
                break
        if not self.headers:
            self.close()
            raise FileRefused(_("The file holds no header line."))

    def _rows(self) -> Iterator[tuple[int, list[str]] | tuple[int, str]]:
        """(line, cells) per record, or (line, error text) where CSV itself fails."""
        reader = self.reader
        while True:
            try:
                row = next(reader)
            except StopIteration:
                return
            except csv.Error as exc:
                yield reader.line_num + self.first_line - 1, str(exc)
                continue
            yield reader.line_num + self.first_line - 1, row

    def records(self) -> Iterator[tuple[int, list[str]] | tuple[int, str]]:
        return self._rows()

    def close(self) -> None:
        self._text.close()


def open_csv(path: Path, max_bytes: int = MAX_FILE_BYTES) -> _Source:
    return _Source(Path(path), max_bytes)


def read_layout(path: Path, max_bytes: int = MAX_FILE_BYTES) -> Layout:
    """The encoding, separator, headers, a sample of rows and the detected mapping of ``path``.

    Raises :class:`FileRefused` for a file that cannot be read at all."""
    csv.field_size_limit(FIELD_SIZE_LIMIT)
    source = open_csv(path, max_bytes)
    try:
        sample: list[list[str]] = []
        for _line, row in source.records():
            if isinstance(row, list) and any(c.strip() for c in row):
                sample.append([_clean_text(c) for c in row])
                if len(sample) >= SAMPLE_ROWS:
                    break
        mapping, ignored = detect(source.headers)
        return Layout(
            encoding=source.encoding,
            delimiter=source.delimiter,
            headers=source.headers,
            sample=sample,
            kind=mapping.kind if mapping else None,
            mapping=mapping,
            ignored=ignored,
        )
    finally:
        source.close()


# ---------------------------------------------------------------------------------------------
# Cells


_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u200b-\u200f\u2028-\u202e\ufeff]")
_GROUPING = str.maketrans("", "", " \u00a0\u202f\u2009'’_")


def _clean_text(cell: str) -> str:
    """A text cell without control or invisible formatting characters, spaces trimmed."""
    return _CONTROL.sub("", cell).strip()


def parse_number(cell: str) -> float | None:
    """A count written in any common way; None for an empty cell. Raises ValueError."""
    if cell.isdigit() and cell.isascii():  # the common case, fast
        return float(cell)
    text = cell.strip()
    if not text:
        return None
    try:
        return _finite(float(int(text)))
    except ValueError:
        pass
    text = text.translate(_GROUPING)
    if text.endswith("%"):
        raise ValueError(cell)
    dots, commas = text.count("."), text.count(",")
    if dots and commas:
        decimal, group = (",", ".") if text.rfind(",") > text.rfind(".") else (".", ",")
        if text.count(decimal) > 1:
            raise ValueError(cell)
        text = text.replace(group, "").replace(decimal, ".")
    elif commas or dots:
        mark = "," if commas else "."
        head, _sep, tail = text.rpartition(mark)
        if text.count(mark) > 1 or (len(tail) == 3 and head.lstrip("+-")):
            parts = text.split(mark)
            if any(len(p) != 3 for p in parts[1:]) or not parts[0].lstrip("+-"):
                raise ValueError(cell)
            text = "".join(parts)
        else:
            text = text.replace(",", ".")
    if not re.fullmatch(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?", text):
        raise ValueError(cell)
    return _finite(float(text))


def _finite(value: float) -> float:
    if not math.isfinite(value):
        raise ValueError(value)
    return value


_ISO = re.compile(r"(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})(?:[T ].*)?$")
_DMY_DOT = re.compile(r"(\d{1,2})\.(\d{1,2})\.(\d{4})$")
_SLASH = re.compile(r"(\d{1,2})[/-](\d{1,2})[/-](\d{4})$")


class DateReader:
    """Reads the dates of one file. Slash dates with the year last are day/month or
    month/day: the first one that can only be read one way fixes the order for the file;
    before that, a date that reads both ways is refused as ambiguous."""

    def __init__(self) -> None:
        self.day_first: bool | None = None
        self._cache: dict[str, date] = {}

    def read(self, cell: str) -> date:
        """Raises ValueError("bad"|"ambiguous")."""
        found = self._cache.get(cell)
        if found is not None:
            return found
        text = cell.strip()
        match = _ISO.match(text)
        if match:
            y, m, d = (int(g) for g in match.groups())
        elif match := _DMY_DOT.match(text):
            d, m, y = (int(g) for g in match.groups())
        elif match := _SLASH.match(text):
            a, b, y = (int(g) for g in match.groups())
            if a > 12 and b <= 12:
                self.day_first = True
            elif b > 12 and a <= 12:
                self.day_first = False
            elif self.day_first is None and a != b:
                raise ValueError("ambiguous")
            d, m = (a, b) if self.day_first or a == b else (b, a)
        else:
            raise ValueError("bad")
        try:
            value = date(y, m, d)
        except ValueError:
            raise ValueError("bad") from None
        if match.re is not _SLASH:
            self._cache[cell] = value
        return value


def neutralise_cell(value: object) -> str:
    """A cell that a spreadsheet shows as text: a value starting with ``= + - @``, tab or
    carriage return gets a leading single quote (OWASP's advice for CSV injection). Numbers are
    written as they are."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return repr(value) if isinstance(value, float) else str(value)
    text = "" if value is None else str(value)
    if text and text[0] in "=+-@\t\r":
        return "'" + text
    return text


def write_csv(rows: list[list[object]], out: IO[str]) -> None:
    """Write ``rows`` as CSV with every text cell neutralised (see :func:`neutralise_cell`)."""
    writer = csv.writer(out)
    for row in rows:
        writer.writerow([neutralise_cell(cell) for cell in row])


# ---------------------------------------------------------------------------------------------
# Rows


@dataclass(slots=True)
class ParsedRow:
    """One accepted data row: the values of ``entity`` on ``day``."""

    line: int
    entity: str
    day: date | None
    values: tuple[float | None, ...]  # in METRICS order
    isrc: str | None = None
    author: str | None = None
    release_date: date | None = None
    date_added: date | None = None


class RowReader:
    """Turns the records of a file into :class:`ParsedRow` and :class:`Rejection`, following a
    mapping. Keeps, per entity, which days it has seen, to reject a day that comes twice."""

    def __init__(self, headers: list[str], mapping: ColumnMapping, today: date) -> None:
        index = {normalise_header(h): i for i, h in reversed(list(enumerate(headers)))}
        self.columns: dict[str, int] = {}
        for name, column in mapping.columns.items():
            if isinstance(column, int):
                if not 0 <= column < len(headers):
                    raise MappingError(_("There is no column {number}.").format(number=column))
                self.columns[name] = column
            else:
                found = index.get(normalise_header(column))
                if found is None:
                    raise MappingError(_("There is no column “{name}”.").format(name=column))
                self.columns[name] = found
        self.kind = mapping.kind
        self.latest = today + timedelta(days=1)  # exports are in the artist's time zone
        self.dates = DateReader()
        self._metric_columns = [(i, self.columns.get(m)) for i, m in enumerate(METRICS)]
        self._seen: dict[str, _DaySet] = {}
        self._names: dict[str, str] = {}
        self._entity_fields = [f for f in ("song", "playlist", "isrc", "name") if f in self.columns]
        self._has_extra = any(f in self.columns for f in ("isrc", "author", *DATE_FIELDS[1:]))

    def read(self, line: int, row: list[str]) -> ParsedRow | Rejection | None:
        """None for a blank row."""
        if not "".join(row).strip():
            return None
        cols = self.columns

        def cell(name: str) -> str:
            i = cols.get(name)
            return row[i] if i is not None and i < len(row) else ""

        entity = ""
        if self.kind != "audience":
            names = self._names
            for name in self._entity_fields:
                raw = cell(name)
                entity = names.get(raw, "")
                if not entity:
                    entity = _clean_text(raw)
                    if len(names) < 100_000:
                        names[raw] = entity
                if entity:
                    break
            if not entity:
                return Rejection(line, "missing_entity")
            if len(entity) > MAX_ENTITY_CHARS:
                return Rejection(line, "entity_too_long", str(MAX_ENTITY_CHARS))
        day: date | None = None
        if "date" in cols:
            text = cell("date").strip()
            if not text:
                return Rejection(line, "missing_date")
            try:
                day = self.dates.read(text)
            except ValueError as exc:
                return Rejection(
                    line, "ambiguous_date" if str(exc) == "ambiguous" else "bad_date", _short(text)
                )
            if day > self.latest:
                return Rejection(line, "future_date", day.isoformat())
        values: list[float | None] = []
        for _i, column in self._metric_columns:
            if column is None or column >= len(row):
                values.append(None)
                continue
            try:
                value = parse_number(row[column])
            except ValueError:
                return Rejection(line, "bad_number", _short(row[column]))
            if value is not None and value < 0:
                return Rejection(line, "negative_number", _short(row[column].strip()))
            values.append(value)
        if all(v is None for v in values):
            return Rejection(line, "no_values")
        seen = self._seen.get(entity)
        if seen is None:
            seen = self._seen[entity] = _DaySet()
        first = seen.add(day.toordinal() if day else 0, line)
        if first:
            return Rejection(line, "duplicate_day" if day else "duplicate_entity", str(first))
        extra: dict[str, object] = {}
        if self._has_extra:
            isrc = _clean_text(cell("isrc")).upper()[:32]
            author = _clean_text(cell("author"))[:MAX_ENTITY_CHARS]
            extra = {
                "isrc": isrc or None,
                "author": author or None,
                "release_date": self._optional_date(cell("release_date")),
                "date_added": self._optional_date(cell("date_added")),
            }
        return ParsedRow(line, entity, day, tuple(values), **extra)  # type: ignore[arg-type]

    def _optional_date(self, text: str) -> date | None:
        if not text.strip():
            return None
        try:
            return self.dates.read(text)
        except ValueError:
            return None  # a side fact; its row still counts


def _short(text: str, limit: int = 40) -> str:
    text = _clean_text(text)
    return text if len(text) <= limit else text[: limit - 1] + "…"


class _DaySet:
    """The lines on which an entity's days were seen, in one array indexed by day: a year of
    days is a few KiB, so ten years of 200 songs stay small."""

    def __init__(self) -> None:
        self._start = 0
        self._lines = array("q")

    def add(self, ordinal: int, line: int) -> int:
        """Record ``line`` for ``ordinal``; return the earlier line if the day was seen."""
        lines = self._lines
        if not lines:
            self._start = ordinal
        offset = ordinal - self._start
        if offset < 0:
            lines[0:0] = array("q", [0]) * -offset
            self._start, offset = ordinal, 0
        elif offset >= len(lines):
            lines.extend([0] * (offset - len(lines) + 1))
        earlier = lines[offset]
        if earlier:
            return int(earlier)
        lines[offset] = line
        return 0
