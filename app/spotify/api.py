"""Every Spotify Web API call goes through :class:`SpotifyGateway`.

spotipy builds the requests; this module owns what happens when they fail, because spotipy's own
retry obeys a 429's ``Retry-After`` by sleeping, which can freeze a program for hours. Here:

- **429**: no retry. ``Retry-After`` (seconds, or an HTTP date) sets :attr:`blocked_until`; until
  then every call fails at once with :class:`RateLimited` without touching the network. The body's
  ``"reason": "QUOTA_EXCEEDED"`` is kept. Without a ``Retry-After``, the wait doubles from 30 s per
  consecutive 429, capped at one hour (24 hours for QUOTA_EXCEEDED).
- **5xx, connection errors, timeouts**: retried up to :data:`RETRIES` times after a full-jitter
  wait (0.5 s doubling, capped at 8 s), then :class:`SpotifyUnavailable`. ``cancel`` stops a wait.
- **401**: the access token is refreshed once (Spotify rotates the refresh token; the new one is
  stored at once) and the call repeated; a refused refresh is :class:`NotSignedIn`.
- **403**: :class:`NotAvailable`: the app's access level does not include this (development-mode
  apps get no artist top tracks since 2026-03-09).
- A reply that is not the JSON object expected is :class:`BadReply`.

Thread contract: one gateway per worker thread at a time; the token refresh is serialised by a lock
shared by every gateway of one :class:`TokenSource`.
"""

from __future__ import annotations

import email.utils
import logging
import random
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import requests
import spotipy
from spotipy.oauth2 import SpotifyOauthError

from app.i18n import _
from app.spotify.auth import HTTP_TIMEOUT_S, Endpoints, auth_manager
from app.spotify.tokens import KeyringTokenCache

log = logging.getLogger(__name__)

RETRIES = 3
FIRST_WAIT_S = 0.5
MAX_WAIT_S = 8.0
DEFAULT_RETRY_AFTER_S = 30.0
MAX_BACKOFF_S = 3600.0
QUOTA_BACKOFF_S = 24 * 3600.0
MAX_PAGES = 100  # a reply whose "next" never ends is hostile, not a catalog


class SpotifyError(Exception):
    """A Web API call failed; ``str(exc)`` is a message for the user."""


class NotSignedIn(SpotifyError):
    pass


class RateLimited(SpotifyError):
    def __init__(self, until: datetime, reason: str | None) -> None:
        self.until = until
        self.reason = reason
        soon = until - _now() < timedelta(hours=20)
        local = until.astimezone().strftime("%H:%M" if soon else "%c")
        if reason == "QUOTA_EXCEEDED":
            text = _(
                "Spotify says this app has used up its request quota. Hookline will try again "
                "after {time}; the data shown is from the last good sync."
            )
        else:
            text = _(
                "Spotify asked Hookline to slow down. The next try is after {time}; the data "
                "shown is from the last good sync."
            )
        super().__init__(text.format(time=local))


class SpotifyUnavailable(SpotifyError):
    pass


class NotAvailable(SpotifyError):
    """The app's access level does not include this data."""


class BadReply(SpotifyError):
    pass


def _now() -> datetime:
    return datetime.now(UTC)


def retry_after_seconds(value: str | None, now: datetime) -> float | None:
    """A ``Retry-After`` header in seconds from ``now``: delta-seconds or an HTTP date; None
    when absent or unreadable. Negative values read as 0; absurd ones are capped at a week."""
    if value is None or not value.strip():
        return None
    text = value.strip()
    if text.isdigit():
        seconds = float(int(text[:12]))
    else:
        try:
            when = email.utils.parsedate_to_datetime(text)
        except (TypeError, ValueError, IndexError):
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        seconds = (when - now).total_seconds()
    return min(max(seconds, 0.0), 7 * 24 * 3600.0)


class TokenSource:
    """The current access token for ``client_id``, refreshed when it is about to expire."""

    def __init__(self, client_id: str, endpoints: Endpoints, cache: KeyringTokenCache) -> None:
        self.client_id = client_id
        self.endpoints = endpoints
        self.cache = cache
        self._manager = auth_manager(client_id, endpoints, cache)
        self._lock = threading.Lock()

    def access_token(self, force_refresh: bool = False, stale: str | None = None) -> str:
        with self._lock:
            token = self.cache.get_cached_token()
            if token is None:
                raise NotSignedIn(_("Sign in to Spotify first."))
            # Another thread may have refreshed while this one waited for the lock.
            if force_refresh and token["access_token"] != stale:
                return str(token["access_token"])
            if force_refresh or token["expires_at"] - time.time() < 60:
                try:
                    token = self._manager.refresh_access_token(token["refresh_token"])
                except SpotifyOauthError as exc:
                    log.warning("Spotify refused the token refresh (%s)", getattr(exc, "error", ""))
                    self.cache.erase()
                    raise NotSignedIn(
                        _("Your Spotify sign-in has expired or was revoked; sign in again.")
                    ) from exc
                except (requests.RequestException, ValueError, KeyError, TypeError) as exc:
                    raise SpotifyUnavailable(
                        _("Spotify's accounts service could not be reached: {error}").format(
                            error=type(exc).__name__
                        )
                    ) from exc
            return str(token["access_token"])


@dataclass
class Backoff:
    """When the API may be called again after a 429, shared by the gateways of one account."""

    blocked_until: datetime | None = None
    reason: str | None = None
    consecutive: int = 0

    def check(self, now: datetime) -> None:
        if self.blocked_until is not None and now < self.blocked_until:
            raise RateLimited(self.blocked_until, self.reason)

    def hit(self, retry_after: float | None, reason: str | None, now: datetime) -> RateLimited:
        self.consecutive += 1
        if retry_after is None:
            cap = QUOTA_BACKOFF_S if reason == "QUOTA_EXCEEDED" else MAX_BACKOFF_S
            retry_after = min(DEFAULT_RETRY_AFTER_S * 2 ** (self.consecutive - 1), cap)
        self.blocked_until = now + timedelta(seconds=retry_after)
        self.reason = reason
        return RateLimited(self.blocked_until, reason)

    def clear(self) -> None:
        self.consecutive = 0


class SpotifyGateway:
    """The Web API calls Hookline makes, each returning the reply's JSON object."""

    def __init__(
        self,
        tokens: TokenSource,
        backoff: Backoff | None = None,
        *,
        cancel: threading.Event | None = None,
        now: Callable[[], datetime] = _now,
        sleep: Callable[[float], None] | None = None,
    ) -> None:
        self.tokens = tokens
        self.backoff = backoff or Backoff()
        self.cancel = cancel or threading.Event()
        self._now = now
        self._sleep = sleep or self._cancellable_sleep
        self._session = requests.Session()  # no urllib3 Retry: failures come back to us
        self._client = spotipy.Spotify(
            requests_session=self._session, requests_timeout=HTTP_TIMEOUT_S, retries=0
        )
        self._client.prefix = tokens.endpoints.api_prefix
        self.calls = 0

    def close(self) -> None:
        self._session.close()

    def _cancellable_sleep(self, seconds: float) -> None:
        if self.cancel.wait(seconds):
            raise SpotifyUnavailable(_("Cancelled."))

    def _call(self, method: Callable[..., Any], *args: Any, **kwargs: Any) -> dict[str, Any]:
        refreshed = False
        attempt = 0
        while True:
            if self.cancel.is_set():
                raise SpotifyUnavailable(_("Cancelled."))
            self.backoff.check(self._now())
            token = self.tokens.access_token()
            self._client.set_auth(token)
            self.calls += 1
            try:
                result = method(*args, **kwargs)
            except spotipy.SpotifyException as exc:
                status = exc.http_status
                if status == 429:
                    headers = exc.headers or {}
                    seconds = retry_after_seconds(headers.get("Retry-After"), self._now())
                    raise self.backoff.hit(seconds, exc.reason, self._now()) from exc
                if status == 401 and not refreshed:
                    refreshed = True
                    self.tokens.access_token(force_refresh=True, stale=token)
                    continue
                if status == 401:
                    raise NotSignedIn(
                        _("Spotify no longer accepts this sign-in; sign in again.")
                    ) from exc
                if status == 403:
                    raise NotAvailable(_("not available for this API access level")) from exc
                if status >= 500 and attempt < RETRIES:
                    attempt += 1
                    self._sleep(random.uniform(0, min(MAX_WAIT_S, FIRST_WAIT_S * 2**attempt)))
                    continue
                if status >= 500:
                    raise SpotifyUnavailable(
                        _("Spotify's servers answered with an error ({status}); try later.").format(
                            status=status
                        )
                    ) from exc
                raise BadReply(
                    _("Spotify refused a request ({status}).").format(status=status)
                ) from exc
            except (requests.ConnectionError, requests.Timeout) as exc:
                if attempt < RETRIES:
                    attempt += 1
                    self._sleep(random.uniform(0, min(MAX_WAIT_S, FIRST_WAIT_S * 2**attempt)))
                    continue
                raise SpotifyUnavailable(
                    _("Spotify could not be reached ({error}); check the connection.").format(
                        error=type(exc).__name__
                    )
                ) from exc
            if not isinstance(result, dict):
                # spotipy returns None when the body is not JSON.
                raise BadReply(_("Spotify sent a reply Hookline could not read."))
            self.backoff.clear()
            return result

    def _pages(self, first: dict[str, Any], key: str | None = None) -> Iterator[dict[str, Any]]:
        page: dict[str, Any] | None = first
        for _i in range(MAX_PAGES):
            if page is None:
                return
            body = page.get(key) if key else page
            if not isinstance(body, dict):
                raise BadReply(_("Spotify sent a reply Hookline could not read."))
            items = body.get("items")
            if not isinstance(items, list):
                raise BadReply(_("Spotify sent a reply Hookline could not read."))
            yield from (i for i in items if isinstance(i, dict))
            following = body.get("next")
            if not following:
                return
            # The bearer token goes with the request: follow only links back into the API.
            if not isinstance(following, str) or not following.startswith(self._client.prefix):
                raise BadReply(_("Spotify sent a reply Hookline could not read."))
            page = self._call(self._client._get, following)

    # The operations the stats use.

    def me(self) -> dict[str, Any]:
        return self._call(self._client.me)

    def top(self, kind: str, limit: int = 20) -> list[dict[str, Any]]:
        method = (
            self._client.current_user_top_artists
            if kind == "artists"
            else self._client.current_user_top_tracks
        )
        return list(self._pages(self._call(method, limit=limit, time_range="medium_term")))[:limit]

    def followed_artists(self, limit: int = 500) -> list[dict[str, Any]]:
        first = self._call(self._client.current_user_followed_artists, limit=50)
        return list(self._pages(first, "artists"))[:limit]

    def artist(self, artist_id: str) -> dict[str, Any]:
        return self._call(self._client.artist, artist_id)

    def artist_albums(self, artist_id: str, limit: int = 200) -> list[dict[str, Any]]:
        # 10 a page: the most a development-mode app may ask for since 2026-03-09.
        first = self._call(
            self._client.artist_albums, artist_id, include_groups="album,single", limit=10
        )
        return list(self._pages(first))[:limit]

    def album_tracks(self, album_id: str, limit: int = 200) -> list[dict[str, Any]]:
        return list(self._pages(self._call(self._client.album_tracks, album_id, limit=50)))[:limit]

    def artist_top_tracks(self, artist_id: str) -> list[dict[str, Any]]:
        # spotipy's artist_top_tracks() warns that Spotify deprecated the operation; it still
        # answers for extended-quota apps (and 403 in development mode), so call it directly.
        reply = self._call(
            self._client._get, f"artists/{artist_id}/top-tracks", market="from_token"
        )
        tracks = reply.get("tracks")
        if not isinstance(tracks, list):
            raise BadReply(_("Spotify sent a reply Hookline could not read."))
        return [t for t in tracks if isinstance(t, dict)]
