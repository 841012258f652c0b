"""Hookline's application core: settings, storage, projects, services. No Qt widgets here."""

import audio as _audio  # noqa: F401  (first: it sets the BLAS thread count before NumPy loads)

__version__ = "0.1.0"
