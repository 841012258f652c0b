"""Projects (songs) as pycrdt documents saved update by update in the user's database.

``ProjectStore(database)`` creates, opens, lists, trashes and exports projects; a
:class:`Project` is one open song whose edits are on disk when :meth:`Project.edit` returns.
"""

from app.projects.errors import ProjectError
from app.projects.project import Project
from app.projects.store import ProjectInfo, ProjectStore

__all__ = ["Project", "ProjectError", "ProjectInfo", "ProjectStore"]
