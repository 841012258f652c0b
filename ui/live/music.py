"""The Music card: the key (with its Camelot code and how sure the engine is), the chord being
played, the tempo, and a light that flashes on the beat.

Fed from the Live view's display timer with the engine's :class:`audio.live_music.MusicReading`
(new about every 0.5 s). The beat light is *predicted*: each tick (≤ 60 Hz) it lights when a beat
``beat_clock + k * beat_period_s`` fell within the last :data:`FLASH_SECONDS`, so it keeps the beat
between readings. Nothing here waits on the engine.
"""

from __future__ import annotations

import math
import time
from typing import Any

from PySide6.QtCore import QRectF
from PySide6.QtGui import QColor, QPainter, QPaintEvent, QPen
from PySide6.QtWidgets import QGridLayout, QHBoxLayout, QLabel, QWidget

from app.i18n import _, format_decimal, format_percent
from ui.live.common import DASH, Card, muted, scaled_font, tabular
from ui.theme import theme_colors

FLASH_SECONDS = 0.11  # how long the light stays on after a predicted beat
STALE_SECONDS = 3.0  # a reading older than this (the engine stopped) is not shown
MIN_TEMPO_CONFIDENCE = 0.05  # below this the beat light stays dark


def pretty(name: str) -> str:
    """A note or chord name with real accidentals: "F#m" → "F♯m", "Bb7" → "B♭7"."""
    if len(name) > 1 and name[1] in "#b":
        return name[0] + ("♯" if name[1] == "#" else "♭") + name[2:]
    return name


def key_text(tonic: str, mode: str) -> str:
    """ "A minor" in the user's language."""
    if mode == "minor":
        return _("{tonic} minor").format(tonic=pretty(tonic))
    return _("{tonic} major").format(tonic=pretty(tonic))


class BeatLight(QWidget):
    """A round light that flashes on each (predicted) beat."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.lit = False
        self.flashes = 0  # times it lit (tests count beats with it)
        self.setFixedSize(18, 18)
        self.setToolTip(_("Flashes on the beat"))

    def set_lit(self, lit: bool) -> None:
        if lit != self.lit:
            self.lit = lit
            self.flashes += int(lit)
            self.update()

    def paintEvent(self, event: QPaintEvent) -> None:
        colors = theme_colors()
        p = QPainter(self)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        p.setPen(QPen(QColor(colors.shadow), 1))
        p.setBrush(QColor(colors.accent if self.lit else colors.mid))
        p.drawEllipse(QRectF(1.5, 1.5, self.width() - 3, self.height() - 3))
        p.end()


class MusicPanel(Card):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(_("Music"), "live-music", parent)
        self._shown: Any = None  # the MusicReading on screen

        grid = QGridLayout()
        grid.setHorizontalSpacing(12)
        grid.setVerticalSpacing(2)
        big = tabular(scaled_font(self, 1.6, bold=True))
        captions = (_("Key"), _("Chord"), _("Tempo"))
        self.key_label = QLabel(DASH)
        self.chord_label = QLabel(DASH)
        self.tempo_label = QLabel(DASH)
        self.key_label.setToolTip(_("The key of the last half minute or so"))
        self.chord_label.setToolTip(_("The chord of the last second"))
        self.tempo_label.setToolTip(_("Beats per minute over the last ten seconds"))
        self.key_detail = muted(QLabel(DASH))
        self.key_detail.setToolTip(_("Camelot code and how sure the key is"))
        self.tempo_detail = muted(QLabel(_("BPM")))
        self.light = BeatLight()
        tempo_row = QHBoxLayout()
        tempo_row.setSpacing(6)
        tempo_row.addWidget(self.light)
        tempo_row.addWidget(self.tempo_detail)
        tempo_row.addStretch(1)
        for column, (caption, value) in enumerate(
            zip(captions, (self.key_label, self.chord_label, self.tempo_label), strict=True)
        ):
            grid.addWidget(muted(QLabel(caption)), 0, column)
            value.setFont(big)
            grid.addWidget(value, 1, column)
        grid.addWidget(self.key_detail, 2, 0)
        grid.addLayout(tempo_row, 2, 2)
        grid.setColumnStretch(0, 3)
        grid.setColumnStretch(1, 2)
        grid.setColumnStretch(2, 2)
        self.body.addLayout(grid)

    def show_music(self, music: Any, now: float | None = None) -> None:
        """Show ``music`` (a MusicReading or None) and light the beat as of ``now``
        (``time.perf_counter()``). Call on every display tick."""
        now = time.perf_counter() if now is None else now
        if music is not None and now - music.published_at > STALE_SECONDS:
            music = None
        if music is not self._shown:
            self._shown = music
            self._render(music)
        self.light.set_lit(self._on_beat(music, now))

    def clear(self) -> None:
        self._shown = None
        self._render(None)
        self.light.set_lit(False)

    def _render(self, music: Any) -> None:
        if music is None or music.key_tonic is None:
            self.key_label.setText(DASH)
            self.key_detail.setText(DASH)
        else:
            self.key_label.setText(key_text(music.key, music.key_mode))
            self.key_detail.setText(
                _("{camelot} · {confidence}").format(
                    camelot=music.camelot, confidence=format_percent(music.key_confidence)
                )
            )
        chord = music.chord if music is not None else None
        self.chord_label.setText(pretty(chord) if chord else DASH)
        bpm = music.tempo_bpm if music is not None else None
        self.tempo_label.setText(format_decimal(round(bpm), 0) if bpm else DASH)

    @staticmethod
    def _on_beat(music: Any, now: float) -> bool:
        if music is None or music.beat_clock is None or not music.beat_period_s:
            return False
        if music.tempo_confidence < MIN_TEMPO_CONFIDENCE:
            return False
        since = now - music.beat_clock
        if since < 0:
            return False
        return math.fmod(since, music.beat_period_s) < FLASH_SECONDS

    @property
    def key_text(self) -> str:
        return self.key_label.text()

    @property
    def chord_text(self) -> str:
        return self.chord_label.text()

    @property
    def tempo_text(self) -> str:
        return self.tempo_label.text()
