from __future__ import annotations

import logging
from pathlib import Path

import pytest

from app import logs


@pytest.mark.parametrize(
    ("raw", "secret"),
    [
        ("Authorization: Bearer abc.DEF-123", "abc.DEF-123"),
        ("refresh_token=r3fr3sh&x=1", "r3fr3sh"),
        ('{"access_token": "tok-42", "expires_in": 3600}', "tok-42"),
        ("GET /callback?code=AQBx9zz&state=s", "AQBx9zz"),
        ("password = hunter2", "hunter2"),
        ("client_secret:shh", "shh"),
        ("code_verifier=ver1fier", "ver1fier"),
    ],
)
def test_scrub_hides_secrets(raw: str, secret: str) -> None:
    cleaned = logs.scrub(raw)
    assert secret not in cleaned and "[redacted]" in cleaned


def test_scrub_leaves_ordinary_text_alone() -> None:
    text = "opened stream at 48000 Hz, block 256, device 'system' (token count 3)"
    assert logs.scrub("stream at 48000 Hz, block 256") == "stream at 48000 Hz, block 256"
    assert "48000" in logs.scrub(text)


def test_log_file_never_receives_a_secret(tmp_path: Path) -> None:
    log_file = tmp_path / "logs" / "hookline.log"
    logs.configure(log_file)
    logger = logging.getLogger("test.secrets")
    logger.info("token response %s", {"access_token": "s3cr3t-value", "scope": "user-read"})
    try:
        raise RuntimeError("auth failed with refresh_token=leaky-one")
    except RuntimeError:
        logger.exception("refresh failed")
    for handler in logging.getLogger().handlers:
        handler.flush()
    text = log_file.read_text()
    assert "s3cr3t-value" not in text and "leaky-one" not in text
    assert "refresh failed" in text and "user-read" in text


def test_log_rotates(tmp_path: Path) -> None:
    log_file = tmp_path / "hookline.log"
    logs.configure(log_file)
    logger = logging.getLogger("test.rotate")
    for _ in range(3000):
        logger.info("x" * 600)
    assert log_file.with_name("hookline.log.1").exists()
    assert log_file.stat().st_size <= (1 << 20) + 1000
