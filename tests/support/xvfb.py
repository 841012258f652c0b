"""A private X server (Xvfb) for tests that need a real window rather than Qt's offscreen plugin."""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from dataclasses import dataclass, field


@dataclass
class VirtualDisplay:
    display: str = ""
    process: subprocess.Popen[bytes] | None = field(default=None, repr=False)

    def start(self, width: int = 1280, height: int = 800, timeout: float = 10.0) -> VirtualDisplay:
        if shutil.which("Xvfb") is None:
            raise RuntimeError("Xvfb is not installed; run `make test`, which installs it")
        read_fd, write_fd = os.pipe()
        # -displayfd: Xvfb picks a free display number and writes it to the pipe when ready.
        self.process = subprocess.Popen(
            [
                "Xvfb",
                "-displayfd",
                str(write_fd),
                "-screen",
                "0",
                f"{width}x{height}x24",
                "-nolisten",
                "tcp",
            ],
            pass_fds=(write_fd,),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        os.close(write_fd)
        deadline = time.monotonic() + timeout
        number = b""
        with os.fdopen(read_fd, "rb") as pipe:
            while time.monotonic() < deadline and not number.endswith(b"\n"):
                chunk = pipe.read(1)
                if not chunk:
                    break
                number += chunk
        if not number.strip():
            self.stop()
            raise RuntimeError("Xvfb did not start")
        self.display = f":{number.decode().strip()}"
        return self

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            try:
                self.process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
            self.process = None
