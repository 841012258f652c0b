"""The Stats room: imported Spotify for Artists figures, timelines and forecasts."""

from ui.stats.view import StatsRoom, install_stats_view

__all__ = ["StatsRoom", "install_stats_view"]
