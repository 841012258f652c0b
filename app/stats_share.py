"""A summary of the artist's statistics to share with a team (Qt-free): the audience's last
28 days and latest listeners and followers, and the songs with the most streams in the last 28
days (at most :data:`server.protocol.MAX_STATS_SONGS`), as
:func:`server.protocol.clean_stats_snapshot` describes. Only what the imports hold: a figure that
is not stored is null, never zero."""

from __future__ import annotations

from datetime import date

from app.stats_store import WINDOW_DAYS, StatsStore
from server import protocol


def stats_snapshot(stats: StatsStore, today: date | None = None) -> dict[str, object]:
    """The snapshot of what ``stats`` holds now (reads the database: call it off the GUI
    thread). Raises ``LookupError`` when nothing is imported yet."""
    span = stats.date_range()
    if span is None:
        raise LookupError("no statistics imported")
    audience: dict[str, float | None] = {"streams_28d": None, "listeners": None, "followers": None}
    for summary in stats.summary("audience"):
        if summary.resolution != "daily":
            continue
        for metric in ("listeners", "followers"):
            found = summary.metrics.get(metric)
            if found is not None:
                audience[metric] = found.latest
        streams = summary.metrics.get("streams")
        if streams is not None:
            recent = stats.series(
                "audience",
                summary.entity,
                "streams",
                start=date.fromordinal(streams.last_day.toordinal() - WINDOW_DAYS + 1),
            )
            audience["streams_28d"] = sum(value for _day, value in recent)
    songs = [
        figures
        for figures in stats.entity_figures("song")
        if figures.streams_recent is not None or figures.streams_total is not None
    ]
    songs.sort(key=lambda f: (-(f.streams_recent or 0.0), -(f.streams_total or 0.0), f.entity))
    snapshot = {
        "version": protocol.STATS_VERSION,
        "as_of": (today or date.today()).isoformat(),
        "first_day": span[0].isoformat(),
        "last_day": span[1].isoformat(),
        "audience": audience,
        "songs": [
            {
                "name": figures.entity,
                "streams_total": figures.streams_total,
                "streams_28d": figures.streams_recent,
                "change": figures.change,
            }
            for figures in songs[: protocol.MAX_STATS_SONGS]
        ],
    }
    return protocol.clean_stats_snapshot(snapshot)
