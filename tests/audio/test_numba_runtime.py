"""Numba's CPU target comes up without SciPy's linear algebra, and SciPy still works after."""

from __future__ import annotations

import json
import os
import sys

from tests.support.cli import run

PROBE = """
import json, sys
from audio import engine
engine.warm_up()
loaded_by_kernels = "scipy.linalg" in sys.modules
from audio import numba_runtime
import scipy.linalg
x = scipy.linalg.solve([[2.0, 0.0], [0.0, 4.0]], [2.0, 8.0])
print(json.dumps({
    "linalg_loaded_by_kernels": loaded_by_kernels,
    "numba_has_blas": numba_runtime.has_blas(),
    "solve": [float(v) for v in x],
    "finders_left": sum(type(f).__name__ == "_DeclineLinalg" for f in sys.meta_path),
}))
"""


def test_kernels_load_without_scipy_linalg_which_imports_normally_afterwards() -> None:
    result = run([sys.executable, "-c", PROBE], env=dict(os.environ))
    assert result.returncode == 0, result.stderr
    probe = json.loads(result.stdout.strip().splitlines()[-1])
    assert probe == {
        "linalg_loaded_by_kernels": False,
        "numba_has_blas": False,
        "solve": [1.0, 2.0],
        "finders_left": 0,
    }


def test_nothing_is_declined_when_scipy_linalg_is_already_loaded() -> None:
    probe = (
        "import scipy.linalg\n"
        "from audio import levels, numba_runtime\n"
        "levels.warm_up()\n"
        "print(numba_runtime.has_blas())\n"
    )
    result = run([sys.executable, "-c", probe], env=dict(os.environ))
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == "True"
