"""Real-time audio and MIDI I/O and DSP. Never imports Qt."""

import os as _os

# OpenBLAS starts a server thread per core and lets it spin for a while after every call. The
# matrices here are small (chroma filter banks, key templates), so the threads gain nothing, and
# on a two-core machine a spinning one took a fifth of a core from the live path. Set before
# NumPy loads OpenBLAS (``app`` imports this package first); a user's own setting wins.
_os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
