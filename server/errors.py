"""The error answer of the protocol: ``{"error": {"code": CODE, "message": TEXT}}``."""

from __future__ import annotations

from server.protocol import ERROR_CODES, ERROR_STATUS


class ApiError(Exception):
    """An answer with one of :data:`server.protocol.ERROR_CODES` and its HTTP status."""

    def __init__(self, code: str, message: str, *, headers: dict[str, str] | None = None) -> None:
        if code not in ERROR_CODES:
            raise ValueError(f"unknown error code {code}")
        super().__init__(message)
        self.code = code
        self.message = message
        self.status = ERROR_STATUS[code]
        self.headers = headers or {}

    def body(self) -> dict[str, dict[str, str]]:
        return {"error": {"code": self.code, "message": self.message}}
