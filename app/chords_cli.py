"""``hookline chords FILE.mid``: the chord segments and the key of a MIDI file."""

from __future__ import annotations

import json
import sys
from typing import Any

import click

from app.harmony_text import key_text
from app.i18n import _, format_decimal
from app.midi_files import MidiFileError, MidiNotes, read_midi
from models.chord_segments import ChordSegment, segment_chords
from models.key_tracking import estimate_key
from models.theory import Key, pretty

EXIT_BAD_FILE = 2


def analyse(midi: MidiNotes) -> dict[str, Any]:
    """The JSON-ready analysis of a file: overall key, its confidence and the segments."""
    notes = [n for n in midi.notes if not n.is_drum]
    segments = segment_chords(notes, beat_to_seconds=midi.seconds_at)
    key, confidence = estimate_key(notes)
    return {
        "key": key.name,
        "key_confidence": round(confidence, 3),
        "segments": [_segment_json(s) for s in segments],
    }


def _segment_json(segment: ChordSegment) -> dict[str, Any]:
    return {
        "start_s": round(segment.start_s, 4),
        "end_s": round(segment.end_s, 4),
        "start_beat": round(segment.start_beat, 4),
        "end_beat": round(segment.end_beat, 4),
        "chord": segment.chord.symbol if segment.chord else None,
        "numeral": segment.numeral,
        "key": segment.key.name,
    }


def _print_table(result: dict[str, Any]) -> None:
    click.echo(
        _("Key: {key} (confidence {confidence})").format(
            key=key_text(Key.parse(result["key"])),
            confidence=format_decimal(result["key_confidence"], 2),
        )
    )
    headers = [_("start s"), _("end s"), _("beat"), _("to beat"), _("chord"), _("numeral")]
    rows = [
        [
            format_decimal(s["start_s"], 2),
            format_decimal(s["end_s"], 2),
            format_decimal(s["start_beat"], 2),
            format_decimal(s["end_beat"], 2),
            pretty(s["chord"]) if s["chord"] else "–",
            s["numeral"] or "–",
        ]
        for s in result["segments"]
    ]
    widths = [max(len(str(c)) for c in column) for column in zip(headers, *rows, strict=True)]
    for row in [headers, *rows]:
        click.echo("  ".join(str(c).ljust(w) for c, w in zip(row, widths, strict=True)).rstrip())
    if not rows:
        click.echo(_("No notes found."))


@click.command(help=_("Show the chords and the key of a MIDI file."))
@click.argument("file", type=click.Path(dir_okay=True, readable=False))
@click.option("--json", "as_json", is_flag=True, help=_("Print JSON."))
def chords(file: str, as_json: bool) -> None:
    try:
        midi = read_midi(file)
    except MidiFileError as exc:
        click.echo(str(exc), err=True)
        sys.exit(EXIT_BAD_FILE)
    result = analyse(midi)
    if as_json:
        click.echo(json.dumps(result, ensure_ascii=False, indent=2))
    else:
        _print_table(result)
