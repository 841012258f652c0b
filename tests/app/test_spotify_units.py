"""Spotify client parts that need no server: Retry-After parsing, the back-off, the keyring
token cache against hostile entries, the refusal of keyrings that cannot keep secrets, and the
loopback listener's own checks."""

from __future__ import annotations

import json
import threading
from datetime import UTC, datetime, timedelta

import keyring
import pytest
import requests
from hypothesis import given
from hypothesis import strategies as st

from app.spotify.api import Backoff, RateLimited, retry_after_seconds
from app.spotify.auth import Endpoints, LoginCancelled, LoginFailed, login
from app.spotify.tokens import SERVICE, KeyringTokenCache, TokenStoreUnavailable
from tests.support.secret_service import InMemoryTestKeyring

NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("header", "seconds"),
    [
        ("120", 120.0),
        (" 7200 ", 7200.0),
        ("0", 0.0),
        ("Thu, 26 Nov 2026 12:05:00 GMT", 300.0),
        ("Thu, 26 Nov 2026 11:00:00 GMT", 0.0),  # a date in the past: now
        ("99999999999999999999", 7 * 24 * 3600.0),  # capped at a week
        ("soon", None),
        ("", None),
        (None, None),
        ("-5", None),
    ],
)
def test_retry_after_reads_seconds_and_dates(header: str | None, seconds: float | None) -> None:
    assert retry_after_seconds(header, NOW) == seconds


@given(st.text(max_size=60))
def test_retry_after_never_raises(header: str) -> None:
    value = retry_after_seconds(header, NOW)
    assert value is None or 0.0 <= value <= 7 * 24 * 3600.0


def test_backoff_honours_retry_after_and_blocks_until_then() -> None:
    backoff = Backoff()
    backoff.check(NOW)
    error = backoff.hit(3 * 3600.0, None, NOW)
    assert error.until == NOW + timedelta(hours=3)
    with pytest.raises(RateLimited):
        backoff.check(NOW + timedelta(hours=2, minutes=59))
    backoff.check(NOW + timedelta(hours=3))


def test_backoff_without_retry_after_doubles_up_to_a_cap() -> None:
    backoff = Backoff()
    waits = [(backoff.hit(None, None, NOW).until - NOW).total_seconds() for _ in range(10)]
    assert waits[:4] == [30.0, 60.0, 120.0, 240.0]
    assert max(waits) == 3600.0
    quota = Backoff()
    long_waits = [(quota.hit(None, "QUOTA_EXCEEDED", NOW).until - NOW) for _ in range(20)]
    assert max(long_waits) == timedelta(hours=24)
    assert "quota" in str(quota.hit(None, "QUOTA_EXCEEDED", NOW))


def test_token_cache_round_trip_and_erase(memory_keyring: InMemoryTestKeyring) -> None:
    cache = KeyringTokenCache("client-a")
    assert cache.get_cached_token() is None
    token = {"access_token": "a", "refresh_token": "r", "scope": "s", "expires_at": 5}
    cache.save_token_to_cache(token)
    assert cache.get_cached_token() == token
    assert KeyringTokenCache("client-b").get_cached_token() is None  # one entry per client id
    assert cache.erase() is True
    assert cache.erase() is False
    assert cache.get_cached_token() is None


@pytest.mark.parametrize(
    "entry",
    [
        "",
        "not json",
        "[]",
        json.dumps({"access_token": "a"}),
        json.dumps({"access_token": 1, "refresh_token": "r", "scope": "s", "expires_at": 1}),
        json.dumps({"access_token": "a", "refresh_token": "r", "scope": "s", "expires_at": "x"}),
        "{" * 100_000,
        json.dumps({"access_token": "a" * 20_000, "refresh_token": "r"}),
    ],
)
def test_a_damaged_keyring_entry_reads_as_signed_out(
    memory_keyring: InMemoryTestKeyring, entry: str, caplog: pytest.LogCaptureFixture
) -> None:
    memory_keyring.set_password(SERVICE, "client-a", entry)
    assert KeyringTokenCache("client-a").get_cached_token() is None
    # The entry itself never reaches the log.
    assert all(entry[:50] not in r.getMessage() or not entry for r in caplog.records)


def test_keyrings_that_cannot_keep_secrets_are_refused() -> None:
    from keyring.backends import fail

    previous = keyring.get_keyring()
    keyring.set_keyring(fail.Keyring())
    try:
        with pytest.raises(TokenStoreUnavailable, match="keyring"):
            KeyringTokenCache("c").save_token_to_cache({"access_token": "a"})
        with pytest.raises(TokenStoreUnavailable):
            KeyringTokenCache("c").get_cached_token()
    finally:
        keyring.set_keyring(previous)


def _unused_endpoints() -> Endpoints:
    # Nothing listens here: these tests end before any token request.
    return Endpoints("http://127.0.0.1:9", "http://127.0.0.1:9/v1/")


def test_login_without_a_client_id_says_what_to_do(memory_keyring: InMemoryTestKeyring) -> None:
    with pytest.raises(LoginFailed, match="client id"):
        login(" ", _unused_endpoints(), KeyringTokenCache(" "), lambda url: None)


def test_login_cancel_and_timeout(memory_keyring: InMemoryTestKeyring) -> None:
    cancel = threading.Event()
    opened: list[str] = []

    def open_and_cancel(url: str) -> None:
        opened.append(url)
        cancel.set()

    with pytest.raises(LoginCancelled):
        login("cid", _unused_endpoints(), KeyringTokenCache("cid"), open_and_cancel, cancel=cancel)
    assert "redirect_uri=http%3A%2F%2F127.0.0.1%3A" in opened[0]
    assert "code_challenge_method=S256" in opened[0]
    with pytest.raises(LoginFailed, match="did not answer"):
        login("cid", _unused_endpoints(), KeyringTokenCache("cid"), lambda url: None, timeout=0.5)
    assert KeyringTokenCache("cid").get_cached_token() is None


def _redirect_to(params: dict[str, str]):  # type: ignore[no-untyped-def]
    """An ``open_url`` that plays the browser coming back with ``params`` (and the real state
    unless ``params`` has one)."""

    def open_url(url: str) -> None:
        query = dict(p.split("=", 1) for p in url.split("?", 1)[1].split("&"))
        redirect = requests.utils.unquote(query["redirect_uri"])
        requests.get(redirect + "/../favicon.ico", timeout=5)  # ignored: not the callback
        answer = {"state": requests.utils.unquote(query["state"]), **params}
        requests.get(redirect, params=answer, timeout=5)

    return open_url


def test_a_redirect_with_a_wrong_state_is_refused(memory_keyring: InMemoryTestKeyring) -> None:
    cache = KeyringTokenCache("cid")
    with pytest.raises(LoginFailed, match="state"):
        login("cid", _unused_endpoints(), cache, _redirect_to({"state": "forged", "code": "x"}))
    assert cache.get_cached_token() is None


def test_a_declined_sign_in_says_so(memory_keyring: InMemoryTestKeyring) -> None:
    with pytest.raises(LoginFailed, match="declined"):
        login(
            "cid",
            _unused_endpoints(),
            KeyringTokenCache("cid"),
            _redirect_to({"error": "access_denied"}),
        )
    with pytest.raises(LoginFailed, match="no authorization code"):
        login("cid", _unused_endpoints(), KeyringTokenCache("cid"), _redirect_to({}))


def test_a_keyring_chain_with_a_plain_text_member_is_refused() -> None:
    from keyring.backend import KeyringBackend
    from keyring.backends import fail

    from app.keyring_guard import unusable_keyring

    class PlaintextKeyring(KeyringBackend):  # the name keyrings.alt gives its file backend
        priority = 1  # type: ignore[assignment]

        def get_password(self, service: str, username: str) -> str | None:
            return None

        def set_password(self, service: str, username: str, password: str) -> None:
            raise AssertionError("a secret must never reach a plain-text file")

        def delete_password(self, service: str, username: str) -> None:
            pass

    class Chain(KeyringBackend):
        priority = 1  # type: ignore[assignment]

        def __init__(self, members: list[KeyringBackend]) -> None:
            super().__init__()
            self.backends = members

        def get_password(self, service: str, username: str) -> str | None:
            return None

        def set_password(self, service: str, username: str, password: str) -> None:
            self.backends[0].set_password(service, username, password)

        def delete_password(self, service: str, username: str) -> None:
            pass

    previous = keyring.get_keyring()
    try:
        for members, refused in (
            ([InMemoryTestKeyring()], False),
            ([InMemoryTestKeyring(), PlaintextKeyring()], True),
            ([fail.Keyring()], True),
            ([], True),
        ):
            keyring.set_keyring(Chain(members))
            assert (unusable_keyring() is not None) is refused, members
            if refused:
                with pytest.raises(TokenStoreUnavailable):
                    KeyringTokenCache("c").save_token_to_cache({"access_token": "a"})
        keyring.set_keyring(PlaintextKeyring())
        assert unusable_keyring() == "PlaintextKeyring"
    finally:
        keyring.set_keyring(previous)
