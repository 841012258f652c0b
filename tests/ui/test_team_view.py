"""The Team room through a real sync server (uvicorn in a subprocess): two desktops, each with
its own Hookline home and window. One creates an account and a team, shares its open project
and invites the other; the other joins, opens the project from the list, and each sees the
other's edits. The offline switch queues edits until it is turned off; the window keeps ticking
while requests run."""

from __future__ import annotations

import itertools
import time
from pathlib import Path

from pytestqt.qtbot import QtBot

from app.context import AppContext
from app.paths import AppPaths
from app.stats_store import StatsStore
from app.sync.engine import Connection
from tests.support.secret_service import InMemoryTestKeyring
from tests.support.sync_server import SyncServer, sync_server  # noqa: F401 (fixture)
from tests.ui.conftest import save_screenshot
from ui.main_window import MainWindow
from ui.team import TeamRoom, install_team_view

PASSWORD = "correct horse battery staple"


def _desktop(qtbot: QtBot, home: Path, server: SyncServer) -> tuple[MainWindow, TeamRoom]:
    paths = AppPaths(home / "config", home / "data", home / "logs", home / "cache").ensure()
    context = AppContext.start(paths, "en")
    context.settings.set("team.server_url", server.url)
    window = MainWindow(context)
    qtbot.addWidget(window)
    window.resize(1280, 800)
    window.show()
    room = install_team_view(window)  # its session stops when the window closes ...
    window.show_room("team")
    window.closed.connect(context.close)  # ... before the database closes
    return window, room


def _wait(qtbot: QtBot, room: TeamRoom, timeout: int = 20000) -> None:
    qtbot.waitUntil(room.idle, timeout=timeout)
    assert (
        room.note.text() == ""
        or "Create a team" in room.note.text()
        or "invitation" in (room.note.text())
    ), room.note.text()


def test_two_desktops_share_a_project_through_the_team_room(
    qtbot: QtBot,
    tmp_path: Path,
    sync_server: SyncServer,  # noqa: F811
    memory_keyring: InMemoryTestKeyring,
) -> None:
    alice_window, alice = _desktop(qtbot, tmp_path / "alice", sync_server)
    bob_window, bob = _desktop(qtbot, tmp_path / "bob", sync_server)

    song = alice_window.create_project("Night Drive")
    assert song is not None
    with song.edit():
        song.lyrics += "First line from Alice. "
    assert "only on this computer" in alice.project_label.text()
    assert not alice.share_button.isEnabled()  # not signed in yet

    ticks: list[float] = []
    timer = qtbot_timer(ticks)
    alice.email.setText("alice@example.com")
    alice.password.setText(PASSWORD)
    alice.name.setText("Alice")
    alice.register()
    _wait(qtbot, alice)
    assert alice.session.signed_in and "alice@example.com" in alice.account_label.text()
    alice.create_team("The Band")
    _wait(qtbot, alice)
    assert alice.teams.count() == 1 and "owner" in alice.teams.item(0).text()
    assert alice.share_button.isEnabled()
    alice.share()
    _wait(qtbot, alice)
    assert "shared with a team" in alice.project_label.text()
    qtbot.waitUntil(lambda: alice.remote.rowCount() == 1, timeout=10000)
    alice.invite_role.setCurrentIndex(alice.invite_role.findData("editor"))
    alice.invite()
    _wait(qtbot, alice)
    token = alice.invitation.text()
    assert len(token) > 16

    bob.email.setText("bob@example.com")
    bob.password.setText(PASSWORD)
    bob.register()
    _wait(qtbot, bob)
    bob.accept_invitation(token)
    _wait(qtbot, bob)
    assert bob.teams.count() == 1 and "editor" in bob.teams.item(0).text()
    qtbot.waitUntil(lambda: bob.remote.rowCount() == 1, timeout=10000)
    assert bob.remote.item(0, 0).text() == "Night Drive"
    bob.open_remote()
    qtbot.waitUntil(lambda: bob_window.project is not None, timeout=20000)
    bob_song = bob_window.project
    assert bob_song is not None and str(bob_song.lyrics) == "First line from Alice. "
    qtbot.waitUntil(lambda: bob.session.status() is not None, timeout=5000)

    # Edits travel both ways while both windows keep running.
    with bob_song.edit():
        bob_song.lyrics += "Bob answers."
    qtbot.waitUntil(lambda: "Bob answers." in str(song.lyrics), timeout=15000)
    # Alice's room lists who changed the song ("bob": the name defaults to the e-mail's start).
    changes = alice.changes

    def lines() -> list[str]:
        return [changes.item(i).text() for i in range(changes.count())]

    qtbot.waitUntil(lambda: any(": bob, 1 change" in line for line in lines()), timeout=10000)
    assert any(": Alice, " in line for line in lines()), lines()
    with song.edit():
        song.meta["tempo"] = 96.0
    qtbot.waitUntil(lambda: bob_song.meta.get("tempo") == 96.0, timeout=15000)

    # Working offline: the edit waits in the queue, and goes out when switched back.
    bob.offline_box.setChecked(True)
    qtbot.waitUntil(
        lambda: (
            bob.session.status() is not None
            and bob.session.status().connection == Connection.OFFLINE
        ),  # type: ignore[union-attr]
        timeout=5000,
    )
    with bob_song.edit():
        bob_song.lyrics += " (written offline)"
    qtbot.waitUntil(lambda: "1 change waits" in bob.indicator.text(), timeout=5000)
    qtbot.wait(500)
    assert "(written offline)" not in str(song.lyrics)
    save_screenshot(bob_window, "team_offline")
    bob.offline_box.setChecked(False)
    qtbot.waitUntil(lambda: "(written offline)" in str(song.lyrics), timeout=15000)
    qtbot.waitUntil(lambda: "Every change is on the server" in bob.indicator.text(), timeout=5000)
    # A stem added in Alice's room arrives, hash-checked, in Bob's file store and list.
    stem = tmp_path / "Bass DI take 2.wav"
    stem.write_bytes(bytes(range(256)) * 2000)
    alice.add_file_path(str(stem))
    qtbot.waitUntil(lambda: alice.files.rowCount() == 1, timeout=10000)
    assert alice.files.item(0, 0).text() == "Bass DI take 2.wav"
    assert alice.files.item(0, 1).text() == "512.0 kB"
    qtbot.waitUntil(lambda: bob.files.rowCount() == 1, timeout=15000)
    qtbot.waitUntil(
        lambda: bob.files.item(0, 2).text() == "On this computer and the server", timeout=15000
    )
    bob_store = bob.session.files
    assert bob_store is not None
    assert bob_store.read(bob.files.item(0, 0).toolTip()) == stem.read_bytes()
    qtbot.waitUntil(
        lambda: alice.files.item(0, 2).text() == "On this computer and the server", timeout=5000
    )
    save_screenshot(bob_window, "team_files")
    # Bob saves a copy where his DAW can find it.
    bob.files.selectRow(0)
    assert bob.save_file_button.isEnabled()
    dialog = bob.ask_save_file()
    assert dialog is not None
    dialog.close()
    copy = tmp_path / "daw" / "bass.wav"
    copy.parent.mkdir()
    bob.save_file_copy(bob.files.item(0, 0).toolTip(), str(copy))
    qtbot.waitUntil(lambda: copy.exists(), timeout=5000)
    assert copy.read_bytes() == stem.read_bytes()
    bob.save_file_copy(bob.files.item(0, 0).toolTip(), str(tmp_path / "no" / "such" / "x.wav"))
    qtbot.waitUntil(bob.idle, timeout=5000)
    assert "could not be saved" in bob.note.text()
    bob.note.setText("")
    # A file that is not there cannot be added, and says why.
    messages: list[str] = []
    alice.message.connect(messages.append)
    alice.add_file_path(str(tmp_path / "gone.wav"))
    qtbot.waitUntil(alice.idle, timeout=5000)
    assert "cannot be read" in alice.note.text() and any("cannot be read" in m for m in messages)
    assert alice.files.rowCount() == 1
    alice.note.setText("")
    # Alice shares her imported artist stats; Bob's room lists them.
    assert alice.share_stats_button.isEnabled()
    alice.share_stats()  # nothing imported yet: said plainly
    qtbot.waitUntil(alice.idle, timeout=5000)
    assert "no statistics to share" in alice.note.text()
    audience = tmp_path / "audience.csv"
    audience.write_text(
        "date,listeners,streams,followers\n"
        + "".join(f"2026-10-{d:02d},{1000 + d},{5000 + d},{300 + d}\n" for d in range(1, 31)),
        encoding="utf-8",
    )
    report = StatsStore(alice_window.context.database).import_csv(audience)
    assert report.status == "imported", report.message
    alice.note.setText("")
    alice.share_stats()
    _wait(qtbot, alice)
    bob.refresh_team()
    qtbot.waitUntil(lambda: bob.stats.rowCount() == 1, timeout=10000)
    assert bob.stats.item(0, 0).text() == "Alice"
    assert bob.stats.item(0, 2).text() == f"{sum(5000 + d for d in range(3, 31)):,}"
    assert bob.stats.item(0, 4).text() == "330"
    save_screenshot(bob_window, "team_stats")
    timer.stop()
    assert max((b - a for a, b in itertools.pairwise(ticks)), default=0) < 0.5
    alice.refresh_team()
    _wait(qtbot, alice)
    assert alice.activity.rowCount() >= 1
    save_screenshot(alice_window, "team")
    alice_window.close()
    bob_window.close()


def qtbot_timer(ticks: list[float]):  # type: ignore[no-untyped-def]
    from PySide6.QtCore import QTimer

    timer = QTimer()
    timer.timeout.connect(lambda: ticks.append(time.monotonic()))
    timer.start(20)
    return timer
