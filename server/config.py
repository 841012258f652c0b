"""Settings of one server process.

Every field can be set from the environment as ``HOOKLINE_SERVER_<FIELD>`` (upper case), which is
how ``hookline serve`` and the test launcher pass the settings that have no command-line flag.
With no settings at all the server keeps a SQLite file and a blob folder in the user's data folder
(``HOOKLINE_HOME/data/server`` when ``HOOKLINE_HOME`` is set), so it runs with no set-up.

Blobs go to a folder or, when ``blobs_path`` is ``s3://bucket/prefix``, to an S3-compatible object
store (:mod:`server.blobs`). Its endpoint, region and credentials are never settings here: they come
from the standard variables ``AWS_ENDPOINT_URL``, ``AWS_REGION`` (or ``AWS_DEFAULT_REGION``),
``AWS_ACCESS_KEY_ID``, ``AWS_SECRET_ACCESS_KEY`` (``AWS_SESSION_TOKEN``) and ``AWS_ALLOW_HTTP``
(``true`` for a plain-http endpoint such as a local stand-in), so they stay out of files and logs.
"""

from __future__ import annotations

import dataclasses
import os
import typing
from dataclasses import dataclass, field
from pathlib import Path

import platformdirs

from server import protocol

ENV_PREFIX = "HOOKLINE_SERVER_"


def default_data_dir() -> Path:
    home = os.environ.get("HOOKLINE_HOME")
    if home:
        return Path(home) / "data" / "server"
    return Path(platformdirs.user_data_dir("Hookline", "Hookline")) / "server"


@dataclass(frozen=True)
class ServerConfig:
    database_url: str = ""  # empty: sqlite:///<data dir>/sync.sqlite3
    blobs_path: str = ""  # a folder or s3://bucket/prefix; empty: <data dir>/blobs
    presign_blobs: bool = True  # object stores: hand clients presigned URLs for blob transfers
    blob_url_ttl_s: float = protocol.BLOB_URL_TTL_S  # how long a presigned blob URL is valid
    access_ttl_s: float = protocol.ACCESS_TOKEN_TTL_S
    refresh_ttl_s: float = protocol.REFRESH_TOKEN_TTL_S
    refresh_reuse_s: float = 30.0  # a rotated refresh token whose answer was lost works this long
    invitation_max_ttl_s: float = 30 * 24 * 3600
    compact_after: int = 2000  # revisions since the last snapshot that trigger a compaction
    login_window_s: float = 300.0
    login_failures_per_email: int = 5  # failed logins per email within the window
    login_failures_per_address: int = 30  # failed logins per client address within the window
    argon2_time_cost: int = 3
    argon2_memory_kib: int = 65536
    argon2_parallelism: int = 4
    max_push_bytes: int = protocol.MAX_PUSH_BYTES
    max_blob_bytes: int = protocol.MAX_BLOB_BYTES
    max_wait_s: float = protocol.MAX_WAIT_S
    poll_interval_s: float = 1.0  # long-polls also re-read the database this often
    sqlite_synchronous: str = "FULL"  # FULL or NORMAL (both survive SIGKILL in WAL mode)
    doc_cache_size: int = 64  # projects whose current document is kept in memory
    event_flush_s: float = 1.0  # pull/blob events are written in batches this often
    blob_sweep_s: float = 6 * 3600.0  # blobs no project lists are let go this often (0: never)
    blob_grace_s: float = 3600.0  # a blob younger than this is never let go
    extra: dict[str, str] = field(default_factory=dict)

    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        folder = default_data_dir()
        folder.mkdir(parents=True, exist_ok=True)
        return f"sqlite:///{folder / 'sync.sqlite3'}"

    @property
    def blobs_in_object_store(self) -> bool:
        return self.blobs_path.lower().startswith("s3://")

    def resolved_blobs_path(self) -> Path:
        """The blob folder (created if missing); only for a store on local disk."""
        if self.blobs_in_object_store:
            raise ValueError("the blobs are in an object store, not a folder")
        path = Path(self.blobs_path) if self.blobs_path else default_data_dir() / "blobs"
        path.mkdir(parents=True, exist_ok=True)
        return path

    @property
    def is_sqlite(self) -> bool:
        return self.resolved_database_url().startswith("sqlite")

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None, **overrides: object) -> ServerConfig:
        """Fields from ``HOOKLINE_SERVER_*`` variables, then ``overrides`` (None values skipped)."""
        env = os.environ if environ is None else environ
        values: dict[str, object] = {}
        hints = typing.get_type_hints(cls)
        for f in dataclasses.fields(cls):
            if f.name == "extra":
                continue
            raw = env.get(ENV_PREFIX + f.name.upper())
            if raw is None:
                continue
            kind = hints[f.name]
            try:
                if kind is bool or kind == "bool":
                    values[f.name] = raw.strip().lower() in ("1", "true", "yes", "on")
                else:
                    # The annotation, not the default's type: a float field may default to 900.
                    convert = kind if callable(kind) else type(getattr(cls(), f.name))
                    values[f.name] = convert(raw)
            except ValueError as error:
                raise ValueError(f"{ENV_PREFIX}{f.name.upper()}={raw!r}: {error}") from None
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**values)  # type: ignore[arg-type]


def env_for(**settings: object) -> dict[str, str]:
    """The environment variables that give a server process these settings."""
    names = {f.name for f in dataclasses.fields(ServerConfig)}
    unknown = set(settings) - names
    if unknown:
        raise TypeError(f"unknown server settings: {sorted(unknown)}")
    return {ENV_PREFIX + k.upper(): str(v) for k, v in settings.items()}
