"""Which OS keyrings may hold Hookline's secrets (Spotify and team sign-ins).

A keyring that cannot keep a secret is refused, never worked around: the "fail" backend (no
keyring service), a null backend, and plain-text file backends (``keyrings.alt`` makes one the
default when it is installed). keyring's chainer, the usual default on Linux, writes to the first
of its members that accepts a secret, so a chain is refused when any member would keep it in a
file or when no member can keep it at all.
"""

from __future__ import annotations

import keyring
from keyring.backend import KeyringBackend

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
