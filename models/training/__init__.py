"""Training-time scripts: corpus extraction and model training (music21 and torch only here)."""
