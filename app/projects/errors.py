"""The one error type of the projects package."""

from __future__ import annotations


class ProjectError(Exception):
    """A project could not be created, opened, changed or saved.

    ``str(error)`` is the translated message for the user; ``__cause__`` keeps the technical
    reason (a :class:`~app.storage.StorageError`, a pycrdt error) for the log.
    """
