"""``hookline stats``: import Spotify for Artists CSV exports and show what is stored.

``import FILE.csv...`` imports each file in its own transaction and prints, per file, the kind it
was taken for, the columns ignored, the counts and every rejected row with its line and reason
(``--json``: one object per file, see :meth:`app.stats_store.ImportReport.to_json`). A file
whose columns are not recognised is skipped with its headers and first rows shown; import it
again with ``--mapping``. The exit status is 1 when any file was refused or not recognised.

``show`` prints every stored series with its date range, total and latest value; ``--json``
prints ``{"imports": [...], "series": [...]}``; ``--csv`` writes the summary as CSV with text
cells neutralised against formula injection.
"""

from __future__ import annotations

import json
import sys
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

import click

from app.i18n import _, format_decimal, ngettext
from app.stats_import import ColumnMapping, MappingError, write_csv

if TYPE_CHECKING:
    from app.stats_store import ImportReport
    from app.storage import Database


def _open_database() -> Database:
    from app.paths import default_paths
    from app.storage import StorageError, open_database

    try:
        return open_database(default_paths().ensure().database_file)
    except StorageError as exc:
        raise click.ClickException(str(exc)) from exc


def _mapping(value: str | None) -> ColumnMapping | None:
    if not value:
        return None
    if value.startswith("@"):
        try:
            value = Path(value[1:]).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise click.BadParameter(str(exc), param_hint="--mapping") from exc
    try:
        return ColumnMapping.parse(value)
    except MappingError as exc:
        raise click.BadParameter(str(exc), param_hint="--mapping") from exc


@click.group(help=_("Artist statistics from Spotify for Artists CSV exports."))
def stats() -> None:
    pass


@stats.command(
    name="import",
    help=_(
        "Import Spotify for Artists CSV exports (audience timeline, songs, playlists). "
        "Re-importing a file adds nothing; corrected values replace old ones. For a file whose "
        "columns are not recognised, give --mapping, e.g. "
        "'kind=song,date=Day,song=Track,streams=Plays' (a number is a column position, from 0), "
        "or a JSON object, or @FILE holding either. Fields: date, listeners, streams, "
        "followers, saves, song, isrc, playlist, name, author, release_date, date_added."
    ),
)
@click.argument("files", nargs=-1, required=True, type=click.Path(path_type=Path, dir_okay=False))
@click.option("--mapping", default=None, help=_("Column mapping for unrecognised files."))
@click.option(
    "--as-of",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    default=None,
    help=_("Last day of the period for exports without a date column (default: today)."),
)
@click.option("--json", "as_json", is_flag=True, help=_("Print one JSON object per file."))
def import_command(
    files: tuple[Path, ...], mapping: str | None, as_of: object, as_json: bool
) -> None:
    from app.stats_store import StatsStore
    from app.storage import StorageError

    chosen = _mapping(mapping)
    day: date | None = as_of.date() if as_of is not None else None  # type: ignore[attr-defined]
    database = _open_database()
    failed = 0
    try:
        store = StatsStore(database)
        for path in files:
            try:
                report = store.import_csv(path, chosen, as_of=day)
            except StorageError as exc:
                failed += 1
                message = _("{file}: nothing was imported: {error}").format(
                    file=path.name, error=exc
                )
                if as_json:
                    click.echo(
                        json.dumps({"file": str(path), "status": "failed", "message": str(exc)})
                    )
                else:
                    click.echo(message, err=True)
                continue
            failed += report.status != "imported"
            if as_json:
                click.echo(json.dumps(report.to_json(), ensure_ascii=False))
            else:
                _print_report(report)
    finally:
        database.close()
    if failed:
        sys.exit(1)


def _print_report(report: ImportReport) -> None:
    name = report.path.name
    if report.status == "refused":
        click.echo(_("{file}: refused: {reason}").format(file=name, reason=report.message))
        return
    layout = report.layout
    if report.status == "unknown_layout" and layout is not None:
        click.echo(_("{file}: the columns were not recognised.").format(file=name))
        click.echo("  " + _("Columns: {columns}").format(columns=" | ".join(layout.headers)))
        for row in layout.sample[:3]:
            click.echo("  " + " | ".join(row))
        click.echo("  " + _("Import it again with --mapping (see --help)."))
        return
    kinds = {"audience": _("audience timeline"), "song": _("songs"), "playlist": _("playlists")}
    click.echo(
        _("{file}: read as {kind} ({resolution})").format(
            file=name,
            kind=kinds.get(report.kind or "", report.kind),
            resolution=_("daily values") if report.resolution == "daily" else _("period totals"),
        )
    )
    if report.imported_before:
        click.echo("  " + _("This file was imported before."))
    if layout and layout.ignored:
        click.echo("  " + _("Ignored columns: {columns}").format(columns=", ".join(layout.ignored)))
    click.echo(
        "  "
        + _("{rows} rows read; values: {added} added, {updated} updated, {same} unchanged").format(
            rows=format_decimal(report.rows_read),
            added=format_decimal(report.values_added),
            updated=format_decimal(report.values_updated),
            same=format_decimal(report.values_unchanged),
        )
    )
    if report.rows_rejected:
        click.echo(
            "  "
            + ngettext(
                "{count} row rejected:", "{count} rows rejected:", report.rows_rejected
            ).format(count=format_decimal(report.rows_rejected))
        )
        for rejection in report.rejections:
            click.echo(
                "    "
                + _("line {line}: {reason}").format(line=rejection.line, reason=rejection.message)
            )
        hidden = report.rows_rejected - len(report.rejections)
        if hidden:
            click.echo("    " + _("… and {count} more").format(count=format_decimal(hidden)))


@stats.command(help=_("Show the stored statistics."))
@click.option("--json", "as_json", is_flag=True, help=_("Print JSON."))
@click.option("--csv", "as_csv", is_flag=True, help=_("Print the summary as CSV."))
@click.option(
    "--kind",
    type=click.Choice(["audience", "song", "playlist"]),
    default=None,
    help=_("Only this kind."),
)
def show(as_json: bool, as_csv: bool, kind: str | None) -> None:
    from app.stats_store import StatsStore

    database = _open_database()
    try:
        store = StatsStore(database)
        series = store.summary(kind)
        imports = store.imports()
    finally:
        database.close()
    if as_json:
        click.echo(
            json.dumps(
                {"imports": imports, "series": [s.to_json() for s in series]},
                ensure_ascii=False,
                indent=2,
            )
        )
        return
    if as_csv:
        rows: list[list[object]] = [
            [
                "kind",
                "entity",
                "resolution",
                "metric",
                "first_day",
                "last_day",
                "days",
                "total",
                "latest",
            ]
        ]
        for s in series:
            for metric, m in s.metrics.items():
                rows.append(
                    [
                        s.kind,
                        s.entity,
                        s.resolution,
                        metric,
                        m.first_day.isoformat(),
                        m.last_day.isoformat(),
                        m.days,
                        m.total,
                        m.latest,
                    ]
                )
        write_csv(rows, sys.stdout)
        return
    if not series:
        click.echo(_("No statistics imported yet."))
        return
    for s in series:
        title = s.entity or _("your audience")
        label = _("{kind}: {name}").format(kind=s.kind, name=title)
        if s.resolution == "period":
            label += " " + _("(period totals)")
        click.echo(label)
        for metric, m in s.metrics.items():
            click.echo(
                "  "
                + _(
                    "{metric}: {first} to {last}, {days} days, total {total}, latest {latest}"
                ).format(
                    metric=metric,
                    first=m.first_day.isoformat(),
                    last=m.last_day.isoformat(),
                    days=format_decimal(m.days),
                    total=format_decimal(m.total),
                    latest=format_decimal(m.latest),
                )
            )


@stats.command(help=_("Forecast a stored daily series with prediction intervals and the "
                      "backtested error of each model."))  # fmt: skip
@click.option("--days", type=click.IntRange(1, 365), default=30, show_default=True)
@click.option("--kind", type=click.Choice(["audience", "song", "playlist"]), default="audience",
              show_default=True)  # fmt: skip
@click.option("--name", "entity", default="", help=_("The song or playlist (not for audience)."))
@click.option("--metric", default="streams", show_default=True)
@click.option("--json", "as_json", is_flag=True, help=_("Print JSON."))
def forecast(days: int, kind: str, entity: str, metric: str, as_json: bool) -> None:
    from app.stats_store import StatsStore
    from models.forecast import ForecastError
    from models.forecast import forecast as make_forecast

    database = _open_database()
    try:
        points = StatsStore(database).series(kind, entity, metric)
    finally:
        database.close()
    if not points:
        raise click.ClickException(
            _("No daily {metric} stored for this {kind}; import an export first.").format(
                metric=metric, kind=kind
            )
        )
    try:
        result = make_forecast([d for d, _v in points], [v for _d, v in points], days)
    except ForecastError as exc:
        raise click.ClickException(_("No forecast: {reason}").format(reason=str(exc))) from exc
    if as_json:
        click.echo(json.dumps(result.to_dict(), ensure_ascii=False))
        return
    chosen = result.chosen
    click.echo(
        _("Model: {model}; backtested wMAPE {error}, 80-percent band coverage {coverage}.").format(
            model=result.model,
            error=f"{chosen.wmape:.1f} %",
            coverage=f"{chosen.coverage80:.0%}",
        )
    )
    for day, point, lo, hi in zip(result.dates, result.point, result.lower80, result.upper80,
                                  strict=True):  # fmt: skip
        click.echo(f"{day.isoformat()}  {point:12,.0f}  [{lo:,.0f} – {hi:,.0f}]")
