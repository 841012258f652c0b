"""``hookline progression``: a seeded chord progression, printed and written as a MIDI file."""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

import click

from app.harmony_text import key_text
from app.i18n import _
from app.midi_export import DEFAULT_TEMPO_BPM, MidiExportError, export_progression
from models.progression import CHORDS_PER_BAR, MAX_BARS, Progression, Voicing, generate, voice
from models.theory import Key

STYLES = {"diatonic": 0.0, "balanced": 0.5, "adventurous": 1.0}


def _parse_key(_ctx: click.Context, _param: click.Parameter, value: str) -> Key:
    try:
        return Key.parse(value)
    except ValueError:
        raise click.BadParameter(
            _('"{text}" is not a key; try "A minor", "F# major" or "Bbm".').format(text=value)
        ) from None


@click.command(help=_("Make a chord progression, print it and write it as a MIDI file."))
@click.option(
    "--key",
    "key",
    default="C major",
    show_default=True,
    callback=_parse_key,
    help=_('Key, e.g. "A minor" or "F# major".'),
)
@click.option(
    "--bars",
    type=click.IntRange(1, MAX_BARS),
    default=4,
    show_default=True,
    help=_("Number of 4/4 bars."),
)
@click.option(
    "--chords-per-bar",
    type=click.Choice([str(n) for n in CHORDS_PER_BAR]),
    default="1",
    show_default=True,
    help=_("Chords in each bar."),
)
@click.option(
    "--style",
    type=click.Choice(list(STYLES)),
    default="diatonic",
    show_default=True,
    help=_("How far from the key's own chords to go."),
)
@click.option("--seed", type=int, default=None, help=_("Random seed (default: a new one)."))
@click.option(
    "--tempo",
    type=click.FloatRange(20.0, 400.0),
    default=DEFAULT_TEMPO_BPM,
    show_default=True,
    help=_("Tempo in beats per minute."),
)
@click.option(
    "--program",
    type=click.IntRange(0, 127),
    default=0,
    show_default=True,
    help=_("General MIDI program (0 = piano)."),
)
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help=_("Write the progression to this MIDI file."),
)
@click.option("--json", "as_json", is_flag=True, help=_("Print JSON."))
def progression(
    key: Key,
    bars: int,
    chords_per_bar: str,
    style: str,
    seed: int | None,
    tempo: float,
    program: int,
    output: Path | None,
    as_json: bool,
) -> None:
    if seed is None:
        seed = random.SystemRandom().randrange(1_000_000)
    result = generate(key, bars, STYLES[style], seed, int(chords_per_bar))
    voicings = voice(result)
    if output is not None:
        try:
            export_progression(result, voicings, output, tempo_bpm=tempo, program=program)
        except MidiExportError as exc:
            raise click.ClickException(str(exc)) from exc
    if as_json:
        click.echo(json.dumps(_as_json(result, voicings, style, tempo, output), indent=2))
        return
    click.echo(
        _("{key}, {bars} bars, style {style}, seed {seed}").format(
            key=key_text(key), bars=bars, style=style, seed=seed
        )
    )
    for chord in result.chords:
        bar = int(chord.start // 4) + 1
        beat = int(chord.start % 4) + 1
        click.echo(f"  {bar:>2}.{beat}  {chord.chord.symbol:<8} {chord.numeral}")
    if output is not None:
        click.echo(_("Wrote {path}").format(path=str(output)))


def _as_json(
    result: Progression, voicings: list[Voicing], style: str, tempo: float, output: Path | None
) -> dict[str, Any]:
    return {
        "key": result.key.name,
        "bars": result.bars,
        "chords_per_bar": result.chords_per_bar,
        "style": style,
        "seed": result.seed,
        "tempo": tempo,
        "output": None if output is None else str(output),
        "chords": [
            {
                "symbol": c.chord.symbol,
                "numeral": c.numeral,
                "start_beat": c.start,
                "beats": c.duration,
                "notes": list(v.notes),
                "reason": {"code": c.reason.code, "params": c.reason.as_dict()},
            }
            for c, v in zip(result.chords, voicings, strict=True)
        ],
    }
