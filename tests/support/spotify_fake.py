"""A local stand-in of the Spotify accounts service and Web API, for tests (no Qt).

``FakeSpotify`` serves on ``127.0.0.1`` from a thread (one thread per request, so a slow answer
never blocks another). It speaks Authorization Code with PKCE (S256) on ``/authorize`` and
``/api/token`` with rotating refresh tokens, and a deterministic catalog under ``/v1/``. Every
``/v1/`` response it sends is first validated against the operation's response schema in the
Spotify OpenAPI contract (``shared/spotify/openapi.yml``, loaded once per process); failures are
recorded in ``validation_errors``, and the ``spotify_server`` fixture fails a test that left any.

Two modes, switchable at any time through ``mode``:

- ``"development"`` (default; every app created since 2026-03-09): artists carry no ``followers``
  and no ``popularity``, tracks no ``popularity``; ``/artists/{id}/top-tracks`` and the multi-id
  lookups (``/artists?ids=``, ``/tracks?ids=``) answer 403; ``limit`` above 10 on ``/search`` and
  ``/artists/{id}/albums`` answers 400.
- ``"extended"``: all fields present, ``limit`` up to 50 everywhere.

Scenarios are queued with ``inject(kind, path=..., count=..., **options)``; see ``inject``.

Quirks of the contract found while writing this (see ``SPEC_PATCHES`` for the in-memory fixes):

- The cursor paging object types ``next`` and ``cursors.after`` as non-nullable strings, while its
  own description (and the service) give ``null`` on the last page.
- ``ManyArtists``/``ManyTracks`` items are not nullable, but the service answers an unknown id in
  a multi-id lookup with a ``null`` entry.
- No operation declares 400, 404 or any 5xx answer (only 200/401/403/429). Such answers are
  validated against the matching ``components/responses`` entry (``BadRequest``, ``NotFound``) or,
  for statuses without one, against ``{"error": ErrorObject}``; ``fallback_validated`` lists them.
- ``ArtistObject`` requires nothing, so absent ``followers``/``popularity`` are valid; but
  ``AlbumObject`` (full album, ``GET /albums/{id}``) requires ``popularity``, so this server does
  not offer that operation. ``AlbumBase`` requires the deprecated ``available_markets``.
- The spec caps ``limit`` at 10 (default 5) for ``/search`` and ``/artists/{id}/albums``; that is
  the development-mode limit. Extended mode accepts up to 50 here, outside the contract's range.
"""

from __future__ import annotations

import base64
import copy
import functools
import hashlib
import json
import os
import re
import secrets
import struct
import threading
import time
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import parse_qs, urlencode, urlsplit

import jsonschema
import pytest
import yaml

REPO_ROOT = Path(__file__).resolve().parents[2]

#: Where the contract is looked for, first match wins (``HOOKLINE_SPOTIFY_SPEC`` overrides).
# The copy in the repository (tests/contracts/README.md) first, so a clean clone needs nothing else.
SPEC_CANDIDATES = (
    REPO_ROOT / "tests" / "contracts" / "spotify-openapi.yml",
    REPO_ROOT.parent / "shared" / "spotify" / "openapi.yml",
)

DEFAULT_CLIENT_ID = "hookline-test-client"

#: Every scope the fake knows about; tokens from ``issue_tokens()`` get these by default.
ALL_SCOPES = (
    "user-read-private",
    "user-read-email",
    "user-top-read",
    "user-follow-read",
)

MODES = ("development", "extended")
SCENARIO_KINDS = ("status", "rate_limit", "malformed", "slow", "drop_field")

#: Token endpoint success body (not part of openapi.yml).
TOKEN_RESPONSE_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["access_token", "token_type", "expires_in", "refresh_token", "scope"],
    "additionalProperties": False,
    "properties": {
        "access_token": {"type": "string", "minLength": 1},
        "token_type": {"const": "Bearer"},
        "expires_in": {"type": "integer", "minimum": 1},
        "refresh_token": {"type": "string", "minLength": 1},
        "scope": {"type": "string"},
    },
}

#: Token endpoint error body (RFC 6749 section 5.2).
TOKEN_ERROR_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["error", "error_description"],
    "additionalProperties": False,
    "properties": {
        "error": {
            "enum": [
                "invalid_request",
                "invalid_client",
                "invalid_grant",
                "unsupported_grant_type",
                "server_error",
                "temporarily_unavailable",
            ]
        },
        "error_description": {"type": "string"},
    },
}

#: (JSON pointer into the spec, change, why). Applied in memory; the file is never edited.
SPEC_PATCHES: tuple[tuple[str, str, str], ...] = (
    (
        "/components/schemas/CursorPagingObject/properties/next",
        "nullable",
        "its description says `null` if none; the service sends null on the last page",
    ),
    (
        "/components/schemas/CursorObject/properties/after",
        "nullable",
        "the service sends `after: null` on the last page",
    ),
    (
        "/components/responses/ManyArtists/content/application~1json/schema/properties/artists/items",
        "nullable-ref",
        "an unknown id in a multi-id lookup comes back as a null entry",
    ),
    (
        "/components/responses/ManyTracks/content/application~1json/schema/properties/tracks/items",
        "nullable-ref",
        "an unknown id in a multi-id lookup comes back as a null entry",
    ),
)

_FALLBACK_RESPONSES = {
    400: "BadRequest",
    401: "Unauthorized",
    403: "Forbidden",
    404: "NotFound",
    429: "TooManyRequests",
}
_SPEC_URI = "urn:hookline:spotify-openapi"
_SPOTIFY_HOST = "https://api.spotify.com"
_BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
_ID_RE = re.compile(r"^[0-9A-Za-z]{22}$")
_CHALLENGE_RE = re.compile(r"^[A-Za-z0-9_-]{43,128}$")
_T = TypeVar("_T")


# ----------------------------------------------------------------------------------------------
# The contract


def find_spec() -> Path:
    """The path of openapi.yml; raises FileNotFoundError naming the places looked at."""
    override = os.environ.get("HOOKLINE_SPOTIFY_SPEC")
    candidates = (Path(override),) if override else SPEC_CANDIDATES
    for candidate in candidates:
        if candidate.is_file():
            return candidate
    raise FileNotFoundError(f"Spotify openapi.yml not found in {[str(c) for c in candidates]}")


def _pointer_parent(doc: dict[str, Any], pointer: str) -> tuple[dict[str, Any], str]:
    parts = [p.replace("~1", "/").replace("~0", "~") for p in pointer.strip("/").split("/")]
    node: Any = doc
    for part in parts[:-1]:
        node = node[part]
    return node, parts[-1]


def patch_spec(spec: dict[str, Any]) -> dict[str, Any]:
    """A deep copy of ``spec`` with ``SPEC_PATCHES`` applied."""
    patched = copy.deepcopy(spec)
    for pointer, change, _why in SPEC_PATCHES:
        parent, key = _pointer_parent(patched, pointer)
        if change == "nullable":
            parent[key]["nullable"] = True
        elif change == "nullable-ref":  # nullable beside a $ref is ignored in OpenAPI 3.0
            parent[key] = {
                "anyOf": [parent[key], {"type": "object", "nullable": True, "enum": [None]}]
            }
        else:
            raise ValueError(f"unknown patch {change!r}")
    return patched


class SpotifyContract:
    """The Web API contract: validates one response against its operation in openapi.yml.

    Thread-safe (one lock around every validation).
    """

    def __init__(self, spec: dict[str, Any]) -> None:
        from openapi_core import OpenAPI
        from openapi_schema_validator import OAS30Validator
        from referencing import Registry, Resource
        from referencing.jsonschema import DRAFT4

        self.spec = patch_spec(spec)
        self._openapi = OpenAPI.from_dict(self.spec)
        registry: Registry[Any] = Registry().with_resource(
            _SPEC_URI, Resource.from_contents(self.spec, default_specification=DRAFT4)
        )
        self._fallbacks: dict[int, Any] = {}
        for status, name in _FALLBACK_RESPONSES.items():
            ref = f"{_SPEC_URI}#/components/responses/{name}/content/application~1json/schema"
            self._fallbacks[status] = OAS30Validator({"$ref": ref}, registry=registry)
        self._generic_error = OAS30Validator(
            {
                "type": "object",
                "required": ["error"],
                "properties": {"error": {"$ref": f"{_SPEC_URI}#/components/schemas/ErrorObject"}},
            },
            registry=registry,
        )
        self._lock = threading.Lock()

    def check(
        self, method: str, path: str, status: int, content_type: str, body: bytes
    ) -> tuple[str | None, bool]:
        """Validate one response to ``method path`` (path starts with ``/v1/``).

        Returns (error message or None, whether the operation did not declare this status and a
        components/responses fallback was used instead).
        """
        from openapi_core.exceptions import OpenAPIError
        from openapi_core.templating.paths.exceptions import OperationNotFound, PathNotFound
        from openapi_core.templating.responses.exceptions import ResponseNotFound
        from openapi_core.testing import MockRequest, MockResponse

        request = MockRequest(_SPOTIFY_HOST, method.lower(), path)
        response = MockResponse(body, status_code=status, content_type=content_type)
        with self._lock:
            try:
                self._openapi.validate_response(request, response)
            except ResponseNotFound:
                return self._check_fallback(status, content_type, body), True
            except (PathNotFound, OperationNotFound) as exc:
                if status >= 400:
                    return self._check_fallback(status, content_type, body), True
                return f"no operation in the contract: {exc}", False
            except OpenAPIError as exc:
                return _describe(exc), False
        return None, False

    def _check_fallback(self, status: int, content_type: str, body: bytes) -> str | None:
        if status < 400:
            return f"status {status} is not declared by the operation"
        if content_type.split(";")[0].strip() != "application/json":
            return f"error content type {content_type!r} is not application/json"
        try:
            value = json.loads(body)
        except ValueError as exc:
            return f"error body is not JSON: {exc}"
        validator = self._fallbacks.get(status, self._generic_error)
        errors = [f"{e.json_path}: {e.message}" for e in validator.iter_errors(value)]
        return "; ".join(errors) or None


def _describe(exc: BaseException) -> str:
    text = f"{type(exc).__name__}: {exc}"
    cause = exc.__cause__
    schema_errors = getattr(cause, "schema_errors", None) or getattr(exc, "schema_errors", None)
    if schema_errors:
        details = [f"{getattr(e, 'json_path', '$')}: {e.message}" for e in schema_errors]
        text = f"{type(exc).__name__}: " + "; ".join(details)
    return text[:2000]


@functools.cache
def load_contract(path: Path | None = None) -> SpotifyContract:
    """The contract, parsed once per process per path (parsing takes about a second)."""
    spec_path = path or find_spec()
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    with spec_path.open(encoding="utf-8") as stream:
        spec = yaml.load(stream, Loader=loader)  # a safe loader (C or pure Python)
    return SpotifyContract(spec)


# ----------------------------------------------------------------------------------------------
# The catalog


def spotify_id(seed: str) -> str:
    """A deterministic 22-character base62 id derived from ``seed``."""
    number = int.from_bytes(hashlib.sha256(seed.encode("utf-8")).digest(), "big")
    chars = []
    for _ in range(22):
        number, digit = divmod(number, 62)
        chars.append(_BASE62[digit])
    return "".join(chars)


@dataclass
class Artist:
    id: str
    name: str
    genres: list[str]
    followers: int
    popularity: int
    has_images: bool = True


@dataclass
class Album:
    id: str
    name: str
    album_type: str  # album, single, compilation
    artist_ids: list[str]  # primary artist first
    release_date: str
    release_date_precision: str
    track_ids: list[str] = field(default_factory=list)


@dataclass
class Track:
    id: str
    name: str
    album_id: str
    artist_ids: list[str]
    track_number: int
    duration_ms: int
    popularity: int
    explicit: bool


@dataclass
class User:
    id: str
    display_name: str
    email: str
    country: str
    product: str


_TRACK_WORDS = (
    "Low Tide",
    "Paper Moon",
    "Static Bloom",
    "Glass Coast",
    "Night Ferry",
    "Copper Sky",
    "Slow Signal",
    "Harbor Lights",
    "Corazón de Neón",
    "夜の海",
    "Heart 💙 Signal",
    "A Very Long Title That Keeps Going Well Past Any Sensible Column Width (Extended Mix)",
)


class Catalog:
    """One user, five artists, their albums and tracks; the same on every run.

    ``big_artist_id`` has 23 albums in its discography (10 album, 9 single, 2 compilation,
    2 appears_on); ``followed`` holds three artist ids (the third has no images); compilation
    "Live & Rare" has 23 tracks.
    """

    def __init__(self) -> None:
        self.user = User(
            id="hookline-tester",
            display_name="Hookline Tester",
            email="tester@example.invalid",
            country="SE",
            product="premium",
        )
        specs = [
            ("Nova Harbor", ["dream pop", "indie"], 48_210, 61, True),
            ("Kite Parade", ["indie rock"], 9_120, 44, True),
            ("Los Relámpagos", ["cumbia"], 150_300, 70, False),
            ("東京 Echo Club", ["city pop"], 2_300, 31, True),
            ("Mirela Dunn", ["singer-songwriter"], 780, 18, True),
        ]
        self.artists: dict[str, Artist] = {}
        for name, genres, followers, popularity, images in specs:
            artist_id = spotify_id("artist:" + name)
            self.artists[artist_id] = Artist(artist_id, name, genres, followers, popularity, images)
        ids = list(self.artists)
        self.big_artist_id = ids[0]
        self.followed = [ids[0], ids[1], ids[2]]
        self.albums: dict[str, Album] = {}
        self.tracks: dict[str, Track] = {}
        nova, kite = ids[0], ids[1]
        for n in range(10):
            self._add_album(f"Harbor Lights Vol. {n + 1}", "album", [nova], 2024 - n, 4 + n % 3, n)
        for n in range(9):
            self._add_album(f"Signal {n + 1}", "single", [nova], 2023 - n, 1 + n % 2, n)
        self._add_album("The Early Tapes", "compilation", [nova], 2012, 8, 0)
        self._add_album("Live & Rare", "compilation", [nova], 2015, 23, 1)
        self._add_album("Paper Skies", "album", [kite, nova], 2021, 5, 2)
        self._add_album("Kite Parade & Friends", "album", [kite, nova], 2019, 6, 0)
        self._add_album("Flutter", "single", [kite], 2022, 2, 1)
        for index, artist_id in enumerate(ids[2:], start=2):
            name = self.artists[artist_id].name
            self._add_album(f"{name} (Debut)", "album", [artist_id], 2018 + index, 5, index)
            self._add_album(f"{name} Single", "single", [artist_id], 2020 + index, 2, index)

    def _add_album(
        self, name: str, album_type: str, artist_ids: list[str], year: int, tracks: int, n: int
    ) -> None:
        album_id = spotify_id("album:" + name)
        precision = ("day", "month", "year")[n % 3] if n < 3 else "day"
        date = {"day": f"{year}-0{1 + n % 9}-1{n % 10}", "month": f"{year}-0{1 + n % 9}"}
        album = Album(
            album_id,
            name,
            album_type,
            artist_ids,
            date.get(precision, str(year)),
            precision,
        )
        for number in range(1, tracks + 1):
            seed = f"track:{name}:{number}"
            digest = hashlib.sha256(seed.encode()).digest()
            track = Track(
                id=spotify_id(seed),
                name=_TRACK_WORDS[digest[0] % len(_TRACK_WORDS)],
                album_id=album_id,
                artist_ids=list(artist_ids),
                track_number=number,
                duration_ms=120_000 + int.from_bytes(digest[1:3], "big") * 3,
                popularity=digest[3] % 101,
                explicit=digest[4] % 7 == 0,
            )
            self.tracks[track.id] = track
            album.track_ids.append(track.id)
        self.albums[album_id] = album

    def discography(self, artist_id: str) -> list[tuple[Album, str]]:
        """(album, album_group) for an artist, ordered album, single, compilation, appears_on,
        newest first within each group."""
        order = {"album": 0, "single": 1, "compilation": 2, "appears_on": 3}
        entries = []
        for album in self.albums.values():
            if artist_id not in album.artist_ids:
                continue
            group = album.album_type if album.artist_ids[0] == artist_id else "appears_on"
            entries.append((album, group))
        entries.sort(key=lambda e: (order[e[1]], _negated_date(e[0].release_date), e[0].name))
        return entries

    def top_artists(self, time_range: str) -> list[Artist]:
        ids = list(self.artists)
        order = {
            "medium_term": [0, 2, 1, 3, 4],
            "short_term": [3, 0, 4, 2, 1],
            "long_term": [2, 1, 0, 4, 3],
        }[time_range]
        return [self.artists[ids[i]] for i in order]

    def top_tracks(self, time_range: str) -> list[Track]:
        ranked = sorted(
            self.tracks.values(),
            key=lambda t: hashlib.sha256((time_range + t.id).encode()).digest(),
        )
        return ranked[:50]


def _negated_date(date: str) -> tuple[int, ...]:
    return tuple(-int(part) for part in date.split("-"))


def _png_1x1(seed: str) -> bytes:
    """A valid 1x1 RGB PNG whose colour is derived from ``seed``."""
    rgb = hashlib.sha256(seed.encode()).digest()[:3]

    def chunk(tag: bytes, data: bytes) -> bytes:
        crc = zlib.crc32(tag + data) & 0xFFFFFFFF
        return struct.pack(">I", len(data)) + tag + data + struct.pack(">I", crc)

    header = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"\x00" + rgb))
        + chunk(b"IEND", b"")
    )


# ----------------------------------------------------------------------------------------------
# The server


@dataclass(frozen=True)
class RecordedRequest:
    """One request as received: ``query`` keeps the first value of each parameter."""

    method: str
    path: str
    query: dict[str, str]
    authorized: bool


@dataclass
class _Scenario:
    kind: str
    path: str | None
    count: int
    options: dict[str, Any]


@dataclass
class _Reply:
    status: int
    body: bytes = b""
    content_type: str = "application/json; charset=utf-8"
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class _Code:
    client_id: str
    redirect_uri: str
    challenge: str
    scope: str


@dataclass
class _AccessGrant:
    scope: str
    expires_at: float  # time.monotonic() seconds
    revoked: bool = False


class _ApiError(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


class _TokenError(Exception):
    def __init__(self, error: str, description: str) -> None:
        super().__init__(description)
        self.error = error
        self.description = description


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False
    fake: FakeSpotify


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.0"  # one request per connection: nothing lingers after stop()
    server: _Server

    def do_GET(self) -> None:
        self._handle("GET")

    def do_POST(self) -> None:
        self._handle("POST")

    def do_PUT(self) -> None:
        self._handle("PUT")

    def do_DELETE(self) -> None:
        self._handle("DELETE")

    def _handle(self, method: str) -> None:
        fake = self.server.fake
        try:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length > 0 else b""
            reply = fake._serve(method, self.path, dict(self.headers.items()), body)
        except Exception as exc:  # a bug in the fake: make the test fail, answer something
            with fake._lock:
                fake.validation_errors.append(f"{method} {self.path}: fake crashed: {exc!r}")
            reply = _json_reply(500, {"error": {"status": 500, "message": "fake crashed"}})
        self.send_response(reply.status)
        self.send_header("Content-Type", reply.content_type)
        self.send_header("Content-Length", str(len(reply.body)))
        for name, value in reply.headers.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(reply.body)

    def log_message(self, format: str, *args: Any) -> None:
        return


class FakeSpotify:
    """The stand-in server. Bind happens in ``__init__`` (so ``url`` is known at once);
    ``start()`` begins serving from a thread and returns self; ``stop()`` ends it.

    All public methods are safe to call from the test thread while requests are served.
    """

    def __init__(
        self,
        *,
        client_id: str = DEFAULT_CLIENT_ID,
        mode: str = "development",
        access_token_ttl: int = 3600,
        contract: SpotifyContract | None = None,
    ) -> None:
        self.contract = contract or load_contract()
        self.client_id = client_id
        self._mode = "development"
        self.mode = mode
        #: seconds an access token lives; reported as ``expires_in``.
        self.access_token_ttl = access_token_ttl
        #: answer /authorize with this state instead of the client's (wrong-state test).
        self.authorize_state: str | None = None
        #: redirect with ``error=<this>`` instead of a code (e.g. "access_denied").
        self.authorize_error: str | None = None
        self.catalog = Catalog()
        self.requests: list[RecordedRequest] = []
        self.validated = 0
        self.validation_errors: list[str] = []
        self.deliberately_invalid = 0
        #: (method, path, status) of responses the operation did not declare (see module doc).
        self.fallback_validated: list[tuple[str, str, int]] = []
        self._lock = threading.RLock()
        self._stopping = threading.Event()
        self._scenarios: list[_Scenario] = []
        self._codes: dict[str, _Code] = {}
        self._access: dict[str, _AccessGrant] = {}
        self._refresh: dict[str, str] = {}  # refresh token -> scope
        self._httpd = _Server(("127.0.0.1", 0), _Handler)
        self._httpd.fake = self
        self.port = int(self._httpd.server_address[1])
        self.url = f"http://127.0.0.1:{self.port}"
        self.api_prefix = self.url + "/v1/"
        self.authorize_url = self.url + "/authorize"
        self.token_url = self.url + "/api/token"
        self._thread: threading.Thread | None = None

    # -- life cycle ----------------------------------------------------------------------------

    def start(self) -> FakeSpotify:
        if self._thread is not None:
            raise RuntimeError("FakeSpotify already started")
        self._thread = threading.Thread(
            target=self._httpd.serve_forever,
            kwargs={"poll_interval": 0.02},  # stop() waits for at most one poll
            name=f"fake-spotify-{self.port}",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and close the socket; sleeping "slow" answers wake up and finish."""
        self._stopping.set()
        if self._thread is not None:
            self._httpd.shutdown()
            self._thread.join(timeout=5)
        self._httpd.server_close()

    def __enter__(self) -> FakeSpotify:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- switches ------------------------------------------------------------------------------

    @property
    def mode(self) -> str:
        return self._mode

    @mode.setter
    def mode(self, value: str) -> None:
        if value not in MODES:
            raise ValueError(f"mode must be one of {MODES}, not {value!r}")
        self._mode = value

    def set_artist_stats(
        self, artist_id: str, *, followers: int | None = None, popularity: int | None = None
    ) -> None:
        """Change what extended mode reports for an artist (followers >= 0, popularity 0..100)."""
        with self._lock:
            artist = self.catalog.artists[artist_id]
            if followers is not None:
                if followers < 0:
                    raise ValueError("followers must be >= 0")
                artist.followers = int(followers)
            if popularity is not None:
                if not 0 <= popularity <= 100:
                    raise ValueError("popularity must be within 0..100")
                artist.popularity = int(popularity)

    def inject(self, kind: str, *, path: str | None = None, count: int = 1, **options: Any) -> None:
        """Queue a scenario for the next ``count`` requests whose path starts with ``path``.

        ``path=None`` matches any ``/v1/`` request; an explicit prefix may also name
        ``/api/token`` or ``/authorize``. Scenarios are matched in the order queued. Kinds:

        - ``"status"``, ``status=500`` (400..599), optional ``message``: that status and the
          spec's error body.
        - ``"rate_limit"``, ``retry_after=1`` (seconds, may be hours), optional
          ``reason="QUOTA_EXCEEDED"``: 429 with ``Retry-After`` and the error body (``reason``
          inside the error object when given).
        - ``"malformed"``: 200, application/json, the normal body cut in half (not validated,
          counted in ``deliberately_invalid``).
        - ``"slow"``, ``seconds=1.0``: wait, then answer normally.
        - ``"drop_field"``, ``field="total"`` (dot path, list indices as digits): the normal
          answer without that key, validated like any other (test-only: proves the validator).
        """
        allowed: dict[str, dict[str, Any]] = {
            "status": {"status": None, "message": "Server error"},
            "rate_limit": {"retry_after": 1, "reason": None},
            "malformed": {},
            "slow": {"seconds": 1.0},
            "drop_field": {"field": None},
        }
        if kind not in allowed:
            raise ValueError(f"unknown scenario kind {kind!r}; expected one of {SCENARIO_KINDS}")
        unknown = set(options) - set(allowed[kind])
        if unknown:
            raise TypeError(f"scenario {kind!r} takes no option(s) {sorted(unknown)}")
        if count < 1:
            raise ValueError("count must be >= 1")
        merged = {**allowed[kind], **options}
        if kind == "status" and not (
            isinstance(merged["status"], int) and 400 <= merged["status"] <= 599
        ):
            raise ValueError("status must be an int within 400..599")
        if kind == "rate_limit" and not (
            isinstance(merged["retry_after"], int) and merged["retry_after"] >= 0
        ):
            raise ValueError("retry_after must be an int >= 0 (seconds)")
        if kind == "slow" and not float(merged["seconds"]) >= 0:
            raise ValueError("seconds must be >= 0")
        if kind == "drop_field" and not merged["field"]:
            raise ValueError("drop_field needs field=...")
        with self._lock:
            self._scenarios.append(_Scenario(kind, path, count, merged))

    @property
    def pending_scenarios(self) -> int:
        """How many scenario answers are still queued."""
        with self._lock:
            return sum(s.count for s in self._scenarios)

    def issue_tokens(self, scope: str | None = None) -> dict[str, Any]:
        """A fresh token pair without the OAuth dance; the same shape /api/token answers."""
        with self._lock:
            return self._new_tokens(" ".join(ALL_SCOPES) if scope is None else scope)

    def expire_access_tokens(self) -> None:
        """Every access token issued so far is refused (401 "The access token expired")."""
        with self._lock:
            for grant in self._access.values():
                grant.revoked = True

    # -- request entry point -------------------------------------------------------------------

    def _serve(self, method: str, raw_path: str, headers: dict[str, str], body: bytes) -> _Reply:
        split = urlsplit(raw_path)
        path = split.path
        query = {k: v[0] for k, v in parse_qs(split.query, keep_blank_values=True).items()}
        lower_headers = {k.lower(): v for k, v in headers.items()}
        token_state = self._token_state(lower_headers.get("authorization"))
        with self._lock:
            self.requests.append(RecordedRequest(method, path, query, token_state == "ok"))
        is_api = path == "/v1" or path.startswith("/v1/")
        scenario = self._take_scenario(path, is_api)
        if scenario is not None and scenario.kind == "slow":
            self._stopping.wait(float(scenario.options["seconds"]))
        if scenario is not None and scenario.kind in ("status", "rate_limit"):
            reply = self._scenario_reply(scenario, is_api, path)
        else:
            reply = self._route(method, path, query, lower_headers, body, token_state, is_api)
        if scenario is not None and scenario.kind == "malformed":
            reply = _Reply(200, reply.body[: max(1, len(reply.body) // 2)] or b"{")
            with self._lock:
                self.deliberately_invalid += 1
            return reply
        if scenario is not None and scenario.kind == "drop_field":
            reply.body = _drop(reply.body, str(scenario.options["field"]))
        self._validate(method, path, reply, is_api)
        return reply

    def _take_scenario(self, path: str, is_api: bool) -> _Scenario | None:
        with self._lock:
            for scenario in self._scenarios:
                matches = is_api if scenario.path is None else path.startswith(scenario.path)
                if matches:
                    scenario.count -= 1
                    if scenario.count == 0:
                        self._scenarios.remove(scenario)
                    return scenario
        return None

    def _scenario_reply(self, scenario: _Scenario, is_api: bool, path: str) -> _Reply:
        if scenario.kind == "status":
            status = int(scenario.options["status"])
            message = str(scenario.options["message"])
            headers: dict[str, str] = {}
            token_error = "server_error" if status >= 500 else "invalid_request"
        else:
            status = 429
            message = "API rate limit exceeded"
            headers = {"Retry-After": str(scenario.options["retry_after"])}
            token_error = "temporarily_unavailable"
        if is_api:
            error: dict[str, Any] = {"status": status, "message": message}
            if scenario.kind == "rate_limit" and scenario.options["reason"] is not None:
                error["reason"] = scenario.options["reason"]
            return _json_reply(status, {"error": error}, headers)
        if path == "/api/token":
            body = {"error": token_error, "error_description": message}
            return _json_reply(status, body, headers)
        return _Reply(status, message.encode(), "text/plain; charset=utf-8", headers)

    def _validate(self, method: str, path: str, reply: _Reply, is_api: bool) -> None:
        if is_api:
            # The service accepts a trailing slash (spotipy sends "me/"); the contract has none.
            path = path.rstrip("/")
            error, fallback = self.contract.check(
                method, path, reply.status, reply.content_type, reply.body
            )
        elif path == "/api/token":
            error, fallback = _check_token_body(reply), False
        else:
            return
        with self._lock:
            self.validated += 1
            if fallback:
                self.fallback_validated.append((method, path, reply.status))
            if error is not None:
                self.validation_errors.append(f"{method} {path} -> {reply.status}: {error}")

    def _route(
        self,
        method: str,
        path: str,
        query: dict[str, str],
        headers: dict[str, str],
        body: bytes,
        token_state: str,
        is_api: bool,
    ) -> _Reply:
        if path == "/authorize" and method == "GET":
            return self._authorize(query)
        if path == "/api/token" and method == "POST":
            form = {k: v[0] for k, v in parse_qs(body.decode("utf-8", "replace")).items()}
            try:
                with self._lock:
                    return _json_reply(200, self._token(form))
            except _TokenError as exc:
                return _json_reply(400, {"error": exc.error, "error_description": exc.description})
        if path.startswith("/images/") and method == "GET":
            return _Reply(200, _png_1x1(path), "image/png")
        if not is_api:
            return _Reply(404, b"Not found", "text/plain; charset=utf-8")
        try:
            if token_state != "ok":
                message = {
                    "missing": "No token provided",
                    "expired": "The access token expired",
                    "invalid": "Invalid access token",
                }[token_state]
                raise _ApiError(401, message)
            scope = self._scope_of(headers["authorization"])
            with self._lock:
                return _json_reply(200, self._api(method, path.rstrip("/"), query, scope))
        except _ApiError as exc:
            return _json_reply(
                exc.status, {"error": {"status": exc.status, "message": exc.message}}
            )

    # -- accounts ------------------------------------------------------------------------------

    def _authorize(self, query: dict[str, str]) -> _Reply:
        def refuse(text: str) -> _Reply:
            return _Reply(400, text.encode("utf-8"), "text/plain; charset=utf-8")

        if query.get("client_id") != self.client_id:
            return refuse("INVALID_CLIENT: Invalid client")
        if query.get("response_type") != "code":
            return refuse("unsupported_response_type: response_type must be code")
        redirect_uri = query.get("redirect_uri", "")
        if not _loopback_redirect_ok(redirect_uri):
            return refuse("INVALID_CLIENT: Insecure redirect URI")
        if query.get("code_challenge_method") != "S256":
            return refuse("invalid_request: code_challenge_method must be S256")
        challenge = query.get("code_challenge", "")
        if not _CHALLENGE_RE.match(challenge):
            return refuse("invalid_request: code_challenge must be 43..128 base64url characters")
        state = self.authorize_state if self.authorize_state is not None else query.get("state")
        params: dict[str, str] = {}
        if self.authorize_error is not None:
            params["error"] = self.authorize_error
        else:
            code = secrets.token_urlsafe(32)
            with self._lock:
                self._codes[code] = _Code(
                    self.client_id, redirect_uri, challenge, query.get("scope", "")
                )
            params["code"] = code
        if state is not None:
            params["state"] = state
        joiner = "&" if urlsplit(redirect_uri).query else "?"
        location = redirect_uri + joiner + urlencode(params)
        return _Reply(302, b"", "text/plain; charset=utf-8", {"Location": location})

    def _token(self, form: dict[str, str]) -> dict[str, Any]:
        grant_type = form.get("grant_type")
        if form.get("client_id") != self.client_id:
            raise _TokenError("invalid_client", "Invalid client")
        if grant_type == "authorization_code":
            code = self._codes.pop(form.get("code", ""), None)  # single use, even on failure
            if code is None:
                raise _TokenError("invalid_grant", "Invalid authorization code")
            if form.get("redirect_uri") != code.redirect_uri:
                raise _TokenError("invalid_grant", "Invalid redirect URI")
            verifier = form.get("code_verifier", "")
            digest = hashlib.sha256(verifier.encode("utf-8")).digest()
            if base64.urlsafe_b64encode(digest).rstrip(b"=").decode() != code.challenge:
                raise _TokenError("invalid_grant", "code_verifier was incorrect")
            return self._new_tokens(code.scope)
        if grant_type == "refresh_token":
            scope = self._refresh.pop(form.get("refresh_token", ""), None)  # rotation
            if scope is None:
                raise _TokenError("invalid_grant", "Invalid refresh token")
            return self._new_tokens(scope)
        if not grant_type:
            raise _TokenError("invalid_request", "grant_type must be provided")
        raise _TokenError("unsupported_grant_type", f"grant_type {grant_type} is not supported")

    def _new_tokens(self, scope: str) -> dict[str, Any]:
        access = secrets.token_urlsafe(48)
        refresh = secrets.token_urlsafe(48)
        ttl = int(self.access_token_ttl)
        self._access[access] = _AccessGrant(scope, time.monotonic() + ttl)
        self._refresh[refresh] = scope
        return {
            "access_token": access,
            "token_type": "Bearer",
            "expires_in": ttl,
            "refresh_token": refresh,
            "scope": scope,
        }

    def _token_state(self, authorization: str | None) -> str:
        if not authorization:
            return "missing"
        kind, _, token = authorization.partition(" ")
        if kind.lower() != "bearer" or not token:
            return "invalid"
        with self._lock:
            grant = self._access.get(token.strip())
            if grant is None:
                return "invalid"
            if grant.revoked or time.monotonic() >= grant.expires_at:
                return "expired"
        return "ok"

    def _scope_of(self, authorization: str) -> set[str]:
        token = authorization.partition(" ")[2].strip()
        with self._lock:
            return set(self._access[token].scope.split())

    # -- Web API -------------------------------------------------------------------------------

    def _api(self, method: str, path: str, query: dict[str, str], scope: set[str]) -> Any:
        parts = path.split("/")[2:]  # after "", "v1"
        if method != "GET":
            raise _ApiError(405, "Method not allowed")
        match parts:
            case ["me"]:
                return self._me(scope)
            case ["me", "top", ("artists" | "tracks") as kind]:
                _need(scope, "user-top-read")
                return self._top(kind, query)
            case ["me", "following"]:
                _need(scope, "user-follow-read")
                return self._following(query)
            case ["artists"]:
                return {"artists": self._several(query, "artists")}
            case ["artists", artist_id]:
                return self._artist_json(self._get_artist(artist_id))
            case ["artists", artist_id, "albums"]:
                return self._artist_albums(artist_id, query)
            case ["artists", artist_id, "top-tracks"]:
                return self._artist_top_tracks(artist_id)
            case ["albums", album_id, "tracks"]:
                return self._album_tracks(album_id, query)
            case ["tracks"]:
                return {"tracks": self._several(query, "tracks")}
            case ["tracks", track_id]:
                return self._track_json(self._get(self.catalog.tracks, track_id))
            case ["search"]:
                return self._search(query)
        raise _ApiError(404, "Service not found")

    @property
    def _extended(self) -> bool:
        return self._mode == "extended"

    def _limit(self, query: dict[str, str], default: int, *, capped: bool = False) -> int:
        maximum = 10 if capped and not self._extended else 50
        return _int_param(query, "limit", default, 1, maximum)

    def _me(self, scope: set[str]) -> dict[str, Any]:
        user = self.catalog.user
        body: dict[str, Any] = {
            "display_name": user.display_name,
            "external_urls": {"spotify": f"https://open.spotify.com/user/{user.id}"},
            "href": f"{self.api_prefix}users/{user.id}",
            "id": user.id,
            "images": [],
            "type": "user",
            "uri": f"spotify:user:{user.id}",
        }
        if "user-read-email" in scope:
            body["email"] = user.email
        if "user-read-private" in scope:
            body["country"] = user.country
            body["product"] = user.product
            body["explicit_content"] = {"filter_enabled": False, "filter_locked": False}
        return body

    def _top(self, kind: str, query: dict[str, str]) -> dict[str, Any]:
        time_range = query.get("time_range", "medium_term")
        if time_range not in ("short_term", "medium_term", "long_term"):
            raise _ApiError(400, "Invalid time range")
        limit = self._limit(query, 20)
        offset = _int_param(query, "offset", 0, 0, 10_000)
        items: list[Any]
        if kind == "artists":
            items = [self._artist_json(a) for a in self.catalog.top_artists(time_range)]
        else:
            items = [self._track_json(t) for t in self.catalog.top_tracks(time_range)]
        extra = {"time_range": time_range} if "time_range" in query else {}
        return self._page(f"me/top/{kind}", extra, items, limit, offset)

    def _following(self, query: dict[str, str]) -> dict[str, Any]:
        if query.get("type") != "artist":
            raise _ApiError(400, "Bad or missing type")  # the only type GET supports
        limit = self._limit(query, 20)
        ids = self.catalog.followed
        start = 0
        if "after" in query:
            if query["after"] not in ids:
                raise _ApiError(400, "Invalid after")
            start = ids.index(query["after"]) + 1
        chosen = ids[start : start + limit]
        more = start + limit < len(ids)
        after = chosen[-1] if chosen and more else None

        def link(after_id: str | None) -> str:
            params = {"type": "artist", "limit": str(limit)}
            if after_id:
                params["after"] = after_id
            return f"{self.api_prefix}me/following?{urlencode(params)}"

        return {
            "artists": {
                "href": link(query.get("after")),
                "limit": limit,
                "next": link(after) if after else None,
                "cursors": {"after": after},
                "total": len(ids),
                "items": [self._artist_json(self.catalog.artists[i]) for i in chosen],
            }
        }

    def _several(self, query: dict[str, str], kind: str) -> list[Any]:
        if not self._extended:
            raise _ApiError(403, "Multiple-id lookups are not available in development mode")
        raw = query.get("ids", "")
        ids = [i for i in raw.split(",") if i] if raw else []
        if not ids:
            raise _ApiError(400, "invalid ids")
        if len(ids) > 50:
            raise _ApiError(400, "Too many ids requested")
        out: list[Any] = []
        for item_id in ids:
            if not _ID_RE.match(item_id):
                raise _ApiError(400, "invalid id")
            if kind == "artists":
                artist = self.catalog.artists.get(item_id)
                out.append(None if artist is None else self._artist_json(artist))
            else:
                track = self.catalog.tracks.get(item_id)
                out.append(None if track is None else self._track_json(track))
        return out

    def _get_artist(self, artist_id: str) -> Artist:
        return self._get(self.catalog.artists, artist_id)

    def _get(self, table: dict[str, _T], item_id: str) -> _T:
        if not _ID_RE.match(item_id):
            raise _ApiError(400, "invalid id")
        try:
            return table[item_id]
        except KeyError:
            raise _ApiError(404, "Resource not found") from None

    def _artist_albums(self, artist_id: str, query: dict[str, str]) -> dict[str, Any]:
        self._get_artist(artist_id)
        limit = self._limit(query, 5, capped=True)
        offset = _int_param(query, "offset", 0, 0, 10_000)
        groups_raw = query.get("include_groups", "")
        groups = {g.strip() for g in groups_raw.split(",") if g.strip()}
        valid = {"album", "single", "compilation", "appears_on"}
        if groups - valid:
            raise _ApiError(400, "Invalid include_groups")
        entries = [
            self._album_json(album, group)
            for album, group in self.catalog.discography(artist_id)
            if not groups or group in groups
        ]
        extra = {"include_groups": groups_raw} if groups_raw else {}
        return self._page(f"artists/{artist_id}/albums", extra, entries, limit, offset)

    def _artist_top_tracks(self, artist_id: str) -> dict[str, Any]:
        if not self._extended:
            raise _ApiError(403, "Artist top tracks are not available in development mode")
        self._get_artist(artist_id)
        tracks = [t for t in self.catalog.tracks.values() if t.artist_ids[0] == artist_id]
        tracks.sort(key=lambda t: (-t.popularity, t.id))
        return {"tracks": [self._track_json(t) for t in tracks[:10]]}

    def _album_tracks(self, album_id: str, query: dict[str, str]) -> dict[str, Any]:
        album = self._get(self.catalog.albums, album_id)
        limit = self._limit(query, 20)
        offset = _int_param(query, "offset", 0, 0, 10_000)
        items = [self._track_json(self.catalog.tracks[t], full=False) for t in album.track_ids]
        return self._page(f"albums/{album_id}/tracks", {}, items, limit, offset)

    def _search(self, query: dict[str, str]) -> dict[str, Any]:
        text = query.get("q", "")
        if not text.strip():
            raise _ApiError(400, "No search query")
        types = [t for t in query.get("type", "").split(",") if t]
        known = ("album", "artist", "playlist", "track", "show", "episode", "audiobook")
        if not types or any(t not in known for t in types):
            raise _ApiError(400, "Bad search type field")
        limit = self._limit(query, 5, capped=True)
        offset = _int_param(query, "offset", 0, 0, 1000)
        words = [w.partition(":")[2] or w for w in text.casefold().split()]

        def hit(name: str) -> bool:
            folded = name.casefold()
            return all(w in folded for w in words)

        result: dict[str, Any] = {}
        extra = {"q": text, "type": query["type"]}
        for kind in types:
            items: list[Any] = []
            if kind == "artist":
                items = [self._artist_json(a) for a in self.catalog.artists.values() if hit(a.name)]
            elif kind == "album":
                items = [self._album_json(a) for a in self.catalog.albums.values() if hit(a.name)]
            elif kind == "track":
                items = [self._track_json(t) for t in self.catalog.tracks.values() if hit(t.name)]
            result[kind + "s"] = self._page("search", extra, items, limit, offset)
        return result

    def _page(
        self, path: str, extra: dict[str, str], items: list[Any], limit: int, offset: int
    ) -> dict[str, Any]:
        total = len(items)

        def link(at: int) -> str:
            return f"{self.api_prefix}{path}?{urlencode({**extra, 'offset': at, 'limit': limit})}"

        return {
            "href": link(offset),
            "items": items[offset : offset + limit],
            "limit": limit,
            "next": link(offset + limit) if offset + limit < total else None,
            "offset": offset,
            "previous": link(max(0, offset - limit)) if offset > 0 else None,
            "total": total,
        }

    # -- JSON objects --------------------------------------------------------------------------

    def _images(self, key: str) -> list[dict[str, Any]]:
        return [
            {"url": f"{self.url}/images/{key}-{size}.png", "height": size, "width": size}
            for size in (640, 320, 160)
        ]

    def _artist_simple(self, artist: Artist) -> dict[str, Any]:
        return {
            "external_urls": {"spotify": f"https://open.spotify.com/artist/{artist.id}"},
            "href": f"{self.api_prefix}artists/{artist.id}",
            "id": artist.id,
            "name": artist.name,
            "type": "artist",
            "uri": f"spotify:artist:{artist.id}",
        }

    def _artist_json(self, artist: Artist) -> dict[str, Any]:
        body = self._artist_simple(artist)
        body["genres"] = list(artist.genres)
        body["images"] = self._images(artist.id) if artist.has_images else []
        if self._extended:
            body["followers"] = {"href": None, "total": artist.followers}
            body["popularity"] = artist.popularity
        return body

    def _album_json(self, album: Album, group: str | None = None) -> dict[str, Any]:
        body: dict[str, Any] = {
            "album_type": album.album_type,
            "total_tracks": len(album.track_ids),
            "available_markets": ["DE", "SE", "US"],
            "external_urls": {"spotify": f"https://open.spotify.com/album/{album.id}"},
            "href": f"{self.api_prefix}albums/{album.id}",
            "id": album.id,
            "images": self._images(album.id),
            "name": album.name,
            "release_date": album.release_date,
            "release_date_precision": album.release_date_precision,
            "type": "album",
            "uri": f"spotify:album:{album.id}",
            "artists": [self._artist_simple(self.catalog.artists[a]) for a in album.artist_ids],
        }
        if group is not None:
            body["album_group"] = group
        return body

    def _track_json(self, track: Track, *, full: bool = True) -> dict[str, Any]:
        body: dict[str, Any] = {
            "artists": [self._artist_simple(self.catalog.artists[a]) for a in track.artist_ids],
            "available_markets": ["DE", "SE", "US"],
            "disc_number": 1,
            "duration_ms": track.duration_ms,
            "explicit": track.explicit,
            "external_urls": {"spotify": f"https://open.spotify.com/track/{track.id}"},
            "href": f"{self.api_prefix}tracks/{track.id}",
            "id": track.id,
            "is_local": False,
            "name": track.name,
            "preview_url": None,
            "track_number": track.track_number,
            "type": "track",
            "uri": f"spotify:track:{track.id}",
        }
        if full:
            body["album"] = self._album_json(self.catalog.albums[track.album_id])
            body["external_ids"] = {"isrc": "XX" + track.id[:10].upper()}
            if self._extended:
                body["popularity"] = track.popularity
        return body


# ----------------------------------------------------------------------------------------------
# Helpers


def _json_reply(status: int, body: Any, headers: dict[str, str] | None = None) -> _Reply:
    data = json.dumps(body, ensure_ascii=False).encode("utf-8")
    return _Reply(status, data, "application/json; charset=utf-8", dict(headers or {}))


def _need(scope: set[str], wanted: str) -> None:
    if wanted not in scope:
        raise _ApiError(403, "Insufficient client scope")


def _int_param(query: dict[str, str], name: str, default: int, low: int, high: int) -> int:
    raw = query.get(name)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise _ApiError(400, f"Invalid {name}") from None
    if not low <= value <= high:
        raise _ApiError(400, f"Invalid {name}")
    return value


def _loopback_redirect_ok(uri: str) -> bool:
    """True for the literal ``http://127.0.0.1:PORT/...`` or ``http://[::1]:PORT/...``, printable
    ASCII only (it ends up in a Location header)."""
    if not uri or any(not "!" <= c <= "~" for c in uri):
        return False
    try:
        parts = urlsplit(uri)
        port = parts.port
    except ValueError:
        return False
    if parts.scheme != "http" or port is None or port == 0 or "#" in uri:
        return False
    return parts.netloc in (f"127.0.0.1:{port}", f"[::1]:{port}")


def _check_token_body(reply: _Reply) -> str | None:
    try:
        value = json.loads(reply.body)
    except ValueError as exc:
        return f"token endpoint body is not JSON: {exc}"
    schema = TOKEN_RESPONSE_SCHEMA if reply.status == 200 else TOKEN_ERROR_SCHEMA
    errors = [
        f"{e.json_path}: {e.message}"
        for e in jsonschema.Draft202012Validator(schema).iter_errors(value)
    ]
    return "; ".join(errors) or None


def _drop(body: bytes, dotted: str) -> bytes:
    """``body`` (JSON) without the key at ``dotted``; unchanged when the key is not there."""
    value = json.loads(body)
    node: Any = value
    keys = dotted.split(".")
    for key in keys[:-1]:
        node = node[int(key)] if isinstance(node, list) else node.get(key, {})
    if isinstance(node, dict):
        node.pop(keys[-1], None)
    return json.dumps(value, ensure_ascii=False).encode("utf-8")


# ----------------------------------------------------------------------------------------------
# The fixture


@pytest.fixture
def spotify_server() -> Iterator[FakeSpotify]:
    """A started ``FakeSpotify`` (development mode); fails the test if any response it sent
    broke the contract."""
    with FakeSpotify() as server:
        yield server
    assert server.validation_errors == [], "\n".join(server.validation_errors)


__all__ = [
    "ALL_SCOPES",
    "DEFAULT_CLIENT_ID",
    "SPEC_PATCHES",
    "TOKEN_ERROR_SCHEMA",
    "TOKEN_RESPONSE_SCHEMA",
    "Catalog",
    "FakeSpotify",
    "RecordedRequest",
    "SpotifyContract",
    "load_contract",
    "spotify_id",
    "spotify_server",
]
