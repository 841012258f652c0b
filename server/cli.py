"""``hookline serve``: run the sync server in this process (uvicorn, one worker).

Settings without a flag come from ``HOOKLINE_SERVER_*`` environment variables
(:mod:`server.config`); an S3 blob store's endpoint and credentials from the standard ``AWS_*``
variables, never from a flag.
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
    metavar="FOLDER|s3://BUCKET/PREFIX",
    help="Where blobs (stems, MIDI clips) are kept: a folder, or an S3-compatible bucket as "
    "s3://BUCKET/PREFIX. For S3 the endpoint, region and credentials come only from the "
    "environment: AWS_ENDPOINT_URL, AWS_REGION (or AWS_DEFAULT_REGION), AWS_ACCESS_KEY_ID, "
    "AWS_SECRET_ACCESS_KEY (AWS_SESSION_TOKEN), and AWS_ALLOW_HTTP=true for a plain-http "
    "endpoint. Default: a folder in the user's data folder.",
)
@click.option("--log-level", default="warning", show_default=True)
def serve(host: str, port: int, database: str | None, blobs: str | None, log_level: str) -> None:
    """Run the team-sync server."""
    import uvicorn

    from server.app import create_app
    from server.blobs import parse_s3_url
    from server.config import ServerConfig

    config = ServerConfig.from_env(database_url=database, blobs_path=blobs)
    if config.blobs_in_object_store:
        try:
            parse_s3_url(config.blobs_path)
        except ValueError as error:  # the message never repeats the URL
            raise click.BadParameter(str(error), param_hint="--blobs") from None
    app = create_app(config)
    where = app.state.service.blobs.description
    click.echo(f"Hookline sync server on http://{host}:{port}, blobs in {where}", err=True)
    uvicorn.run(app, host=host, port=port, log_level=log_level, timeout_keep_alive=30)
