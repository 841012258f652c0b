"""The Team room: sign in to a team server, share the open project, join a team's projects."""

from ui.team.view import TeamRoom, install_team_view

__all__ = ["TeamRoom", "install_team_view"]
