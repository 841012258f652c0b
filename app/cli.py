"""The ``hookline`` command line. Every engine is reachable here without the GUI.

The GUI itself lives in ``ui/``, which depends on ``app/`` and not the other way round: the
console script is ``ui.launcher:main``, which hands :func:`build_cli` the function that opens
the window. Subcommands of later features register on the same group.
"""

from __future__ import annotations

import importlib
import json
import sys
from collections.abc import Callable
from typing import Any

import click

from app import __version__
from app.i18n import _, set_language

GuiOpener = Callable[..., int]


def _print_json(obj: Any) -> None:
    click.echo(json.dumps(obj, ensure_ascii=False, indent=2))


LAZY_COMMANDS = {
    "analyze": "app.analyze_cli:analyze",
    "chords": "app.chords_cli:chords",
    "generate": "app.generate_cli:generate",
    "listen": "app.listen:listen",
    "lyrics": "app.lyrics_cli:lyrics",
    "midi": "app.midi_cli:midi",
    "progression": "app.progression_cli:progression",
    "serve": "server.cli:serve",
    "spotify": "app.spotify_cli:spotify",
    "stats": "app.stats_cli:stats",
}


class LazyGroup(click.Group):
    """Subcommands whose modules are imported only when that command runs (or ``--help``
    lists them): opening the window, the common case, loads none of them."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted([*super().list_commands(ctx), *LAZY_COMMANDS])

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        target = LAZY_COMMANDS.get(cmd_name)
        if target is None:
            return super().get_command(ctx, cmd_name)
        module_name, attribute = target.split(":")
        command = getattr(importlib.import_module(module_name), attribute)
        assert isinstance(command, click.Command)
        return command


def build_cli(open_gui: GuiOpener | None = None) -> click.Group:
    set_language("auto")

    @click.group(
        cls=LazyGroup,
        invoke_without_command=True,
        help=_("Hookline: a companion for music makers."),
    )
    @click.version_option(__version__, prog_name="hookline")
    @click.option(
        "--language",
        type=click.Choice(["auto", "en", "de", "ar"]),
        default=None,
        help=_("Interface language (overrides the setting)."),
    )
    @click.option(
        "--quit-after",
        type=click.FloatRange(min=0.0),
        default=None,
        hidden=True,
        help="Close the window after this many seconds (smoke tests).",
    )
    @click.pass_context
    def cli(ctx: click.Context, language: str | None, quit_after: float | None) -> None:
        if language:
            set_language(language)
        if ctx.invoked_subcommand is not None:
            return
        if open_gui is None:
            raise click.UsageError(_("The graphical interface is not installed."))
        ctx.exit(open_gui(language=language, quit_after=quit_after))

    @cli.command(help=_("List audio devices and MIDI ports."))
    @click.option("--json", "as_json", is_flag=True, help=_("Print JSON."))
    @click.option(
        "--midi-api",
        type=click.Choice(["auto", "alsa", "jack", "coremidi", "winmm"]),
        default="auto",
        help=_("MIDI system to query."),
    )
    def devices(as_json: bool, midi_api: str) -> None:
        from audio.devices import AudioUnavailable, list_audio_devices
        from audio.midi_ports import list_midi_ports

        audio_error = None
        try:
            audio = list_audio_devices()
        except AudioUnavailable as exc:
            audio, audio_error = [], str(exc)
        midi = list_midi_ports(midi_api)
        if as_json:
            _print_json(
                {
                    "audio": [d.to_json() for d in audio],
                    "audio_error": audio_error,
                    "midi": {
                        "api": midi.api,
                        "inputs": midi.inputs,
                        "outputs": midi.outputs,
                        "error": midi.error,
                    },
                }
            )
            return
        click.echo(_("Audio devices:"))
        if audio_error:
            click.echo("  " + _("Audio is unavailable: {reason}").format(reason=audio_error))
        elif not audio:
            click.echo("  " + _("none found; the demo input will be used"))
        for d in audio:
            marks = ("<" if d.is_default_input else " ") + (">" if d.is_default_output else " ")
            click.echo(
                "  "
                + _(
                    "{marks} {index:>3} {name} ({host_api}): {inputs} in, {outputs} out, {rate} Hz"
                ).format(
                    marks=marks,
                    index=d.index,
                    name=d.name,
                    host_api=d.host_api,
                    inputs=d.max_input_channels,
                    outputs=d.max_output_channels,
                    rate=int(d.default_samplerate),
                )
            )
        click.echo(_("MIDI ports ({api}):").format(api=midi.api))
        if midi.error:
            click.echo("  " + _("MIDI is unavailable: {reason}").format(reason=midi.error))
        for name in midi.inputs:
            click.echo("  " + _("in:  {name}").format(name=name))
        for name in midi.outputs:
            click.echo("  " + _("out: {name}").format(name=name))

    return cli


def main(argv: list[str] | None = None) -> None:
    """Entry point without the GUI (``python -m app``)."""
    build_cli()(args=argv if argv is not None else sys.argv[1:], prog_name="hookline")
