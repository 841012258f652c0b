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


def forget_module_sources() -> int:
    """Empty the line cache; returns how many files it held."""
    held = len(linecache.cache)
    linecache.clearcache()
    return held
