"""Signing in to Spotify: Authorization Code with PKCE through a loopback redirect.

:func:`login` opens a one-shot HTTP listener on ``127.0.0.1`` on a free port, sends the user's
browser to Spotify's authorize page with ``redirect_uri=http://127.0.0.1:PORT/callback`` (Spotify
accepts any port for a loopback IP literal registered without one; ``localhost`` is refused),
waits for the redirect, checks its ``state``, and trades the code for tokens through spotipy's
``SpotifyPKCE`` (S256 challenge). The tokens go to :class:`~app.spotify.tokens.KeyringTokenCache`.
The wait blocks the calling thread (run it off the GUI thread) and ends on the redirect, on
``timeout`` or when ``cancel`` is set.
"""

from __future__ import annotations

import html
import http.server
import logging
import secrets
import threading
import time
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import requests
from spotipy.oauth2 import SpotifyOauthError, SpotifyPKCE

from app.i18n import _
from app.spotify.tokens import KeyringTokenCache

log = logging.getLogger(__name__)

# What the stats need: the user's top artists and tracks, followed artists, and their profile.
SCOPES = ("user-top-read", "user-follow-read", "user-read-private")
ACCOUNTS_URL = "https://accounts.spotify.com"
API_URL = "https://api.spotify.com/v1/"
LOGIN_TIMEOUT_S = 300.0
HTTP_TIMEOUT_S = (5.0, 20.0)  # connect, read

# spotipy logs request headers and bodies (bearer tokens, refresh tokens) at DEBUG level.
logging.getLogger("spotipy").setLevel(logging.WARNING)


@dataclass(frozen=True)
class Endpoints:
    """Where the accounts service and the Web API are (a stand-in server in tests)."""

    accounts_url: str = ACCOUNTS_URL
    api_url: str = API_URL

    @property
    def authorize_url(self) -> str:
        return self.accounts_url.rstrip("/") + "/authorize"

    @property
    def token_url(self) -> str:
        return self.accounts_url.rstrip("/") + "/api/token"

    @property
    def api_prefix(self) -> str:
        return self.api_url.rstrip("/") + "/"


class LoginFailed(Exception):
    """Sign-in did not complete; the message is for the user."""


class LoginCancelled(LoginFailed):
    pass


def auth_manager(
    client_id: str,
    endpoints: Endpoints,
    cache: KeyringTokenCache,
    redirect_uri: str = "http://127.0.0.1/callback",
    state: str | None = None,
) -> SpotifyPKCE:
    """A spotipy PKCE manager that reads and refreshes tokens through ``cache``."""
    manager = SpotifyPKCE(
        client_id=client_id,
        redirect_uri=redirect_uri,
        state=state,
        scope=" ".join(SCOPES),
        cache_handler=cache,
        open_browser=False,
        requests_session=requests.Session(),
        requests_timeout=HTTP_TIMEOUT_S,
    )
    manager.OAUTH_AUTHORIZE_URL = endpoints.authorize_url
    manager.OAUTH_TOKEN_URL = endpoints.token_url
    return manager


class _Callback(http.server.BaseHTTPRequestHandler):
    server: _Listener

    def do_GET(self) -> None:
        parsed = urllib.parse.urlsplit(self.path)
        if parsed.path != "/callback":
            self.send_error(404)
            return
        query = urllib.parse.parse_qs(parsed.query, max_num_fields=10)
        self.server.deliver({k: v[0] for k, v in query.items() if v})
        body = "<!doctype html><meta charset=utf-8><title>Hookline</title><p>{}</p>".format(
            html.escape(_("Hookline received Spotify's answer. You can close this window."))
        ).encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        pass  # the query string holds the authorization code: never log it


class _Listener(http.server.HTTPServer):
    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Callback)
        self.timeout = 0.2
        self.answer: dict[str, str] | None = None

    def deliver(self, answer: dict[str, str]) -> None:
        if self.answer is None:
            self.answer = answer

    @property
    def redirect_uri(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/callback"


def _wait(listener: _Listener, timeout: float, cancel: threading.Event | None) -> dict[str, str]:
    deadline = time.monotonic() + timeout
    while listener.answer is None:
        if cancel is not None and cancel.is_set():
            raise LoginCancelled(_("Sign-in was cancelled."))
        if time.monotonic() >= deadline:
            raise LoginFailed(
                _("Spotify did not answer within {minutes} minutes; try signing in again.").format(
                    minutes=round(timeout / 60)
                )
            )
        listener.handle_request()  # returns after listener.timeout when nothing arrives
    return listener.answer


def login(
    client_id: str,
    endpoints: Endpoints,
    cache: KeyringTokenCache,
    open_url: Callable[[str], object],
    *,
    timeout: float = LOGIN_TIMEOUT_S,
    cancel: threading.Event | None = None,
) -> None:
    """Run the whole sign-in; the tokens end up in ``cache``. ``open_url`` gets the authorize
    URL (the browser, or a test's HTTP client). Raises :class:`LoginFailed`."""
    if not client_id.strip():
        raise LoginFailed(_("Enter your Spotify app's client id first."))
    state = secrets.token_urlsafe(24)
    with _Listener() as listener:
        manager = auth_manager(client_id.strip(), endpoints, cache, listener.redirect_uri, state)
        url = manager.get_authorize_url()
        opener = threading.Thread(target=open_url, args=(url,), name="spotify-browser", daemon=True)
        opener.start()
        answer = _wait(listener, timeout, cancel)
    if not secrets.compare_digest(answer.get("state", ""), state):
        raise LoginFailed(
            _(
                "Spotify's answer did not match this sign-in (wrong state), so it was refused. "
                "Try signing in again."
            )
        )
    if "error" in answer:
        reason = answer["error"][:100]
        if reason == "access_denied":
            raise LoginFailed(_("You declined the access request on Spotify's page."))
        raise LoginFailed(_("Spotify refused the sign-in: {reason}").format(reason=reason))
    code = answer.get("code", "")
    if not code:
        raise LoginFailed(_("Spotify's answer carried no authorization code."))
    try:
        manager.get_access_token(code=code, check_cache=False)
    except SpotifyOauthError as exc:
        raise LoginFailed(
            _("Spotify did not accept the sign-in: {reason}").format(
                reason=getattr(exc, "error", None) or _("unknown error")
            )
        ) from exc
    except (requests.RequestException, ValueError, KeyError, TypeError) as exc:
        raise LoginFailed(
            _("Spotify's accounts service could not be reached: {error}").format(
                error=type(exc).__name__
            )
        ) from exc
