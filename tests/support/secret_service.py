"""A real Secret Service for keyring tests: a private D-Bus session bus and GNOME Keyring,
unlocked with a throwaway password, in a throwaway home (../shared/TEST-STACK.md, Keyring).

    with SecretService(tmp_path) as service:
        service.env  # DBUS_SESSION_BUS_ADDRESS etc. for this process or a child

Both daemons die with the test process (PR_SET_PDEATHSIG) and are stopped on exit.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import time
from pathlib import Path

from keyring.backend import KeyringBackend
from keyring.errors import PasswordDeleteError

from tests.support.jack import die_with_parent


class SecretService:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.home = root / "home"
        self.keyrings = self.home / ".local" / "share" / "keyrings"
        self.env: dict[str, str] = {}
        self._pids: list[int] = []

    def __enter__(self) -> SecretService:
        for tool in ("dbus-daemon", "gnome-keyring-daemon"):
            if shutil.which(tool) is None:
                raise RuntimeError(f"{tool} is not installed; run `make test`, which installs it")
        runtime = self.root / "run"
        runtime.mkdir(parents=True, mode=0o700)
        self.home.mkdir(parents=True)
        bus = subprocess.run(
            ["dbus-daemon", "--session", "--fork", "--print-address=1", "--print-pid=1"],
            capture_output=True,
            text=True,
            check=True,
            preexec_fn=die_with_parent,
        )
        address, pid = bus.stdout.split()[:2]
        self._pids.append(int(pid))
        self.env = {
            "DBUS_SESSION_BUS_ADDRESS": address,
            "HOME": str(self.home),
            "XDG_DATA_HOME": str(self.home / ".local" / "share"),
            "XDG_RUNTIME_DIR": str(runtime),
        }
        daemon = subprocess.run(
            ["gnome-keyring-daemon", "--unlock", "--components=secrets", "--daemonize"],
            input="throwaway-test-password",
            capture_output=True,
            text=True,
            check=True,
            env={**os.environ, **self.env},
        )
        for line in daemon.stdout.splitlines():
            if line.startswith("GNOME_KEYRING_PID="):
                self._pids.append(int(line.split("=", 1)[1]))
        deadline = time.monotonic() + 10
        while not self.keyrings.exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        return self

    def __exit__(self, *exc: object) -> None:
        for pid in reversed(self._pids):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGTERM)
        self._pids.clear()


class InMemoryTestKeyring(KeyringBackend):
    """A keyring backend holding secrets in this process's memory, for tests that are not
    about the keyring itself."""

    priority = 1  # type: ignore[assignment]

    def __init__(self) -> None:
        super().__init__()
        self.entries: dict[tuple[str, str], str] = {}

    def get_password(self, service: str, username: str) -> str | None:
        return self.entries.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        self.entries[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        if self.entries.pop((service, username), None) is None:
            raise PasswordDeleteError(username)
