"""Storage: the user's SQLite database, its tables and its migrations.

``open_database(path)`` gives a :class:`Database`; every failure a user can act on is a
:class:`StorageError` with a translated message and a :class:`StorageProblem` saying what it is.
"""

from app.storage.database import Database, open_database
from app.storage.errors import StorageError, StorageProblem
from app.storage.models import AnalysedTrackRow, Base, BlobRow, ProjectRow, ProjectUpdateRow

__all__ = [
    "AnalysedTrackRow",
    "Base",
    "BlobRow",
    "Database",
    "ProjectRow",
    "ProjectUpdateRow",
    "StorageError",
    "StorageProblem",
    "open_database",
]
