"""Window size, position, dock layout and open room, kept in the ``ui.window_state`` setting.

The setting is one string: JSON with Qt's own geometry and state blobs in base64, so the
settings file stays text and a damaged value is simply ignored.
"""

from __future__ import annotations

import base64
import binascii
import json
import logging
from dataclasses import dataclass

from PySide6.QtCore import QByteArray

log = logging.getLogger(__name__)

FORMAT_VERSION = 1


@dataclass(frozen=True)
class WindowState:
    geometry: bytes = b""
    dock_state: bytes = b""
    room: str = ""

    def encode(self) -> str:
        return json.dumps(
            {
                "v": FORMAT_VERSION,
                "geometry": base64.b64encode(self.geometry).decode("ascii"),
                "state": base64.b64encode(self.dock_state).decode("ascii"),
                "room": self.room,
            },
            separators=(",", ":"),
        )

    @classmethod
    def decode(cls, text: str) -> WindowState | None:
        """The state saved in ``text``, or ``None`` when it is empty or unusable."""
        if not text:
            return None
        try:
            data = json.loads(text)
            if not isinstance(data, dict) or data.get("v") != FORMAT_VERSION:
                raise ValueError("unknown format")
            room = data.get("room", "")
            return cls(
                geometry=base64.b64decode(str(data.get("geometry", "")), validate=True),
                dock_state=base64.b64decode(str(data.get("state", "")), validate=True),
                room=room if isinstance(room, str) else "",
            )
        except (ValueError, binascii.Error) as exc:
            log.warning("ignoring the saved window state: %s", exc)
            return None


def to_bytes(array: QByteArray) -> bytes:
    return bytes(array.data())


def to_qbytearray(data: bytes) -> QByteArray:
    return QByteArray(data)
