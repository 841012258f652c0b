"""Spotify tokens in the OS keyring, and nowhere else.

:class:`KeyringTokenCache` is a spotipy cache handler: spotipy asks it for the token and hands it
every new token, after sign-in and after every refresh (Spotify rotates refresh tokens, so each
refresh's new refresh token is written at once). One keyring entry per client id holds the token
as JSON. A keyring that cannot keep secrets (none at all, or a plain-text file backend) is refused
with a message for the user; there is no fallback to a file.
"""

from __future__ import annotations

import json
import logging
from typing import Any

import keyring
import keyring.errors
from spotipy.cache_handler import CacheHandler

from app.i18n import _
from app.keyring_guard import unusable_keyring

log = logging.getLogger(__name__)

SERVICE = "Hookline Spotify"
MAX_ENTRY_CHARS = 16_384  # a token entry is about 600 characters


class TokenStoreUnavailable(Exception):
    """The OS keyring cannot be used; the message is for the user."""


def _check_backend() -> None:
    backend = unusable_keyring()
    if backend is not None:
        raise TokenStoreUnavailable(
            _(
                "No secure system keyring is available ({backend}). Hookline keeps Spotify "
                "sign-in tokens only in the system keyring; start your desktop's keyring "
                "service (for example GNOME Keyring or KWallet) and try again."
            ).format(backend=backend)
        )


class KeyringTokenCache(CacheHandler):
    """spotipy's token cache, backed by the keyring entry (SERVICE, client_id)."""

    def __init__(self, client_id: str) -> None:
        self.client_id = client_id

    def get_cached_token(self) -> dict[str, Any] | None:
        _check_backend()
        try:
            raw = keyring.get_password(SERVICE, self.client_id)
        except keyring.errors.KeyringError as exc:
            raise TokenStoreUnavailable(
                _("The system keyring could not be read: {error}").format(error=type(exc).__name__)
            ) from exc
        if raw is None:
            return None
        try:
            if len(raw) > MAX_ENTRY_CHARS:
                raise ValueError("entry too long")
            token = json.loads(raw)
            if not isinstance(token, dict) or not isinstance(token.get("refresh_token"), str):
                raise ValueError("not a token object")
            for key in ("access_token", "scope"):
                if not isinstance(token.get(key), str):
                    raise ValueError(f"{key} missing")
            if not isinstance(token.get("expires_at"), int):
                raise ValueError("expires_at missing")
        except ValueError as exc:
            # Never log the entry itself: it may hold a valid refresh token.
            log.warning("ignoring an unreadable Spotify keyring entry (%s)", exc)
            return None
        return token

    def save_token_to_cache(self, token_info: dict[str, Any]) -> None:
        _check_backend()
        try:
            keyring.set_password(SERVICE, self.client_id, json.dumps(token_info))
        except keyring.errors.KeyringError as exc:
            raise TokenStoreUnavailable(
                _("The system keyring refused to store the Spotify sign-in: {error}").format(
                    error=type(exc).__name__
                )
            ) from exc

    def erase(self) -> bool:
        """Delete the entry; True when there was one."""
        try:
            keyring.delete_password(SERVICE, self.client_id)
        except keyring.errors.PasswordDeleteError:
            return False
        except keyring.errors.KeyringError as exc:
            raise TokenStoreUnavailable(
                _("The system keyring could not be changed: {error}").format(
                    error=type(exc).__name__
                )
            ) from exc
        return True

    def has_token(self) -> bool:
        return self.get_cached_token() is not None
