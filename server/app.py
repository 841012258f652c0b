"""The HTTP service (FastAPI): routes of :mod:`server.protocol` over the blocking stores.

Every database call, password hash and blob write runs in a worker thread
(:func:`anyio.to_thread.run_sync`); the event loop only parses, waits and answers, so a slow or
waiting client never holds a thread. Long-polls wait on an :class:`asyncio.Event` per project
(:mod:`server.notify`) and re-read the database at least every ``poll_interval_s``.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import json
import logging
import unicodedata
from collections.abc import AsyncIterator, Callable
from typing import Any, TypeVar

import anyio.to_thread
from fastapi import FastAPI, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, JSONResponse, StreamingResponse
from sqlalchemy.exc import OperationalError
from starlette.exceptions import HTTPException as StarletteHTTPException

from server import protocol as p
from server import teamstats
from server.accounts import Accounts
from server.analytics import Events, project_history, team_activity
from server.blobgc import sweep
from server.blobs import (
    BlobStore,
    BlobStreamCut,
    is_upload_id,
    open_blob_store,
    record_blob,
    team_has_blob,
)
from server.config import ServerConfig
from server.db import create_schema, make_engine
from server.errors import ApiError
from server.notify import Waiters, listen_postgres
from server.recent import RecentRevisions
from server.security import LoginLimiter, Passwords
from server.updatelog import NOTIFY_CHANNEL, PullResult, UpdateLog

log = logging.getLogger(__name__)
T = TypeVar("T")
MAX_JSON_BYTES = 64 * 1024
BLOB_CHUNK = 1024 * 1024  # bytes gathered before one hand-over to a worker thread


async def call(fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    return await anyio.to_thread.run_sync(functools.partial(fn, *args, **kwargs))


# request parsing
def _text(body: dict[str, Any], key: str, max_chars: int = 200) -> str:
    value = body.get(key)
    if not isinstance(value, str) or not value.strip() or len(value) > max_chars:
        raise ApiError("bad_request", f"{key}: 1 to {max_chars} characters")
    if any(unicodedata.category(ch) in ("Cc", "Cs") for ch in value):
        raise ApiError("bad_request", f"{key}: control characters are not allowed")
    return value.strip()


def _email(body: dict[str, Any]) -> str:
    email = _text(body, "email", 254).lower()
    local, at, domain = email.partition("@")
    if not at or not local or not domain or "@" in domain or any(ch.isspace() for ch in email):
        raise ApiError("bad_request", "email: not an email address")
    return email


def _password(body: dict[str, Any], min_chars: int = 8) -> str:
    value = body.get("password")
    if not isinstance(value, str) or not min_chars <= len(value) <= 1024:
        raise ApiError("bad_request", f"password: {min_chars} to 1024 characters")
    if any(unicodedata.category(ch) == "Cs" for ch in value) or "\x00" in value:
        raise ApiError("bad_request", "password: not valid text")
    return value


def _role(body: dict[str, Any]) -> str:
    role = body.get("role")
    if role not in p.ROLES:
        raise ApiError("bad_request", f"role: one of {', '.join(p.ROLES)}")
    return str(role)


def _hex_id(value: str, what: str) -> str:
    if not p.is_project_id(value):
        raise ApiError("not_found", f"no such {what}")
    return value


def _query_number(request: Request, key: str, default: float, low: float, high: float) -> float:
    raw = request.query_params.get(key)
    if raw is None:
        return default
    try:
        value = float(raw)
    except ValueError:
        raise ApiError("bad_request", f"{key}: a number") from None
    if not low <= value <= high:  # also refuses nan
        raise ApiError("bad_request", f"{key}: {low:g} to {high:g}")
    return value


async def _read_body(request: Request, limit: int) -> bytes:
    declared = request.headers.get("content-length")
    if declared is not None:
        if not declared.isdigit():
            raise ApiError("bad_request", "bad Content-Length")
        if int(declared) > limit:
            raise ApiError("too_large", f"the body is over {limit} bytes")
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise ApiError("too_large", f"the body is over {limit} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


async def _read_json(request: Request) -> dict[str, Any]:
    raw = await _read_body(request, MAX_JSON_BYTES)
    try:
        body = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        raise ApiError("bad_request", "the body is not JSON") from None
    if not isinstance(body, dict):
        raise ApiError("bad_request", "the body is not a JSON object")
    return body


class Service:
    """What the routes share: stores, limits, waiters and background tasks of one process."""

    def __init__(self, config: ServerConfig) -> None:
        self.config = config
        self.database_url = config.resolved_database_url()
        self.engine = make_engine(self.database_url, sqlite_synchronous=config.sqlite_synchronous)
        create_schema(self.engine)
        self.accounts = Accounts(self.engine, config)
        self.log = UpdateLog(self.engine, config)
        self.blobs = open_blob_store(config)
        self.events = Events(self.engine)
        self.passwords = Passwords(
            config.argon2_time_cost, config.argon2_memory_kib, config.argon2_parallelism
        )
        self.limiter = LoginLimiter(config.login_window_s)
        self.waiters = Waiters()
        self.recent = RecentRevisions()
        self.tasks: set[asyncio.Task[Any]] = set()
        self.compacting: set[str] = set()

    async def user(self, request: Request) -> str:
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise ApiError("unauthenticated", "no access token")
        return await call(self.accounts.authenticate, token.strip())

    def spawn(self, coroutine: Any) -> None:
        task = asyncio.get_running_loop().create_task(coroutine)
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    def schedule_compaction(self, project_id: str) -> None:
        if project_id in self.compacting:
            return
        self.compacting.add(project_id)

        async def run() -> None:
            try:
                await call(self.log.compact, project_id)
            except Exception:
                log.exception("compaction of %s failed", project_id)
            finally:
                self.compacting.discard(project_id)

        self.spawn(run())

    async def housekeeping(self) -> None:
        ticks = 0
        while True:
            await asyncio.sleep(self.config.event_flush_s)
            ticks += 1
            try:
                await call(self.events.flush)
                if ticks % 600 == 0:
                    await call(self.accounts.purge_expired)
            except Exception:
                log.exception("housekeeping failed")

    async def sweep_blobs(self) -> None:
        """Let go of blobs no project lists any more (:mod:`server.blobgc`), now and then."""
        while True:
            await asyncio.sleep(self.config.blob_sweep_s)
            try:
                await call(sweep, self.engine, self.blobs, grace_s=self.config.blob_grace_s)
            except Exception:
                log.exception("blob sweep failed")

    async def start(self) -> None:
        self.spawn(self.housekeeping())
        if self.config.blob_sweep_s > 0:
            self.spawn(self.sweep_blobs())
        if self.engine.dialect.name == "postgresql":
            conninfo = self.engine.url.set(drivername="postgresql").render_as_string(
                hide_password=False
            )
            self.spawn(listen_postgres(conninfo, NOTIFY_CHANNEL, self.waiters))

    async def stop(self) -> None:
        for task in list(self.tasks):
            task.cancel()
        for task in list(self.tasks):
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        with contextlib.suppress(Exception):
            await call(self.events.flush)
        self.engine.dispose()


def create_app(config: ServerConfig | None = None) -> FastAPI:
    service = Service(config or ServerConfig.from_env())

    @contextlib.asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        await service.start()
        try:
            yield
        finally:
            await service.stop()

    app = FastAPI(title="Hookline sync", lifespan=lifespan, openapi_url=None, docs_url=None)
    app.state.service = service
    _add_error_handlers(app)
    _add_account_routes(app, service)
    _add_team_routes(app, service)
    _add_update_routes(app, service)
    _add_blob_routes(app, service)
    return app


def _add_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(ApiError)
    async def api_error(_request: Request, error: ApiError) -> JSONResponse:
        return JSONResponse(error.body(), status_code=error.status, headers=error.headers)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(_request: Request, error: StarletteHTTPException) -> JSONResponse:
        code = {404: "not_found", 413: "too_large"}.get(error.status_code, "bad_request")
        return await api_error(_request, ApiError(code, str(error.detail)))

    @app.exception_handler(RequestValidationError)
    async def validation_error(_request: Request, error: RequestValidationError) -> JSONResponse:
        return await api_error(_request, ApiError("bad_request", "bad parameters"))

    @app.exception_handler(OperationalError)
    async def database_busy(request: Request, error: OperationalError) -> JSONResponse:
        # Locked, restarting or unreachable: the transaction was rolled back, nothing is half
        # written, and clients retry a 503 after Retry-After.
        log.warning(
            "database unavailable for %s %s: %s",
            request.method,
            request.url.path,
            str(error.orig).splitlines()[0][:200] if error.orig else type(error).__name__,
        )
        busy = ApiError(
            "unavailable", "the database is busy; try again", headers={"Retry-After": "1"}
        )
        return await api_error(request, busy)


def _add_account_routes(app: FastAPI, s: Service) -> None:
    v = p.API_PREFIX

    @app.post(v + "/auth/register", status_code=201)
    async def register(request: Request) -> dict[str, str]:
        body = await _read_json(request)
        email, name, password = _email(body), _text(body, "name"), _password(body)
        hashed = await call(s.passwords.hash, password)
        return {"user_id": await call(s.accounts.create_user, email, name, hashed)}

    @app.post(v + "/auth/login")
    async def login(request: Request) -> dict[str, object]:
        body = await _read_json(request)
        email, password = _email(body), _password(body, min_chars=1)
        address = request.client.host if request.client else "unknown"
        keys = {
            "email:" + email: s.config.login_failures_per_email,
            "address:" + address: s.config.login_failures_per_address,
        }
        wait = s.limiter.retry_after(keys)
        if wait:
            raise ApiError(
                "rate_limited", "too many failed logins", headers={"Retry-After": str(wait)}
            )
        user_id, stored = await call(s.accounts.password_hash, email)
        if user_id is None or not await call(s.passwords.verify, stored, password):
            s.limiter.failed(list(keys))
            raise ApiError("unauthenticated", "wrong email or password")
        s.limiter.succeeded("email:" + email)
        tokens = await call(s.accounts.issue_tokens, user_id)
        s.events.record("login", user_id=user_id)
        return tokens.as_json()

    @app.post(v + "/auth/refresh")
    async def refresh(request: Request) -> dict[str, object]:
        token = _text(await _read_json(request), "refresh_token", 200)
        return (await call(s.accounts.refresh, token)).as_json()

    @app.post(v + "/auth/logout", status_code=204)
    async def logout(request: Request) -> Response:
        token = _text(await _read_json(request), "refresh_token", 200)
        await call(s.accounts.logout, token)
        return Response(status_code=204)

    @app.get(v + "/me")
    async def me(request: Request) -> dict[str, str]:
        return await call(s.accounts.user, await s.user(request))


def _add_team_routes(app: FastAPI, s: Service) -> None:
    v = p.API_PREFIX

    @app.post(v + "/teams", status_code=201)
    async def create_team(request: Request) -> dict[str, str]:
        user = await s.user(request)
        name = _text(await _read_json(request), "name")
        return {"team_id": await call(s.accounts.create_team, user, name)}

    @app.get(v + "/teams")
    async def list_teams(request: Request) -> dict[str, object]:
        return {"teams": await call(s.accounts.teams_of, await s.user(request))}

    @app.put(v + "/teams/{team_id}/stats")
    async def share_stats(team_id: str, request: Request) -> dict[str, object]:
        user = await s.user(request)
        await call(s.accounts.require_role, _hex_id(team_id, "team"), user, "viewer")
        body = await _read_body(request, p.MAX_STATS_BYTES)
        try:
            snapshot = p.clean_stats_snapshot(json.loads(body))
        except (ValueError, RecursionError) as error:  # JSONDecodeError is a ValueError
            raise ApiError("bad_request", f"statistics: {error}"[:200]) from None
        shared_at = await call(teamstats.share, s.engine, team_id, user, snapshot)
        return {"shared_at": shared_at}

    @app.delete(v + "/teams/{team_id}/stats", status_code=204)
    async def unshare_stats(team_id: str, request: Request) -> Response:
        user = await s.user(request)
        await call(s.accounts.require_role, _hex_id(team_id, "team"), user, "viewer")
        await call(teamstats.unshare, s.engine, team_id, user)
        return Response(status_code=204)

    @app.get(v + "/teams/{team_id}/stats")
    async def list_stats(team_id: str, request: Request) -> dict[str, object]:
        user = await s.user(request)
        await call(s.accounts.require_role, _hex_id(team_id, "team"), user, "viewer")
        return {"stats": await call(teamstats.team_stats, s.engine, team_id)}

    @app.get(v + "/teams/{team_id}/members")
    async def members(team_id: str, request: Request) -> dict[str, object]:
        user = await s.user(request)
        await call(s.accounts.require_role, _hex_id(team_id, "team"), user, "viewer")
        return {"members": await call(s.accounts.members, team_id)}

    @app.put(v + "/teams/{team_id}/members/{user_id}", status_code=204)
    async def set_role(team_id: str, user_id: str, request: Request) -> Response:
        user = await s.user(request)
        await call(s.accounts.require_role, _hex_id(team_id, "team"), user, "owner")
        role = _role(await _read_json(request))
        await call(s.accounts.change_member, team_id, _hex_id(user_id, "member"), role)
        return Response(status_code=204)

    @app.delete(v + "/teams/{team_id}/members/{user_id}", status_code=204)
    async def remove_member(team_id: str, user_id: str, request: Request) -> Response:
        user = await s.user(request)
        # Owners change membership; anyone may leave.
        needed = "viewer" if user_id == user else "owner"
        await call(s.accounts.require_role, _hex_id(team_id, "team"), user, needed)
        await call(s.accounts.change_member, team_id, _hex_id(user_id, "member"), None)
        return Response(status_code=204)

    @app.post(v + "/teams/{team_id}/invitations", status_code=201)
    async def invite(team_id: str, request: Request) -> dict[str, str]:
        user = await s.user(request)
        await call(s.accounts.require_role, _hex_id(team_id, "team"), user, "owner")
        body = await _read_json(request)
        role = _role(body)
        ttl = body.get("expires_in_s", 7 * 86400)
        if (
            not isinstance(ttl, int | float)
            or isinstance(ttl, bool)
            or not 1 <= ttl <= s.config.invitation_max_ttl_s
        ):
            limit = int(s.config.invitation_max_ttl_s)
            raise ApiError("bad_request", f"expires_in_s: 1 to {limit} seconds")
        return {"token": await call(s.accounts.invite, team_id, user, role, float(ttl))}

    @app.post(v + "/invitations/{token}/accept")
    async def accept(token: str, request: Request) -> dict[str, str]:
        user = await s.user(request)
        if not 1 <= len(token) <= 200:
            raise ApiError("not_found", "no such invitation")
        team_id, role = await call(s.accounts.accept, token, user)
        return {"team_id": team_id, "role": role}

    @app.post(v + "/teams/{team_id}/projects", status_code=201)
    async def create_project(team_id: str, request: Request) -> dict[str, str]:
        user = await s.user(request)
        await call(s.accounts.require_role, _hex_id(team_id, "team"), user, "editor")
        body = await _read_json(request)
        project_id = body.get("project_id")
        if not isinstance(project_id, str) or not p.is_project_id(project_id):
            raise ApiError("bad_request", "project_id: 32 lowercase hex digits")
        await call(s.log.create_project, team_id, project_id, _text(body, "name"))
        return {"project_id": project_id}

    @app.get(v + "/teams/{team_id}/projects")
    async def list_projects(team_id: str, request: Request) -> dict[str, object]:
        user = await s.user(request)
        await call(s.accounts.require_role, _hex_id(team_id, "team"), user, "viewer")
        return {"projects": await call(s.log.projects_of, team_id)}

    @app.get(v + "/projects/{project_id}/history")
    async def history(project_id: str, request: Request) -> dict[str, object]:
        user = await s.user(request)
        _hex_id(project_id, "project")
        limit = int(_query_number(request, "limit", 50, 1, 200))
        team_id, changes = await call(project_history, s.engine, project_id, limit)
        if team_id is None:
            raise ApiError("not_found", "no such project")
        await call(s.accounts.require_role, team_id, user, "viewer")
        return {"changes": changes}

    @app.get(v + "/teams/{team_id}/activity")
    async def activity(team_id: str, request: Request) -> dict[str, object]:
        user = await s.user(request)
        await call(s.accounts.require_role, _hex_id(team_id, "team"), user, "viewer")
        days = int(_query_number(request, "days", 30, 1, 366))
        await call(s.events.flush)
        return {"days": await call(team_activity, s.engine, team_id, days)}


def _add_update_routes(app: FastAPI, s: Service) -> None:
    v = p.API_PREFIX

    @app.post(v + "/projects/{project_id}/updates")
    async def push(project_id: str, request: Request) -> dict[str, int]:
        user = await s.user(request)
        _hex_id(project_id, "project")
        body = await _read_body(request, s.config.max_push_bytes)
        try:
            batch = p.decode_push(body)
        except p.PushTooLarge as error:
            raise ApiError("too_large", str(error)) from None
        except p.ProtocolError as error:
            raise ApiError("bad_request", str(error)) from None
        result = await call(s.log.push, project_id, user, batch)
        s.recent.add(project_id, result.first_revision, batch)
        s.waiters.wake(project_id)
        if result.compaction_due:
            s.schedule_compaction(project_id)
        return {
            "first_revision": result.first_revision,
            "revision": result.revision,
            "count": result.count,
        }

    @app.get(v + "/projects/{project_id}/updates")
    async def pull(project_id: str, request: Request) -> Response:
        user = await s.user(request)
        _hex_id(project_id, "project")
        after = _query_number(request, "after", 0, 0, 2**63 - 1)
        if after != int(after):
            raise ApiError("bad_request", "after: a whole number")
        wait = _query_number(request, "wait", 0, 0, 1e9)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + min(wait, s.config.max_wait_s)
        result: PullResult | None = None
        while True:
            event = s.waiters.event(project_id)
            # Woken by a push (access was checked by the first read of this request): answer
            # from the revisions this process just committed when they follow on without a gap.
            recent = s.recent.after(project_id, int(after), p.MAX_PULL_BYTES) if result else []
            if result is not None and recent:
                result = PullResult(recent, recent[-1][0], None, result.team_id)
            else:
                result = await call(s.log.pull, project_id, user, int(after), p.MAX_PULL_BYTES)
            remaining = deadline - loop.time()
            if result.entries or remaining <= 0 or await request.is_disconnected():
                break
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(event.wait(), min(remaining, s.config.poll_interval_s))
        s.waiters.forget(project_id, event)
        headers = {p.REVISION_HEADER: str(result.revision)}
        if result.compacted is not None:
            headers[p.COMPACTED_HEADER] = str(result.compacted)
        if result.entries:
            s.events.record(
                "pull",
                team_id=result.team_id,
                user_id=user,
                project_id=project_id,
                count=len(result.entries),
                size=sum(len(d) for _, d in result.entries),
            )
        return Response(
            p.encode_pull(result.entries), media_type=p.UPDATES_CONTENT_TYPE, headers=headers
        )


class _BlobStream(StreamingResponse):
    """Bytes from an object store. When the store fails midway the answer stays incomplete and
    the connection is closed (the client sees fewer bytes than Content-Length), with one log
    line instead of a stack trace."""

    async def stream_response(self, send: Any) -> None:
        await send(
            {"type": "http.response.start", "status": self.status_code, "headers": self.raw_headers}
        )
        try:
            async for chunk in self.body_iterator:
                await send({"type": "http.response.body", "body": chunk, "more_body": True})
        except BlobStreamCut:
            return
        await send({"type": "http.response.body", "body": b"", "more_body": False})


def _add_blob_routes(app: FastAPI, s: Service) -> None:
    v = p.API_PREFIX

    async def blob_access(team_id: str, sha256: str, request: Request, role: str) -> str:
        """The user, once the name is a blob name and the user's role in the team allows it
        (checked before anything is signed, written or read)."""
        user = await s.user(request)
        if not p.is_sha256(sha256):
            raise ApiError("bad_request", "a blob name is 64 lowercase hex digits")
        await call(s.accounts.require_role, _hex_id(team_id, "team"), user, role)
        return user

    def presigning() -> bool:
        return s.blobs.can_sign and s.config.presign_blobs

    @app.put(v + "/teams/{team_id}/blobs/{sha256}", status_code=201)
    async def put_blob(team_id: str, sha256: str, request: Request) -> dict[str, object]:
        user = await blob_access(team_id, sha256, request, "editor")
        limit = s.config.max_blob_bytes
        declared = request.headers.get("content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > limit):
            raise ApiError("too_large", f"a blob holds at most {limit} bytes")
        writer = await call(s.blobs.writer, sha256, limit)
        try:
            pending: list[bytes] = []
            gathered = 0
            async for chunk in request.stream():
                pending.append(chunk)
                gathered += len(chunk)
                if gathered >= BLOB_CHUNK:
                    await call(writer.write, b"".join(pending))
                    pending, gathered = [], 0
            if pending:
                await call(writer.write, b"".join(pending))
            size = await call(writer.finish)
        except BaseException:
            with anyio.CancelScope(shield=True):
                await call(writer.abort)  # an object store's abort is a request of its own
            raise
        await call(record_blob, s.engine, team_id, sha256, size)
        s.events.record("blob_put", team_id=team_id, user_id=user, size=size)
        return {"sha256": sha256, "size": size}

    @app.post(v + "/teams/{team_id}/blobs/{sha256}/upload")
    async def offer_upload(team_id: str, sha256: str, request: Request) -> dict[str, object]:
        await blob_access(team_id, sha256, request, "editor")
        size = (await _read_json(request)).get("size")
        if not isinstance(size, int) or isinstance(size, bool) or size < 0:
            raise ApiError("bad_request", "size: a byte count")
        limit = s.config.max_blob_bytes
        if size > limit:
            raise ApiError("too_large", f"a blob holds at most {limit} bytes")
        if not presigning():
            return {"direct": True}
        ttl = s.config.blob_url_ttl_s
        offer = await call(s.blobs.offer_upload, sha256, ttl)
        return {
            "direct": False,
            "method": "PUT",
            "url": offer.url,
            "upload_id": offer.upload_id,
            "expires_in": int(ttl),
        }

    @app.post(v + "/teams/{team_id}/blobs/{sha256}/commit", status_code=201)
    async def commit_upload(team_id: str, sha256: str, request: Request) -> dict[str, object]:
        user = await blob_access(team_id, sha256, request, "editor")
        upload_id = (await _read_json(request)).get("upload_id")
        if not isinstance(upload_id, str) or not is_upload_id(upload_id):
            raise ApiError("bad_request", "upload_id: 32 lowercase hex digits")
        size = await call(s.blobs.accept_upload, sha256, upload_id, s.config.max_blob_bytes)
        await call(record_blob, s.engine, team_id, sha256, size)
        s.events.record("blob_put", team_id=team_id, user_id=user, size=size)
        return {"sha256": sha256, "size": size}

    @app.get(v + "/teams/{team_id}/blobs/{sha256}/info")
    async def blob_info(team_id: str, sha256: str, request: Request) -> dict[str, object]:
        """Whether the team has the blob, and its size: lets a client skip an upload."""
        await blob_access(team_id, sha256, request, "viewer")
        if not await call(team_has_blob, s.engine, team_id, sha256):
            raise ApiError("not_found", "no such blob")
        size = await call(s.blobs.size, sha256)
        if size is None:
            raise ApiError("not_found", "no such blob")
        return {"sha256": sha256, "size": size}

    @app.get(v + "/teams/{team_id}/blobs/{sha256}")
    async def get_blob(team_id: str, sha256: str, request: Request) -> Response:
        user = await blob_access(team_id, sha256, request, "viewer")
        if not await call(team_has_blob, s.engine, team_id, sha256):
            raise ApiError("not_found", "no such blob")
        size = await call(s.blobs.size, sha256)
        if size is None:
            raise ApiError("not_found", "no such blob")
        s.events.record("blob_get", team_id=team_id, user_id=user, size=size)
        if presigning() and p.BLOB_URL_CONTENT_TYPE in request.headers.get("accept", ""):
            ttl = s.config.blob_url_ttl_s
            url = await call(s.blobs.sign_get, sha256, ttl)
            return JSONResponse(
                {"url": url, "method": "GET", "size": size, "expires_in": int(ttl)},
                media_type=p.BLOB_URL_CONTENT_TYPE,
                headers={"Cache-Control": "no-store", "Vary": "Accept"},
            )
        if isinstance(s.blobs, BlobStore):
            return FileResponse(s.blobs.path(sha256), media_type="application/octet-stream")
        chunks = await call(s.blobs.read, sha256)
        return _BlobStream(
            chunks,
            media_type="application/octet-stream",
            headers={"Content-Length": str(size), "Vary": "Accept"},
        )
