"""The errors of team sync. ``str(error)`` is a translated message for the user; the server's own
(English, technical) message is kept in :attr:`SyncError.detail` for the log."""

from __future__ import annotations

from app.i18n import _, format_decimal


class SyncError(Exception):
    """A team-server request failed.

    ``code`` is the protocol's error code (``server.protocol.ERROR_CODES``) or one of
    ``unreachable``, ``unavailable``, ``bad_reply``, ``keyring``; ``status`` the HTTP status
    (None when no answer came). ``retryable`` says whether trying the same request again later
    may succeed without the user doing anything.
    """

    retryable = False

    def __init__(
        self, message: str, *, code: str = "", status: int | None = None, detail: str = ""
    ) -> None:
        super().__init__(message)
        self.code = code
        self.status = status
        self.detail = detail


class ServerUnreachable(SyncError):
    """No answer: connection refused or reset, DNS failure, timeout."""

    retryable = True


class ServerUnavailable(SyncError):
    """The server answered with a 5xx status."""

    retryable = True


class BadReply(SyncError):
    """The server's answer does not follow the protocol (truncated, garbage, wrong shape)."""

    retryable = True


class NotSignedIn(SyncError):
    """No, expired or revoked sign-in; the user has to sign in again."""


class Forbidden(SyncError):
    """The user's role in the team does not allow this."""


class NotFound(SyncError):
    pass


class Conflict(SyncError):
    pass


class TooLarge(SyncError):
    pass


class UpdateRefused(SyncError):
    """The server refused a Yjs update as damaged or belonging elsewhere."""


class BlobDamaged(SyncError):
    """A file's bytes do not match its SHA-256."""


class InvitationGone(SyncError):
    pass


class BadRequest(SyncError):
    pass


class RateLimited(SyncError):
    retryable = True

    def __init__(
        self, retry_after_s: float, *, code: str = "", status: int | None = None, detail: str = ""
    ) -> None:
        super().__init__(
            _("Too many attempts. Try again in {seconds} seconds.").format(
                seconds=format_decimal(round(retry_after_s))
            ),
            code=code,
            status=status,
            detail=detail,
        )
        self.retry_after_s = retry_after_s


class KeyringUnavailable(SyncError):
    """The OS keyring cannot keep the sign-in; there is no fallback to a file."""


def for_code(code: str, status: int, detail: str, retry_after_s: float | None) -> SyncError:
    """The exception for an error answer with protocol error ``code``."""
    if code == "rate_limited" or status == 429:
        return RateLimited(retry_after_s or 60.0, code=code, status=status, detail=detail)
    if status >= 500:
        return ServerUnavailable(
            _("The team server has a problem (error {status}). Hookline will try again.").format(
                status=status
            ),
            code=code,
            status=status,
            detail=detail,
        )
    kinds: dict[str, tuple[type[SyncError], str]] = {
        "unauthenticated": (
            NotSignedIn,
            _("You are not signed in to the team server, or your sign-in has expired."),
        ),
        "forbidden": (Forbidden, _("Your role in this team does not allow this.")),
        "not_found": (
            NotFound,
            _("The team server does not know this, or you have no access to it."),
        ),
        "conflict": (Conflict, _("This exists on the team server already.")),
        "too_large": (TooLarge, _("This is too large for the team server.")),
        "bad_update": (UpdateRefused, _("The team server refused a change as damaged.")),
        "bad_hash": (BlobDamaged, _("A file was damaged on the way; it was not stored.")),
        "gone": (InvitationGone, _("This invitation has been used or has expired.")),
        "bad_request": (BadRequest, _("The team server did not understand the request.")),
    }
    kind, message = kinds.get(
        code,
        (
            BadReply,
            _(
                "The team server gave an answer Hookline does not understand (error {status})."
            ).format(status=status),
        ),
    )
    if code not in kinds and status == 401:
        kind, message = kinds["unauthenticated"]
    return kind(message, code=code or "bad_reply", status=status, detail=detail)
