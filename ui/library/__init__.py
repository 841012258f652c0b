"""The Library room: analysed tracks, their details, what mixes with them and whether they are
ready for streaming."""

from ui.library.view import LibraryRoom, install_library_view

__all__ = ["LibraryRoom", "install_library_view"]
