"""``hookline spotify``: sign in and out, show the state, and take a snapshot now.

``login`` prints the Spotify address it opens (for a machine without a browser: open it
anywhere that can reach this machine's 127.0.0.1, i.e. the same machine) and waits up to
``--timeout`` seconds; Ctrl+C cancels. ``--client-id`` stores your app's client id in the
settings first. ``sync`` exits 0 when a snapshot was stored, 2 when rate-limited (the message
says when to try again), 1 otherwise. Every command takes ``--json``.
"""

from __future__ import annotations

import json
import sys
import threading
import webbrowser
from typing import TYPE_CHECKING

import click

from app.i18n import _

if TYPE_CHECKING:
    from app.settings import Settings
    from app.spotify.service import SpotifyService
    from app.storage import Database


def _settings() -> Settings:
    from app.paths import default_paths
    from app.settings import Settings

    return Settings.load(default_paths().ensure().settings_file)


def _service(settings: Settings) -> tuple[SpotifyService, Database]:
    from app.paths import default_paths
    from app.spotify.service import SpotifyConfig, SpotifyService
    from app.storage import StorageError, open_database

    try:
        database = open_database(default_paths().ensure().database_file)
    except StorageError as exc:
        raise click.ClickException(str(exc)) from exc
    return SpotifyService(database, SpotifyConfig.from_settings(settings.get)), database


def _echo_json(obj: object) -> None:
    click.echo(json.dumps(obj, ensure_ascii=False, indent=2))


@click.group(help=_("Your Spotify account: sign in, and keep a history of your artists' data."))
def spotify() -> None:
    pass


@spotify.command(help=_("Sign in to Spotify in the browser (Authorization Code with PKCE)."))
@click.option("--client-id", default=None, help=_("Your Spotify app's client id (saved)."))
@click.option("--no-browser", is_flag=True, help=_("Only print the address to open."))
@click.option(
    "--timeout",
    type=click.FloatRange(min=5.0, max=3600.0),
    default=300.0,
    help=_("Seconds to wait for the browser."),
)
@click.option("--json", "as_json", is_flag=True, help=_("Print JSON."))
def login(client_id: str | None, no_browser: bool, timeout: float, as_json: bool) -> None:
    from app.spotify.auth import LoginFailed
    from app.spotify.service import CLIENT_ID_HELP
    from app.spotify.tokens import TokenStoreUnavailable

    settings = _settings()
    if client_id is not None:
        try:
            settings.set("spotify.client_id", client_id.strip())
        except ValueError as exc:
            raise click.BadParameter(str(exc), param_hint="--client-id") from exc
        settings.save()
    if not str(settings.get("spotify.client_id")):
        raise click.ClickException(
            _(CLIENT_ID_HELP) + "\n" + _("Then run: hookline spotify login --client-id YOUR_ID")
        )
    service, database = _service(settings)

    def show(url: str) -> None:
        click.echo(_("Open this address to sign in: {url}").format(url=url), err=True)
        if not no_browser:
            webbrowser.open(url)

    cancel = threading.Event()
    try:
        service.login(show, timeout=timeout, cancel=cancel)
    except KeyboardInterrupt:
        cancel.set()
        raise click.ClickException(_("Sign-in was cancelled.")) from None
    except (LoginFailed, TokenStoreUnavailable) as exc:
        if as_json:
            _echo_json({"signed_in": False, "message": str(exc)})
            sys.exit(1)
        raise click.ClickException(str(exc)) from exc
    finally:
        database.close()
    if as_json:
        _echo_json({"signed_in": True})
    else:
        click.echo(_("Signed in to Spotify. The tokens are in your system keyring."))


@spotify.command(help=_("Sign out: erase the Spotify tokens from the keyring."))
@click.option("--json", "as_json", is_flag=True, help=_("Print JSON."))
def logout(as_json: bool) -> None:
    from app.spotify.tokens import TokenStoreUnavailable

    service, database = _service(_settings())
    try:
        erased = service.logout()
    except TokenStoreUnavailable as exc:
        raise click.ClickException(str(exc)) from exc
    finally:
        database.close()
    if as_json:
        _echo_json({"erased": erased})
    elif erased:
        click.echo(_("Signed out; the tokens were erased. Your saved history stays."))
    else:
        click.echo(_("You were not signed in."))


@spotify.command(help=_("Show the sign-in, the last snapshot and any rate limit."))
@click.option("--json", "as_json", is_flag=True, help=_("Print JSON."))
def status(as_json: bool) -> None:
    service, database = _service(_settings())
    try:
        state = service.status()
    finally:
        database.close()
    if as_json:
        _echo_json(state.to_json())
        return
    if not state.configured:
        click.echo(_("No Spotify client id is set: run hookline spotify login --client-id ID."))
    elif state.keyring_problem:
        click.echo(state.keyring_problem)
    elif state.signed_in:
        click.echo(_("Signed in."))
    else:
        click.echo(_("Not signed in."))
    if state.last_sync:
        level = {
            "development": _("development mode: followers and popularity are not available"),
            "extended": _("extended quota"),
        }.get(state.access_level or "", _("unknown access level"))
        click.echo(
            _("Last snapshot: {time} ({account}; {level})").format(
                time=state.last_sync.astimezone().strftime("%Y-%m-%d %H:%M"),
                account=state.account_name or "?",
                level=level,
            )
        )
    else:
        click.echo(_("No snapshot yet."))
    if state.blocked_until:
        click.echo(
            _("Rate-limited by Spotify until {time}.").format(
                time=state.blocked_until.astimezone().strftime("%Y-%m-%d %H:%M")
            )
        )
    if state.last_error:
        click.echo(_("Last problem: {message}").format(message=state.last_error))


@spotify.command(help=_("Take a snapshot of your Spotify data now."))
@click.option("--json", "as_json", is_flag=True, help=_("Print JSON."))
def sync(as_json: bool) -> None:
    service, database = _service(_settings())

    def progress(what: str, fraction: float) -> None:
        if not as_json:
            click.echo(f"[{fraction * 100:3.0f}%] {what}", err=True)

    try:
        report = service.sync(progress=progress)
    finally:
        database.close()
    if as_json:
        _echo_json(report.to_json())
    else:
        click.echo(report.message)
        if report.status == "complete":
            click.echo(
                _("Stored {artists} artists, {albums} albums, {tracks} tracks.").format(
                    artists=report.counts.get("artist", 0),
                    albums=report.counts.get("album", 0),
                    tracks=report.counts.get("track", 0),
                )
            )
            if "followers" in report.unavailable_data:
                click.echo(
                    _(
                        "Followers and popularity: not available for this API access level "
                        "(Spotify's development mode)."
                    )
                )
    if report.status == "rate_limited":
        sys.exit(2)
    if report.status != "complete":
        sys.exit(1)
