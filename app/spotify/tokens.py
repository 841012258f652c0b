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

from spotipy.cache_handler import CacheHandler

from app.i18n import _
from app.keyring_guard import (
    KeyringProblem,
    delete_entry,
    read_entry,
    require_usable,
    write_entry,
)

log = logging.getLogger(__name__)

SERVICE = "Hookline Spotify"
MAX_ENTRY_CHARS = 16_384  # a token entry is about 600 characters


# The OS keyring cannot be used; the message is for the user.
TokenStoreUnavailable = KeyringProblem


def _check_backend() -> None:
    require_usable(
        _(
            "No secure system keyring is available ({backend}). Hookline keeps Spotify "
            "sign-in tokens only in the system keyring; start your desktop's keyring "
            "service (for example GNOME Keyring or KWallet) and try again."
        )
    )


class KeyringTokenCache(CacheHandler):
    """spotipy's token cache, backed by the keyring entry (SERVICE, client_id)."""

    def __init__(self, client_id: str) -> None:
        self.client_id = client_id

    def get_cached_token(self) -> dict[str, Any] | None:
        _check_backend()
        raw = read_entry(SERVICE, self.client_id)
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
        refused = _("The system keyring refused to store the Spotify sign-in: {error}")
        write_entry(SERVICE, self.client_id, json.dumps(token_info), refused)

    def erase(self) -> bool:
        """Delete the entry; True when there was one."""
        return delete_entry(SERVICE, self.client_id)

    def has_token(self) -> bool:
        return self.get_cached_token() is not None
