"""Invitations accepted (and roles changed, tokens refreshed) at the same moment, through a real
server on SQLite and on PostgreSQL.

Every acceptance gets 200 or a clean 4xx (``gone`` for an invitation someone else used first),
never a 500, and the team ends with exactly the members and roles the accepted invitations give.

The bug these tests pin down: accepting read the invitation and then updated it in one SQLite
transaction begun with a plain (deferred) ``BEGIN``. When any other connection committed a write
between that read and the update (another acceptance, a login, the server's batched event
flush), SQLite refused to turn the read transaction into a write transaction with
``SQLITE_BUSY_SNAPSHOT`` ("database is locked") at once, without waiting for its busy timeout,
and the request ended in HTTP 500. Refreshing a token and changing a member's role had the same
shape and the same failure. On PostgreSQL, two owners demoting each other at once could both
pass the "a team keeps an owner" check and leave the team without one; membership changes now
lock the team's row first.
"""

from __future__ import annotations

import concurrent.futures
import threading
import uuid
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from server.protocol import API_PREFIX
from tests.server.client import Api, User, error_code
from tests.server.postgres import PostgresCluster
from tests.support.sync_server import SyncServer

# Events (logins, pulls) are written in batches this often (s): the flush is the background write
# that broke sequential acceptances in benchmarks/bench_sync_latency.py.
EVENT_FLUSH_S = 0.005


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def server(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[SyncServer]:
    root: Path = tmp_path_factory.mktemp(f"invitations-{request.param}")
    database_url = None
    if request.param == "postgresql":
        cluster: PostgresCluster = request.getfixturevalue("postgres_cluster")
        database_url = cluster.create_database("inv" + uuid.uuid4().hex)
    with SyncServer(root, database_url, event_flush_s=EVENT_FLUSH_S) as running:
        yield running


def _users(api: Api, count: int) -> list[User]:
    return [api.user(f"Mitglied {i} 🎤") for i in range(count)]


def _invite(api: Api, owner: User, team_id: str, role: str) -> str:
    r = api.request(
        "POST", f"/teams/{team_id}/invitations", owner, json={"role": role, "expires_in_s": 600}
    )
    assert r.status_code == 201, r.text
    return str(r.json()["token"])


def _accept_all_at_once(url: str, pairs: list[tuple[str, User]]) -> list[httpx.Response]:
    """Each (token, user) accepted from its own thread and connection, released together."""
    start = threading.Barrier(len(pairs))

    def accept(pair: tuple[str, User]) -> httpx.Response:
        token, user = pair
        with httpx.Client(base_url=url + API_PREFIX, timeout=60) as http:
            http.get("/me", headers=user.headers)  # connected before the barrier
            start.wait(30)
            return http.post(f"/invitations/{token}/accept", headers=user.headers)

    with concurrent.futures.ThreadPoolExecutor(len(pairs)) as pool:
        return list(pool.map(accept, pairs))


def _roles(api: Api, owner: User, team_id: str) -> dict[str, str]:
    r = api.request("GET", f"/teams/{team_id}/members", owner)
    assert r.status_code == 200, r.text
    members = r.json()["members"]
    roles = {m["user_id"]: m["role"] for m in members}
    assert len(roles) == len(members), "a member is listed twice"
    return roles


def _statuses(responses: list[httpx.Response]) -> Counter[int]:
    return Counter(r.status_code for r in responses)


def test_many_members_accept_their_invitations_at_once(server: SyncServer) -> None:
    with Api(server.url) as api:
        owner = api.user("Besitzerin")
        team_id = api.team(owner, "Die Band 🎸")
        members = _users(api, 32)
        tokens = [_invite(api, owner, team_id, "editor") for _ in members]
        responses = _accept_all_at_once(server.url, list(zip(tokens, members, strict=True)))
        assert _statuses(responses) == {200: len(members)}, [r.text for r in responses][:3]
        assert all(r.json() == {"team_id": team_id, "role": "editor"} for r in responses)
        roles = _roles(api, owner, team_id)
        assert roles == {owner.user_id: "owner", **{m.user_id: "editor" for m in members}}


def test_one_member_accepts_many_invitations_at_once(server: SyncServer) -> None:
    """A double click, or invitations with different roles sent twice: one membership row, with
    the highest role offered, and every acceptance answered."""
    with Api(server.url) as api:
        owner = api.user()
        team_id = api.team(owner)
        (member,) = _users(api, 1)
        offered = ["viewer", "editor", "viewer", "owner", "editor"] * 4
        tokens = [_invite(api, owner, team_id, role) for role in offered]
        responses = _accept_all_at_once(server.url, [(t, member) for t in tokens])
        assert _statuses(responses) == {200: len(tokens)}, [r.text for r in responses][:3]
        assert {r.json()["team_id"] for r in responses} == {team_id}
        # The answer is the role held after that acceptance: never below what it offered.
        rank = {"viewer": 0, "editor": 1, "owner": 2}
        for role, r in zip(offered, responses, strict=True):
            assert rank[r.json()["role"]] >= rank[role]
        assert _roles(api, owner, team_id) == {owner.user_id: "owner", member.user_id: "owner"}


def test_one_invitation_accepted_by_many_at_once_is_used_once(server: SyncServer) -> None:
    with Api(server.url) as api:
        owner = api.user()
        team_id = api.team(owner)
        members = _users(api, 20)
        token = _invite(api, owner, team_id, "viewer")
        responses = _accept_all_at_once(server.url, [(token, m) for m in members])
        assert _statuses(responses) == {200: 1, 410: len(members) - 1}, [r.text for r in responses]
        assert {error_code(r) for r in responses if r.status_code == 410} == {"gone"}
        winner = next(m for m, r in zip(members, responses, strict=True) if r.status_code == 200)
        assert _roles(api, owner, team_id) == {owner.user_id: "owner", winner.user_id: "viewer"}


def test_one_by_one_acceptances_while_the_server_writes_events(server: SyncServer) -> None:
    """The set-up of bench_sync_latency.py: members join one after the other while the server
    keeps writing its event batches (here: logins of another user in a loop)."""
    with Api(server.url) as api:
        owner = api.user()
        team_id = api.team(owner)
        members = _users(api, 40)
        tokens = [_invite(api, owner, team_id, "editor") for _ in members]
        busy = api.user("Busy")
        stop = threading.Event()

        def log_in_again_and_again() -> int:
            count = 0
            with Api(server.url) as other:
                while not stop.is_set():
                    r = other.http.post(
                        "/auth/login", json={"email": busy.email, "password": busy.password}
                    )
                    assert r.status_code == 200, r.text
                    count += 1
            return count

        with concurrent.futures.ThreadPoolExecutor(2) as pool:
            noise = [pool.submit(log_in_again_and_again) for _ in range(2)]
            try:
                responses = []
                for token, member in zip(tokens, members, strict=True):
                    r = api.request("POST", f"/invitations/{token}/accept", member)
                    responses.append(r)
            finally:
                stop.set()
            logins = sum(f.result() for f in noise)
        assert logins > 0
        failed = [(r.status_code, r.text[:200]) for r in responses if r.status_code != 200]
        assert not failed, failed
        assert len(_roles(api, owner, team_id)) == 1 + len(members)


def _demote_each_other(url: str, team_id: str, first: User, second: User) -> list[httpx.Response]:
    start = threading.Barrier(2)

    def demote(pair: tuple[User, User]) -> httpx.Response:
        actor, target = pair
        with httpx.Client(base_url=url + API_PREFIX, timeout=60) as http:
            http.get("/me", headers=actor.headers)
            start.wait(30)
            return http.put(
                f"/teams/{team_id}/members/{target.user_id}",
                headers=actor.headers,
                json={"role": "editor"},
            )

    with concurrent.futures.ThreadPoolExecutor(2) as pool:
        return list(pool.map(demote, [(first, second), (second, first)]))


def test_two_owners_demoting_each_other_at_once_leave_an_owner(server: SyncServer) -> None:
    """Membership changes of one team take turns: of two owners who demote each other at the
    same moment one wins and the other is refused, so the team keeps an owner (ten rounds)."""
    with Api(server.url) as api:
        for _round in range(10):
            first, second = _users(api, 2)
            team_id = api.team(first)
            api.join(first, team_id, second, "owner")
            responses = _demote_each_other(server.url, team_id, first, second)
            statuses = sorted(r.status_code for r in responses)
            assert statuses[0] == 204 and statuses[1] in (403, 409), [r.text for r in responses]
            winner = first if responses[0].status_code == 204 else second
            roles = _roles(api, winner, team_id)
            assert sorted(roles.values()) == ["editor", "owner"], roles


def test_token_refreshes_at_once_all_succeed(server: SyncServer) -> None:
    """Refreshing reads the token and then revokes it: the same transaction shape as accepting,
    so the same race. Each user refreshes its own token; all succeed and rotate."""
    with Api(server.url) as api:
        users = _users(api, 24)
    start = threading.Barrier(len(users))

    def refresh(user: User) -> httpx.Response:
        with httpx.Client(base_url=server.url + API_PREFIX, timeout=60) as http:
            http.get("/me", headers=user.headers)
            start.wait(30)
            return http.post("/auth/refresh", json={"refresh_token": user.refresh_token})

    with concurrent.futures.ThreadPoolExecutor(len(users)) as pool:
        responses = list(pool.map(refresh, users))
    assert _statuses(responses) == {200: len(users)}, [r.text for r in responses][:3]
    assert {r.json()["user_id"] for r in responses} == {u.user_id for u in users}
    # Rotated: once the new refresh token is used (the answer arrived), the old one is spent.
    with Api(server.url) as api:
        newer = api.http.post(
            "/auth/refresh", json={"refresh_token": responses[0].json()["refresh_token"]}
        )
        assert newer.status_code == 200, newer.text
        again = api.http.post("/auth/refresh", json={"refresh_token": users[0].refresh_token})
    assert again.status_code == 401, again.text


@pytest.mark.parametrize(
    "token",
    [
        "🎸" * 50,
        "x" * 201,
        "x" * 5000,
        "%00",
        "%0a%0d",
        "\u202e" + "a" * 40,
        "..",
        "%2e%2e%2f%2e%2e",
        "token%2Fwith%2Fslashes",
        "日本語のトークン",
    ],
)
def test_hostile_invitation_tokens_get_a_clean_4xx(server: SyncServer, token: str) -> None:
    with Api(server.url) as api:
        (member,) = _users(api, 1)
        r = api.request("POST", f"/invitations/{token}/accept", member)
    assert 400 <= r.status_code < 500, (r.status_code, r.text[:200])
