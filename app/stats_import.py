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
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import IO, Literal, TypeVar, cast

from app.i18n import N_, _

MAX_FILE_BYTES = 256 * 1024 * 1024
"""Files larger than this (bytes) are refused before anything is read."""
MAX_ENTITY_CHARS = 500
MAX_REJECTIONS_KEPT = 1000
"""At most this many rejected rows are described one by one; all are counted."""
SAMPLE_ROWS = 10
MAX_CACHED = 100_000
"""At most this many distinct date or name cells are remembered per file (bounds the memory)."""
MAX_ENTITIES = 250_000
"""A file naming more songs or playlists than this is refused (bounds the memory)."""
FIELD_SIZE_LIMIT = 1 << 20

_T = TypeVar("_T")

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


class CsvSource:
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
        """(line, cells) per record, or (line, error text) where CSV itself fails. The line is
        the one the record ends on."""
        reader = self.reader
        offset = self.first_line - 1
        while True:
            try:
                for row in reader:  # one try per stretch of good records, not one per record
                    yield reader.line_num + offset, row
                return
            except csv.Error as exc:
                yield reader.line_num + offset, str(exc)

    def records(self) -> Iterator[tuple[int, list[str]] | tuple[int, str]]:
        return self._rows()

    def close(self) -> None:
        self._text.close()


def open_csv(path: Path, max_bytes: int = MAX_FILE_BYTES) -> CsvSource:
    return CsvSource(Path(path), max_bytes)


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
_PLAIN_DIGITS = 15
"""A cell of at most this many ASCII digits is a whole number that a float holds exactly."""


def _clean_text(cell: str) -> str:
    """A text cell without control or invisible formatting characters, spaces trimmed."""
    return _CONTROL.sub("", cell).strip()


def parse_number(cell: str) -> float | None:
    """A count written in any common way; None for an empty cell. Raises ValueError."""
    if cell.isdigit() and cell.isascii() and len(cell) <= _PLAIN_DIGITS:  # common case, fast
        return float(cell)
    text = cell.strip()
    if not text:
        return None
    try:
        return _finite(float(int(text)))
    except OverflowError:  # more digits than a float holds
        raise ValueError(cell) from None
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

    def settled(self, text: str) -> bool:
        """Whether ``text`` (as given to :meth:`read`) reads the same whatever comes later in
        the file: true for every date but a slash date with the year last."""
        return text in self._cache

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
        if match.re is not _SLASH and len(self._cache) < MAX_CACHED:
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


Cell = str | float | int | None
"""A value of the tuples :meth:`RowReader.batches` yields."""


class RowReader:
    """Turns the records of a file into accepted rows and :class:`Rejection` s, following a
    mapping.

    :meth:`check` validates one record. :meth:`batches` reads a whole file into compact tuples
    for the database, counting what it read (:attr:`rows_read`, :attr:`rows_rejected`,
    :attr:`values`, the first :data:`MAX_REJECTIONS_KEPT` :attr:`rejections`). It applies the
    same checks, taking a shortcut only for cells already seen validated.

    Duplicated days (or, without dates, duplicated names) are found in two steps, so that the
    common file costs one dict look-up per row: per entity the earliest and latest day seen are
    kept; a row outside that range is certainly new. A row inside it sets
    :attr:`out_of_order`, and the caller must then find the duplicates among the accepted rows
    (:meth:`app.stats_bulk.PointWriter.remove_duplicates` does, exactly, by line) and call
    :meth:`add_duplicates`. Files listed in day order, either way, never need that step."""

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
        self.daily = "date" in self.columns
        self.latest = today + timedelta(days=1)  # exports are in the artist's time zone
        self.dates = DateReader()
        self._metric_columns = [(i, self.columns.get(m)) for i, m in enumerate(METRICS)]
        self._names: dict[str, str] = {}  # raw cell -> valid entity name
        self._days: dict[str, int] = {}  # raw cell -> settled day (days since 1970-01-01)
        self._entity_fields = [f for f in ("song", "playlist", "isrc", "name") if f in self.columns]
        self.has_facts = any(f in self.columns for f in ("isrc", "author", *DATE_FIELDS[1:]))
        """Whether rows carry facts besides numbers: ISRC, author, release date, date added."""
        self.metrics: tuple[str, ...] = tuple(m for m in METRICS if m in self.columns)
        """The metrics this mapping reads, in the order :meth:`batches` gives their values."""
        self._metric_positions = [METRICS.index(m) for m in self.metrics]
        self.spans: dict[str, list[int]] = {}
        """Per entity with an accepted row: [earliest, latest] day (:func:`epoch_day`)."""
        self.out_of_order = False
        self.rows_read = 0
        self.rows_rejected = 0
        self.values = 0
        self.rejections: list[Rejection] = []

    def check(self, line: int, row: list[str]) -> ParsedRow | Rejection | None:
        """One record validated (not against other rows: duplicates are found later); None for
        a blank row."""
        if not "".join(row).strip():
            return None
        cols = self.columns

        def cell(name: str) -> str:
            i = cols.get(name)
            return row[i] if i is not None and i < len(row) else ""

        entity = ""
        if self.kind != "audience":
            for name in self._entity_fields:
                raw = cell(name)
                entity = self._names.get(raw) or _clean_text(raw)
                if entity:
                    if name == self._entity_fields[0] and len(entity) <= MAX_ENTITY_CHARS:
                        _remember(self._names, raw, entity)
                    break
            if not entity:
                return Rejection(line, "missing_entity")
            if len(entity) > MAX_ENTITY_CHARS:
                return Rejection(line, "entity_too_long", str(MAX_ENTITY_CHARS))
        day: date | None = None
        if self.daily:
            raw = cell("date")
            text = raw.strip()
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
            if self.dates.settled(text):
                _remember(self._days, raw, epoch_day(day))
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
        extra: dict[str, object] = {}
        if self.has_facts:
            isrc = _clean_text(cell("isrc")).upper()[:32]
            author = _clean_text(cell("author"))[:MAX_ENTITY_CHARS]
            extra = {
                "isrc": isrc or None,
                "author": author or None,
                "release_date": self._optional_date(cell("release_date")),
                "date_added": self._optional_date(cell("date_added")),
            }
        return ParsedRow(line, entity, day, tuple(values), **extra)  # type: ignore[arg-type]

    def batches(
        self, source: CsvSource, period_day: int, size: int = 50_000
    ) -> Iterator[list[tuple[Cell, ...]]]:
        """The accepted rows of ``source`` (from where its reader stands) in lists of at most
        ``size`` tuples ``(line, entity, day, value...)``: the row's line, the entity's name
        (``""`` for the audience), the day as :func:`epoch_day` (``period_day`` for a file
        without dates), one value per metric of :attr:`metrics` (a float, None, or on the shortcut
        the cell's text of plain ASCII digits, which SQLite's REAL columns store as the float
        it writes), then, when :attr:`has_facts`, ISRC, author, release date and date added
        (ISO text). Rejected rows are counted and the first ones kept; blank rows are skipped.
        Holds one batch of rows at a time, and per entity two numbers."""
        names, days, spans = self._names, self._days, self.spans
        entity_column = -1  # the audience's rows have no entity
        if self.kind != "audience" and self._entity_fields:
            entity_column = self.columns[self._entity_fields[0]]
        date_column = self.columns["date"] if self.daily else -1
        metric_columns = [self.columns[m] for m in self.metrics]
        single = metric_columns[0] if len(metric_columns) == 1 else -1
        shortcut = not self.has_facts
        plain = _PLAIN_DIGITS
        reader, offset = source.reader, source.first_line - 1
        batch: list[tuple[Cell, ...]] = []
        append = batch.append
        out: tuple[Cell, ...] = ()
        rows_read = values = count = 0
        out_of_order = False
        try:
            while True:
                try:
                    for row in reader:
                        # The shortcut: every cell is one seen and validated before (name,
                        # date) or plain digits; anything else goes through check().
                        ok = False
                        if shortcut:
                            try:
                                entity = names[row[entity_column]] if entity_column >= 0 else ""
                                day = days[row[date_column]] if date_column >= 0 else period_day
                                if single >= 0:
                                    text = row[single]
                                    if text.isdigit() and text.isascii() and len(text) <= plain:
                                        out = (reader.line_num + offset, entity, day, text)
                                        ok, count = True, 1
                                else:
                                    cells = [row[c] for c in metric_columns]
                                    ok = all(
                                        t.isdigit() and t.isascii() and len(t) <= plain
                                        for t in cells
                                    )
                                    if ok:
                                        out = (reader.line_num + offset, entity, day, *cells)
                                        count = len(cells)
                            except (KeyError, IndexError):
                                ok = False
                        if not ok:
                            line = reader.line_num + offset
                            result = self.check(line, row)
                            if result is None:
                                continue
                            if isinstance(result, Rejection):
                                rows_read += 1
                                self._reject(result)
                                continue
                            entity = result.entity
                            day = epoch_day(result.day) if result.day else period_day
                            kept = [result.values[i] for i in self._metric_positions]
                            out = (line, entity, day, *kept)
                            count = sum(v is not None for v in kept)
                            if self.has_facts:
                                out += (
                                    result.isrc,
                                    result.author,
                                    result.release_date.isoformat()
                                    if result.release_date
                                    else None,
                                    result.date_added.isoformat() if result.date_added else None,
                                )
                        rows_read += 1
                        values += count
                        span = spans.get(entity)
                        if span is None:
                            if len(spans) >= MAX_ENTITIES:
                                raise FileRefused(
                                    _(
                                        "The file names more than {limit} songs or playlists."
                                    ).format(limit=MAX_ENTITIES)
                                )
                            spans[entity] = [day, day]
                        elif day > span[1]:
                            span[1] = day
                        elif day < span[0]:
                            span[0] = day
                        else:
                            out_of_order = True
                        append(out)
                        if len(batch) >= size:
                            yield batch
                            batch = []
                            append = batch.append
                    break
                except csv.Error as exc:  # the reader goes on with the next record
                    rows_read += 1
                    self._reject(Rejection(reader.line_num + offset, "bad_row", str(exc)))
            if batch:
                yield batch
        finally:
            self.rows_read += rows_read
            self.values += values
            self.out_of_order = self.out_of_order or out_of_order

    def add_duplicates(self, found: int, values: int, first: list[tuple[int, int]]) -> None:
        """Count ``found`` accepted rows (holding ``values`` values) as duplicates after all;
        ``first`` gives (line, first line of the same day or name) for the earliest of them."""
        reason = "duplicate_day" if self.daily else "duplicate_entity"
        self.rows_rejected += found
        self.values -= values
        merged = self.rejections + [Rejection(line, reason, str(at)) for line, at in first]
        merged.sort(key=lambda r: r.line)
        self.rejections = merged[:MAX_REJECTIONS_KEPT]

    def _reject(self, rejection: Rejection) -> None:
        self.rows_rejected += 1
        if len(self.rejections) < MAX_REJECTIONS_KEPT:
            self.rejections.append(rejection)

    def _optional_date(self, text: str) -> date | None:
        if not text.strip():
            return None
        try:
            return self.dates.read(text)
        except ValueError:
            return None  # a side fact; its row still counts


EPOCH_ORDINAL = date(1970, 1, 1).toordinal()
"""``date.toordinal()`` of 1970-01-01: stored days count from it."""


def epoch_day(day: date) -> int:
    """``day`` as whole days since 1970-01-01 (how ``stats_points`` stores days)."""
    return day.toordinal() - EPOCH_ORDINAL


def from_epoch_day(number: int) -> date:
    """The date :func:`epoch_day` turned into ``number``."""
    return date.fromordinal(int(number) + EPOCH_ORDINAL)


def _remember(cache: dict[str, _T], key: str, value: _T) -> None:
    if len(cache) < MAX_CACHED:
        cache[key] = value


def _short(text: str, limit: int = 40) -> str:
    text = _clean_text(text)
    return text if len(text) <= limit else text[: limit - 1] + "…"
