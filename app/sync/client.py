"""A small typed HTTP client for every endpoint of the team-sync protocol (``server/protocol.py``).

Every call has a timeout (:data:`TIMEOUT_S`; a long-poll waits ``wait`` seconds more). Failures
are raised as :class:`~app.sync.errors.SyncError` subclasses with a translated message: no answer
is :class:`ServerUnreachable`, an answer that does not follow the protocol (wrong shape, truncated,
too long) is :class:`BadReply`, and an error answer maps its protocol code to its own class.

Signing in: :meth:`SyncClient.login` keeps the access token in memory and writes the refresh token
to the OS keyring (:mod:`app.sync.tokens`); :meth:`SyncClient.resume` signs in again from the
keyring. An access token that expires, or that the server refuses once, is refreshed; the server
rotates the refresh token and the new one is stored before the new access token is used. Refreshes
of one keyring entry are serialised across every client in this process.

Thread contract: a client may be shared by threads; each thread gets its own HTTP connection pool.
"""

from __future__ import annotations

import hashlib
import io
import json
import logging
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, BinaryIO, Protocol
from urllib.parse import quote, urlsplit

import requests

from app.i18n import _
from app.sync.errors import (
    BadReply,
    BlobDamaged,
    NotFound,
    NotSignedIn,
    ServerUnreachable,
    SyncError,
    for_code,
)
from app.sync.tokens import KeyringCredentials, StoredSignIn
from server import protocol

log = logging.getLogger(__name__)

TIMEOUT_S = (5.0, 20.0)  # connect, read
WAIT_MARGIN_S = 10.0  # a long-poll's read timeout is its wait plus this
MAX_JSON_BYTES = 4 << 20
REFRESH_MARGIN_S = 30.0  # refresh an access token this long before it expires
BLOB_CHECK_BYTES_PER_S = 20e6  # the slowest the server may read an upload back to check it
BLOB_CHUNK = 1 << 16  # bytes read, hashed and written at a time when files are streamed

_refresh_locks: dict[str, threading.Lock] = {}
_refresh_locks_guard = threading.Lock()


def _refresh_lock(key: str) -> threading.Lock:
    with _refresh_locks_guard:
        return _refresh_locks.setdefault(key, threading.Lock())


@dataclass(frozen=True)
class Account:
    user_id: str
    email: str
    name: str


@dataclass(frozen=True)
class Team:
    team_id: str
    name: str
    role: str


@dataclass(frozen=True)
class Member:
    user_id: str
    name: str
    role: str


@dataclass(frozen=True)
class RemoteProject:
    project_id: str  # 32 hex digits on the wire
    name: str
    revision: int


@dataclass(frozen=True)
class PushResult:
    first_revision: int
    revision: int
    count: int


@dataclass(frozen=True)
class PullResult:
    """What a pull brought: ``entries`` as (revision, Yjs update), ``revision`` the project's
    newest revision on the server, ``compacted`` the revision of a leading snapshot (or None)."""

    entries: list[tuple[int, bytes]]
    revision: int
    compacted: int | None

    @property
    def last(self) -> int | None:
        return self.entries[-1][0] if self.entries else None

    @property
    def complete(self) -> bool:
        """False when the server holds more than this answer carried (ask again at once)."""
        return not self.entries or self.entries[-1][0] >= self.revision


def normalise_url(url: str) -> str:
    """``http(s)://host[:port][/path]`` without a trailing slash; ValueError otherwise."""
    text = url.strip().rstrip("/")
    parts = urlsplit(text)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"not an http(s) URL: {url!r}")
    if parts.query or parts.fragment or parts.username or parts.password:
        raise ValueError("a server URL has no query, fragment or user name")
    return text


class SyncClient:
    """The endpoints of one team server for one account."""

    def __init__(self, server_url: str, *, timeout: tuple[float, float] = TIMEOUT_S) -> None:
        self.server_url = normalise_url(server_url)
        self.timeout = timeout
        self._local = threading.local()
        self._auth_lock = threading.Lock()
        self._credentials: KeyringCredentials | None = None
        self._user_id: str | None = None
        self._access: str | None = None
        self._access_expires = 0.0  # time.monotonic()
        self._refresh_token: str | None = None  # the newest one, also in the keyring

    def __repr__(self) -> str:
        return f"<SyncClient {self.server_url} user={self._user_id}>"

    # -- accounts ------------------------------------------------------------------------------
    @property
    def signed_in(self) -> bool:
        return self._credentials is not None

    @property
    def user_id(self) -> str | None:
        return self._user_id

    @property
    def account(self) -> str | None:
        return self._credentials.account if self._credentials else None

    def register(self, email: str, password: str, name: str) -> str:
        """Create an account; returns its user id (does not sign in)."""
        body = self._json(
            "POST",
            "/auth/register",
            {"email": email, "password": password, "name": name},
            auth=False,
        )
        return _text(body, "user_id")

    def login(self, email: str, password: str) -> str:
        """Sign in; the refresh token goes to the keyring entry (server URL, ``email``).
        Returns the user id."""
        body = self._json("POST", "/auth/login", {"email": email, "password": password}, auth=False)
        credentials = KeyringCredentials(self.server_url, email)
        with _refresh_lock(credentials.username):
            self._accept_tokens(body, credentials)
        return _text(body, "user_id")

    def resume(self, email: str) -> bool:
        """Sign in with the refresh token stored for ``email``; False when there is none.
        The first call that needs a token refreshes it (and so checks it)."""
        credentials = KeyringCredentials(self.server_url, email)
        stored = credentials.load()
        if stored is None:
            return False
        with self._auth_lock:
            self._credentials = credentials
            self._user_id = stored.user_id
            self._refresh_token = stored.refresh_token
            self._access, self._access_expires = None, 0.0
        return True

    def logout(self) -> None:
        """Revoke the refresh token on the server (if it answers) and erase the keyring entry."""
        credentials, token = self._credentials, self._current_refresh_token()
        try:
            if token:
                self._request("POST", "/auth/logout", json_body={"refresh_token": token})
        except SyncError as exc:
            log.warning("logout not confirmed by the server: %s", exc.code)
        finally:
            with self._auth_lock:
                self._credentials = None
                self._access, self._refresh_token, self._user_id = None, None, None
            if credentials is not None:
                credentials.erase()

    def me(self) -> Account:
        body = self._json("GET", "/me")
        return Account(_text(body, "user_id"), _text(body, "email"), _text(body, "name"))

    # -- teams ---------------------------------------------------------------------------------
    def create_team(self, name: str) -> str:
        return _text(self._json("POST", "/teams", {"name": name}), "team_id")

    def teams(self) -> list[Team]:
        items = _items(self._json("GET", "/teams"), "teams")
        return [Team(_text(t, "team_id"), _text(t, "name"), _role(t)) for t in items]

    def members(self, team_id: str) -> list[Member]:
        items = _items(self._json("GET", f"/teams/{_seg(team_id)}/members"), "members")
        return [Member(_text(m, "user_id"), _text(m, "name"), _role(m)) for m in items]

    def set_role(self, team_id: str, user_id: str, role: str) -> None:
        self._request(
            "PUT", f"/teams/{_seg(team_id)}/members/{_seg(user_id)}", json_body={"role": role}
        )

    def remove_member(self, team_id: str, user_id: str) -> None:
        self._request("DELETE", f"/teams/{_seg(team_id)}/members/{_seg(user_id)}")

    def invite(self, team_id: str, role: str, expires_in_s: float) -> str:
        """A single-use invitation token for ``role``."""
        body = self._json(
            "POST",
            f"/teams/{_seg(team_id)}/invitations",
            {"role": role, "expires_in_s": expires_in_s},
        )
        return _text(body, "token")

    def accept_invitation(self, token: str) -> Team:
        body = self._json("POST", f"/invitations/{_seg(token)}/accept", {})
        return Team(_text(body, "team_id"), "", _role(body))

    def activity(self, team_id: str, days: int = 30) -> list[dict[str, Any]]:
        body = self._json("GET", f"/teams/{_seg(team_id)}/activity", params={"days": days})
        return _items(body, "days")

    # -- shared artist statistics ----------------------------------------------------------------
    def share_stats(self, team_id: str, snapshot: Mapping[str, Any]) -> None:
        """Share a statistics snapshot (:func:`server.protocol.clean_stats_snapshot`) with the
        team, replacing the one shared before."""
        clean = protocol.clean_stats_snapshot(dict(snapshot))  # ValueError: a bug of ours
        self._json("PUT", f"/teams/{_seg(team_id)}/stats", clean)

    def unshare_stats(self, team_id: str) -> None:
        self._request("DELETE", f"/teams/{_seg(team_id)}/stats")

    def team_stats(self, team_id: str) -> list[dict[str, Any]]:
        """The members' shared snapshots, newest first: ``{user_id, name, shared_at (aware UTC
        datetime), snapshot}``. Entries that do not check out are dropped."""
        body = self._json("GET", f"/teams/{_seg(team_id)}/stats")
        out: list[dict[str, Any]] = []
        for item in _items(body, "stats"):
            try:
                snapshot = protocol.clean_stats_snapshot(item.get("snapshot"))
                shared_at = item.get("shared_at")
                if isinstance(shared_at, bool) or not isinstance(shared_at, (int, float)):
                    continue
                when = datetime.fromtimestamp(float(shared_at), UTC)
            except (ValueError, OverflowError, OSError):
                continue
            name = item.get("name")
            out.append(
                {
                    "user_id": str(item.get("user_id", "")),
                    "name": name if isinstance(name, str) else "",
                    "shared_at": when,
                    "snapshot": snapshot,
                }
            )
        return out

    def history(self, project_id: str, limit: int = 50) -> list[dict[str, Any]]:
        """Who pushed changes to a team project, and when: newest first, ``{at, name, updates,
        bytes}`` with ``at`` an aware UTC datetime. Malformed entries are dropped."""
        _check_project_id(project_id)
        body = self._json(
            "GET",
            f"/projects/{_seg(project_id)}/history",
            params={"limit": max(1, min(limit, 200))},
        )
        out = []
        for item in _items(body, "changes"):
            try:
                at = datetime.fromisoformat(str(item["at"]))
                name, updates = str(item.get("name", ""))[:200], int(item["updates"])
            except (KeyError, TypeError, ValueError):
                continue
            if at.tzinfo is None or updates < 0:
                continue
            out.append(
                {
                    "at": at,
                    "name": name,
                    "updates": updates,
                    "bytes": int(item.get("bytes", 0) or 0),
                }
            )
        return out

    # -- projects ------------------------------------------------------------------------------
    def create_project(self, team_id: str, project_id: str, name: str) -> str:
        _check_project_id(project_id)
        body = self._json(
            "POST",
            f"/teams/{_seg(team_id)}/projects",
            {"project_id": project_id, "name": name},
        )
        return _text(body, "project_id")

    def projects(self, team_id: str) -> list[RemoteProject]:
        items = _items(self._json("GET", f"/teams/{_seg(team_id)}/projects"), "projects")
        return [
            RemoteProject(_text(p, "project_id"), _text(p, "name"), _count(p, "revision"))
            for p in items
        ]

    def push(self, project_id: str, updates: Sequence[bytes]) -> PushResult:
        """Send Yjs updates; the answer's revisions say they are stored on the server."""
        _check_project_id(project_id)
        body = protocol.encode_push(updates)
        reply = self._json(
            "POST",
            f"/projects/{project_id}/updates",
            raw=body,
            headers={"Content-Type": protocol.UPDATES_CONTENT_TYPE},
        )
        result = PushResult(
            _count(reply, "first_revision"), _count(reply, "revision"), _count(reply, "count")
        )
        if result.count != len(updates) or result.revision - result.first_revision + 1 != len(
            updates
        ):
            raise _bad_reply("push answer does not match the batch")
        return result

    def pull(self, project_id: str, after: int, wait: float = 0.0) -> PullResult:
        """Everything after revision ``after``; waits up to ``wait`` seconds for news."""
        _check_project_id(project_id)
        if after < 0:
            raise ValueError("after must be >= 0")
        wait = max(0.0, min(wait, protocol.MAX_WAIT_S))
        response, body = self._fetch(
            "GET",
            f"/projects/{project_id}/updates",
            params={"after": after, "wait": f"{wait:g}"},
            read_timeout=self.timeout[1] + wait + WAIT_MARGIN_S,
            limit=protocol.MAX_PULL_BYTES + 12 * protocol.MAX_UPDATES_PER_PUSH + 8 + (1 << 20),
        )
        try:
            entries = protocol.decode_pull(body)
        except protocol.ProtocolError as exc:
            raise _bad_reply(str(exc)) from exc
        revision = _header_int(response, protocol.REVISION_HEADER)
        if revision is None:
            raise _bad_reply("pull answer without a revision header")
        compacted = _header_int(response, protocol.COMPACTED_HEADER)
        if entries and (entries[0][0] <= after or entries[-1][0] > revision):
            raise _bad_reply("pull answer holds revisions outside the range asked for")
        if compacted is not None and (not entries or entries[0][0] != compacted):
            raise _bad_reply("compacted snapshot missing from the pull answer")
        return PullResult(entries, revision, compacted)

    # -- files ---------------------------------------------------------------------------------
    def put_blob(self, team_id: str, data: bytes | BinaryIO, *, sha256: str | None = None) -> str:
        """Upload a file (its bytes, or a seekable binary stream read from where it stands);
        returns its SHA-256, checked against the server's answer. A stream is read in chunks,
        so a big file is never held in memory: twice (to hash, to send), or once when the
        caller knows its ``sha256`` already (a checked file store copy). The server checks the
        hash of what arrives either way and refuses a mismatch.

        The server either takes the bytes itself or hands out a presigned URL of its object
        store; then the bytes go there and the server checks them before it records the file.
        """
        stream = io.BytesIO(data) if isinstance(data, bytes | bytearray) else data
        start = stream.tell()
        if sha256 is not None:
            if not protocol.is_sha256(sha256):
                raise ValueError("not a sha256 hex digest")
            digest, size = sha256, stream.seek(0, io.SEEK_END) - start
        else:
            hasher = hashlib.sha256()
            size = 0
            while chunk := stream.read(BLOB_CHUNK):
                hasher.update(chunk)
                size += len(chunk)
            digest = hasher.hexdigest()
        path = f"/teams/{_seg(team_id)}/blobs/{digest}"
        try:
            offer = self._json("POST", path + "/upload", {"size": size})
        except NotFound:
            offer = {"direct": True}  # a server from before presigned uploads
        stream.seek(start)
        if offer.get("direct") is True:
            body = self._json(
                "PUT", path, raw=stream, headers={"Content-Type": "application/octet-stream"}
            )
        else:
            url = _store_url(offer, "PUT")
            upload_id = _text(offer, "upload_id")
            self._store_transfer("PUT", url, data=stream)
            # The server reads the upload back to check it: allow for that on a big file.
            _response, raw = self._fetch(
                "POST",
                path + "/commit",
                json_body={"upload_id": upload_id},
                read_timeout=self.timeout[1] + size / BLOB_CHECK_BYTES_PER_S,
                limit=MAX_JSON_BYTES,
            )
            body = _json_object(raw)
        if _text(body, "sha256") != digest or _count(body, "size") != size:
            raise _bad_reply("blob answer does not match the upload")
        return digest

    def has_blob(self, team_id: str, sha256: str) -> bool:
        """Whether the team's server holds this file already (so it need not be sent)."""
        if not protocol.is_sha256(sha256):
            raise ValueError("not a sha256 hex digest")
        try:
            body = self._json("GET", f"/teams/{_seg(team_id)}/blobs/{sha256}/info")
        except NotFound:
            return False
        if _text(body, "sha256") != sha256:
            raise _bad_reply("blob info names another file")
        return True

    def get_blob(self, team_id: str, sha256: str) -> bytes:
        """Download a small file into memory (see :meth:`download_blob`)."""
        out = io.BytesIO()
        self.download_blob(team_id, sha256, out)
        return out.getvalue()

    def download_blob(self, team_id: str, sha256: str, out: Writable) -> int:
        """Download a file chunk by chunk into ``out`` (anything with ``write(bytes)``) and check
        its SHA-256; returns its size. :class:`BlobDamaged` when the hash differs: then ``out``
        holds bytes that must not be kept. The bytes come from the server or, when it hands
        out one, from a presigned URL of its object store."""
        if not protocol.is_sha256(sha256):
            raise ValueError("not a sha256 hex digest")
        sink = _HashingSink(out)
        response, data = self._fetch(
            "GET",
            f"/teams/{_seg(team_id)}/blobs/{sha256}",
            headers={"Accept": f"{protocol.BLOB_URL_CONTENT_TYPE}, application/octet-stream"},
            limit=protocol.MAX_BLOB_BYTES,
            download=sink.write,
        )
        if _media_type(response) == protocol.BLOB_URL_CONTENT_TYPE:
            offer = _json_object(data)
            size = _count(offer, "size")
            if size > protocol.MAX_BLOB_BYTES:
                raise _bad_reply("blob larger than the protocol allows")
            self._store_transfer("GET", _store_url(offer, "GET"), limit=size, download=sink.write)
        if sink.hasher.hexdigest() != sha256:
            raise BlobDamaged(
                _("A file was damaged on the way; it was not stored."), code="bad_hash"
            )
        return sink.size

    def _store_transfer(
        self,
        method: str,
        url: str,
        *,
        data: BinaryIO | None = None,
        limit: int = MAX_JSON_BYTES,
        download: Callable[[bytes], object] | None = None,
    ) -> bytes:
        """One request to a presigned object-store URL: no bearer token, no redirects. An
        upload is streamed from ``data``; a download goes to ``download`` chunk by chunk."""
        try:
            response = self._session().request(
                method,
                url,
                data=data,
                timeout=self.timeout,
                stream=True,
                allow_redirects=False,
            )
            try:
                ok = 200 <= response.status_code < 300
                body = _read_limited(
                    response, limit if ok else MAX_JSON_BYTES, download if ok else None
                )
            finally:
                response.close()
        except requests.exceptions.ChunkedEncodingError as exc:
            raise _bad_reply("blob store answer cut short") from exc
        except requests.RequestException as exc:
            raise ServerUnreachable(
                _(
                    "The team server cannot be reached. Hookline keeps your changes and "
                    "tries again."
                ),
                code="unreachable",
                detail=f"blob store: {type(exc).__name__}",
            ) from exc
        if not 200 <= response.status_code < 300:
            detail = f"blob store answered {response.status_code}"
            if response.status_code >= 500:
                raise for_code("unavailable", response.status_code, detail, None)
            raise _bad_reply(detail)
        return body

    # -- plumbing ------------------------------------------------------------------------------
    def _session(self) -> requests.Session:
        session: requests.Session | None = getattr(self._local, "session", None)
        if session is None:
            session = requests.Session()
            session.trust_env = False  # no proxies or .netrc credentials for a team server
            self._local.session = session
        return session

    def close(self) -> None:
        """Close this thread's connections (other threads' close with their thread)."""
        session = getattr(self._local, "session", None)
        if session is not None:
            session.close()
            self._local.session = None

    def _json(
        self,
        method: str,
        path: str,
        json_body: Mapping[str, Any] | None = None,
        *,
        raw: bytes | BinaryIO | None = None,
        headers: Mapping[str, str] | None = None,
        params: Mapping[str, Any] | None = None,
        auth: bool = True,
    ) -> dict[str, Any]:
        _response, body = self._fetch(
            method,
            path,
            json_body=json_body,
            raw=raw,
            headers=headers,
            params=params,
            auth=auth,
            limit=MAX_JSON_BYTES,
        )
        return _json_object(body)

    def _request(
        self, method: str, path: str, *, json_body: Mapping[str, Any] | None = None
    ) -> None:
        self._fetch(method, path, json_body=json_body, limit=MAX_JSON_BYTES)

    def _fetch(
        self,
        method: str,
        path: str,
        *,
        json_body: Mapping[str, Any] | None = None,
        raw: bytes | BinaryIO | None = None,
        headers: Mapping[str, str] | None = None,
        params: Mapping[str, Any] | None = None,
        auth: bool = True,
        read_timeout: float | None = None,
        limit: int,
        download: Callable[[bytes], object] | None = None,
    ) -> tuple[requests.Response, bytes]:
        """Send one request (refreshing the access token once on a 401) and read the body.

        ``raw`` is sent as the body; a stream is sent from where it stands (again from there
        on the retry). With ``download``, a successful ``application/octet-stream`` answer goes
        to it chunk by chunk (at most ``limit`` bytes) and the returned body is empty; any other
        answer is read into memory, at most :data:`MAX_JSON_BYTES`."""
        url = f"{self.server_url}{protocol.API_PREFIX}{path}"
        timeout = (self.timeout[0], read_timeout if read_timeout is not None else self.timeout[1])
        start = raw.tell() if raw is not None and not isinstance(raw, bytes) else 0
        for attempt in (0, 1):
            if raw is not None and not isinstance(raw, bytes):
                raw.seek(start)
            all_headers = dict(headers or {})
            token = self._access_token() if auth else None
            if token is not None:
                all_headers["Authorization"] = f"Bearer {token}"
            try:
                response = self._session().request(
                    method,
                    url,
                    json=json_body,
                    data=raw,
                    headers=all_headers,
                    params=params,
                    timeout=timeout,
                    stream=True,
                    allow_redirects=False,
                )
                try:
                    streamed = (
                        download is not None
                        and 200 <= response.status_code < 300
                        and _media_type(response) == "application/octet-stream"
                    )
                    if streamed:
                        body = _read_limited(response, limit, download)
                    else:
                        body = _read_limited(
                            response, limit if download is None else MAX_JSON_BYTES
                        )
                finally:
                    response.close()
            except requests.exceptions.ChunkedEncodingError as exc:
                raise _bad_reply("answer cut short") from exc
            except requests.exceptions.ContentDecodingError as exc:
                raise _bad_reply("answer does not decode") from exc
            except (requests.ConnectionError, requests.Timeout) as exc:
                raise ServerUnreachable(
                    _(
                        "The team server cannot be reached. Hookline keeps your changes and "
                        "tries again."
                    ),
                    code="unreachable",
                    detail=type(exc).__name__,
                ) from exc
            except requests.RequestException as exc:
                raise ServerUnreachable(
                    _(
                        "The team server cannot be reached. Hookline keeps your changes and "
                        "tries again."
                    ),
                    code="unreachable",
                    detail=type(exc).__name__,
                ) from exc
            if response.status_code == 401 and token is not None and attempt == 0:
                self._refresh(stale=token)
                continue
            if response.status_code >= 400:
                raise _error_from(response, body)
            if not 200 <= response.status_code < 300:
                raise _bad_reply(f"unexpected status {response.status_code}")
            return response, body
        raise AssertionError("unreachable")

    def _access_token(self) -> str | None:
        with self._auth_lock:
            if self._credentials is None:
                return None
            token, fresh = self._access, time.monotonic() < self._access_expires
        if token is not None and fresh:
            return token
        self._refresh(stale=token)
        with self._auth_lock:
            return self._access

    def _current_refresh_token(self) -> str | None:
        with self._auth_lock:
            return self._refresh_token

    def _refresh(self, stale: str | None) -> None:
        """Swap the refresh token for new tokens, unless another thread already did."""
        with self._auth_lock:
            credentials = self._credentials
        if credentials is None:
            raise NotSignedIn(
                _("You are not signed in to the team server, or your sign-in has expired."),
                code="unauthenticated",
            )
        with _refresh_lock(credentials.username):
            with self._auth_lock:
                if self._access is not None and self._access != stale:
                    return  # refreshed by another thread while this one waited
            stored = credentials.load()  # another client in this process may have rotated it
            token = stored.refresh_token if stored is not None else self._refresh_token
            if token is None:
                raise NotSignedIn(
                    _("You are not signed in to the team server, or your sign-in has expired."),
                    code="unauthenticated",
                )
            body = self._json("POST", "/auth/refresh", {"refresh_token": token}, auth=False)
            self._accept_tokens(body, credentials)
        log.info("team-sync access token refreshed for %s", self.server_url)

    def _accept_tokens(self, body: dict[str, Any], credentials: KeyringCredentials) -> None:
        """Store the new refresh token in the keyring first, then use the new access token.
        The caller holds the refresh lock of ``credentials``."""
        access, refresh = _text(body, "access_token"), _text(body, "refresh_token")
        user_id = _text(body, "user_id")
        expires_in = body.get("access_expires_in")
        if not isinstance(expires_in, int | float) or isinstance(expires_in, bool):
            raise _bad_reply("access_expires_in missing")
        with self._auth_lock:
            self._refresh_token = refresh  # kept even if the keyring refuses it below
        credentials.store(StoredSignIn(refresh, user_id))
        with self._auth_lock:
            self._credentials = credentials
            self._user_id = user_id
            self._access = access
            margin = min(REFRESH_MARGIN_S, float(expires_in) / 4)
            self._access_expires = time.monotonic() + float(expires_in) - margin


def _read_limited(
    response: requests.Response, limit: int, sink: Callable[[bytes], object] | None = None
) -> bytes:
    """The body, at most ``limit`` bytes; with ``sink``, each chunk goes there instead and the
    result is empty."""
    declared = response.headers.get("Content-Length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise _bad_reply("answer too long")
    chunks: list[bytes] = []
    size = 0
    iterator: Iterator[bytes] = response.iter_content(chunk_size=BLOB_CHUNK)
    for chunk in iterator:
        size += len(chunk)
        if size > limit:
            raise _bad_reply("answer too long")
        if sink is None:
            chunks.append(chunk)
        else:
            sink(chunk)
    return b"".join(chunks)


class Writable(Protocol):
    def write(self, data: bytes, /) -> object: ...


class _HashingSink:
    """Passes chunks on to ``out`` while hashing and counting them."""

    def __init__(self, out: Writable) -> None:
        self.out = out
        self.hasher = hashlib.sha256()
        self.size = 0

    def write(self, chunk: bytes) -> None:
        self.hasher.update(chunk)
        self.size += len(chunk)
        self.out.write(chunk)


def _media_type(response: requests.Response) -> str:
    return response.headers.get("Content-Type", "").partition(";")[0].strip().lower()


def _error_from(response: requests.Response, body: bytes) -> SyncError:
    code, detail = "", ""
    try:
        value = json.loads(body)
        error = value.get("error") if isinstance(value, dict) else None
        if isinstance(error, dict):
            raw_code = error.get("code")
            code = raw_code if isinstance(raw_code, str) else ""
            message = error.get("message")
            detail = message[:500] if isinstance(message, str) else ""
    except ValueError:
        pass
    if code not in protocol.ERROR_CODES:
        code = ""
    retry_after = response.headers.get("Retry-After", "")
    seconds = float(retry_after) if retry_after.isdigit() else None
    error = for_code(code, response.status_code, detail, seconds)
    log.info("team server answered %s %s (%s)", response.status_code, code or "-", detail[:200])
    return error


def _bad_reply(reason: str) -> BadReply:
    log.warning("unusable answer from the team server: %s", reason)
    return BadReply(
        _("The team server sent an answer that Hookline cannot use; nothing was changed."),
        code="bad_reply",
        detail=reason,
    )


def _json_object(body: bytes) -> dict[str, Any]:
    try:
        value = json.loads(body)
    except ValueError as exc:
        raise _bad_reply("answer is not JSON") from exc
    if not isinstance(value, dict):
        raise _bad_reply("answer is not a JSON object")
    return value


def _store_url(offer: Mapping[str, Any], method: str) -> str:
    """The presigned URL of an offer, if it is one for ``method`` over http(s)."""
    if offer.get("method") != method:
        raise _bad_reply(f"blob offer is not for {method}")
    url = _text(offer, "url")
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.username:
        raise _bad_reply("blob offer has no usable URL")
    return url


def _seg(value: str) -> str:
    """One path segment, quoted so nothing in it can change the path."""
    if not isinstance(value, str) or not value or value in (".", ".."):
        raise ValueError("not a valid identifier")
    return quote(value, safe="")


def _check_project_id(project_id: str) -> None:
    if not protocol.is_project_id(project_id):
        raise ValueError("a project id on the wire is 32 lowercase hex digits")


def _text(body: Mapping[str, Any], key: str) -> str:
    value = body.get(key)
    if not isinstance(value, str):
        raise _bad_reply(f"{key} missing or not a string")
    return value


def _count(body: Mapping[str, Any], key: str) -> int:
    value = body.get(key)
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise _bad_reply(f"{key} missing or not a count")
    return value


def _role(body: Mapping[str, Any]) -> str:
    role = _text(body, "role")
    if role not in protocol.ROLES:
        raise _bad_reply("unknown role")
    return role


def _items(body: Mapping[str, Any], key: str) -> list[dict[str, Any]]:
    value = body.get(key)
    if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
        raise _bad_reply(f"{key} missing or not a list of objects")
    return value


def _header_int(response: requests.Response, name: str) -> int | None:
    value = response.headers.get(name)
    if value is None:
        return None
    value = value.strip()
    if not value.isdigit() or len(value) > 19:
        raise _bad_reply(f"{name} is not a revision")
    return int(value)
