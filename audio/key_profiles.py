"""Published key profiles: how strongly each pitch class belongs to a major or minor key.

Data only, shared by key finding from notes (``models.key_tracking``) and from audio
(``audio.key_audio``). Each profile starts at the tonic (C for C major / C minor).
"""

from __future__ import annotations

# Krumhansl & Kessler (1982), "Tracing the dynamic changes in perceived tonal organization in a
# spatial representation of musical keys", Psychological Review 89(4); probe-tone ratings as
# tabulated in Krumhansl (1990), Cognitive Foundations of Musical Pitch, Table 2.1. C first.
KRUMHANSL_MAJOR = (6.35, 2.23, 3.48, 2.33, 4.38, 4.09, 2.52, 5.19, 2.39, 3.66, 2.29, 2.88)
KRUMHANSL_MINOR = (6.33, 2.68, 3.52, 5.38, 2.60, 3.53, 2.54, 4.75, 3.98, 2.69, 3.34, 3.17)
# Temperley (1999), "What's key for key? The Krumhansl-Schmuckler key-finding algorithm
# reconsidered", Music Perception 17(1), the revised profiles (Figure 4). C first.
TEMPERLEY_MAJOR = (5.0, 2.0, 3.5, 2.0, 4.5, 4.0, 2.0, 4.5, 2.0, 3.5, 1.5, 4.0)
TEMPERLEY_MINOR = (5.0, 2.0, 3.5, 4.5, 2.0, 4.0, 2.0, 4.5, 3.5, 2.0, 1.5, 4.0)
# Albrecht & Shanahan (2013), "The use of large corpora to train a new type of key-finding
# algorithm: an improved treatment of the minor mode", Music Perception 31(1), appendix. C first.
ALBRECHT_MAJOR = (
    0.238,
    0.006,
    0.111,
    0.006,
    0.137,
    0.094,
    0.016,
    0.214,
    0.009,
    0.080,
    0.008,
    0.081,
)
ALBRECHT_MINOR = (
    0.220,
    0.006,
    0.104,
    0.123,
    0.019,
    0.103,
    0.012,
    0.214,
    0.062,
    0.022,
    0.061,
    0.052,
)

PROFILES: dict[str, tuple[tuple[float, ...], tuple[float, ...]]] = {
    "krumhansl": (KRUMHANSL_MAJOR, KRUMHANSL_MINOR),
    "temperley": (TEMPERLEY_MAJOR, TEMPERLEY_MINOR),
    "albrecht": (ALBRECHT_MAJOR, ALBRECHT_MINOR),
}
