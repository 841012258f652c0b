"""``hookline analyze FILE_OR_FOLDER... [--json] [--jobs N]``: whole-track analysis.

Folders are searched recursively for audio files. A progress bar goes to stderr; with ``--json``
stdout gets one object per file, in the order the files were given (see
:meth:`audio.track.TrackAnalysis.to_json` for the fields), or ``{"path", "error"}`` for a file
that could not be analysed: the batch always goes on. With ``--jobs N`` files are analysed in N
worker processes.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

import click

from app.harmony_text import mode_text
from app.i18n import N_, _, format_decimal

AUDIO_SUFFIXES = frozenset(
    {".wav", ".wave", ".flac", ".ogg", ".oga", ".mp3", ".aif", ".aiff", ".aifc", ".w64", ".caf"}
)

_PROBLEMS = {
    "missing": N_("the file does not exist"),
    "unreadable": N_("it cannot be read ({detail})"),
    "not_audio": N_("it is not an audio file Hookline can read"),
    "empty": N_("it holds no audio"),
    "too_long": N_("it is longer than six hours ({detail})"),
    "too_many_channels": N_("it has too many channels ({detail})"),
    "damaged": N_("it is damaged ({detail})"),
}


def problem_text(problem: str, detail: str) -> str:
    template = _PROBLEMS.get(problem, N_("it could not be analysed ({detail})"))
    return _(template).format(detail=detail)


def expand(paths: Iterable[Path]) -> Iterator[Path]:
    """The files named, and the audio files in the folders named (sorted, recursive)."""
    for path in paths:
        if path.is_dir():
            yield from sorted(
                p for p in path.rglob("*") if p.is_file() and p.suffix.lower() in AUDIO_SUFFIXES
            )
        else:
            yield path


def analyze_one(path: Path) -> dict[str, Any]:
    """The JSON object for one file; never raises for a bad file."""
    from audio.audio_file import AudioFileError
    from audio.track import analyze_file

    try:
        return analyze_file(path).to_json()
    except AudioFileError as exc:
        return {"path": str(path), "error": problem_text(exc.problem, exc.detail)}
    except MemoryError:
        return {"path": str(path), "error": _("there was not enough memory to analyse it")}


def _results(files: list[Path], jobs: int) -> Iterator[dict[str, Any]]:
    if jobs <= 1 or len(files) <= 1:
        for path in files:
            yield analyze_one(path)
        return
    with ProcessPoolExecutor(max_workers=jobs) as pool:
        yield from pool.map(analyze_one, files)


@click.command(
    help=_(
        "Analyse audio files and folders: tempo, key, loudness, energy, danceability, sections "
        "and chords."
    )
)
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--json", "as_json", is_flag=True, help=_("Print one JSON object per file."))
@click.option(
    "--jobs", type=click.IntRange(1, 64), default=1, help=_("Files analysed at the same time.")
)
def analyze(paths: tuple[Path, ...], as_json: bool, jobs: int) -> None:
    files = list(expand(paths))
    if not files:
        raise click.ClickException(_("No audio files found."))
    failed = 0
    with click.progressbar(
        length=len(files), label=_("Analysing"), file=sys.stderr, show_pos=True
    ) as bar:
        for result in _results(files, jobs):
            bar.update(1)
            failed += "error" in result
            if as_json:
                sys.stdout.write(json.dumps(result, ensure_ascii=False) + "\n")
            else:
                sys.stdout.write(_summary(result) + "\n")
            sys.stdout.flush()
    if failed:
        click.echo(
            _("{failed} of {total} files could not be analysed.").format(
                failed=format_decimal(failed), total=format_decimal(len(files))
            ),
            err=True,
        )


def _summary(result: dict[str, Any]) -> str:
    name = Path(result["path"]).name
    if "error" in result:
        return _("{file}: {error}").format(file=name, error=result["error"])
    return _(
        "{file}: {bpm} BPM, {key} {mode} ({camelot}), {lufs} LUFS, energy {energy}, "
        "danceability {dance}"
    ).format(
        file=name,
        bpm=format_decimal(result["tempo_bpm"], 1),
        key=result["key"],
        mode=mode_text(result["mode"]),
        camelot=result["camelot"],
        lufs=format_decimal(result["loudness_lufs"], 1),
        energy=format_decimal(result["energy"], 2),
        dance=format_decimal(result["danceability"], 2),
    )
