"""The ``hookline`` console script: the app's CLI with the GUI as its default action.

Qt is imported only when the window is opened, so ``hookline devices`` and other subcommands
start fast and run without a display.
"""

from __future__ import annotations

import sys

from app.cli import build_cli


def _open_gui(language: str | None = None, quit_after: float | None = None) -> int:
    import PySide6.QtCore  # noqa: F401  (first, so its import hook can be narrowed at once)

    from ui.source_cache import scan_only_qt_modules

    scan_only_qt_modules()  # see ui/source_cache.py
    from ui.application import run_gui

    return run_gui(language=language, quit_after=quit_after)


def main(argv: list[str] | None = None) -> None:
    build_cli(open_gui=_open_gui)(
        args=argv if argv is not None else sys.argv[1:], prog_name="hookline"
    )
