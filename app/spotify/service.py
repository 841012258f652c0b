"""What the Stats room and ``hookline spotify`` use: sign in and out, status, sync, schedule.

:class:`SpotifyService` ties the settings (client id, endpoints, chosen artists, sync interval),
the keyring token cache, the rate-limit state (kept in the database, so a restart does not call
Spotify before a 429's ``Retry-After`` has passed) and the snapshot store together. Every method
that touches the network blocks: call it from a worker thread.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from app.i18n import N_, _
from app.spotify.api import Backoff, NotSignedIn, RateLimited, SpotifyGateway, TokenSource
from app.spotify.auth import Endpoints, login
from app.spotify.store import Snapshot, SpotifyStore
from app.spotify.sync import Progress, SyncReport, sync
from app.spotify.tokens import KeyringTokenCache, TokenStoreUnavailable
from app.storage import Database

# Marked for translation; translate with _() where shown.
CLIENT_ID_HELP = N_(
    "To read your Spotify data, Hookline needs a Spotify app of your own (it is free): "
    "sign in at developer.spotify.com/dashboard, choose Create app, give it any name, add the "
    "redirect URI http://127.0.0.1/callback (the port is chosen at sign-in) and tick Web API. "
    "Then copy the app's Client ID here. No client secret is needed."
)


@dataclass(frozen=True)
class SpotifyConfig:
    client_id: str = ""
    endpoints: Endpoints = field(default_factory=Endpoints)
    artist_ids: tuple[str, ...] = ()
    sync_hours: int = 24

    @classmethod
    def from_settings(cls, get: Callable[[str], object]) -> SpotifyConfig:
        artists = str(get("spotify.artists"))
        return cls(
            client_id=str(get("spotify.client_id")).strip(),
            endpoints=Endpoints(str(get("spotify.accounts_url")), str(get("spotify.api_url"))),
            artist_ids=tuple(a.strip() for a in artists.split(",") if a.strip()),
            sync_hours=int(get("spotify.sync_hours")),  # type: ignore[call-overload]
        )


@dataclass(frozen=True)
class SpotifyStatus:
    configured: bool  # a client id is set
    signed_in: bool
    keyring_problem: str | None
    account_name: str | None
    last_sync: datetime | None
    access_level: str | None
    blocked_until: datetime | None
    block_reason: str | None
    last_error: str | None
    next_sync: datetime | None

    def to_json(self) -> dict[str, object]:
        def iso(t: datetime | None) -> str | None:
            return t.isoformat() if t else None

        return {
            "configured": self.configured,
            "signed_in": self.signed_in,
            "keyring_problem": self.keyring_problem,
            "account_name": self.account_name,
            "last_sync": iso(self.last_sync),
            "access_level": self.access_level,
            "blocked_until": iso(self.blocked_until),
            "block_reason": self.block_reason,
            "last_error": self.last_error,
            "next_sync": iso(self.next_sync),
        }


def _parse_time(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        when = datetime.fromisoformat(value)
    except ValueError:
        return None
    return when if when.tzinfo else when.replace(tzinfo=UTC)


class SpotifyService:
    def __init__(
        self,
        database: Database,
        config: SpotifyConfig,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.config = config
        self.store = SpotifyStore(database)
        self._now = now
        self._lock = threading.Lock()
        self._tokens: TokenSource | None = None

    @property
    def cache(self) -> KeyringTokenCache:
        return KeyringTokenCache(self.config.client_id)

    def _token_source(self) -> TokenSource:
        if not self.config.client_id:
            raise NotSignedIn(_("Enter your Spotify app's client id first."))
        with self._lock:
            if self._tokens is None:
                self._tokens = TokenSource(self.config.client_id, self.config.endpoints, self.cache)
            return self._tokens

    def _backoff(self) -> Backoff:
        return Backoff(
            blocked_until=_parse_time(self.store.get_state("blocked_until")),
            reason=self.store.get_state("block_reason"),
            consecutive=int(self.store.get_state("consecutive_429") or 0),
        )

    def _save_backoff(self, backoff: Backoff) -> None:
        until = backoff.blocked_until
        self.store.set_state("blocked_until", until.isoformat() if until else None)
        self.store.set_state("block_reason", backoff.reason)
        self.store.set_state("consecutive_429", str(backoff.consecutive))

    # Sign-in

    def login(
        self,
        open_url: Callable[[str], object],
        *,
        timeout: float = 300.0,
        cancel: threading.Event | None = None,
    ) -> None:
        """Blocks until signed in; raises :class:`~app.spotify.auth.LoginFailed` or
        :class:`~app.spotify.tokens.TokenStoreUnavailable`."""
        login(
            self.config.client_id,
            self.config.endpoints,
            self.cache,
            open_url,
            timeout=timeout,
            cancel=cancel,
        )

    def logout(self) -> bool:
        """Erase the tokens from the keyring; True when there were some. Snapshots stay."""
        if not self.config.client_id:
            return False
        return self.cache.erase()

    # State

    def status(self) -> SpotifyStatus:
        problem = None
        signed_in = False
        if self.config.client_id:
            try:
                signed_in = self.cache.has_token()
            except TokenStoreUnavailable as exc:
                problem = str(exc)
        latest = self.store.latest_info()
        backoff = self._backoff()
        now = self._now()
        blocked = (
            backoff.blocked_until if backoff.blocked_until and backoff.blocked_until > now else None
        )
        return SpotifyStatus(
            configured=bool(self.config.client_id),
            signed_in=signed_in,
            keyring_problem=problem,
            account_name=latest.account_name if latest else None,
            last_sync=latest.taken_at if latest else None,
            access_level=latest.access_level if latest else None,
            blocked_until=blocked,
            block_reason=backoff.reason if blocked else None,
            last_error=self.store.get_state("last_error"),
            next_sync=self.next_sync(latest),
        )

    def next_sync(self, latest: Snapshot | None = None) -> datetime:
        """When the scheduled sync is due: an interval after the last complete snapshot (now when
        there is none), and never before a rate limit ends."""
        latest = latest if latest is not None else self.store.latest_info()
        due = (
            self._now()
            if latest is None
            else latest.taken_at + timedelta(hours=self.config.sync_hours)
        )
        blocked = self._backoff().blocked_until
        return max(due, blocked) if blocked else due

    def sync_due(self) -> bool:
        return self.config.client_id != "" and self.next_sync() <= self._now()

    def latest(self) -> Snapshot | None:
        return self.store.latest()

    def sync(
        self, *, progress: Progress | None = None, cancel: threading.Event | None = None
    ) -> SyncReport:
        """One sync now (a rate limit still applies: it answers ``rate_limited`` at once)."""
        try:
            tokens = self._token_source()
        except NotSignedIn as exc:
            return SyncReport("not_signed_in", str(exc))
        backoff = self._backoff()
        gateway = SpotifyGateway(tokens, backoff, cancel=cancel, now=self._now)
        try:
            report = sync(
                gateway, self.store, self.config.artist_ids, progress=progress, now=self._now
            )
        except TokenStoreUnavailable as exc:
            report = SyncReport("not_signed_in", str(exc))
        finally:
            gateway.close()
            self._save_backoff(backoff)
        return report


__all__ = [
    "CLIENT_ID_HELP",
    "RateLimited",
    "SpotifyConfig",
    "SpotifyService",
    "SpotifyStatus",
]
