"""``hookline serve``: run the sync server in this process (uvicorn, one worker).

Settings without a flag come from ``HOOKLINE_SERVER_*`` environment variables
(:mod:`server.config`).
"""

from __future__ import annotations

import click


@click.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8765, show_default=True, type=click.IntRange(0, 65535))
@click.option(
    "--database",
    default=None,
    help="SQLAlchemy URL (sqlite:///FILE or postgresql://...); default: a SQLite file in the "
    "user's data folder.",
)
@click.option(
    "--blobs",
    default=None,
    type=click.Path(file_okay=False),
    help="Folder for blobs; default: in the user's data folder.",
)
@click.option("--log-level", default="warning", show_default=True)
def serve(host: str, port: int, database: str | None, blobs: str | None, log_level: str) -> None:
    """Run the team-sync server."""
    import uvicorn

    from server.app import create_app
    from server.config import ServerConfig

    config = ServerConfig.from_env(database_url=database, blobs_path=blobs)
    app = create_app(config)
    click.echo(f"Hookline sync server on http://{host}:{port}", err=True)
    uvicorn.run(app, host=host, port=port, log_level=log_level, timeout_keep_alive=30)
