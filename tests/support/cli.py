"""Run ``hookline`` (or another command from the repository root) as a user would."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
HOOKLINE = [sys.executable, "-c", "from ui.launcher import main; main()"]


def run(
    command: list[str], env: dict[str, str] | None = None, timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    """Run ``command`` in the repository root and capture its text output; never raises on a
    non-zero exit (the tests assert on it)."""
    return subprocess.run(
        command,
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=REPO_ROOT,
        env=env,
        check=False,
    )


def hookline(
    *args: str, env: dict[str, str] | None = None, timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    return run([*HOOKLINE, *args], env=env, timeout=timeout)


PEAK_PROBE = (
    "import sys\n"
    "from ui.launcher import main\n"
    "try:\n"
    "    main()\n"
    "finally:\n"
    "    hwm = open('/proc/self/status').read().split('VmHWM:')[1].split()[0]\n"
    "    print('HWM', hwm, file=sys.stderr)\n"
)


def hookline_peak_mib(
    *args: str, env: dict[str, str] | None = None, timeout: float = 120
) -> tuple[subprocess.CompletedProcess[str], float]:
    """Run ``hookline`` and also return its peak resident memory in MiB, as the child itself
    reports it (a child's ``ru_maxrss`` would count pages shared with the test process between
    fork and exec)."""
    done = run([sys.executable, "-c", PEAK_PROBE, *args], env=env, timeout=timeout)
    return done, int(done.stderr.split("HWM")[-1].split()[0]) / 1024
