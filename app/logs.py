"""Logging: a rotating file in the platform log folder, with secrets scrubbed from every record.

The Qt message handler that feeds Qt's own warnings into this log lives in ``ui/crash.py``.
"""

from __future__ import annotations

import logging
import logging.handlers
import re
from pathlib import Path

FORMAT = "%(asctime)s %(levelname)-7s %(threadName)s %(name)s: %(message)s"

# Anything that looks like a credential is replaced before it reaches a handler.
_SECRET_PATTERNS = (
    re.compile(r"(?i)\b(authorization\s*[:=]\s*)(bearer|basic)\s+[^\s'\"]+"),
    re.compile(
        r"(?i)\b((?:access|refresh|id|api|auth|session)?_?token|secret|password|"
        r"client_secret|code_verifier|passwd)(['\"]?\s*[:=]\s*['\"]?)[^\s'\",&}]+"
    ),
    re.compile(r"(?i)([?&](?:code|access_token|refresh_token|token)=)[^&\s'\"]+"),
)


def scrub(text: str) -> str:
    """Replace anything that looks like a secret in ``text`` with a marker."""
    text = _SECRET_PATTERNS[0].sub(r"\1\2 [redacted]", text)
    text = _SECRET_PATTERNS[1].sub(r"\1\2[redacted]", text)
    return _SECRET_PATTERNS[2].sub(r"\1[redacted]", text)


class SecretFilter(logging.Filter):
    """Formats the message early and scrubs it, so arguments cannot smuggle a secret out."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        record.msg, record.args = scrub(message), None
        if record.exc_text:
            record.exc_text = scrub(record.exc_text)
        return True


def configure(log_file: Path, level: int = logging.INFO, console: bool = False) -> None:
    """Send the root logger to ``log_file`` (1 MiB × 5 files kept) and optionally to stderr."""
    log_file.parent.mkdir(parents=True, exist_ok=True)
    root = logging.getLogger()
    for handler in list(root.handlers):
        if getattr(handler, "_hookline", False):
            root.removeHandler(handler)
            handler.close()
    handlers: list[logging.Handler] = [
        logging.handlers.RotatingFileHandler(
            log_file, maxBytes=1 << 20, backupCount=5, encoding="utf-8"
        )
    ]
    if console:
        handlers.append(logging.StreamHandler())
    for handler in handlers:
        handler.setFormatter(logging.Formatter(FORMAT))
        handler.addFilter(SecretFilter())
        handler._hookline = True  # type: ignore[attr-defined]
        root.addHandler(handler)
    root.setLevel(level)
    logging.captureWarnings(True)
