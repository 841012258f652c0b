"""Shared fixtures. Every test runs with its own Hookline home, never the real user folders."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import settings

from app import i18n
from app.paths import AppPaths
from tests.support.jack import JackServer, unique_server_name
from tests.support.secret_service import InMemoryTestKeyring

REPO_ROOT = Path(__file__).resolve().parent.parent
ARTIFACTS = REPO_ROOT / "tests" / "artifacts"

# Property tests draw the same examples on every run (a red CI run is then reproducible and a
# green one stays green); HYPOTHESIS_PROFILE=explore draws new ones, for hunting locally.
settings.register_profile("ci", derandomize=True, print_blob=True)
settings.register_profile("explore", derandomize=False, print_blob=True)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("NUMBA_CACHE_DIR", str(REPO_ROOT / ".cache" / "numba"))
# Never let a test find the developer's real keyring or MIDI/JACK set-up by accident.
os.environ["JACK_NO_START_SERVER"] = "1"
os.environ["JACK_NO_AUDIO_RESERVATION"] = "1"


@pytest.fixture(autouse=True)
def hookline_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = tmp_path / "hookline-home"
    monkeypatch.setenv("HOOKLINE_HOME", str(home))
    return home


@pytest.fixture
def app_paths(hookline_home: Path) -> AppPaths:
    return AppPaths(
        hookline_home / "config",
        hookline_home / "data",
        hookline_home / "logs",
        hookline_home / "cache",
    ).ensure()


@pytest.fixture(autouse=True)
def english_by_default() -> Iterator[None]:
    """Tests start in English and leave the process in English."""
    i18n.set_language("en")
    yield
    i18n.set_language("en")


@pytest.fixture(scope="session")
def jack_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[JackServer]:
    """A JACK server with the dummy back end for this test session."""
    log = tmp_path_factory.mktemp("jack") / "jackd.log"
    server = JackServer(unique_server_name(), log_path=log).start()
    try:
        yield server
    finally:
        import sys

        if "sounddevice" in sys.modules:  # this process played or listened itself (a preview)
            from audio.devices import terminate

            terminate()  # before jackd goes, or pa_jack.c aborts the process at exit
        server.stop()


@pytest.fixture(scope="session")
def artifacts_dir() -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS


@pytest.fixture
def memory_keyring() -> Iterator[InMemoryTestKeyring]:
    """An in-memory keyring for the test (the process-wide one is put back afterwards); tests
    of the real Secret Service use tests/support/secret_service.py instead."""
    import keyring

    previous = keyring.get_keyring()
    backend = InMemoryTestKeyring()
    keyring.set_keyring(backend)
    yield backend
    keyring.set_keyring(previous)
