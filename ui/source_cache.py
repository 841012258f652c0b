"""Drop the module sources PySide6's import hook leaves in :mod:`linecache`.

Once PySide6 is imported, shiboken checks every module imported after it for PySide "features"
by reading the module's whole source with :func:`inspect.getsource` (PYSIDE-2029). The lines
stay in :mod:`linecache`: after start-up and the first start of the live engine (Numba's
compiler registry alone is some two hundred modules) that is about 25 MB of text nobody reads.
Tracebacks read lines again on demand, so forgetting them costs nothing but a file read when an
error is formatted.
"""

from __future__ import annotations

import linecache
import sys
from types import ModuleType
from typing import Any

QT_MODULES = ("ui", "pyqtgraph", "PySide6", "shiboken6", "__feature__")


def forget_module_sources() -> int:
    """Empty the line cache; returns how many files it held."""
    held = len(linecache.cache)
    linecache.clearcache()
    return held


def scan_only_qt_modules() -> bool:
    """Make PySide6's hook read the source of Qt-using modules only (ours in ``ui``, pyqtgraph):
    the hook looks for ``from __feature__ import ...``, which no other module can contain, and
    reading numpy's, Numba's or SQLAlchemy's sources costs tens of megabytes and start-up time.
    Call right after PySide6 is first imported; returns whether the hook was found (PySide6
    6.11: ``PySide6.support.feature._mod_uses_pyside``), else nothing changes."""
    feature = sys.modules.get("PySide6.support.feature")
    original: Any = getattr(feature, "_mod_uses_pyside", None)
    if feature is None or not callable(original):
        return False

    def uses_pyside(module: ModuleType) -> bool:
        name = getattr(module, "__name__", "")
        if name.split(".", 1)[0] in QT_MODULES:
            return bool(original(module))
        return False

    feature._mod_uses_pyside = uses_pyside  # type: ignore[attr-defined]
    return True
