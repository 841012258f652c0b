"""A small HTTP client of the sync protocol for the server tests (httpx), and real Yjs updates."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from types import TracebackType
from typing import Any

import httpx
from pycrdt import Doc, Text

from server.protocol import API_PREFIX, decode_pull, encode_push


@dataclass
class User:
    user_id: str
    email: str
    password: str
    access_token: str
    refresh_token: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.access_token}"}


class Api:
    def __init__(self, url: str, timeout: float = 30.0) -> None:
        self.url = url
        self.http = httpx.Client(base_url=url + API_PREFIX, timeout=timeout)

    def __enter__(self) -> Api:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        value: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.http.close()

    def request(
        self, method: str, path: str, user: User | None = None, **kw: Any
    ) -> httpx.Response:
        headers = dict(kw.pop("headers", {}))
        if user is not None:
            headers.update(user.headers)
        return self.http.request(method, path, headers=headers, **kw)

    def user(self, name: str = "Ann", password: str = "correct horse battery") -> User:
        email = f"user-{uuid.uuid4().hex[:12]}@example.org"
        r = self.http.post(
            "/auth/register", json={"email": email, "password": password, "name": name}
        )
        assert r.status_code == 201, r.text
        r = self.http.post("/auth/login", json={"email": email, "password": password})
        assert r.status_code == 200, r.text
        body = r.json()
        return User(body["user_id"], email, password, body["access_token"], body["refresh_token"])

    def team(self, owner: User, name: str = "Band") -> str:
        r = self.request("POST", "/teams", owner, json={"name": name})
        assert r.status_code == 201, r.text
        return str(r.json()["team_id"])

    def project(self, user: User, team_id: str, name: str = "Song") -> str:
        project_id = uuid.uuid4().hex
        r = self.request(
            "POST",
            f"/teams/{team_id}/projects",
            user,
            json={"project_id": project_id, "name": name},
        )
        assert r.status_code == 201, r.text
        return project_id

    def join(self, owner: User, team_id: str, member: User, role: str) -> None:
        r = self.request(
            "POST", f"/teams/{team_id}/invitations", owner, json={"role": role, "expires_in_s": 60}
        )
        assert r.status_code == 201, r.text
        r = self.request("POST", f"/invitations/{r.json()['token']}/accept", member)
        assert r.status_code == 200, r.text

    def push(self, user: User, project_id: str, updates: list[bytes]) -> httpx.Response:
        return self.request(
            "POST", f"/projects/{project_id}/updates", user, content=encode_push(updates)
        )

    def pull(
        self, user: User, project_id: str, after: int = 0, wait: float = 0
    ) -> tuple[httpx.Response, list[tuple[int, bytes]]]:
        r = self.request(
            "GET", f"/projects/{project_id}/updates", user, params={"after": after, "wait": wait}
        )
        return r, (decode_pull(r.content) if r.status_code == 200 else [])

    def pull_all(self, user: User, project_id: str, after: int = 0) -> list[tuple[int, bytes]]:
        """Pull until the newest revision, following the size limit of one answer."""
        out: list[tuple[int, bytes]] = []
        while True:
            r, entries = self.pull(user, project_id, after)
            assert r.status_code == 200, r.text
            out += entries
            if not entries:
                return out
            after = entries[-1][0]


class Writer:
    """A pycrdt document whose edits come out as real Yjs updates."""

    def __init__(self, client_id: int | None = None) -> None:
        self.doc = Doc(client_id=client_id) if client_id else Doc()
        self.text = self.doc.get("lyrics", type=Text)
        self.updates: list[bytes] = []
        self.doc.observe(lambda event: self.updates.append(bytes(event.update)))

    def type(self, words: str) -> bytes:
        self.text += words
        return self.updates[-1]

    def take(self) -> list[bytes]:
        out, self.updates = self.updates, []
        return out


def replay(entries: list[tuple[int, bytes]]) -> str:
    doc = Doc()
    for _, data in entries:
        doc.apply_update(data)
    return str(doc.get("lyrics", type=Text))


def error_code(response: httpx.Response) -> str:
    return str(response.json()["error"]["code"])
