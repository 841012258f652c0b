"""Team sync: the desktop side of sharing projects through a team server (``hookline serve``).

- :mod:`app.sync.client`: a typed HTTP client for the protocol in ``server/protocol.py``.
- :mod:`app.sync.engine`: background sync of open projects (outbox, long-poll, back-off).
- :mod:`app.sync.sharing`: turn a local project into a team project, or join one.
- :mod:`app.sync.store`: links, outbox and account in the user's database.
- :mod:`app.sync.tokens`: sign-in tokens in the OS keyring only.
"""

from app.sync.client import SyncClient
from app.sync.engine import Connection, SyncEngine, SyncStatus
from app.sync.errors import SyncError
from app.sync.sharing import ShareSnapshot, join_project, share_project
from app.sync.store import SyncLink, SyncStore

__all__ = [
    "Connection",
    "ShareSnapshot",
    "SyncClient",
    "SyncEngine",
    "SyncError",
    "SyncLink",
    "SyncStatus",
    "SyncStore",
    "join_project",
    "share_project",
]
