"""Accounts against a real server: register, login, rate limit, token rotation and expiry."""

from __future__ import annotations

import time
from pathlib import Path

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.server.client import Api, error_code
from tests.support.sync_server import SyncServer


def test_register_login_me(api: Api) -> None:
    user = api.user("Zoë 🎸")
    r = api.request("GET", "/me", user)
    assert r.status_code == 200
    assert r.json() == {"user_id": user.user_id, "email": user.email, "name": "Zoë 🎸"}


def test_duplicate_email_is_a_conflict_whatever_its_case(api: Api) -> None:
    user = api.user()
    r = api.http.post(
        "/auth/register",
        json={"email": user.email.upper(), "password": "another password", "name": "B"},
    )
    assert r.status_code == 409 and error_code(r) == "conflict"


def test_wrong_password_and_unknown_email_look_the_same(api: Api) -> None:
    user = api.user()
    wrong = api.http.post("/auth/login", json={"email": user.email, "password": "not it at all"})
    unknown = api.http.post(
        "/auth/login", json={"email": "x" + user.email, "password": "whatever1"}
    )
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.json() == unknown.json()


@pytest.mark.parametrize(
    "path,headers",
    [
        ("/me", {}),
        ("/me", {"Authorization": "Bearer nonsense"}),
        ("/teams", {"Authorization": "x"}),
    ],
)
def test_requests_without_a_valid_token_are_refused(api: Api, path: str, headers: dict) -> None:
    r = api.http.get(path, headers=headers)
    assert r.status_code == 401 and error_code(r) == "unauthenticated"


def test_refresh_rotates_and_a_reused_token_ends_the_family(api: Api) -> None:
    user = api.user()
    first = api.http.post("/auth/refresh", json={"refresh_token": user.refresh_token})
    assert first.status_code == 200
    rotated = first.json()
    assert rotated["refresh_token"] != user.refresh_token
    assert api.http.get("/me", headers={"Authorization": f"Bearer {rotated['access_token']}"})
    # The new refresh token is used, so the answer arrived ...
    second = api.http.post("/auth/refresh", json={"refresh_token": rotated["refresh_token"]})
    assert second.status_code == 200
    newest = second.json()
    # ... and the old one comes back (a stolen copy): refused, and the family dies with it.
    again = api.http.post("/auth/refresh", json={"refresh_token": user.refresh_token})
    assert again.status_code == 401
    for token in (rotated["refresh_token"], newest["refresh_token"]):
        r = api.http.post("/auth/refresh", json={"refresh_token": token})
        assert r.status_code == 401
    me = api.http.get("/me", headers={"Authorization": f"Bearer {newest['access_token']}"})
    assert me.status_code == 401


def test_a_rotation_whose_answer_was_lost_can_be_retried_briefly(tmp_path: Path) -> None:
    """A server killed after committing a rotation, or a dropped connection, leaves the client
    with the old refresh token: presented again soon, while the token that rotation issued was
    never used, it works once more, and the unused token stops working. Presented after
    ``refresh_reuse_s``, or once a later token was used, it ends the family as any copy does."""
    with SyncServer(tmp_path, refresh_reuse_s=1.0) as server, Api(server.url) as api:

        def refresh(token: str) -> httpx.Response:
            return api.http.post("/auth/refresh", json={"refresh_token": token})

        user = api.user()
        lost = refresh(user.refresh_token).json()  # the answer that never arrived
        retried = refresh(user.refresh_token)
        assert retried.status_code == 200
        pair = retried.json()
        after = refresh(pair["refresh_token"])  # the retried answer is used: it arrived
        assert after.status_code == 200
        assert refresh(lost["refresh_token"]).status_code == 401  # a copy after all: all end
        assert refresh(after.json()["refresh_token"]).status_code == 401

        other = api.user("Ben")
        first = refresh(other.refresh_token).json()
        time.sleep(1.2)  # past the window: the old token is a copy
        assert refresh(other.refresh_token).status_code == 401
        assert refresh(first["refresh_token"]).status_code == 401


def test_logout_revokes_refresh_and_access_tokens(api: Api) -> None:
    user = api.user()
    assert api.request("GET", "/me", user).status_code == 200
    r = api.http.post("/auth/logout", json={"refresh_token": user.refresh_token})
    assert r.status_code == 204
    assert api.request("GET", "/me", user).status_code == 401
    r = api.http.post("/auth/refresh", json={"refresh_token": user.refresh_token})
    assert r.status_code == 401


def test_other_sessions_survive_a_logout(api: Api) -> None:
    user = api.user()
    other = api.http.post("/auth/login", json={"email": user.email, "password": user.password})
    api.http.post("/auth/logout", json={"refresh_token": user.refresh_token})
    token = other.json()["access_token"]
    assert api.http.get("/me", headers={"Authorization": f"Bearer {token}"}).status_code == 200


def test_expired_tokens_are_refused(tmp_path: Path) -> None:
    with SyncServer(tmp_path, access_ttl_s=1, refresh_ttl_s=2) as server, Api(server.url) as api:
        user = api.user()
        assert api.request("GET", "/me", user).status_code == 200
        time.sleep(1.2)
        assert api.request("GET", "/me", user).status_code == 401
        fresh = api.http.post("/auth/refresh", json={"refresh_token": user.refresh_token})
        assert fresh.status_code == 200, "the refresh token lives longer than the access token"
        time.sleep(2.2)
        late = api.http.post("/auth/refresh", json={"refresh_token": fresh.json()["refresh_token"]})
        assert late.status_code == 401


def test_login_rate_limit_per_email_and_per_address(tmp_path: Path) -> None:
    with (
        SyncServer(tmp_path, login_failures_per_email=3, login_failures_per_address=6) as server,
        Api(server.url) as api,
    ):
        user, other, late = api.user(), api.user("Bo"), api.user("Cy")
        for _ in range(3):
            r = api.http.post("/auth/login", json={"email": user.email, "password": "guess-guess"})
            assert r.status_code == 401
        limited = api.http.post(
            "/auth/login", json={"email": user.email, "password": user.password}
        )
        assert limited.status_code == 429 and error_code(limited) == "rate_limited"
        assert 1 <= int(limited.headers["Retry-After"]) <= 300
        # Another account from the same address still gets in until the address limit is hit.
        for _ in range(3):
            r = api.http.post("/auth/login", json={"email": other.email, "password": "guess-guess"})
            assert r.status_code == 401
        r = api.http.post("/auth/login", json={"email": late.email, "password": late.password})
        assert r.status_code == 429, "six failures from one address"


bad_text = st.one_of(
    st.just(""),
    st.just("a" * 100_000),
    st.text(alphabet=st.characters(categories=["Cc"]), min_size=1, max_size=5),
    st.binary(max_size=40).map(lambda b: b.decode("latin-1")),
    st.text(max_size=300),
)


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(email=bad_text, name=bad_text, password=bad_text)
def test_register_never_fails_on_odd_text(api: Api, email: str, name: str, password: str) -> None:
    r = api.http.post("/auth/register", json={"email": email, "password": password, "name": name})
    assert r.status_code in (201, 400, 409, 413), r.text
    if r.status_code == 201:
        login = api.http.post("/auth/login", json={"email": email, "password": password})
        assert login.status_code == 200
        me = api.http.get(
            "/me", headers={"Authorization": f"Bearer {login.json()['access_token']}"}
        )
        assert me.json()["name"] == name.strip()


@pytest.mark.parametrize(
    "body",
    [b"", b"{", b"[]", b"null", b'{"email": 5}', b"\xff\xfe", b'{"email": "a@b", "password": []}'],
)
def test_malformed_json_is_a_bad_request(api: Api, body: bytes) -> None:
    r = api.http.post("/auth/login", content=body)
    assert r.status_code == 400 and error_code(r) == "bad_request"


def test_a_huge_json_body_is_refused_before_it_is_read(api: Api) -> None:
    r = api.http.post("/auth/register", content=b"{" + b" " * (1 << 20) + b"}")
    assert r.status_code == 413 and error_code(r) == "too_large"


def test_password_hashing_does_not_block_other_requests(
    api: Api, shared_server: SyncServer
) -> None:
    """Logins run argon2 in worker threads: a burst of them leaves /me answering."""
    import concurrent.futures

    user = api.user()
    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        logins = [
            pool.submit(
                httpx.post,
                shared_server.url + "/v1/auth/login",
                json={"email": user.email, "password": user.password},
            )
            for _ in range(8)
        ]
        started = time.perf_counter()
        assert api.request("GET", "/me", user).status_code == 200
        assert time.perf_counter() - started < 2.0
        assert all(f.result().status_code == 200 for f in logins)
