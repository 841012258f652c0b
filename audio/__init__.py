"""Real-time audio and MIDI I/O and DSP. Never imports Qt."""
