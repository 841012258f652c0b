"""``hookline listen``: the live engine without the GUI, one reading per line, ten per second."""

from __future__ import annotations

import json
import logging
import math
import signal
import sys
import time
from typing import Any

import click

from app import logs
from app.i18n import _, format_decimal
from app.live import describe_event, engine_config, reading_json
from app.paths import default_paths
from app.settings import Settings

PRINT_INTERVAL = 0.1  # seconds of audio between printed readings


@click.command(help=_("Analyse live input without the window and print readings."))
@click.option(
    "--input",
    "device",
    default=None,
    help=_('Device name or index, "demo", or jack:PORT[,PORT] (default: setting).'),
)
@click.option("--rate", type=int, default=None, help=_("Sample rate in Hz."))
@click.option("--block", type=int, default=None, help=_("Block size in frames (64–2048)."))
@click.option("--channels", default=None, help=_('"1", "1,2" or "sum".'))
@click.option(
    "--monitor",
    default=None,
    help=_('Play what is analysed on this output device (default: setting; "" for none).'),
)
@click.option(
    "--seconds",
    type=click.FloatRange(min=0.0),
    default=None,
    help=_("Stop after this many seconds (default: run until interrupted)."),
)
@click.option("--json", "as_json", is_flag=True, help=_("Print one JSON object per line."))
def listen(
    device: str | None,
    rate: int | None,
    block: int | None,
    channels: str | None,
    monitor: str | None,
    seconds: float | None,
    as_json: bool,
) -> None:
    from audio.engine import LiveEngine
    from audio.stream import StreamError

    paths = default_paths().ensure()
    logs.configure(paths.log_file)
    settings = Settings.load(paths.settings_file)
    try:
        engine = LiveEngine(engine_config(settings, device, rate, block, channels, monitor))
    except (StreamError, ValueError) as exc:
        message = str(exc)
        if isinstance(exc, StreamError):
            from app.live import describe_stream_error

            message = describe_stream_error(exc)
        raise click.ClickException(message) from exc

    stop = {"now": False}
    signal.signal(signal.SIGTERM, lambda *_args: stop.update(now=True))
    engine.start()
    version, next_t = 0, PRINT_INTERVAL
    deadline = None if seconds is None else time.monotonic() + seconds + 30.0
    try:
        while not stop["now"]:
            for event in engine.events.drain():
                click.echo(describe_event(event), err=True)
                if event.kind == "open-failed" and not engine.retrying:
                    raise click.ClickException(describe_event(event))
            reading, version = engine.wait_reading(version, timeout=0.2)
            if deadline is not None and time.monotonic() > deadline:
                raise click.ClickException(_("No audio arrived from the input."))
            if reading is None or reading.t + 1e-9 < next_t:
                continue
            next_t = (math.floor(reading.t / PRINT_INTERVAL + 1e-6) + 1) * PRINT_INTERVAL
            _print(reading_json(reading), as_json)
            if seconds is not None and reading.t >= seconds - 1e-9:
                break
    except KeyboardInterrupt:
        pass
    finally:
        engine.stop()
        from audio.devices import terminate

        terminate()
        logging.shutdown()


def _print(values: dict[str, Any], as_json: bool) -> None:
    if as_json:
        sys.stdout.write(json.dumps(values) + "\n")
    else:
        note = values["note"] or "–"
        lufs = values["lufs_momentary"]
        sys.stdout.write(
            _("{t} s  {note} {cents} ct  peak {peak} dBFS  {lufs} LUFS").format(
                t=format_decimal(float(values["t"]), 1),
                note=note,
                cents=values["cents"] if values["cents"] is not None else "–",
                peak=values["peak_dbfs"],
                lufs=lufs if lufs is not None else "–",
            )
            + "\n"
        )
    sys.stdout.flush()
