"""The Create room: melody ideas (lyrics and progressions join it later)."""

from ui.create.view import CreateRoom, install_create_view

__all__ = ["CreateRoom", "install_create_view"]
