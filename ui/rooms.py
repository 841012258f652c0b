"""The rooms of the main window and the empty state each shows until its feature arrives.

A room is one tab of the main window. Later features replace a room's empty state with their
own widget through ``MainWindow.set_room_widget(key, widget)``.
"""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import Qt
from PySide6.QtGui import QKeySequence, QPalette
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QVBoxLayout, QWidget

from app.i18n import N_, _


@dataclass(frozen=True)
class Room:
    key: str  # stable identifier used by code: "live", "harmony", ...
    title: str  # marked with N_(); translate when shown
    description: str  # marked with N_(); what the room will hold


ROOMS: tuple[Room, ...] = (
    Room(
        "live",
        N_("Live"),
        N_(
            "The tuner, level and loudness meters, spectrum and spectrogram of your input will "
            "appear here."
        ),
    ),
    Room(
        "harmony",
        N_("Harmony"),
        N_(
            "The key and chords of what you play, with suggestions for the next chord, will "
            "appear here."
        ),
    ),
    Room(
        "create",
        N_("Create"),
        N_(
            "Melody ideas, chord progressions and help with lyrics for the song you are writing "
            "will appear here."
        ),
    ),
    Room(
        "library",
        N_("Library"),
        N_(
            "Your projects, ideas and analysed tracks, with their key, tempo and loudness, will "
            "appear here."
        ),
    ),
    Room(
        "stats",
        N_("Stats"),
        N_(
            "Your Spotify and Spotify for Artists figures, and how they change over time, will "
            "appear here."
        ),
    ),
    Room(
        "team",
        N_("Team"),
        N_("Your team, the projects you share and how far they are in sync will appear here."),
    ),
)
ROOM_KEYS: tuple[str, ...] = tuple(room.key for room in ROOMS)
ROOMS_BY_KEY: dict[str, Room] = {room.key: room for room in ROOMS}


CARD_WIDTH = 560


class RoomPlaceholder(QWidget):
    """A calm empty state: the room's name, what will appear here, and how to get here."""

    def __init__(
        self, room: Room, shortcut: QKeySequence | None = None, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.room = room
        self.setObjectName(f"room-placeholder-{room.key}")

        self.title_label = QLabel(_(room.title))
        font = self.title_label.font()
        font.setPointSizeF(font.pointSizeF() * 1.8)
        font.setBold(True)
        self.title_label.setFont(font)
        self.title_label.setAlignment(Qt.AlignmentFlag.AlignHCenter)

        self.description_label = QLabel(_(room.description))
        self.description_label.setWordWrap(True)
        self.description_label.setAlignment(Qt.AlignmentFlag.AlignHCenter)
        body = self.description_label.font()
        body.setPointSizeF(body.pointSizeF() * 1.15)
        self.description_label.setFont(body)

        self.hint_label = QLabel()
        self.hint_label.setAlignment(Qt.AlignmentFlag.AlignHCenter)
        self.hint_label.setForegroundRole(QPalette.ColorRole.PlaceholderText)
        if shortcut is not None and not shortcut.isEmpty():
            self.hint_label.setText(
                _("Not built yet. Press {shortcut} to come back to this room.").format(
                    shortcut=shortcut.toString(QKeySequence.SequenceFormat.NativeText)
                )
            )
        else:
            self.hint_label.setText(_("Not built yet."))

        card = QFrame()
        card.setObjectName("room-card")
        card.setFrameShape(QFrame.Shape.StyledPanel)
        card.setAutoFillBackground(True)
        card.setBackgroundRole(QPalette.ColorRole.AlternateBase)
        card.setFixedWidth(CARD_WIDTH)
        card_layout = QVBoxLayout(card)
        card_layout.setContentsMargins(40, 32, 40, 32)
        card_layout.setSpacing(14)
        card_layout.addWidget(self.title_label)
        card_layout.addWidget(self.description_label)
        card_layout.addWidget(self.hint_label)

        # No alignment flags here: an aligned item gets its size hint, not its height for the
        # card's width, and the wrapped description would be cut off.
        row = QHBoxLayout()
        row.addStretch(1)
        row.addWidget(card)
        row.addStretch(1)
        layout = QVBoxLayout(self)
        layout.addStretch(2)
        layout.addLayout(row)
        layout.addStretch(3)
