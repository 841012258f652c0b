"""The Live room: tuner, meters, spectrum and spectrogram of the audio input (see view.py)."""

from ui.live.view import LiveView, install_live_view

__all__ = ["LiveView", "install_live_view"]
