"""The picture cache of the Spotify page (app/spotify/images.py) against a real HTTP server on
127.0.0.1 that answers whatever a test tells it: pictures are kept whole and fetched once;
anything else (not a picture, too large, cut short, an error, a redirect, a disallowed address)
gives no picture, never an exception, and is not asked for again at once."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.spotify import images as images_module
from app.spotify.images import MAX_IMAGE_BYTES, ImageCache, looks_like_image
from tests.app.test_sync_hostile import HostileServer, Reply
from tests.support.spotify_fake import _png_1x1

PNG = _png_1x1("Nova Harbor")
JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 200


@pytest.fixture(scope="module")
def running() -> Iterator[HostileServer]:
    server = HostileServer()
    yield server
    server.close()


@pytest.fixture
def server(running: HostileServer) -> HostileServer:
    running.reply, running.requests = Reply(b""), []
    return running


@pytest.fixture
def cache(tmp_path: Path) -> ImageCache:
    return ImageCache(tmp_path / "pictures", http_hosts=["127.0.0.1"], timeout=(2.0, 2.0))


def test_a_picture_is_fetched_once_and_kept_whole(server: HostileServer, cache: ImageCache) -> None:
    url = f"{server.url}/images/nova-640.png"
    server.reply = Reply(PNG, headers={"Content-Type": "image/png"})
    assert cache.cached(url) is None  # nothing yet, and no request for it
    assert server.requests == []
    assert cache.fetch(url) == PNG and cache.fetch(url) == PNG and cache.cached(url) == PNG
    assert server.requests == ["GET /images/nova-640.png"]  # the second came from the cache
    assert cache.path(url).read_bytes() == PNG
    assert [p.name for p in cache.folder.iterdir()] == [hashlib.sha256(url.encode()).hexdigest()]


@pytest.mark.parametrize(
    "reply",
    [
        Reply(b"<html>not found</html>", status=404),
        Reply(b"<html>a login page</html>", headers={"Content-Type": "image/png"}),
        Reply(b"", status=200),
        Reply(PNG, status=302, headers={"Location": "http://169.254.169.254/"}),
        Reply(PNG[:10], length=len(PNG)),  # cut short
        Reply(b"\x89PNG\r\n\x1a\n", length=MAX_IMAGE_BYTES + 1),  # declares too much
        Reply(b"\xff\xd8\xff" + b"\x00" * (MAX_IMAGE_BYTES + 10)),  # is too much
        Reply(b"x" * 100, status=500),
    ],
    ids=["404", "not-a-picture", "empty", "redirect", "cut-short", "declared-huge", "huge", "500"],
)
def test_anything_but_a_picture_gives_none_and_keeps_nothing(
    server: HostileServer, cache: ImageCache, reply: Reply
) -> None:
    url = f"{server.url}/images/bad.png"
    server.reply = reply
    assert cache.fetch(url) is None
    assert not cache.folder.exists() or [p for p in cache.folder.iterdir()] == []
    # not asked for again at once, even though the server would now answer well
    server.reply = Reply(PNG)
    assert cache.fetch(url) is None and len(server.requests) == 1


def test_a_failed_picture_is_asked_for_again_after_a_while(
    server: HostileServer, cache: ImageCache, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = f"{server.url}/images/later.png"
    server.reply = Reply(b"", status=503)
    assert cache.fetch(url) is None
    monkeypatch.setattr(images_module, "RETRY_AFTER_S", 0.0)
    server.reply = Reply(JPEG)
    assert cache.fetch(url) == JPEG


@pytest.mark.parametrize(
    "url",
    [
        "http://i.scdn.co/image/ab67",  # plain http to a host not allowed
        "file:///etc/passwd",
        "ftp://i.scdn.co/x.png",
        "https://user:secret@i.scdn.co/x.png",  # credentials in the address
        "https:///no-host",
        "https://[::1/x",  # not an address at all
        "https://i.scdn.co/" + "a" * 3000,
        "",
    ],
)
def test_addresses_that_are_not_allowed_are_never_fetched(
    server: HostileServer, cache: ImageCache, url: str
) -> None:
    assert not cache.allowed(url)
    assert cache.fetch(url) is None and cache.cached(url) is None
    assert server.requests == []


def test_a_damaged_cache_file_is_not_shown(server: HostileServer, cache: ImageCache) -> None:
    url = f"{server.url}/images/rot.png"
    server.reply = Reply(PNG)
    assert cache.fetch(url) == PNG
    cache.path(url).write_bytes(b"bit rot")
    assert cache.cached(url) is None
    assert cache.fetch(url) == PNG and cache.cached(url) == PNG  # fetched again, whole


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=64))
def test_the_picture_check_accepts_exactly_the_four_formats(data: bytes) -> None:
    expected = data.startswith((b"\xff\xd8\xff", b"\x89PNG\r\n\x1a\n", b"GIF87a", b"GIF89a")) or (
        data[:4] == b"RIFF" and data[8:12] == b"WEBP"
    )
    assert looks_like_image(data) is expected
    assert looks_like_image(PNG) and looks_like_image(JPEG)
    assert looks_like_image(b"RIFF\x00\x00\x00\x00WEBPVP8 ")


def test_the_folder_keeps_only_the_newest_pictures(
    server: HostileServer, cache: ImageCache, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(images_module, "MAX_FILES", 3)
    server.reply = Reply(PNG)
    urls = [f"{server.url}/images/{i}.png" for i in range(5)]
    for n, url in enumerate(urls):
        assert cache.fetch(url) == PNG
        os.utime(cache.path(url), ns=(n * 10**9, n * 10**9))  # stored one second apart
    cache.fetch(f"{server.url}/images/newest.png")
    kept = {p.name for p in cache.folder.iterdir()}
    assert kept == {cache.path(u).name for u in [*urls[3:], f"{server.url}/images/newest.png"]}
