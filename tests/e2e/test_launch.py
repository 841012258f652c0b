"""`hookline` opens a real window on an X server (Xvfb, the xcb platform) without errors."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.cli import hookline, run
from tests.support.xvfb import VirtualDisplay

REPO_ROOT = Path(__file__).resolve().parents[2]
BAD_MARKERS = ("Traceback", " ERROR ", " CRITICAL ", "Fatal", "could not load the Qt platform")


@pytest.fixture(scope="module")
def x_display() -> Iterator[str]:
    display = VirtualDisplay().start()
    try:
        yield display.display
    finally:
        display.stop()


def _launch(home: Path, display: str, *args: str) -> tuple[subprocess.CompletedProcess[str], str]:
    env = {k: v for k, v in os.environ.items() if k != "QT_QPA_PLATFORM"}
    env.update(DISPLAY=display, HOOKLINE_HOME=str(home))
    proc = hookline("--quit-after", "3", *args, env=env)
    log_file = home / "logs" / "hookline.log"
    return proc, log_file.read_text(encoding="utf-8") if log_file.exists() else ""


@pytest.mark.parametrize("language", ["en", "de", "ar"])
def test_window_opens_on_xcb_without_errors(tmp_path: Path, x_display: str, language: str) -> None:
    proc, log = _launch(tmp_path / "home", x_display, "--language", language)
    assert proc.returncode == 0, proc.stderr + log
    assert "main window shown" in log and "platform xcb" in log, log
    for marker in BAD_MARKERS:
        assert marker not in log, log
        assert marker not in proc.stderr, proc.stderr


def test_make_run_opens_the_window(tmp_path: Path, x_display: str) -> None:
    """The README's first command, as a newcomer runs it (set-up steps are no-ops here)."""
    env = {k: v for k, v in os.environ.items() if k not in ("QT_QPA_PLATFORM", "MAKEFLAGS")}
    home = tmp_path / "home"
    env.update(DISPLAY=x_display, HOOKLINE_HOME=str(home))
    proc = run(["make", "--no-print-directory", "run", "ARGS=--quit-after 3"], env=env, timeout=600)
    log = (home / "logs" / "hookline.log").read_text(encoding="utf-8")
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    assert "main window shown" in log and "platform xcb" in log
    for marker in BAD_MARKERS:
        assert marker not in log, log


def test_no_display_gives_a_clear_message(tmp_path: Path) -> None:
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("QT_QPA_PLATFORM", "DISPLAY", "WAYLAND_DISPLAY")
    }
    env["HOOKLINE_HOME"] = str(tmp_path / "home")
    proc = hookline(env=env, timeout=60)
    assert proc.returncode == 1
    assert "xvfb-run" in proc.stderr + proc.stdout
