"""``hookline generate``: melody ideas from the shipped model, and its held-out evaluation."""

from __future__ import annotations

import json
import time
from pathlib import Path

import click

from app.i18n import _, format_decimal
from app.melody import (
    MelodyInputError,
    melody_midi,
    melody_notes,
    parse_key,
    parse_meter,
    seed_tokens,
    variation_paths,
)
from app.midi_export import MidiExportError, write_midi
from app.midi_files import MidiFileError, read_midi


@click.group(help=_("Generate musical ideas offline."))
def generate() -> None:
    pass


@generate.command(help=_("Write a melody in a key and meter as a MIDI file."))
@click.option("--key", "key_text", default="C major", show_default=True,
              help=_('Key, e.g. "D major", "A minor", "E dorian".'))  # fmt: skip
@click.option("--meter", "meter_text", default="4/4", show_default=True, help=_("Time signature."))
@click.option("--bars", type=click.IntRange(1, 64), default=8, show_default=True)
@click.option("--tempo", type=click.FloatRange(20, 300), default=110.0, show_default=True)
@click.option("--chords", "chords_text", default="",
              help=_('One chord per bar, repeated: "D G A D".'))  # fmt: skip
@click.option("--continue", "seed_file", type=click.Path(dir_okay=False, path_type=Path),
              default=None, help=_("Continue the top line of this MIDI clip."))  # fmt: skip
@click.option("--temperature", type=float, default=1.0, show_default=True)
@click.option("--low", type=click.IntRange(0, 127), default=55, show_default=True,
              help=_("Lowest MIDI note."))  # fmt: skip
@click.option("--high", type=click.IntRange(0, 127), default=84, show_default=True,
              help=_("Highest MIDI note."))  # fmt: skip
@click.option("--density", type=click.FloatRange(0, 1), default=0.5, show_default=True,
              help=_("0: long notes … 1: short notes."))  # fmt: skip
@click.option("--variations", type=click.IntRange(1, 16), default=1, show_default=True)
@click.option("--seed", type=int, default=None, help=_("Random seed (default: a new one)."))
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), required=True)
@click.option("--json", "as_json", is_flag=True, help=_("Print JSON."))
def melody(
    key_text: str,
    meter_text: str,
    bars: int,
    tempo: float,
    chords_text: str,
    seed_file: Path | None,
    temperature: float,
    low: int,
    high: int,
    density: float,
    variations: int,
    seed: int | None,
    output: Path,
    as_json: bool,
) -> None:
    from models.melody.runner import MelodyModel, MelodyRequest, MelodyRequestError

    try:
        key = parse_key(key_text)
        meter = parse_meter(meter_text)
        prefix: tuple[int, ...] = ()
        if seed_file is not None:
            prefix = seed_tokens(read_midi(seed_file), key, meter)
        model = MelodyModel()
    except (MelodyInputError, MidiFileError) as exc:
        raise click.ClickException(str(exc)) from None
    except FileNotFoundError as exc:
        raise click.ClickException(str(exc)) from None
    base_seed = seed if seed is not None else int(time.time_ns() % 2**31)
    results = []
    for index, path in enumerate(variation_paths(output, variations)):
        request = MelodyRequest(
            tonic=key.tonic, mode=key.mode, meter=meter, bars=bars,
            chords=tuple(chords_text.split()), low=low, high=high, density=density,
            temperature=temperature, seed=base_seed + index, prefix=prefix,
        )  # fmt: skip
        try:
            started = time.perf_counter()
            sequence = model.generate(request)
            seconds = time.perf_counter() - started
            write_midi(melody_midi(sequence, key.tonic, meter, tempo), path)
        except MelodyRequestError as exc:
            raise click.ClickException(str(exc)) from None
        except MidiExportError as exc:
            raise click.ClickException(str(exc)) from None
        notes = melody_notes(sequence, key.tonic)
        results.append({"path": str(path), "seed": base_seed + index, "notes": len(notes),
                        "seconds": round(seconds, 4)})  # fmt: skip
        if not as_json:
            click.echo(
                _("{path}: {count} notes, {bars} bars of {meter} in {key} (seed {seed})").format(
                    path=str(path),
                    count=format_decimal(len(notes)),
                    bars=format_decimal(bars),
                    meter=meter,
                    key=key.name,
                    seed=base_seed + index,
                )
            )
    if as_json:
        click.echo(json.dumps({"key": key.name, "meter": meter, "bars": bars,
                               "melodies": results}, ensure_ascii=False))  # fmt: skip


@generate.command(help=_("Held-out NLL per token of the melody model and the n-gram baseline."))
@click.option("--files", "files", multiple=True, type=click.Path(dir_okay=False, path_type=Path),
              help=_("Score these MIDI files instead of the held-out set."))  # fmt: skip
@click.option("--key", "key_text", default="C major", help=_("Key of the given files."))
@click.option("--meter", "meter_text", default="4/4", help=_("Meter of the given files."))
def evaluate(files: tuple[Path, ...], key_text: str, meter_text: str) -> None:
    import numpy as np

    from models.melody import tokens as tk
    from models.melody.ngram import best_order
    from models.melody.runner import MelodyModel
    from models.training import melody_data

    try:
        data = melody_data.load()
    except FileNotFoundError as exc:
        raise click.ClickException(str(exc)) from None
    if files:
        try:
            key, meter = parse_key(key_text), parse_meter(meter_text)
            targets = [[*seed_tokens(read_midi(f), key, meter), tk.EOS] for f in files]
        except (MelodyInputError, MidiFileError) as exc:
            raise click.ClickException(str(exc)) from None
    else:
        targets = data["test"]
    ngram, _scores = best_order(data["train"], data["validation"])
    model = MelodyModel()
    lp = np.concatenate([model.log_probs(seq)[2:] for seq in targets])
    click.echo(
        _(
            "model: {model} nats/token; n-gram (order {order}): {ngram} nats/token; {n} tokens"
        ).format(
            model=format_decimal(round(float(-lp.mean()), 4), 4),
            order=ngram.order,
            ngram=format_decimal(round(ngram.nll(targets), 4), 4),
            n=format_decimal(len(lp)),
        )
    )
