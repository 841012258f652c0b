"""Hookline's secrets (Spotify and team sign-ins) in the OS keyring, and which keyrings may
hold them.

A keyring that cannot keep a secret is refused, never worked around: the "fail" backend (no
keyring service), a null backend, and plain-text file backends (``keyrings.alt`` makes one the
default when it is installed). keyring's chainer, the usual default on Linux, writes to the first
of its members that accepts a secret, so a chain is refused when any member would keep it in a
file or when no member can keep it at all.

:func:`read_entry`, :func:`write_entry` and :func:`delete_entry` turn the keyring's own errors
into :class:`KeyringProblem` with a translated message.
"""

from __future__ import annotations

import keyring
import keyring.errors
from keyring.backend import KeyringBackend

from app.i18n import _

_UNSAFE = ("plaintext", "null", "uncrypted", "unencrypted")


def _name(backend: object) -> str:
    return f"{type(backend).__module__}.{type(backend).__name__}".lower()


def unusable_keyring() -> str | None:
    """The class name of the keyring in use when it cannot keep secrets; None when it can."""
    backend: KeyringBackend = keyring.get_keyring()
    members = getattr(backend, "backends", None)
    if isinstance(members, list | tuple):
        names = [_name(m) for m in members]
        if not names or any(w in n for n in names for w in _UNSAFE):
            return type(backend).__name__
        if all("fail" in n for n in names):
            return type(backend).__name__
        return None
    name = _name(backend)
    if "fail" in name or any(w in name for w in _UNSAFE):
        return type(backend).__name__
    return None


class KeyringProblem(Exception):
    """The OS keyring cannot be used for this; the message is for the user."""


def require_usable(message: str) -> None:
    """Raise :class:`KeyringProblem` with ``message`` (which may name ``{backend}``) when the
    keyring in use cannot keep secrets."""
    backend = unusable_keyring()
    if backend is not None:
        raise KeyringProblem(message.format(backend=backend))


def read_entry(service: str, name: str) -> str | None:
    try:
        return keyring.get_password(service, name)
    except keyring.errors.KeyringError as exc:
        raise KeyringProblem(
            _("The system keyring could not be read: {error}").format(error=type(exc).__name__)
        ) from exc


def write_entry(service: str, name: str, value: str, refused: str) -> None:
    """Store ``value``; ``refused`` (naming ``{error}``) is the message when the keyring says no."""
    try:
        keyring.set_password(service, name, value)
    except keyring.errors.KeyringError as exc:
        raise KeyringProblem(refused.format(error=type(exc).__name__)) from exc


def delete_entry(service: str, name: str) -> bool:
    """Delete the entry; True when there was one."""
    try:
        keyring.delete_password(service, name)
    except keyring.errors.PasswordDeleteError:
        return False
    except keyring.errors.KeyringError as exc:
        raise KeyringProblem(
            _("The system keyring could not be changed: {error}").format(error=type(exc).__name__)
        ) from exc
    return True
