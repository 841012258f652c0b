"""The Harmony room: chords and key of the MIDI input, suggestions, progressions (view.py)."""

from ui.harmony.view import HarmonyRoom, install_harmony_view

__all__ = ["HarmonyRoom", "install_harmony_view"]
