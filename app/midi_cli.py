"""``hookline midi listen``: the harmony engine without the window, one event per line.

Each chord change, key change and port event prints one line (JSON with ``--json``): ``t``
(seconds since the start), ``event``, ``chord``, ``numeral``, ``function``, ``key``,
``key_confidence``, ``notes`` (MIDI numbers sounding), ``suggestions`` (chord events only:
``chord``, ``numeral``, ``reason`` code, ``score``) and ``port`` for port events.
"""

from __future__ import annotations

import json
import logging
import signal
import sys
import time
from typing import Any

import click

from app import logs
from app.i18n import _, format_decimal
from app.paths import default_paths
from app.settings import Settings

API_CHOICES = ["auto", "alsa", "jack", "coremidi", "winmm"]


@click.group(help=_("MIDI tools."))
def midi() -> None:
    pass


@midi.command(help=_("Name the chords and the key of incoming MIDI and print them as they change."))
@click.option(
    "--port",
    "ports",
    multiple=True,
    help=_("Also listen to this MIDI port (repeatable). Hookline In is always open."),
)
@click.option("--api", type=click.Choice(API_CHOICES), default=None, help=_("MIDI system."))
@click.option(
    "--style",
    type=click.FloatRange(0.0, 1.0),
    default=0.15,
    help=_("Suggestions from 0 (diatonic) to 1 (adventurous)."),
)
@click.option(
    "--seconds",
    type=click.FloatRange(min=0.0),
    default=None,
    help=_("Stop after this many seconds (default: run until interrupted)."),
)
@click.option("--json", "as_json", is_flag=True, help=_("Print one JSON object per line."))
def listen(
    ports: tuple[str, ...], api: str | None, style: float, seconds: float | None, as_json: bool
) -> None:
    from app.harmony import INPUT_PORT
    from app.harmony_engine import HarmonyEngine
    from app.harmony_text import port_event_text
    from audio.midi_in import VIRTUAL_APIS, MidiInput
    from audio.midi_ports import resolve_midi_api
    from models.next_chord import NextChordModel

    paths = default_paths().ensure()
    logs.configure(paths.log_file)
    settings = Settings.load(paths.settings_file)
    chosen = resolve_midi_api(api or str(settings.get("midi.api")))
    try:
        midi_in = MidiInput(
            list(ports),
            virtual=chosen in VIRTUAL_APIS,
            api=chosen,
            client_name=INPUT_PORT,
            virtual_name=INPUT_PORT,
        )
    except (ValueError, RuntimeError, SystemError, OSError) as exc:
        raise click.ClickException(
            _("MIDI input could not be opened: {error}").format(error=str(exc))
        ) from exc
    engine = HarmonyEngine(midi_in, NextChordModel.load(), style)
    stop = {"now": False}
    signal.signal(signal.SIGTERM, lambda *_args: stop.update(now=True))
    started = time.perf_counter()
    engine.start()
    status = midi_in.status
    click.echo(
        _("Listening on {ports} ({api}).").format(ports=", ".join(midi_in.sources), api=chosen),
        err=True,
    )
    if status.error:
        click.echo(status.error, err=True)
    try:
        while not stop["now"]:
            for event in engine.drain():
                if event.port:
                    click.echo(port_event_text(event.kind, event.port), err=True)
                _print(event_json(event, started), as_json)
            if seconds is not None and time.perf_counter() - started >= seconds:
                break
            time.sleep(0.005)
    except KeyboardInterrupt:
        pass
    finally:
        engine.stop()
        logging.shutdown()


def event_json(event: Any, started: float) -> dict[str, Any]:
    snap = event.snapshot
    values: dict[str, Any] = {
        "t": round(snap.time_s - started, 4),
        "event": event.kind,
        "chord": snap.chord.symbol if snap.chord is not None else None,
        "numeral": snap.numeral or None,
        "function": snap.function or None,
        "key": snap.key.name if snap.key is not None else None,
        "key_confidence": round(snap.key_confidence, 3),
        "notes": list(snap.sounding),
    }
    if event.kind == "chord":
        values["suggestions"] = [
            {
                "chord": s.chord.symbol,
                "numeral": s.numeral,
                "reason": s.reason.code,
                "score": round(s.score, 4),
            }
            for s in snap.suggestions
        ]
    if event.port:
        values["port"] = event.port
    return values


def _print(values: dict[str, Any], as_json: bool) -> None:
    if as_json:
        sys.stdout.write(json.dumps(values, ensure_ascii=False) + "\n")
    elif values["event"] in ("chord", "key"):
        sys.stdout.write(
            "{t} s  {chord}  {numeral}  {key}\n".format(
                t=format_decimal(float(values["t"]), 2),
                chord=values["chord"] or "–",
                numeral=values["numeral"] or "",
                key=values["key"] or "",
            )
        )
    sys.stdout.flush()
