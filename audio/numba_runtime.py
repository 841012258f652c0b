"""Bring up Numba's CPU target without SciPy's BLAS/LAPACK.

The first kernel a process compiles or loads from the cache makes Numba import its whole
implementation registry, and one module of it (``numba.np.arraymath``) imports
``scipy.linalg`` — about 26 MB of resident memory — only to offer ``np.dot`` and
``np.linalg`` inside compiled code. Our kernels use neither, so :func:`prepare` imports that
registry module while ``scipy.linalg`` is declined; Numba then records that it has no BLAS and
carries on. Afterwards SciPy imports normally for any other code.

Consequence for kernel authors: ``np.dot``, ``@`` on arrays and ``np.linalg`` do not compile in a
prepared process (Numba says "scipy ... is required"). Write the loop instead.

Call :func:`prepare` before the first kernel is compiled or loaded; each ``warm_up`` does.
If SciPy's linear algebra is already imported, nothing is declined.
"""

from __future__ import annotations

import importlib.abc
import sys
import threading
from collections.abc import Sequence
from types import ModuleType

_DECLINED = "scipy.linalg"
_lock = threading.Lock()
_prepared = False


class _DeclineLinalg(importlib.abc.MetaPathFinder):
    def find_spec(
        self, fullname: str, path: Sequence[str] | None, target: ModuleType | None = None
    ) -> None:
        if fullname == _DECLINED or fullname.startswith(_DECLINED + "."):
            raise ImportError(f"{fullname} is not loaded for Numba kernels", name=fullname)
        return None


def prepare() -> None:
    """Import Numba's array-math registry without SciPy's linear algebra (once per process)."""
    global _prepared
    if _prepared:
        return
    with _lock:
        if _prepared:
            return
        if "numba.np.arraymath" not in sys.modules and _DECLINED not in sys.modules:
            finder = _DeclineLinalg()
            sys.meta_path.insert(0, finder)
            try:
                importlib.import_module("numba.np.arraymath")
            finally:
                sys.meta_path.remove(finder)
        _prepared = True


def has_blas() -> bool:
    """Whether Numba in this process can compile ``np.dot`` and ``np.linalg``."""
    from numba.np import arraymath

    return bool(arraymath._HAVE_BLAS)
