"""Team-server sign-in tokens in the OS keyring, and nowhere else.

One keyring entry per server URL and account: service :data:`SERVICE`, user name
``"<server url> <e-mail>"``, value a small JSON object with the refresh token and the user id.
Access tokens are short-lived and kept in memory only. Refresh tokens rotate: every refresh
returns a new one, which :meth:`KeyringCredentials.store` writes before it is used.

A keyring that cannot keep secrets (none, a "fail" or plain-text backend) is refused with a
message for the user; there is no fallback to a file. Tokens are never logged.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from app.i18n import _
from app.keyring_guard import (
    KeyringProblem,
    delete_entry,
    read_entry,
    require_usable,
    write_entry,
)
from app.sync.errors import KeyringUnavailable

log = logging.getLogger(__name__)

SERVICE = "Hookline Team Sync"
MAX_ENTRY_CHARS = 16_384  # an entry is a few hundred characters


@dataclass(frozen=True)
class StoredSignIn:
    refresh_token: str
    user_id: str

    def __repr__(self) -> str:  # never show the token, not even in a traceback
        return f"StoredSignIn(user_id={self.user_id!r})"


@contextmanager
def _as_sync_error() -> Iterator[None]:
    try:
        yield
    except KeyringProblem as exc:
        raise KeyringUnavailable(str(exc), code="keyring") from exc


def check_backend() -> None:
    """Raise :class:`KeyringUnavailable` when the keyring in use cannot keep secrets."""
    with _as_sync_error():
        require_usable(
            _(
                "No secure system keyring is available ({backend}). Hookline keeps team sign-in "
                "tokens only in the system keyring; start your desktop's keyring service (for "
                "example GNOME Keyring or KWallet) and try again."
            )
        )


class KeyringCredentials:
    """The keyring entry of one account on one server."""

    def __init__(self, server_url: str, account: str) -> None:
        self.server_url = server_url
        self.account = account.strip().lower()  # the server compares e-mails in lower case

    @property
    def username(self) -> str:
        return f"{self.server_url} {self.account}"

    def load(self) -> StoredSignIn | None:
        """The stored sign-in, or None when there is none (or the entry is unreadable)."""
        check_backend()
        with _as_sync_error():
            raw = read_entry(SERVICE, self.username)
        if raw is None:
            return None
        try:
            if len(raw) > MAX_ENTRY_CHARS:
                raise ValueError("entry too long")
            value = json.loads(raw)
            if not isinstance(value, dict):
                raise ValueError("not an object")
            token, user_id = value.get("refresh_token"), value.get("user_id")
            if not isinstance(token, str) or not token or not isinstance(user_id, str):
                raise ValueError("fields missing")
        except ValueError as exc:
            log.warning("ignoring an unreadable team-sync keyring entry (%s)", exc)
            return None
        return StoredSignIn(token, user_id)

    def store(self, sign_in: StoredSignIn) -> None:
        check_backend()
        value = json.dumps({"refresh_token": sign_in.refresh_token, "user_id": sign_in.user_id})
        refused = _("The system keyring refused to store the team sign-in: {error}")
        with _as_sync_error():
            write_entry(SERVICE, self.username, value, refused)

    def erase(self) -> bool:
        """Delete the entry; True when there was one."""
        with _as_sync_error():
            return delete_entry(SERVICE, self.username)
