"""The Spotify stand-in, exercised through spotipy itself: PKCE, rotation, expiry, both modes,
paging, every scenario kind, bad input, and a deliberate contract violation the validator must
catch. Every test using ``spotify_server`` is also a contract test (the fixture fails on any
response that does not match openapi.yml)."""

from __future__ import annotations

import base64
import hashlib
import json
import re
import threading
import time
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
import spotipy
from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st
from spotipy.cache_handler import MemoryCacheHandler
from spotipy.oauth2 import SpotifyOauthError, SpotifyPKCE

from tests.support import spotify_fake
from tests.support.spotify_fake import (
    SPEC_PATCHES,
    FakeSpotify,
    load_contract,
    patch_spec,
    spotify_id,
)

spotify_server = spotify_fake.spotify_server

REDIRECT = "http://127.0.0.1:43117/callback"
SCOPE = "user-top-read user-follow-read user-read-private"


def client(server: FakeSpotify, token: str | None = None) -> spotipy.Spotify:
    access = token or server.issue_tokens()["access_token"]
    sp = spotipy.Spotify(auth=access, requests_session=requests.Session())
    sp.prefix = server.api_prefix
    return sp


def pkce(server: FakeSpotify, redirect_uri: str = REDIRECT) -> SpotifyPKCE:
    auth = SpotifyPKCE(
        client_id=server.client_id,
        redirect_uri=redirect_uri,
        scope=SCOPE,
        cache_handler=MemoryCacheHandler(),
        open_browser=False,
        requests_session=requests.Session(),
    )
    auth.OAUTH_AUTHORIZE_URL = server.authorize_url
    auth.OAUTH_TOKEN_URL = server.token_url
    return auth


def authorize(auth: SpotifyPKCE, state: str = "st-1") -> requests.Response:
    return requests.get(auth.get_authorize_url(state=state), allow_redirects=False, timeout=5)


def location_params(response: requests.Response) -> dict[str, str]:
    assert response.status_code == 302, response.text
    query = urlsplit(response.headers["Location"]).query
    return {k: v[0] for k, v in parse_qs(query).items()}


def spotify_error(call: Any) -> spotipy.SpotifyException:
    with pytest.raises(spotipy.SpotifyException) as info:
        call()
    return info.value


def api_get(server: FakeSpotify, path: str, token: str | None, **params: Any) -> requests.Response:
    headers = {"Authorization": f"Bearer {token}"} if token is not None else {}
    return requests.get(server.api_prefix + path, params=params, headers=headers, timeout=5)


@pytest.fixture(scope="module")
def shared_server() -> Iterator[FakeSpotify]:
    """One server for the property tests (hypothesis runs many examples per test)."""
    with FakeSpotify() as server:
        yield server
    assert server.validation_errors == [], "\n".join(server.validation_errors)


@pytest.fixture
def extended(spotify_server: FakeSpotify) -> Iterator[FakeSpotify]:
    spotify_server.mode = "extended"
    yield spotify_server


# -- accounts -------------------------------------------------------------------------------------


def test_pkce_exchange_through_spotipy(spotify_server: FakeSpotify) -> None:
    auth = pkce(spotify_server)
    params = location_params(authorize(auth, state="xyz"))
    assert params["state"] == "xyz"
    token = auth.get_access_token(params["code"], check_cache=False)
    info = auth.cache_handler.get_cached_token()
    assert info["access_token"] == token
    assert info["token_type"] == "Bearer"
    assert info["expires_in"] == spotify_server.access_token_ttl == 3600
    assert set(info["scope"].split()) == set(SCOPE.split())
    assert client(spotify_server, token).me()["id"] == "hookline-tester"
    assert spotify_server.requests[-1].authorized
    # A code is single use.
    with pytest.raises(SpotifyOauthError) as again:
        auth.get_access_token(params["code"], check_cache=False)
    assert again.value.error == "invalid_grant"


def test_token_ttl_is_reported(spotify_server: FakeSpotify) -> None:
    spotify_server.access_token_ttl = 120
    auth = pkce(spotify_server)
    auth.get_access_token(location_params(authorize(auth))["code"], check_cache=False)
    assert auth.cache_handler.get_cached_token()["expires_in"] == 120


def test_refresh_tokens_rotate(spotify_server: FakeSpotify) -> None:
    auth = pkce(spotify_server)
    auth.get_access_token(location_params(authorize(auth))["code"], check_cache=False)
    first = auth.cache_handler.get_cached_token()
    second = auth.refresh_access_token(first["refresh_token"])
    assert second["refresh_token"] != first["refresh_token"]
    assert second["access_token"] != first["access_token"]
    with pytest.raises(SpotifyOauthError) as refused:
        auth.refresh_access_token(first["refresh_token"])
    assert refused.value.error == "invalid_grant"
    third = auth.refresh_access_token(second["refresh_token"])
    assert client(spotify_server, third["access_token"]).me()["id"] == "hookline-tester"


def test_bad_verifier_is_refused(spotify_server: FakeSpotify) -> None:
    auth = pkce(spotify_server)
    code = location_params(authorize(auth))["code"]
    auth.code_verifier = "A" * 64  # a well-formed verifier, but not the one challenged
    with pytest.raises(SpotifyOauthError) as refused:
        auth.get_access_token(code, check_cache=False)
    assert refused.value.error == "invalid_grant"
    assert "verifier" in refused.value.error_description


def test_redirect_uri_must_match_the_code(spotify_server: FakeSpotify) -> None:
    auth = pkce(spotify_server)
    code = location_params(authorize(auth))["code"]
    response = requests.post(
        spotify_server.token_url,
        data={
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": "http://127.0.0.1:43117/other",
            "client_id": spotify_server.client_id,
            "code_verifier": auth.code_verifier,
        },
        timeout=5,
    )
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_grant"


def test_verifier_check_is_base64url_sha256(spotify_server: FakeSpotify) -> None:
    verifier = "v" * 50
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest())
    query = {
        "client_id": spotify_server.client_id,
        "response_type": "code",
        "redirect_uri": "http://[::1]:9000/cb",
        "code_challenge_method": "S256",
        "code_challenge": challenge.rstrip(b"=").decode(),
    }
    response = requests.get(
        spotify_server.authorize_url, params=query, allow_redirects=False, timeout=5
    )
    params = location_params(response)
    assert "state" not in params  # none sent, none echoed
    form = {
        "grant_type": "authorization_code",
        "code": params["code"],
        "redirect_uri": "http://[::1]:9000/cb",
        "client_id": spotify_server.client_id,
        "code_verifier": verifier,
    }
    ok = requests.post(spotify_server.token_url, data=form, timeout=5)
    assert ok.status_code == 200, ok.text
    assert ok.json()["scope"] == ""


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"redirect_uri": "http://localhost:43117/callback"}, "redirect"),
        ({"redirect_uri": "https://127.0.0.1:43117/callback"}, "redirect"),
        ({"redirect_uri": "http://127.0.0.1/callback"}, "redirect"),
        ({"redirect_uri": "http://127.0.0.2:43117/callback"}, "redirect"),
        ({"redirect_uri": "http://::1:43117/callback"}, "redirect"),
        ({"redirect_uri": "http://user@127.0.0.1:43117/cb"}, "redirect"),
        ({"redirect_uri": "http://127.0.0.1:99999/cb"}, "redirect"),
        ({"redirect_uri": "http://127.0.0.1:4311\u200b7/cb"}, "redirect"),
        ({"redirect_uri": ""}, "redirect"),
        ({"client_id": "someone-else"}, "client"),
        ({"client_id": ""}, "client"),
        ({"response_type": "token"}, "response_type"),
        ({"code_challenge_method": "plain"}, "S256"),
        ({"code_challenge_method": ""}, "S256"),
        ({"code_challenge": ""}, "code_challenge"),
        ({"code_challenge": "short"}, "code_challenge"),
        ({"code_challenge": "🎵" * 43}, "code_challenge"),
    ],
)
def test_authorize_refusals(
    spotify_server: FakeSpotify, change: dict[str, str], expected: str
) -> None:
    query = {
        "client_id": spotify_server.client_id,
        "response_type": "code",
        "redirect_uri": REDIRECT,
        "code_challenge_method": "S256",
        "code_challenge": "c" * 43,
        "state": "s",
        **change,
    }
    response = requests.get(
        spotify_server.authorize_url, params=query, allow_redirects=False, timeout=5
    )
    assert response.status_code == 400
    assert response.headers["Content-Type"].startswith("text/plain")
    assert expected.lower() in response.text.lower()
    assert "Location" not in response.headers


LOOPBACK = re.compile(r"^http://(?:127\.0\.0\.1|\[::1\]):([1-9][0-9]{0,4})(?:[/?][!-\"$-~]*)?$")

redirects = st.one_of(
    st.text(max_size=40),
    st.builds(
        "http://{}:{}{}".format,
        st.sampled_from(["127.0.0.1", "[::1]", "localhost", "127.0.0.2", "::1", "[::2]"]),
        st.integers(min_value=0, max_value=70_000),
        st.one_of(st.just(""), st.text(max_size=20).map(lambda t: "/" + t)),
    ),
)


@given(redirect=redirects)
@hsettings(
    max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
def test_authorize_accepts_only_literal_loopback(shared_server: FakeSpotify, redirect: str) -> None:
    query = {
        "client_id": shared_server.client_id,
        "response_type": "code",
        "redirect_uri": redirect,
        "code_challenge_method": "S256",
        "code_challenge": "c" * 43,
        "state": "s",
    }
    response = requests.get(
        shared_server.authorize_url, params=query, allow_redirects=False, timeout=5
    )
    match = LOOPBACK.match(redirect)
    literal = match is not None and int(match.group(1)) <= 65_535
    assert response.status_code == (302 if literal else 400), redirect
    if literal:
        assert response.headers["Location"].startswith(redirect)


def test_authorize_switches(spotify_server: FakeSpotify) -> None:
    auth = pkce(spotify_server)
    spotify_server.authorize_state = "not-yours"
    params = location_params(authorize(auth, state="mine"))
    assert params["state"] == "not-yours"
    assert "code" in params
    spotify_server.authorize_state = None
    spotify_server.authorize_error = "access_denied"
    params = location_params(authorize(auth, state="mine"))
    assert params == {"error": "access_denied", "state": "mine"}


@given(
    form=st.dictionaries(
        st.sampled_from(["grant_type", "code", "refresh_token", "client_id", "code_verifier"]),
        st.text(max_size=40),
    )
)
@hsettings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
def test_token_endpoint_refuses_junk(shared_server: FakeSpotify, form: dict[str, str]) -> None:
    response = requests.post(shared_server.token_url, data=form, timeout=5)
    assert response.status_code == 400
    assert response.json()["error"] in {
        "invalid_request",
        "invalid_client",
        "invalid_grant",
        "unsupported_grant_type",
    }
    assert shared_server.validation_errors == []


# -- tokens on the Web API --------------------------------------------------------------------


def test_expired_and_missing_tokens_get_401(spotify_server: FakeSpotify) -> None:
    old = spotify_server.issue_tokens()["access_token"]
    sp = client(spotify_server, old)
    assert sp.me()["id"] == "hookline-tester"
    spotify_server.expire_access_tokens()
    error = spotify_error(sp.me)
    assert error.http_status == 401
    assert "expired" in error.msg
    body = api_get(spotify_server, "me", old).json()
    assert body == {"error": {"status": 401, "message": "The access token expired"}}
    assert client(spotify_server).me()["id"] == "hookline-tester"  # a fresh token works
    assert api_get(spotify_server, "me", None).status_code == 401
    assert api_get(spotify_server, "me", "made-up").status_code == 401
    utf8 = {"Authorization": "Bearer 🎵\u202e".encode()}  # raw UTF-8 bytes in the header
    assert (
        requests.get(spotify_server.api_prefix + "me", headers=utf8, timeout=5).status_code == 401
    )
    assert [r.authorized for r in spotify_server.requests[-3:]] == [False, False, False]


def test_missing_scope_is_forbidden(spotify_server: FakeSpotify) -> None:
    sp = client(spotify_server, spotify_server.issue_tokens(scope="")["access_token"])
    assert "email" not in sp.me()
    assert spotify_error(sp.current_user_top_artists).http_status == 403
    assert spotify_error(sp.current_user_followed_artists).http_status == 403


def test_requests_are_recorded(spotify_server: FakeSpotify) -> None:
    sp = client(spotify_server)
    sp.current_user_top_tracks(limit=3, time_range="short_term")
    last = spotify_server.requests[-1]
    assert (last.method, last.path, last.authorized) == ("GET", "/v1/me/top/tracks", True)
    assert last.query == {"limit": "3", "offset": "0", "time_range": "short_term"}


# -- modes ----------------------------------------------------------------------------------------


@pytest.mark.filterwarnings("ignore:You're using `artist_top_tracks")
def test_development_mode_hides_stats(spotify_server: FakeSpotify) -> None:
    sp = client(spotify_server)
    artist_id = spotify_server.catalog.big_artist_id
    spotify_server.set_artist_stats(artist_id, followers=123, popularity=45)
    artists = [
        sp.artist(artist_id),
        *sp.current_user_top_artists()["items"],
        *sp.current_user_followed_artists()["artists"]["items"],
        *sp.search("nova", type="artist")["artists"]["items"],
    ]
    assert len(artists) >= 9
    for artist in artists:
        assert "followers" not in artist
        assert "popularity" not in artist
    for track in sp.current_user_top_tracks(limit=50)["items"]:
        assert "popularity" not in track
    assert spotify_error(lambda: sp.artist_top_tracks(artist_id)).http_status == 403
    error = spotify_error(lambda: sp.artists([artist_id]))
    assert error.http_status == 403
    assert error.msg.strip()
    assert spotify_error(lambda: sp.tracks([spotify_id("x")])).http_status == 403
    assert spotify_error(lambda: sp.search("nova", type="artist", limit=11)).http_status == 400
    too_many = spotify_error(lambda: sp.artist_albums(artist_id))  # spotipy's default is 20
    assert too_many.http_status == 400
    assert len(sp.artist_albums(artist_id, limit=10)["items"]) == 10


@pytest.mark.filterwarnings("ignore:You're using `artist_top_tracks")
def test_extended_mode_reports_stats_and_changes(extended: FakeSpotify) -> None:
    sp = client(extended)
    artist_id = extended.catalog.big_artist_id
    extended.set_artist_stats(artist_id, followers=1000, popularity=50)
    first = sp.artist(artist_id)
    assert first["followers"] == {"href": None, "total": 1000}
    assert first["popularity"] == 50
    extended.set_artist_stats(artist_id, followers=1500)
    assert sp.artist(artist_id)["followers"]["total"] == 1500
    assert sp.artist(artist_id)["popularity"] == 50
    followed = sp.current_user_followed_artists()["artists"]["items"]
    assert all("followers" in a and "popularity" in a for a in followed)
    top = sp.artist_top_tracks(artist_id)["tracks"]
    assert 1 <= len(top) <= 10
    assert [t["popularity"] for t in top] == sorted((t["popularity"] for t in top), reverse=True)
    unknown = spotify_id("nobody")
    several = sp.artists([artist_id, unknown])["artists"]
    assert several[0]["id"] == artist_id
    assert several[1] is None
    assert len(sp.search("a", type="track", limit=50)["tracks"]["items"]) <= 50
    assert spotify_error(lambda: sp.search("a", type="track", limit=51)).http_status == 400
    assert len(sp.artist_albums(artist_id, limit=50)["items"]) == 23


def test_mode_switch_applies_at_once(spotify_server: FakeSpotify) -> None:
    sp = client(spotify_server)
    artist_id = spotify_server.catalog.big_artist_id
    assert "popularity" not in sp.artist(artist_id)
    spotify_server.mode = "extended"
    assert "popularity" in sp.artist(artist_id)
    spotify_server.mode = "development"
    assert "popularity" not in sp.artist(artist_id)
    with pytest.raises(ValueError):
        spotify_server.mode = "Extended"


def test_stat_and_scenario_arguments_are_checked(spotify_server: FakeSpotify) -> None:
    artist_id = spotify_server.catalog.big_artist_id
    with pytest.raises(KeyError):
        spotify_server.set_artist_stats("nope", followers=1)
    with pytest.raises(ValueError):
        spotify_server.set_artist_stats(artist_id, followers=-1)
    with pytest.raises(ValueError):
        spotify_server.set_artist_stats(artist_id, popularity=101)
    with pytest.raises(ValueError):
        spotify_server.inject("explode")
    with pytest.raises(ValueError):
        spotify_server.inject("status", status=200)
    with pytest.raises(ValueError):
        spotify_server.inject("status")
    with pytest.raises(TypeError):
        spotify_server.inject("slow", retry_after=3)
    with pytest.raises(ValueError):
        spotify_server.inject("malformed", count=0)
    assert spotify_server.pending_scenarios == 0


# -- paging ---------------------------------------------------------------------------------------


def walk(sp: spotipy.Spotify, page: dict[str, Any]) -> list[dict[str, Any]]:
    pages = [page]
    while pages[-1]["next"]:
        assert pages[-1]["next"].startswith(sp.prefix)
        pages.append(sp.next(pages[-1]))
    return pages


def test_artist_albums_page_to_the_end(spotify_server: FakeSpotify) -> None:
    sp = client(spotify_server)
    artist_id = spotify_server.catalog.big_artist_id
    pages = walk(sp, sp.artist_albums(artist_id, limit=10))
    assert [len(p["items"]) for p in pages] == [10, 10, 3]
    assert [p["offset"] for p in pages] == [0, 10, 20]
    assert pages[0]["previous"] is None
    assert pages[1]["previous"] == pages[0]["href"]
    assert all(p["total"] == 23 for p in pages)
    ids = [a["id"] for p in pages for a in p["items"]]
    assert len(set(ids)) == 23
    groups = [a["album_group"] for p in pages for a in p["items"]]
    assert groups == ["album"] * 10 + ["single"] * 9 + ["compilation"] * 2 + ["appears_on"] * 2
    only = sp.artist_albums(artist_id, include_groups="appears_on,compilation", limit=10)
    assert only["total"] == 4
    assert "include_groups=appears_on%2Ccompilation" in only["href"]
    bad = spotify_error(lambda: sp.artist_albums(artist_id, include_groups="bootleg", limit=5))
    assert bad.http_status == 400


def test_album_tracks_and_top_items_page_to_the_end(spotify_server: FakeSpotify) -> None:
    sp = client(spotify_server)
    catalog = spotify_server.catalog
    live = next(a for a in catalog.albums.values() if a.name == "Live & Rare")
    pages = walk(sp, sp.album_tracks(live.id, limit=10))
    assert [len(p["items"]) for p in pages] == [10, 10, 3]
    assert [t["track_number"] for p in pages for t in p["items"]] == list(range(1, 24))
    top = walk(sp, sp.current_user_top_tracks(limit=20, time_range="long_term"))
    assert [len(p["items"]) for p in top] == [20, 20, 10]
    assert all("time_range=long_term" in p["href"] for p in top)
    exact = walk(sp, sp.current_user_top_tracks(limit=25))  # 50 items: no empty third page
    assert [len(p["items"]) for p in exact] == [25, 25]
    short = [a["id"] for a in sp.current_user_top_artists(time_range="short_term")["items"]]
    medium = [a["id"] for a in sp.current_user_top_artists(time_range="medium_term")["items"]]
    assert sorted(short) == sorted(medium)
    assert short != medium
    assert (
        spotify_error(lambda: sp.current_user_top_artists(time_range="forever")).http_status == 400
    )
    past_end = sp.current_user_top_artists(limit=5, offset=40)
    assert (past_end["items"], past_end["next"], past_end["total"]) == ([], None, 5)


def test_followed_artists_cursor_paging(spotify_server: FakeSpotify) -> None:
    sp = client(spotify_server)
    seen: list[str] = []
    pages = 0
    result = sp.current_user_followed_artists(limit=1)
    while True:
        pages += 1
        page = result["artists"]
        seen.extend(a["id"] for a in page["items"])
        assert page["total"] == 3
        if not page["next"]:
            assert page["cursors"]["after"] is None
            break
        assert page["cursors"]["after"] == page["items"][-1]["id"]
        result = sp.next(page)
    assert seen == spotify_server.catalog.followed
    assert pages == 3  # the third page already says there is no next one
    after = sp.current_user_followed_artists(limit=5, after=seen[0])["artists"]["items"]
    assert [a["id"] for a in after] == seen[1:]
    assert all(a["images"] for a in after[:1])
    assert after[-1]["images"] == []  # the third followed artist has none


def test_search_matches_names_across_scripts(spotify_server: FakeSpotify) -> None:
    sp = client(spotify_server)
    assert sp.search("relámpagos", type="artist")["artists"]["items"][0]["name"] == "Los Relámpagos"
    assert sp.search("東京", type="artist")["artists"]["total"] == 1
    assert sp.search("artist:nova", type="artist")["artists"]["total"] == 1
    assert sp.search("zzz-nothing", type="artist")["artists"]["items"] == []
    both = sp.search("harbor", type="album,track", limit=10)
    assert set(both) == {"albums", "tracks"}
    assert both["albums"]["total"] == 10
    assert spotify_error(lambda: sp.search("   ", type="artist")).http_status == 400
    assert spotify_error(lambda: sp.search("x", type="artist,podcast")).http_status == 400


@given(q=st.text(max_size=40))
@hsettings(
    max_examples=50, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
def test_search_survives_any_query_text(shared_server: FakeSpotify, q: str) -> None:
    token = shared_server.issue_tokens()["access_token"]
    response = api_get(shared_server, "search", token, q=q, type="artist,track")
    assert response.status_code == (200 if q.strip() else 400)
    if response.status_code == 200:
        for page in response.json().values():
            assert len(page["items"]) == min(page["total"], 5)
    assert shared_server.validation_errors == []


def test_odd_ids_and_huge_input(spotify_server: FakeSpotify) -> None:
    token = spotify_server.issue_tokens()["access_token"]
    assert api_get(spotify_server, "artists/🎵", token).status_code == 400
    assert api_get(spotify_server, "artists/" + "a" * 23, token).status_code == 400
    assert api_get(spotify_server, "artists/" + spotify_id("ghost"), token).status_code == 404
    assert api_get(spotify_server, "no/such/thing", token).status_code == 404
    huge = api_get(spotify_server, "search", token, q="x" * 20_000, type="artist")
    assert huge.status_code == 200
    assert huge.json()["artists"]["total"] == 0
    assert api_get(spotify_server, "me/top/artists", token, limit="ten").status_code == 400
    assert api_get(spotify_server, "me/top/artists", token, offset="-1").status_code == 400
    assert ("GET", "/v1/artists/" + spotify_id("ghost"), 404) in spotify_server.fallback_validated


def test_image_urls_are_served(spotify_server: FakeSpotify) -> None:
    artist = client(spotify_server).artist(spotify_server.catalog.big_artist_id)
    image = requests.get(artist["images"][0]["url"], timeout=5)
    assert image.status_code == 200
    assert image.content.startswith(b"\x89PNG\r\n\x1a\n")


# -- scenarios ------------------------------------------------------------------------------------


@pytest.mark.parametrize("status", [500, 502, 503])
def test_status_scenario(spotify_server: FakeSpotify, status: int) -> None:
    sp = client(spotify_server)
    spotify_server.inject("status", status=status)
    error = spotify_error(sp.me)
    assert error.http_status == status
    assert sp.me()["id"] == "hookline-tester"  # consumed: the next one is normal
    assert ("GET", "/v1/me", status) in spotify_server.fallback_validated


@pytest.mark.parametrize("reason", [None, "QUOTA_EXCEEDED"])
def test_rate_limit_scenario(spotify_server: FakeSpotify, reason: str | None) -> None:
    sp = client(spotify_server)
    spotify_server.inject(
        "rate_limit", path="/v1/artists", retry_after=7200, reason=reason, count=2
    )
    artist_id = spotify_server.catalog.big_artist_id
    assert sp.me()["id"]  # another path: untouched
    for _ in range(2):
        error = spotify_error(lambda: sp.artist(artist_id))
        assert error.http_status == 429
        assert error.headers["Retry-After"] == "7200"
        assert error.reason == reason
    assert sp.artist(artist_id)["id"] == artist_id
    assert spotify_server.pending_scenarios == 0


def test_malformed_scenario(spotify_server: FakeSpotify) -> None:
    sp = client(spotify_server)
    spotify_server.inject("malformed", path="/v1/me")
    raw = api_get(spotify_server, "me", spotify_server.issue_tokens()["access_token"])
    assert raw.status_code == 200
    assert raw.headers["Content-Type"].startswith("application/json")
    with pytest.raises(ValueError):
        json.loads(raw.content)
    spotify_server.inject("malformed")
    assert sp.me() is None  # spotipy swallows the JSON error and returns None
    assert spotify_server.deliberately_invalid == 2
    validated = spotify_server.validated
    assert sp.me()["id"] == "hookline-tester"
    assert spotify_server.validated == validated + 1


def test_slow_scenario_does_not_block_others(spotify_server: FakeSpotify) -> None:
    spotify_server.inject("slow", path="/v1/search", seconds=1.5)
    token = spotify_server.issue_tokens()["access_token"]
    results: dict[str, float] = {}

    def slow_call() -> None:
        started = time.perf_counter()
        api_get(spotify_server, "search", token, q="nova", type="artist")
        results["slow"] = time.perf_counter() - started

    thread = threading.Thread(target=slow_call)
    thread.start()
    time.sleep(0.1)
    started = time.perf_counter()
    assert api_get(spotify_server, "me", token).status_code == 200
    quick = time.perf_counter() - started
    thread.join(timeout=5)
    assert quick < 1.0
    assert results["slow"] >= 1.4


def test_scenarios_reach_the_token_endpoint(spotify_server: FakeSpotify) -> None:
    auth = pkce(spotify_server)
    code = location_params(authorize(auth))["code"]
    spotify_server.inject("status", path="/api/token", status=503)
    with pytest.raises(SpotifyOauthError) as failed:
        auth.get_access_token(code, check_cache=False)
    assert failed.value.error == "server_error"
    assert spotify_server.pending_scenarios == 0
    assert client(spotify_server).me()["id"] == "hookline-tester"


# -- the validator ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "field", "needle"),
    [
        ("me/top/artists", "total", "total"),
        ("artists/{big}/albums?limit=3", "items.0.album_group", "album_group"),
        ("me", "error.message", "message"),  # sent without a token: 401 error object
    ],
)
def test_validator_catches_a_missing_required_field(path: str, field: str, needle: str) -> None:
    with FakeSpotify() as server:
        token = None if path == "me" else server.issue_tokens()["access_token"]
        url_path = path.format(big=server.catalog.big_artist_id)
        server.inject("drop_field", field=field)
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        response = requests.get(server.api_prefix + url_path, headers=headers, timeout=5)
        assert response.status_code in (200, 401)
        assert len(server.validation_errors) == 1
        assert needle in server.validation_errors[0]
        # The same request without the switch is clean.
        requests.get(server.api_prefix + url_path, headers=headers, timeout=5)
        assert len(server.validation_errors) == 1


def test_contract_rejects_a_wrong_type_directly() -> None:
    contract = load_contract()
    good = json.dumps({"error": {"status": 429, "message": "slow down"}}).encode()
    bad = json.dumps({"error": {"status": "429", "message": "slow down"}}).encode()
    ctype = "application/json"
    assert contract.check("GET", "/v1/me", 429, ctype, good) == (None, False)
    error, _ = contract.check("GET", "/v1/me", 429, ctype, bad)
    assert error is not None
    assert "integer" in error
    missing, _ = contract.check("GET", "/v1/no-such-operation", 200, ctype, b"{}")
    assert missing is not None


def test_spec_patches_are_applied_to_a_copy(monkeypatch: pytest.MonkeyPatch) -> None:
    spec = load_contract().spec
    cursor = spec["components"]["schemas"]["CursorPagingObject"]["properties"]["next"]
    assert cursor["nullable"] is True
    original: dict[str, Any] = {
        "components": {"schemas": {"CursorPagingObject": {"properties": {"next": {}}}}}
    }
    monkeypatch.setattr(spotify_fake, "SPEC_PATCHES", (SPEC_PATCHES[0],))
    patched = patch_spec(original)
    assert patched["components"]["schemas"]["CursorPagingObject"]["properties"]["next"] == {
        "nullable": True
    }
    assert original["components"]["schemas"]["CursorPagingObject"]["properties"]["next"] == {}
