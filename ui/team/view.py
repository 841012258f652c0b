"""The Team room: an account on a team server (``hookline serve``), its teams and their shared
projects, the open project's sync state, and the team's activity.

Every call to the server runs in a worker thread and answers through a queued signal, so the
window never waits on the network. The sync engine (:class:`app.sync.session.TeamSession`) runs
while signed in; changes from the team are applied to the open project on the GUI thread. The
indicator says online, offline (chosen), or retrying with the time of the next try and the number
of changes still queued; "Work offline" keeps every edit in the queue until it is switched off.

The open project's files (stems, bounces, clips as files) are listed with where each one is:
here and on the server, uploading, downloading, or not uploaded yet by the member who added it.
"Add a file…" copies a file into Hookline's file store and lists it in the project; when the
project is shared, the file follows it to the team.

Keys: ``Ctrl+Shift+U`` share the open project with the chosen team; ``Ctrl+Shift+O`` add a file
to the open project.
"""

from __future__ import annotations

import logging
import shutil
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QObject, Qt, QTimer, Signal
from PySide6.QtGui import QKeySequence
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFileDialog,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QInputDialog,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from app.i18n import _, format_decimal, ngettext
from app.projects import Project
from app.projects.files import CHUNK, FileError, FileStore, add_file, file_entries
from app.stats_share import stats_snapshot
from app.stats_store import StatsStore
from app.sync.engine import Connection, SyncStatus
from app.sync.errors import SyncError
from app.sync.files import FileState, FileStatus
from app.sync.session import TeamSession
from ui.live.common import muted

if TYPE_CHECKING:
    from ui.main_window import MainWindow

log = logging.getLogger(__name__)


def _role(role: str) -> str:
    return {"viewer": _("viewer"), "editor": _("editor"), "owner": _("owner")}.get(role, role)


class _Relay(QObject):
    done = Signal(object, object, object)  # (callback, result, error message or None)
    status = Signal(object)  # SyncStatus
    remote = Signal(str, int)  # (project id, revision): changes from the team arrived
    file = Signal(str, object)  # (sha256, FileStatus): a file transfer moved on


class _GuiCaller(QObject):
    """Runs callables on the GUI thread (the engine's ``call_in_owner``), always later from the
    event loop, never inside the caller: a project's listener calls it from within an edit's
    transaction, where the document cannot be read yet."""

    call = Signal(object)

    def __init__(self) -> None:
        super().__init__()
        self.call.connect(lambda fn: fn(), Qt.ConnectionType.QueuedConnection)


class TeamRoom(QWidget):
    message = Signal(str)

    def __init__(
        self,
        session: TeamSession,
        open_project: Callable[[str], Project | None],
        parent: QWidget | None = None,
        stats_snapshot: Callable[[], dict[str, object]] | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("team-room")
        self.session = session
        self._open_project = open_project
        self._stats_snapshot = stats_snapshot
        self.project: Project | None = None
        self.relay = _Relay()
        self.relay.done.connect(self._on_done)
        self.relay.status.connect(self._show_status)
        session.add_status_listener(self.relay.status.emit)
        session.add_remote_listener(self.relay.remote.emit)
        self.relay.remote.connect(self._on_remote)
        session.add_file_listener(self.relay.file.emit)
        self.relay.file.connect(lambda _sha, _status: self.files_due.start())
        self.files_due = QTimer(self)  # at most ten redraws of the file list a second
        self.files_due.setSingleShot(True)
        self.files_due.setInterval(100)
        self.files_due.timeout.connect(self.show_files)
        self.history_due = QTimer(self)  # at most one history request a second
        self.history_due.setSingleShot(True)
        self.history_due.setInterval(1000)
        self.history_due.timeout.connect(self.refresh_history)
        self.busy = 0
        self.teams_by_row: list[Any] = []

        # account
        self.server = QLineEdit(session.server_url)
        self.server.setObjectName("team-server")
        self.server.setReadOnly(True)
        self.server.setToolTip(_("Change it in Settings (team.server_url)"))
        self.email = QLineEdit()
        self.email.setObjectName("team-email")
        self.email.setPlaceholderText(_("you@example.com"))
        self.password = QLineEdit()
        self.password.setObjectName("team-password")
        self.password.setEchoMode(QLineEdit.EchoMode.Password)
        self.name = QLineEdit()
        self.name.setPlaceholderText(_("Your name (for a new account)"))
        self.login_button = QPushButton(_("Sign in"))
        self.login_button.setObjectName("team-login")
        self.register_button = QPushButton(_("Create account"))
        self.logout_button = QPushButton(_("Sign out"))
        self.logout_button.setObjectName("team-logout")
        self.account_label = QLabel("")
        self.account_label.setObjectName("team-account")
        account = QGroupBox(_("Team server"))
        form = QFormLayout(account)
        form.addRow(_("Server:"), self.server)
        form.addRow(_("Email:"), self.email)
        form.addRow(_("Password:"), self.password)
        form.addRow(_("Name:"), self.name)
        row = QHBoxLayout()
        for w in (self.login_button, self.register_button, self.logout_button):
            row.addWidget(w)
        form.addRow(row)
        form.addRow(self.account_label)

        # sync state of the open project
        self.indicator = QLabel("")
        self.indicator.setObjectName("team-indicator")
        self.indicator.setWordWrap(True)
        self.offline_box = QCheckBox(_("Work offline"))
        self.offline_box.setObjectName("team-offline")
        self.offline_box.setToolTip(_("Keep every change queued until you switch this off"))
        self.project_label = QLabel("")
        self.project_label.setWordWrap(True)
        self.share_button = QPushButton(_("Share this project with the team"))
        self.share_button.setObjectName("team-share")
        self.share_button.setShortcut(QKeySequence("Ctrl+Shift+U"))
        self.changes = QListWidget()
        self.changes.setObjectName("team-changes")
        self.changes.setToolTip(_("Who changed this project, and when (newest first)"))
        state = QGroupBox(_("This project"))
        state_box = QVBoxLayout(state)
        for w in (self.project_label, self.share_button, self.indicator, self.offline_box):
            state_box.addWidget(w)
        state_box.addWidget(QLabel(_("Recent changes:")))
        state_box.addWidget(self.changes, 1)
        self.files = QTableWidget(0, 3)
        self.files.setObjectName("team-files")
        self.files.setHorizontalHeaderLabels([_("File"), _("Size"), _("Where it is")])
        self.files.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        self.files.horizontalHeader().setSectionResizeMode(2, QHeaderView.ResizeMode.Stretch)
        self.files.verticalHeader().setVisible(False)
        self.files.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.add_file_button = QPushButton(_("Add a file…"))
        self.add_file_button.setObjectName("team-add-file")
        self.add_file_button.setShortcut(QKeySequence("Ctrl+Shift+O"))
        self.add_file_button.setToolTip(_("Add a stem, bounce or sample to this project"))
        self.save_file_button = QPushButton(_("Save a copy…"))
        self.save_file_button.setObjectName("team-save-file")
        self.save_file_button.setShortcut(QKeySequence("Ctrl+Alt+S"))
        self.save_file_button.setToolTip(_("Save the chosen file where your DAW can use it"))
        self.retry_files_button = QPushButton(_("Try the files again"))
        self.retry_files_button.setObjectName("team-retry-files")
        state_box.addWidget(QLabel(_("Files:")))
        state_box.addWidget(self.files, 1)
        file_buttons = QHBoxLayout()
        file_buttons.addWidget(self.add_file_button)
        file_buttons.addWidget(self.save_file_button)
        file_buttons.addWidget(self.retry_files_button)
        state_box.addLayout(file_buttons)

        # teams, their projects, activity
        self.teams = QListWidget()
        self.teams.setObjectName("team-teams")
        self.new_team_button = QPushButton(_("New team…"))
        self.join_button = QPushButton(_("Join with an invitation…"))
        self.invite_role = QComboBox()
        for role in ("editor", "viewer", "owner"):
            self.invite_role.addItem(_role(role), role)
        self.invite_button = QPushButton(_("Invite"))
        self.invite_button.setObjectName("team-invite")
        self.invitation = QLineEdit()
        self.invitation.setObjectName("team-invitation")
        self.invitation.setReadOnly(True)
        self.invitation.setPlaceholderText(_("An invitation to copy appears here"))
        self.remote = QTableWidget(0, 2)
        self.remote.setObjectName("team-projects")
        self.remote.setHorizontalHeaderLabels([_("Shared project"), _("Revision")])
        self.remote.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        self.remote.verticalHeader().setVisible(False)
        self.remote.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.remote.setSelectionBehavior(QTableWidget.SelectionBehavior.SelectRows)
        self.open_remote_button = QPushButton(_("Open the chosen project"))
        self.open_remote_button.setObjectName("team-open")
        self.activity = QTableWidget(0, 4)
        self.activity.setObjectName("team-activity")
        self.activity.setHorizontalHeaderLabels(
            [_("Day"), _("Pushes"), _("Bytes"), _("Active members")]
        )
        self.activity.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.activity.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        self.activity.verticalHeader().setVisible(False)
        teams = QGroupBox(_("Teams"))
        teams_box = QVBoxLayout(teams)
        teams_box.addWidget(self.teams, 1)
        buttons = QHBoxLayout()
        for w in (self.new_team_button, self.join_button):
            buttons.addWidget(w)
        teams_box.addLayout(buttons)
        invite = QHBoxLayout()
        for w in (self.invite_role, self.invite_button):
            invite.addWidget(w)
        invite.addWidget(self.invitation, 1)
        teams_box.addLayout(invite)
        shared = QGroupBox(_("Shared projects"))
        shared_box = QVBoxLayout(shared)
        shared_box.addWidget(self.remote, 1)
        shared_box.addWidget(self.open_remote_button)
        activity = QGroupBox(_("Activity (last 30 days)"))
        activity_box = QVBoxLayout(activity)
        activity_box.addWidget(self.activity)
        self.stats = QTableWidget(0, 6)
        self.stats.setObjectName("team-stats")
        self.stats.setHorizontalHeaderLabels(
            [
                _("Member"),
                _("Shared"),
                _("Streams, 28 days"),
                _("Listeners"),
                _("Followers"),
                _("Top song, 28 days"),
            ]
        )
        self.stats.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.stats.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.stats.horizontalHeader().setSectionResizeMode(5, QHeaderView.ResizeMode.Stretch)
        self.stats.verticalHeader().setVisible(False)
        self.share_stats_button = QPushButton(_("Share my stats with this team"))
        self.share_stats_button.setObjectName("team-share-stats")
        self.share_stats_button.setToolTip(
            _("Your imported Spotify for Artists figures: the last 28 days and your top songs")
        )
        self.unshare_stats_button = QPushButton(_("Stop sharing my stats"))
        self.unshare_stats_button.setObjectName("team-unshare-stats")
        shared_stats = QGroupBox(_("Artist stats shared with the team"))
        shared_stats_box = QVBoxLayout(shared_stats)
        shared_stats_box.addWidget(self.stats)
        stats_buttons = QHBoxLayout()
        stats_buttons.addWidget(self.share_stats_button)
        stats_buttons.addWidget(self.unshare_stats_button)
        shared_stats_box.addLayout(stats_buttons)
        self.note = QLabel("")
        self.note.setObjectName("team-note")
        self.note.setWordWrap(True)
        muted(self.note)

        left = QVBoxLayout()
        left.addWidget(account)
        left.addWidget(state, 1)
        right = QVBoxLayout()
        right.addWidget(teams, 2)
        right.addWidget(shared, 2)
        right.addWidget(activity, 2)
        right.addWidget(shared_stats, 2)
        columns = QHBoxLayout()
        columns.addLayout(left, 2)
        columns.addLayout(right, 3)
        layout = QVBoxLayout(self)
        layout.addLayout(columns, 1)
        layout.addWidget(self.note)

        self.login_button.clicked.connect(self.login)
        self.register_button.clicked.connect(self.register)
        self.logout_button.clicked.connect(self.logout)
        self.new_team_button.clicked.connect(self.ask_new_team)
        self.join_button.clicked.connect(self.ask_join)
        self.invite_button.clicked.connect(self.invite)
        self.share_button.clicked.connect(self.share)
        self.open_remote_button.clicked.connect(self.open_remote)
        self.add_file_button.clicked.connect(self.ask_file)
        self.save_file_button.clicked.connect(self.ask_save_file)
        self.files.itemSelectionChanged.connect(self._enable_save)
        self.share_stats_button.clicked.connect(self.share_stats)
        self.unshare_stats_button.clicked.connect(self.unshare_stats)
        self.retry_files_button.clicked.connect(self.retry_files)
        self.teams.currentRowChanged.connect(lambda _row: self.refresh_team())
        self.offline_box.toggled.connect(self._set_offline)
        self.clock = QTimer(self)
        self.clock.setInterval(1000)  # the "next try in N s" countdown
        self.clock.timeout.connect(lambda: self._show_status(self.session.status()))
        self.clock.start()
        self._show_account()
        self._show_project()
        self.run(self.session.resume, self._on_resumed, quiet=True)

    # -- running work off the GUI thread -------------------------------------------------------
    def run(
        self, work: Callable[[], Any], then: Callable[[Any], None], quiet: bool = False
    ) -> None:
        """``work()`` in a worker thread; ``then(result)`` on the GUI thread when it worked,
        its message shown when it raised :class:`SyncError`."""
        self.busy += 1

        def body() -> None:
            try:
                result = work()
            except SyncError as exc:
                self.relay.done.emit(None, None, "" if quiet else str(exc))
            except Exception as exc:
                log.exception("team request failed")
                self.relay.done.emit(
                    None, None, _("The request failed: {error}").format(error=type(exc).__name__)
                )
            else:
                self.relay.done.emit(then, result, None)

        threading.Thread(target=body, name="team-request", daemon=True).start()

    def idle(self) -> bool:
        return self.busy == 0

    def _on_done(self, then: Callable[[Any], None] | None, result: Any, error: str | None) -> None:
        self.busy -= 1
        if error:
            self.note.setText(error)
            self.message.emit(error)
        if then is not None:
            then(result)
        self._show_account()

    # -- account -------------------------------------------------------------------------------
    def _show_account(self) -> None:
        signed_in = self.session.signed_in
        self.account_label.setText(
            _("Signed in as {email}.").format(email=self.session.email or "?")
            if signed_in
            else _("Not signed in. Your projects stay on this computer until you share them.")
        )
        for w in (self.email, self.password, self.name, self.login_button, self.register_button):
            w.setEnabled(not signed_in)
        for w in (self.logout_button, self.new_team_button, self.join_button):
            w.setEnabled(signed_in)
        team = self.current_team()
        owner = team is not None and team.role == "owner"
        self.invite_button.setEnabled(signed_in and owner)
        self.invite_role.setEnabled(signed_in and owner)
        self.open_remote_button.setEnabled(signed_in and self.remote.currentRow() >= 0)
        can_share_stats = signed_in and team is not None and self._stats_snapshot is not None
        self.share_stats_button.setEnabled(can_share_stats)
        self.unshare_stats_button.setEnabled(can_share_stats)
        self._show_project()

    def _on_resumed(self, resumed: bool) -> None:
        if resumed:
            self._signed_in()

    def _signed_in(self, _result: object = None) -> None:
        self.password.clear()
        self.message.emit(_("Signed in to the team server."))
        if self.project is not None:
            self.session.attach(self.project)
        self.refresh_teams()

    def login(self) -> None:
        email, password = self.email.text().strip(), self.password.text()
        if not email or not password:
            self.note.setText(_("Enter your email and password."))
            return
        self.run(lambda: self.session.login(email, password), self._signed_in)

    def register(self) -> None:
        email, password = self.email.text().strip(), self.password.text()
        name = self.name.text().strip() or email.split("@")[0]
        if not email or len(password) < 8:
            self.note.setText(_("Enter an email and a password of at least 8 characters."))
            return
        self.run(lambda: self.session.register(email, password, name), self._signed_in)

    def logout(self) -> None:
        if self.project is not None:
            self.session.detach(self.project)

        def done(_result: object) -> None:
            self.teams.clear()
            self.teams_by_row = []
            self.remote.setRowCount(0)
            self.activity.setRowCount(0)
            self.message.emit(_("Signed out of the team server; your projects stay here."))

        self.run(self.session.logout, done)

    # -- teams ---------------------------------------------------------------------------------
    def current_team(self) -> Any:
        row = self.teams.currentRow()
        return self.teams_by_row[row] if 0 <= row < len(self.teams_by_row) else None

    def refresh_teams(self, select: str | None = None) -> None:
        def fill(teams: list[Any]) -> None:
            keep = select or (self.current_team().team_id if self.current_team() else None)
            self.teams_by_row = list(teams)
            self.teams.blockSignals(True)
            self.teams.clear()
            for team in teams:
                QListWidgetItem(f"{team.name} ({_role(team.role)})", self.teams)
            self.teams.blockSignals(False)
            rows = [i for i, t in enumerate(teams) if t.team_id == keep]
            if teams:
                self.teams.setCurrentRow(rows[0] if rows else 0)
            if not teams:
                self.note.setText(_("Create a team, or join one with an invitation."))
            self._show_account()

        self.run(self.session.teams, fill)

    def refresh_team(self) -> None:
        team = self.current_team()
        self._show_account()
        if team is None:
            return

        def projects(rows: list[Any]) -> None:
            self.remote.setRowCount(len(rows))
            for r, p in enumerate(rows):
                name = QTableWidgetItem(p.name)
                name.setData(Qt.ItemDataRole.UserRole, p.project_id)
                self.remote.setItem(r, 0, name)
                self.remote.setItem(r, 1, QTableWidgetItem(format_decimal(p.revision)))
            if rows:
                self.remote.selectRow(0)
            self._show_account()

        def activity(days: list[dict[str, Any]]) -> None:
            shown = [d for d in days if d.get("pushes") or d.get("active_members")][-30:]
            self.activity.setRowCount(len(shown))
            for r, d in enumerate(reversed(shown)):
                cells = [
                    str(d.get("day", "")),
                    format_decimal(int(d.get("pushes", 0))),
                    format_decimal(int(d.get("bytes", 0))),
                    format_decimal(int(d.get("active_members", 0))),
                ]
                for c, text in enumerate(cells):
                    self.activity.setItem(r, c, QTableWidgetItem(text))

        team_id = team.team_id
        self.refresh_history()
        self.run(lambda: self.session.remote_projects(team_id), projects)
        self.run(lambda: self.session.activity(team_id), activity)
        self.run(lambda: self.session.team_stats(team_id), self._show_stats)

    # -- shared artist stats -------------------------------------------------------------------
    def _show_stats(self, rows: list[dict[str, Any]]) -> None:
        self.stats.setRowCount(len(rows))
        for r, row in enumerate(rows):
            snapshot = row["snapshot"]
            audience = snapshot["audience"]
            songs = snapshot["songs"]
            top = songs[0] if songs else None
            cells = [
                row["name"] or _("(no name)"),
                row["shared_at"].astimezone().strftime("%Y-%m-%d %H:%M"),
                _figure(audience["streams_28d"]),
                _figure(audience["listeners"]),
                _figure(audience["followers"]),
                top["name"] if top is not None else "—",
            ]
            for c, text in enumerate(cells):
                item = QTableWidgetItem(text)
                if 2 <= c <= 4:
                    item.setTextAlignment(
                        Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
                    )
                if c == 1:
                    item.setToolTip(
                        _("Figures from {first} to {last}").format(
                            first=snapshot["first_day"] or "—", last=snapshot["last_day"] or "—"
                        )
                    )
                self.stats.setItem(r, c, item)

    def share_stats(self) -> None:
        """Share a fresh snapshot of the imported statistics with the chosen team."""
        team, make = self.current_team(), self._stats_snapshot
        if team is None or make is None:
            return
        team_id = team.team_id

        def work() -> None:
            try:
                snapshot = make()
            except LookupError as exc:
                raise SyncError(
                    _("There are no statistics to share yet: import them in the Stats room."),
                    code="no_stats",
                ) from exc
            self.session.share_stats(team_id, snapshot)

        def shared(_result: object) -> None:
            self.message.emit(_("Your stats are shared with the team."))
            self.refresh_team()

        self.run(work, shared)

    def unshare_stats(self) -> None:
        team = self.current_team()
        if team is None:
            return
        team_id = team.team_id
        self.run(lambda: self.session.unshare_stats(team_id), lambda _r: self.refresh_team())

    def ask_new_team(self) -> QInputDialog:
        dialog = QInputDialog(self)
        dialog.setWindowTitle(_("New team"))
        dialog.setLabelText(_("Team name:"))
        dialog.textValueSelected.connect(self.create_team)
        dialog.open()
        return dialog

    def create_team(self, name: str) -> None:
        name = name.strip()
        if name:
            self.run(lambda: self.session.create_team(name), lambda tid: self.refresh_teams(tid))

    def ask_join(self) -> QInputDialog:
        dialog = QInputDialog(self)
        dialog.setWindowTitle(_("Join a team"))
        dialog.setLabelText(_("Paste the invitation you were sent:"))
        dialog.textValueSelected.connect(self.accept_invitation)
        dialog.open()
        return dialog

    def accept_invitation(self, token: str) -> None:
        if token.strip():
            self.run(
                lambda: self.session.accept(token),
                lambda team: self.refresh_teams(team.team_id),
            )

    def invite(self) -> None:
        team = self.current_team()
        if team is None:
            return
        role = str(self.invite_role.currentData())

        def show(token: str) -> None:
            self.invitation.setText(token)
            self.invitation.selectAll()
            self.note.setText(
                _("Send this invitation to the person you invite; it works once, for 7 days.")
            )

        self.run(lambda: self.session.invite(team.team_id, role), show)

    # -- the open project ----------------------------------------------------------------------
    def set_project(self, project: Project | None) -> None:
        """The window's current project changed (called on the GUI thread)."""
        if self.project is not None and self.project is not project:
            self.session.detach(self.project)
        self.project = project
        if project is not None:
            self.session.attach(project)
        self._show_project()
        self.refresh_history()

    def _show_project(self) -> None:
        project = self.project
        team = self.current_team()
        self.show_files()
        if project is None:
            self.project_label.setText(_("No project is open."))
            self.share_button.setEnabled(False)
            return
        shared = self.session.link(project) is not None
        self.project_label.setText(
            _("“{name}” is shared with a team.").format(name=project.name)
            if shared
            else _("“{name}” is only on this computer.").format(name=project.name)
        )
        can_share = team is not None and team.role in ("editor", "owner")
        self.share_button.setEnabled(self.session.signed_in and not shared and can_share)

    def _on_remote(self, project_id: str, _revision: int) -> None:
        if self.project is not None and self.project.id == project_id:
            self.history_due.start()
            self.files_due.start()

    # -- the open project's files --------------------------------------------------------------
    def show_files(self) -> None:
        """Fill the file list of the open project with where each file is."""
        project, store = self.project, self.session.files
        usable = project is not None and not project.closed and store is not None
        self.add_file_button.setEnabled(usable and self.busy == 0)
        self.retry_files_button.setEnabled(usable and self.session.file_sync is not None)
        entries = file_entries(project) if usable and project is not None else []
        chosen = self.chosen_file()
        self.files.setRowCount(len(entries))
        for row, entry in enumerate(entries):
            state = self._file_state(store, entry.sha256)
            size = QTableWidgetItem(_size(entry.size))
            size.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            name = QTableWidgetItem(entry.name)
            name.setToolTip(entry.sha256)
            for column, item in enumerate((name, size, QTableWidgetItem(state))):
                self.files.setItem(row, column, item)
            if chosen is not None and entry.sha256 == chosen[0]:
                self.files.selectRow(row)
        self._enable_save()

    def chosen_file(self) -> tuple[str, str] | None:
        """(sha256, name) of the file chosen in the list."""
        row = self.files.currentRow()
        item = self.files.item(row, 0) if row >= 0 else None
        return (item.toolTip(), item.text()) if item is not None else None

    def _enable_save(self) -> None:
        chosen, store = self.chosen_file(), self.session.files
        self.save_file_button.setEnabled(
            chosen is not None and store is not None and store.has(chosen[0])
        )

    def ask_save_file(self) -> QFileDialog | None:
        """The save dialog of "Save a copy…" (non-modal; tests answer it)."""
        chosen = self.chosen_file()
        if chosen is None:
            return None
        dialog = QFileDialog(self, _("Save a copy of the file"))
        dialog.setAcceptMode(QFileDialog.AcceptMode.AcceptSave)
        dialog.selectFile(chosen[1])
        dialog.fileSelected.connect(lambda path: self.save_file_copy(chosen[0], path))
        dialog.open()
        return dialog

    def save_file_copy(self, sha256: str, path: str) -> None:
        """Write the stored file (checked against its hash) to ``path``, in a worker."""
        store = self.session.files
        if store is None:
            return
        target = Path(path)

        def copy() -> None:
            partial = target.with_name(target.name + ".part")
            try:
                with store.opened(sha256) as stream, open(partial, "wb") as out:
                    shutil.copyfileobj(stream, out, CHUNK)
                partial.replace(target)
            except (FileError, OSError) as exc:
                partial.unlink(missing_ok=True)
                raise SyncError(
                    _("The copy could not be saved ({error}).").format(error=exc), code="file"
                ) from exc

        self.run(copy, lambda _r: self.message.emit(_("Saved “{name}”.").format(name=target.name)))

    def _file_state(self, store: FileStore | None, sha256: str) -> str:
        status = self.session.file_status(sha256)
        if status is not None:
            return _file_status_text(status)
        if store is not None and store.has(sha256):
            return _("On this computer")
        return _("Not on this computer")

    def ask_file(self) -> QFileDialog:
        """The file dialog of "Add a file…" (non-modal; tests answer it)."""
        dialog = QFileDialog(self, _("Add a file to the project"))
        dialog.setFileMode(QFileDialog.FileMode.ExistingFile)
        dialog.fileSelected.connect(lambda path: self.add_file_path(path))
        dialog.open()
        return dialog

    def add_file_path(self, path: str) -> None:
        """Copy the file at ``path`` into the file store (in a worker), then list it in the
        open project."""
        store, project = self.session.files, self.project
        if store is None or project is None:
            return
        source = Path(path)

        def listed(stored: tuple[str, int, str]) -> None:
            if project.closed:
                return
            sha256, size, media_type = stored
            try:
                add_file(project, sha256, source.name, size, media_type)
            except Exception as exc:  # ProjectError: the project could not be saved
                self.message.emit(str(exc))
                return
            self.message.emit(_("“{name}” was added to the project.").format(name=source.name))
            self.show_files()

        def store_it() -> tuple[str, int, str]:
            try:
                return store.add_path(source)
            except FileError as exc:  # shown like any refused request: its message
                raise SyncError(str(exc), code="file") from exc

        self.run(store_it, listed)

    def retry_files(self) -> None:
        if self.session.file_sync is not None:
            self.session.file_sync.retry()
        if self.project is not None:
            self.session.files_changed(self.project)
        self.show_files()

    def refresh_history(self) -> None:
        """Fill "Recent changes" for the open project, when it is shared and signed in."""
        project = self.project
        if project is None or self.session.link(project) is None or not self.session.signed_in:
            self.changes.clear()
            return
        project_id = project.id

        def fill(changes: list[dict[str, Any]]) -> None:
            if self.project is None or self.project.id != project_id:
                return
            self.changes.clear()
            for change in changes:
                at = change["at"].astimezone().strftime("%Y-%m-%d %H:%M")
                count = int(change["updates"])
                text = ngettext(
                    "{time}: {name}, {count} change", "{time}: {name}, {count} changes", count
                ).format(time=at, name=change["name"] or "?", count=format_decimal(count))
                QListWidgetItem(text, self.changes)

        self.run(lambda: self.session.history(project_id), fill, quiet=True)

    def share(self) -> None:
        team, project = self.current_team(), self.project
        if team is None or project is None:
            return
        snapshot = self.session.snapshot(project)

        def shared(_link: object) -> None:
            if self.project is project:
                self.session.attach(project)
            self.message.emit(
                _("“{name}” is now shared with {team}.").format(name=project.name, team=team.name)
            )
            self.refresh_team()

        self.run(lambda: self.session.share(snapshot, team.team_id), shared)

    def open_remote(self) -> None:
        team, row = self.current_team(), self.remote.currentRow()
        item = self.remote.item(row, 0) if row >= 0 else None
        if team is None or item is None:
            return
        remote_id = str(item.data(Qt.ItemDataRole.UserRole))
        self.run(lambda: self.session.join(team.team_id, remote_id), self._open_joined)

    def _open_joined(self, project_id: str) -> None:
        self._open_project(project_id)

    # -- status --------------------------------------------------------------------------------
    def _set_offline(self, offline: bool) -> None:
        self.session.set_offline(offline)

    def _show_status(self, status: SyncStatus | None) -> None:
        if status is None:
            self.indicator.setText(
                _("Sync is off: sign in to a team server.")
                if not self.session.signed_in
                else _("Starting sync…")
            )
            return
        queued = ngettext_queued(status.outbox_size)
        if status.connection == Connection.ONLINE:
            text = _("Online. {queued}").format(queued=queued)
        elif status.connection == Connection.OFFLINE:
            text = _("Working offline. {queued}").format(queued=queued)
        elif status.connection == Connection.RETRYING:
            wait = max(0, round((status.retry_at or time.monotonic()) - time.monotonic()))
            text = _("Cannot reach the team server; next try in {seconds} s. {queued}").format(
                seconds=wait, queued=queued
            )
        else:
            text = _("Sync is stopped.")
        if status.last_error:
            text += "\n" + status.last_error
        self.indicator.setText(text)


def ngettext_queued(count: int) -> str:
    if count == 0:
        return _("Every change is on the server.")
    return ngettext(
        "{count} change waits to be sent.", "{count} changes wait to be sent.", count
    ).format(count=format_decimal(count))


def _figure(value: float | None) -> str:
    return "—" if value is None else format_decimal(round(value))


def _size(size: int) -> str:
    if size < 1000:
        return ngettext("{count} byte", "{count} bytes", size).format(count=format_decimal(size))
    if size < 1_000_000:
        return _("{size} kB").format(size=format_decimal(size / 1e3, 1))
    return _("{size} MB").format(size=format_decimal(size / 1e6, 1))


def _file_status_text(status: FileStatus) -> str:
    text = {
        FileState.HERE: _("On this computer and the server"),
        FileState.UPLOADING: _("Uploading…"),
        FileState.DOWNLOADING: _("Downloading…"),
        FileState.QUEUED: _("Waiting to be transferred"),
        FileState.NOT_UPLOADED: _("Not uploaded yet by the team member who added it"),
        FileState.FAILED: _("Not transferred"),
    }[status.state]
    if status.message and status.state is not FileState.NOT_UPLOADED:
        text = _("{state}: {reason}").format(state=text, reason=status.message)
    if status.retry_at is not None:
        seconds = max(0, round(status.retry_at - time.monotonic()))
        text += " " + _("(next try in {seconds} s)").format(seconds=format_decimal(seconds))
    return text


def install_team_view(window: MainWindow) -> TeamRoom:
    """Build the Team room with a session on the configured server; it follows the window's
    current project and opens the projects joined through it."""
    caller = _GuiCaller()
    session = TeamSession(
        window.context.database,
        window.context.projects,
        str(window.context.settings.get("team.server_url")),
        caller.call.emit,
        FileStore(window.context.paths.data_dir / "files", window.context.database),
    )
    database = window.context.database
    room = TeamRoom(
        session,
        window.open_project,
        stats_snapshot=lambda: stats_snapshot(StatsStore(database)),
    )
    room.caller = caller  # type: ignore[attr-defined]  # kept alive with the room
    window.set_room_widget("team", room)
    window.project_changed.connect(room.set_project)
    window.project_closing.connect(lambda project: session.detach(project))
    room.set_project(window.project)
    room.message.connect(lambda text: window.statusBar().showMessage(text, 10000))
    window.closed.connect(session.close)
    return room
