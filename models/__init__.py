"""Music intelligence: theory, chord recognition, melody and lyric models. Never imports Qt."""
