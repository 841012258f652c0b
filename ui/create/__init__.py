"""The Create room: melody ideas on a piano roll, and the Lyrics pane beside them."""

from ui.create.view import CreateRoom, install_create_view

__all__ = ["CreateRoom", "install_create_view"]
