"""Typed, declared, versioned settings.

Every option is declared once in :data:`OPTIONS` with its type, default and description. The file
is JSON in the platform config folder: ``{"version": N, "values": {key: value}}``. Older files are
upgraded one version at a time, after a backup copy of the original is written. A file that cannot
be read (corrupt, truncated, huge, hostile, wrong types) never stops the app: the bad file is kept
aside, defaults are used, and :attr:`Settings.warnings` says what happened in the user's language.

Thread contract: main thread only.
"""

from __future__ import annotations

import json
import logging
import math
import os
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from app.i18n import LANGUAGES, N_, _

log = logging.getLogger(__name__)

SETTINGS_VERSION = 2
MAX_FILE_BYTES = 1 << 20  # a real settings file is a few hundred bytes

Value = str | int | float | bool


@dataclass(frozen=True)
class Option:
    key: str
    type: type
    default: Value
    description: str  # marked with N_(); translate when shown
    choices: tuple[Value, ...] | None = None
    minimum: float | None = None
    maximum: float | None = None

    def validate(self, value: Any) -> Value:
        """Return ``value`` as this option's type, or raise ValueError."""
        if self.type is float and isinstance(value, int) and not isinstance(value, bool):
            value = float(value)
        if type(value) is not self.type:
            raise ValueError(f"{self.key}: expected {self.type.__name__}")
        if isinstance(value, float) and not math.isfinite(value):
            raise ValueError(f"{self.key}: not a finite number")
        if self.choices is not None and value not in self.choices:
            raise ValueError(f"{self.key}: not one of the choices")
        if isinstance(value, int | float) and not isinstance(value, bool):
            if self.minimum is not None and value < self.minimum:
                raise ValueError(f"{self.key}: below {self.minimum}")
            if self.maximum is not None and value > self.maximum:
                raise ValueError(f"{self.key}: above {self.maximum}")
        if isinstance(value, str) and len(value) > 4096:
            raise ValueError(f"{self.key}: too long")
        return value  # type: ignore[return-value]


OPTIONS: tuple[Option, ...] = (
    Option(
        "ui.language", str, "auto", N_("Language of the interface"), choices=("auto", *LANGUAGES)
    ),
    Option("ui.theme", str, "dark", N_("Colour theme"), choices=("dark", "light")),
    Option("ui.window_state", str, "", N_("Window size and dock layout (saved on exit)")),
    Option(
        "audio.input_device",
        str,
        "",
        N_("Audio input: empty for the system default, 'demo' for the built-in demo input"),
    ),
    Option(
        "audio.monitor_device",
        str,
        "",
        N_("Monitor output that plays what is analysed: empty for none"),
    ),
    Option(
        "audio.output_device",
        str,
        "",
        N_("Audio output for melody previews: empty for the system default"),
    ),
    Option(
        "audio.channels",
        str,
        "1,2",
        N_('Input channels to analyse: one channel ("1"), a pair ("1,2") or "sum"'),
    ),
    Option(
        "audio.sample_rate",
        int,
        48000,
        N_("Sample rate in Hz"),
        choices=(44100, 48000, 88200, 96000, 176400, 192000),
    ),
    Option(
        "audio.block_size", int, 256, N_("Audio block size in frames"), minimum=64, maximum=2048
    ),
    Option(
        "audio.reference_a",
        float,
        440.0,
        N_("Reference pitch of A4 in Hz"),
        minimum=415.0,
        maximum=466.0,
    ),
    Option(
        "midi.api",
        str,
        "auto",
        N_("MIDI system to use"),
        choices=("auto", "alsa", "jack", "coremidi", "winmm"),
    ),
    Option(
        "midi.input_port",
        str,
        "",
        N_("MIDI input port to listen to besides Hookline In: empty for none"),
    ),
    Option("midi.output_port", str, "", N_("MIDI output port: empty for Hookline's own port")),
    Option(
        "team.server_url",
        str,
        "http://127.0.0.1:8765",
        N_("Address of your team's sync server (hookline serve)"),
    ),
    Option(
        "spotify.client_id",
        str,
        "",
        N_("Client ID of your own Spotify app (developer.spotify.com/dashboard)"),
    ),
    Option(
        "spotify.artists",
        str,
        "",
        N_("Spotify artist ids to keep history for, comma-separated: empty for those you follow"),
    ),
    Option(
        "spotify.sync_hours",
        int,
        24,
        N_("Hours between Spotify snapshots"),
        minimum=1,
        maximum=24 * 7,
    ),
    Option(
        "spotify.accounts_url",
        str,
        "https://accounts.spotify.com",
        N_("Spotify accounts service (change only for a stand-in server)"),
    ),
    Option(
        "spotify.api_url",
        str,
        "https://api.spotify.com/v1/",
        N_("Spotify Web API address (change only for a stand-in server)"),
    ),
)
OPTIONS_BY_KEY: dict[str, Option] = {o.key: o for o in OPTIONS}


def _upgrade_1_to_2(data: dict[str, Any]) -> dict[str, Any]:
    """Version 1 (the first prototype) kept flat keys and the reference pitch as text."""
    renames = {
        "language": "ui.language",
        "theme": "ui.theme",
        "input_device": "audio.input_device",
        "sample_rate": "audio.sample_rate",
        "block_size": "audio.block_size",
        "reference_a": "audio.reference_a",
        "midi_in": "midi.input_port",
        "midi_out": "midi.output_port",
    }
    values = {new: data[old] for old, new in renames.items() if old in data}
    if isinstance(values.get("audio.reference_a"), str):
        try:
            values["audio.reference_a"] = float(values["audio.reference_a"])
        except ValueError:
            del values["audio.reference_a"]
    return {"version": 2, "values": values}


# UPGRADES[n] turns a version-n document into a version n+1 document.
UPGRADES: dict[int, Callable[[dict[str, Any]], dict[str, Any]]] = {1: _upgrade_1_to_2}


class SettingsError(Exception):
    """A settings file could not be used; the message is for the user."""


class Settings:
    """The user's settings: read with :meth:`get`, change with :meth:`set`, then :meth:`save`."""

    def __init__(self, path: Path, values: dict[str, Value] | None = None) -> None:
        self.path = path
        self._values: dict[str, Value] = {o.key: o.default for o in OPTIONS}
        self._values.update(values or {})
        self.warnings: list[str] = []

    def get(self, key: str) -> Value:
        return self._values[key]

    def set(self, key: str, value: Any) -> None:
        option = OPTIONS_BY_KEY.get(key)
        if option is None:
            raise KeyError(key)
        self._values[key] = option.validate(value)

    def as_dict(self) -> dict[str, Value]:
        return dict(self._values)

    def save(self) -> None:
        """Write atomically: a crash mid-save leaves the old file or the new one, never half."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        changed = {k: v for k, v in self._values.items() if v != OPTIONS_BY_KEY[k].default}
        text = json.dumps(
            {"version": SETTINGS_VERSION, "values": changed},
            indent=2,
            ensure_ascii=False,
            sort_keys=True,
        )
        tmp = self.path.with_name(self.path.name + ".tmp")
        with open(tmp, "w", encoding="utf-8") as f:
            f.write(text + "\n")
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, self.path)

    @classmethod
    def load(cls, path: Path) -> Settings:
        settings = cls(path)
        if not path.exists():
            return settings
        try:
            data = _read_document(path)
            version = data.get("version")
            if type(version) is not int or version < 1:
                raise SettingsError(_("The settings file has no valid version number."))
            if version > SETTINGS_VERSION:
                _keep_aside(path, "newer")
                settings.warnings.append(
                    _(
                        "The settings were written by a newer Hookline; a copy was kept at {path}."
                    ).format(path=path.with_name(path.name + ".newer"))
                )
            elif version < SETTINGS_VERSION:
                data = _upgrade(path, data, version)
            values = data.get("values")
            if not isinstance(values, dict):
                raise SettingsError(_("The settings file has no values."))
        except SettingsError as exc:
            aside = _keep_aside(path, "corrupt")
            log.warning("settings file unusable, moved to %s: %s", aside, exc)
            settings.warnings.append(
                _(
                    "Your settings could not be read ({reason}). Hookline is using defaults; the "
                    "old file was kept at {path}."
                ).format(reason=str(exc), path=aside)
            )
            return settings
        for key, value in values.items():
            option = OPTIONS_BY_KEY.get(key)
            if option is None:
                log.info("ignoring unknown setting %r", key)
                continue
            try:
                settings._values[key] = option.validate(value)
            except ValueError:
                log.warning("setting %s has an invalid value; using the default", key)
                settings.warnings.append(
                    _("The setting “{name}” had an invalid value and was reset.").format(
                        name=_(option.description)
                    )
                )
        return settings


def _read_document(path: Path) -> dict[str, Any]:
    try:
        if path.stat().st_size > MAX_FILE_BYTES:
            raise SettingsError(_("The settings file is too large."))
        raw = path.read_bytes()
    except OSError as exc:
        raise SettingsError(_("The settings file cannot be opened.")) from exc
    try:
        data = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise SettingsError(_("The settings file is damaged.")) from exc
    if not isinstance(data, dict):
        raise SettingsError(_("The settings file is damaged."))
    return data


def _upgrade(path: Path, data: dict[str, Any], version: int) -> dict[str, Any]:
    backup = path.with_name(f"{path.stem}.v{version}.bak{path.suffix}")
    backup.write_bytes(path.read_bytes())
    log.info(
        "upgrading settings from version %d to %d (backup at %s)", version, SETTINGS_VERSION, backup
    )
    while version < SETTINGS_VERSION:
        try:
            data = UPGRADES[version](data)
        except Exception as exc:  # an old file with odd contents must not stop the app
            raise SettingsError(_("The settings file could not be upgraded.")) from exc
        version += 1
    return data


def _keep_aside(path: Path, tag: str) -> Path:
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    aside = path.with_name(f"{path.name}.{tag}" if tag == "newer" else f"{path.name}.{tag}-{stamp}")
    try:
        if tag == "newer":
            aside.write_bytes(path.read_bytes())
        else:
            os.replace(path, aside)
    except OSError:
        log.exception("could not keep the settings file aside")
    return aside
