"""The team-sync wire protocol, shared by the server and the desktop client (app/sync).

Everything here is pure Python (no FastAPI, no pycrdt), so both sides import it.

HTTP, JSON for everything but update batches. Errors are ``{"error": {"code": CODE,
"message": TEXT}}`` with one of :data:`ERROR_CODES`. Authentication is ``Authorization: Bearer
<access token>``; access tokens are short-lived, refresh tokens rotate on every use.

Endpoints (all under :data:`API_PREFIX`)::

    POST   /auth/register                {email, password, name}        -> 201 {user_id}
    POST   /auth/login                   {email, password}              -> {access_token,
                                                 access_expires_in, refresh_token, user_id}
    POST   /auth/refresh                 {refresh_token}                -> same as login (rotated)
    POST   /auth/logout                  {refresh_token}                -> 204
    GET    /me                                                          -> {user_id, email, name}
    POST   /teams                        {name}                         -> 201 {team_id}
    GET    /teams                                                       -> {teams: [{team_id,
                                                                           name, role}]}
    GET    /teams/{team_id}/members                                     -> {members: [{user_id,
                                                                           name, role}]}
    PUT    /teams/{team_id}/members/{user_id}   {role}   (owner)        -> 204
    DELETE /teams/{team_id}/members/{user_id}            (owner)        -> 204
    POST   /teams/{team_id}/invitations  {role, expires_in_s} (owner)   -> 201 {token}
    POST   /invitations/{token}/accept                                  -> {team_id, role}
    POST   /teams/{team_id}/projects     {project_id, name} (editor+)   -> 201 {project_id}
    GET    /teams/{team_id}/projects                                    -> {projects: [{project_id,
                                                                           name, revision}]}
    POST   /projects/{project_id}/updates   body: encode_push(...)  (editor+)
                                         -> {first_revision, revision, count}
    GET    /projects/{project_id}/updates?after=REV&wait=SECONDS  (viewer+)
                                         -> body: encode_pull(...), headers REVISION_HEADER
                                            (the project's newest revision) and, when the
                                            answer starts with a compacted snapshot,
                                            COMPACTED_HEADER (the snapshot's revision)
    PUT    /teams/{team_id}/blobs/{sha256}  raw bytes (editor+)         -> 201 {sha256, size}
    GET    /teams/{team_id}/blobs/{sha256}                  (viewer+)   -> raw bytes, or see
                                                                           BLOB_URL_CONTENT_TYPE
    POST   /teams/{team_id}/blobs/{sha256}/upload  {size}   (editor+)   -> {direct: true} or
                                          {direct: false, method: "PUT", url, upload_id,
                                           expires_in}
    POST   /teams/{team_id}/blobs/{sha256}/commit  {upload_id} (editor+) -> 201 {sha256, size}
    GET    /teams/{team_id}/activity?days=N                 (viewer+)   -> {days: [...]}
    GET    /projects/{project_id}/history?limit=N           (viewer+)   -> {changes: [{at,
                                              user_id, name, updates, bytes}], newest first}

Revisions of one project are 1, 2, 3, ... with no gaps, committed in order; a pull returns every
revision after ``after`` (or, when ``after`` is older than the last compaction, the compacted
snapshot first, then what came after it). ``wait`` > 0 makes the pull wait up to that many seconds
(at most :data:`MAX_WAIT_S`) for a revision after ``after`` before answering with none. A push is
idempotent in effect (Yjs updates are), so a client resends its outbox until a revision comes back.

Details added after version 1 was first written (compatible): ``user_id``, ``team_id`` are 32
lowercase hex digits like project ids; the HTTP status of each error code is
:data:`ERROR_STATUS`; each entry of ``activity``'s ``days`` is ``{day: "YYYY-MM-DD" (UTC),
pushes, updates, bytes, active_members}``, oldest first, one per day of the last N days
(1 <= N <= 366, default 30) including today; an invitation's ``expires_in_s`` defaults to 7 days.

Presigned blob transfers (added later, compatible; only where the server keeps blobs in an object
store that signs URLs). Download: a GET of a blob whose ``Accept`` header names
:data:`BLOB_URL_CONTENT_TYPE` may be answered with that content type and ``{url, method: "GET",
size, expires_in}`` instead of the bytes; the client fetches ``url`` without its bearer token and
checks the sha256 itself. Upload: ``POST .../blobs/{sha256}/upload`` with the byte count answers
``{direct: true}`` (PUT the bytes to ``.../blobs/{sha256}`` as before) or a presigned ``url`` to
PUT the bytes to (without the bearer token) within ``expires_in`` seconds, then ``POST
.../blobs/{sha256}/commit`` with the ``upload_id``: the server checks size and sha256 of what
arrived and only then records the blob (``bad_hash``/``too_large`` otherwise, ``not_found`` for an
unknown, expired or already committed upload). A client that gets ``not_found`` from ``/upload``
(a server from before this) PUTs directly. A failing object store answers ``unavailable`` (503,
with Retry-After); nothing is recorded then.
"""

from __future__ import annotations

import re
import struct
from collections.abc import Sequence

PROTOCOL_VERSION = 1
API_PREFIX = "/v1"
UPDATES_CONTENT_TYPE = "application/vnd.hookline.updates"
REVISION_HEADER = "X-Hookline-Revision"
COMPACTED_HEADER = "X-Hookline-Compacted"

MAX_PUSH_BYTES = 8 * 1024 * 1024
MAX_UPDATE_BYTES = 4 * 1024 * 1024
MAX_UPDATES_PER_PUSH = 1000
MAX_PULL_BYTES = 16 * 1024 * 1024  # a pull answers with at most this much; ask again for more
MAX_WAIT_S = 30.0
MAX_BLOB_BYTES = 512 * 1024 * 1024
BLOB_URL_CONTENT_TYPE = "application/vnd.hookline.blob-url+json"  # a presigned URL, not bytes
BLOB_URL_TTL_S = 300  # default lifetime of a presigned blob URL
ACCESS_TOKEN_TTL_S = 15 * 60
REFRESH_TOKEN_TTL_S = 30 * 24 * 3600

ROLES = ("viewer", "editor", "owner")
ERROR_CODES = (
    "bad_request",  # malformed JSON or parameters
    "unauthenticated",  # no, unknown, expired or revoked token; wrong password
    "forbidden",  # authenticated, but the role does not allow it
    "not_found",  # no such team/project/blob, or not visible to this user
    "conflict",  # already exists (email, project id)
    "too_large",  # over a MAX_* limit
    "bad_update",  # a Yjs update that does not decode or belongs elsewhere
    "bad_hash",  # blob bytes do not match the sha256 in the path
    "gone",  # invitation used or expired
    "rate_limited",  # too many login attempts; Retry-After says when to try again
    "unavailable",  # the blob store failed; nothing was recorded; Retry-After says when to retry
)

# The HTTP status that goes with each error code (added after version 1 was first written; the
# code in the body is what a client should look at).
ERROR_STATUS = {
    "bad_request": 400,
    "unauthenticated": 401,
    "forbidden": 403,
    "not_found": 404,
    "conflict": 409,
    "too_large": 413,
    "bad_update": 422,
    "bad_hash": 422,
    "gone": 410,
    "rate_limited": 429,
    "unavailable": 503,
}

_PUSH_MAGIC = b"HLU1"
_PULL_MAGIC = b"HLR1"
_SHA256 = re.compile(r"^[0-9a-f]{64}$")
_PROJECT_ID = re.compile(r"^[0-9a-f]{32}$")


class ProtocolError(ValueError):
    """A body or parameter that does not follow this protocol."""


class PushTooLarge(ProtocolError):
    """An update batch over :data:`MAX_UPDATES_PER_PUSH` updates or with an update over
    :data:`MAX_UPDATE_BYTES` (the server answers ``too_large``)."""


def role_at_least(role: str, needed: str) -> bool:
    return ROLES.index(role) >= ROLES.index(needed)


def is_sha256(text: str) -> bool:
    return bool(_SHA256.match(text))


def is_project_id(text: str) -> bool:
    """Project ids are uuid4 hex strings (32 lowercase hex digits), as the client makes them."""
    return bool(_PROJECT_ID.match(text))


def encode_push(updates: Sequence[bytes]) -> bytes:
    """``HLU1``, a u32 count, then per update a u32 length and the bytes (big-endian)."""
    parts = [_PUSH_MAGIC, struct.pack(">I", len(updates))]
    for update in updates:
        parts += [struct.pack(">I", len(update)), bytes(update)]
    return b"".join(parts)


def decode_push(
    body: bytes,
    *,
    max_updates: int = MAX_UPDATES_PER_PUSH,
    max_update_bytes: int = MAX_UPDATE_BYTES,
) -> list[bytes]:
    if len(body) < 8 or body[:4] != _PUSH_MAGIC:
        raise ProtocolError("not an update batch")
    (count,) = struct.unpack_from(">I", body, 4)
    if count == 0 or count > max_updates:
        error = PushTooLarge if count else ProtocolError
        raise error(f"an update batch holds 1 to {max_updates} updates, not {count}")
    updates, offset = [], 8
    for _ in range(count):
        if offset + 4 > len(body):
            raise ProtocolError("update batch truncated")
        (size,) = struct.unpack_from(">I", body, offset)
        offset += 4
        if size == 0 or size > max_update_bytes:
            error = PushTooLarge if size else ProtocolError
            raise error(f"an update is 1 to {max_update_bytes} bytes, not {size}")
        if offset + size > len(body):
            raise ProtocolError("update batch truncated")
        updates.append(body[offset : offset + size])
        offset += size
    if offset != len(body):
        raise ProtocolError("bytes after the last update")
    return updates


def encode_pull(entries: Sequence[tuple[int, bytes]]) -> bytes:
    """``HLR1``, a u32 count, then per entry a u64 revision, a u32 length and the bytes."""
    parts = [_PULL_MAGIC, struct.pack(">I", len(entries))]
    for revision, data in entries:
        parts += [struct.pack(">QI", revision, len(data)), bytes(data)]
    return b"".join(parts)


def decode_pull(body: bytes, *, max_update_bytes: int = MAX_PULL_BYTES) -> list[tuple[int, bytes]]:
    if len(body) < 8 or body[:4] != _PULL_MAGIC:
        raise ProtocolError("not a pull answer")
    (count,) = struct.unpack_from(">I", body, 4)
    entries, offset, last = [], 8, 0
    for _ in range(count):
        if offset + 12 > len(body):
            raise ProtocolError("pull answer truncated")
        revision, size = struct.unpack_from(">QI", body, offset)
        offset += 12
        if revision <= last or size > max_update_bytes or offset + size > len(body):
            raise ProtocolError("pull answer out of order or truncated")
        entries.append((revision, body[offset : offset + size]))
        offset += size
        last = revision
    if offset != len(body):
        raise ProtocolError("bytes after the last entry")
    return entries


# -- shared artist statistics --------------------------------------------------------------------
# A member may share a summary of their artist statistics with a team (PUT /teams/{t}/stats, JSON;
# GET lists the members' latest, DELETE stops sharing). Server and desktop both read it through
# clean_stats_snapshot: unknown keys are dropped, everything else is checked.

MAX_STATS_BYTES = 64 * 1024
MAX_STATS_SONGS = 50
STATS_VERSION = 1
_DAY = re.compile(r"\d{4}-\d{2}-\d{2}\Z")
_AUDIENCE = ("streams_28d", "listeners", "followers")
_SONG_NUMBERS = ("streams_total", "streams_28d")


def _stats_number(value: object, *, signed: bool = False) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ValueError("a number or null")
    number = float(value)
    if not (-1e15 if signed else 0.0) <= number <= 1e15:  # also refuses NaN
        raise ValueError("a finite number in range")
    return number


def _stats_day(value: object) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or not _DAY.match(value):
        raise ValueError("a day as YYYY-MM-DD or null")
    return value


def _stats_text(value: object, limit: int = 200) -> str:
    if not isinstance(value, str):
        raise ValueError("text")
    text = " ".join("".join(c if c.isprintable() else " " for c in value).split())[:limit]
    if not text:
        raise ValueError("text that is not empty")
    return text


def clean_stats_snapshot(data: object) -> dict[str, object]:
    """A checked copy of a shared statistics snapshot (``ValueError`` says what is wrong)::

        {"version": 1, "as_of": "2026-11-26", "first_day": "...", "last_day": "...",
         "audience": {"streams_28d": n, "listeners": n, "followers": n},
         "songs": [{"name": "...", "streams_total": n, "streams_28d": n, "change": x}]}

    Numbers may be null (not available); ``change`` is relative (0.25 = +25 %).
    """
    if not isinstance(data, dict):
        raise ValueError("a snapshot is a JSON object")
    if data.get("version") != STATS_VERSION:
        raise ValueError(f"version must be {STATS_VERSION}")
    as_of = _stats_day(data.get("as_of"))
    if as_of is None:
        raise ValueError("as_of: a day")
    audience = data.get("audience") or {}
    if not isinstance(audience, dict):
        raise ValueError("audience: an object")
    songs = data.get("songs") or []
    if not isinstance(songs, list) or len(songs) > MAX_STATS_SONGS:
        raise ValueError(f"songs: a list of at most {MAX_STATS_SONGS}")
    clean_songs = []
    for song in songs:
        if not isinstance(song, dict):
            raise ValueError("a song is an object")
        entry: dict[str, object] = {"name": _stats_text(song.get("name"))}
        for key in _SONG_NUMBERS:
            entry[key] = _stats_number(song.get(key))
        change = _stats_number(song.get("change"), signed=True)
        entry["change"] = None if change is None else max(-1.0, min(change, 1e6))
        clean_songs.append(entry)
    return {
        "version": STATS_VERSION,
        "as_of": as_of,
        "first_day": _stats_day(data.get("first_day")),
        "last_day": _stats_day(data.get("last_day")),
        "audience": {key: _stats_number(audience.get(key)) for key in _AUDIENCE},
        "songs": clean_songs,
    }
