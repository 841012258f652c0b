"""Convergence fuzz against real servers: several desktops (each with its own database, owner
thread, sync engine, file store and file sync) edit every part of one shared project at random
(lyrics, notes, chords, markers, MIDI clips and their notes, meta, and the files list: a stem is
kept in the desktop's file store, listed in the document, uploaded by its file sync and downloaded
by everyone else's), drop off the network at random, and one of them goes offline, is closed like
an app on a plane, and is opened again much later: a new engine and file sync that sign in again
from the keyring, with its edits still in the outbox, its stems not uploaded yet, and the server's
log compacted past its last revision. In the middle a server process is SIGKILLed and restarted.

:func:`run_convergence` takes the servers to use: here one process on SQLite (restarted at once);
tests/e2e/test_sync_two_servers.py runs it on two processes sharing one PostgreSQL database, the
desktops spread over both, one process killed while the other keeps serving.

What is checked:

- right after the kill (through the other process) and right after the restart (through the same
  one), every edit that the server had acknowledged (its desktop's outbox was empty after it) is
  in the project as the server holds it, read by a separate member's client that only pulls;
- at the end every desktop holds the same document, every desktop's outbox is empty (every edit
  acknowledged), every edit made is present (or, for the ones its author deleted later, absent),
  a client reading from each server process gets that same document, every desktop holds every
  listed file, and every one downloads from each process with the right SHA-256.

"Hours later" is simulated by closing and reopening the desktop, not by moving a clock: access
tokens keep their normal lifetime during a run.

The sequence of intended edits is drawn from a seeded generator. Each desktop deletes and renames
only what it made itself, so every intent is valid whatever arrived from the others first; only
the interleaving with the network differs between runs, and the result must not depend on it.

pycrdt's Text takes UTF-8 byte offsets (0.14), so positions are converted from characters.
"""

from __future__ import annotations

import hashlib
import random
import re
import sqlite3
import time
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import keyring
import pycrdt
import pytest

from app.projects import Project
from app.projects.files import add_file
from app.sync import ShareSnapshot, SyncClient, SyncError, join_project, share_project
from app.sync.store import wire_id
from tests.e2e.sync_clients import (
    PASSWORD,
    Machine,
    make_team,
    relaunch_on_same_port,
    server_content,
)
from tests.support.secret_service import InMemoryTestKeyring
from tests.support.sync_server import SyncServer

WORDS = [
    "日本語の歌詞",
    "🎵🎸🥁",
    "Ωμέγα",
    "עברית‏",
    "naïve café",
    "👩‍👩‍👧",
    "e\u0301\u0327",
    "Привет",
    "한국어",
    "\u202eRTL\u202c",
    "tab\there",
]
TOKEN = re.compile(r"⟦[^⟦⟧]*⟧")
ENGINE_OPTIONS: dict[str, Any] = {
    "batch_interval_s": 0.05,
    "long_poll_s": 3.0,
    "backoff_first_s": 0.05,
    "backoff_cap_s": 0.5,
}
FILE_SHARE = 0.04  # of the steps that add a file (a stem kept here, listed, then uploaded)

Op = tuple[Any, ...]


@dataclass
class Intent:
    """What the desktops meant to do, for the final check."""

    tokens: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))
    deleted_tokens: set[str] = field(default_factory=set)
    items: dict[str, dict[str, dict[str, Any]]] = field(default_factory=lambda: defaultdict(dict))
    deleted_items: set[str] = field(default_factory=set)
    clip_notes: dict[str, set[str]] = field(default_factory=dict)
    meta: dict[str, int] = field(default_factory=dict)
    files: set[str] = field(default_factory=set)  # sha256 of each listed file


@dataclass
class Mine:
    """What one desktop made and has not deleted (so it is surely in its own copy)."""

    tokens: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))
    items: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))
    seq: int = 0


@dataclass
class Ledger:
    """The edits one desktop ran, in order, and how many of the first ones its server has
    acknowledged for sure (its outbox was empty after them)."""

    done: list[Op] = field(default_factory=list)
    acked: int = 0


def _byte_offset(text: str, chars: int) -> int:
    return len(text[:chars].encode("utf-8"))


def _edit(project: Project, op: Op) -> None:
    """Run one intended edit on the project's owner thread."""
    kind = op[0]
    with project.edit():
        if kind == "insert_token":
            _, part_name, token, anchor = op
            part = project.lyrics if part_name == "lyrics" else project.notes
            text = str(part)
            if anchor == "start":
                at = 0
            elif anchor == "end":
                at = len(text)
            else:
                at = text.index(anchor) + len(anchor)
            part.insert(_byte_offset(text, at), token)
        elif kind == "delete_token":
            _, part_name, token = op
            part = project.lyrics if part_name == "lyrics" else project.notes
            text = str(part)
            start = text.index(token)
            b0 = _byte_offset(text, start)
            del part[b0 : b0 + len(token.encode("utf-8"))]
        elif kind == "insert_item":
            _, part_name, values, index_fraction = op
            array = project.chords if part_name == "chords" else project.markers
            array.insert(int(index_fraction * len(array)), pycrdt.Map(values))
        elif kind in ("delete_item", "rename_item"):
            _, part_name, item_id, *rest = op
            array = project.chords if part_name == "chords" else project.markers
            index = next(i for i, m in enumerate(array) if m.get("id") == item_id)
            if kind == "delete_item":
                del array[index]
            else:
                array[index]["label"] = rest[0]
        elif kind == "add_clip":
            _, clip_id, name, start = op
            project.clips.append(
                pycrdt.Map(
                    {"id": clip_id, "name": name, "start_beat": start, "notes": pycrdt.Array()}
                )
            )
        elif kind == "add_note":
            _, clip_id, note = op
            clip = next(c for c in project.clips if c.get("id") == clip_id)
            clip["notes"].append(pycrdt.Map(note))
        elif kind == "meta":
            _, key, value, tempo = op
            project.meta[key] = value
            project.meta["tempo"] = tempo
        elif kind == "add_file":
            _, sha256, name, size = op
            add_file(project, sha256, name, size, "audio/wav")
        else:
            raise AssertionError(kind)


def _choose(rng: random.Random, who: int, mine: Mine, intent: Intent, clips: list[str]) -> Op:
    mine.seq += 1
    uid = f"{who}.{mine.seq}"
    roll = rng.random()
    if roll < 0.35:
        part = rng.choice(["lyrics", "notes"])
        if mine.tokens[part] and rng.random() < 0.25:
            token = mine.tokens[part].pop(rng.randrange(len(mine.tokens[part])))
            intent.deleted_tokens.add(token)
            return ("delete_token", part, token)
        token = f"⟦{uid} {rng.choice(WORDS)}⟧"
        anchors = ["start", "end", *mine.tokens[part]]
        anchor = rng.choice(anchors)
        mine.tokens[part].append(token)
        intent.tokens[part].add(token)
        return ("insert_token", part, token, anchor)
    if roll < 0.6:
        part = rng.choice(["chords", "markers"])
        own = mine.items[part]
        if own and rng.random() < 0.3:
            item_id = own.pop(rng.randrange(len(own)))
            intent.deleted_items.add(item_id)
            return ("delete_item", part, item_id)
        if own and rng.random() < 0.3:
            item_id = rng.choice(own)
            label = f"{rng.choice(WORDS)} v{mine.seq}"
            intent.items[part][item_id]["label"] = label
            return ("rename_item", part, item_id, label)
        values = {
            "id": uid,
            "beat": float(rng.randrange(0, 256)) / 2,
            "label": rng.choice(WORDS),
            "symbol": rng.choice(["Am7", "C", "F#m7♭5", "G/B", "E♭maj9"]),
        }
        own.append(uid)
        intent.items[part][uid] = dict(values)
        return ("insert_item", part, values, rng.random())
    if roll < 0.8:
        if not clips or rng.random() < 0.2:
            clips.append(uid)
            intent.clip_notes[uid] = set()
            return ("add_clip", uid, f"Clip {rng.choice(WORDS)}", float(rng.randrange(64)))
        clip_id = rng.choice(clips)
        note = {"id": uid, "pitch": rng.randrange(21, 109), "start": rng.random() * 4}
        intent.clip_notes[clip_id].add(uid)
        return ("add_note", clip_id, note)
    intent.meta[f"client_{who}"] = mine.seq
    return ("meta", f"client_{who}", mine.seq, float(rng.randrange(60, 200)))


def _stem(rng: random.Random, uid: str) -> bytes:
    """A small "stem": a header naming its maker and 1 to 48 KiB of random bytes."""
    return f"RIFF stem {uid} 🎚\n".encode() + rng.randbytes(rng.randrange(1, 48) * 1024)


def _check(content: dict[str, Any], intent: Intent) -> None:
    for part in ("lyrics", "notes"):
        found = TOKEN.findall(content[part])
        assert len(found) == len(set(found)), f"{part}: a token appears twice"
        assert set(found) == intent.tokens[part] - intent.deleted_tokens, part
    for part in ("chords", "markers"):
        by_id = {item["id"]: item for item in content[part]}
        assert len(by_id) == len(content[part])
        expected = {i: v for i, v in intent.items[part].items() if i not in intent.deleted_items}
        assert set(by_id) == set(expected), part
        for item_id, values in expected.items():
            assert by_id[item_id]["label"] == values["label"]
            assert by_id[item_id]["beat"] == values["beat"]
    clips = {clip["id"]: clip for clip in content["clips"]}
    assert set(clips) == set(intent.clip_notes)
    for clip_id, notes in intent.clip_notes.items():
        assert {n["id"] for n in clips[clip_id]["notes"]} == notes
    for key, value in intent.meta.items():
        assert content["meta"][key] == value
    files = [f["sha256"] for f in content["files"]]
    assert len(set(files)) == len(files), "a file is listed twice"
    assert set(files) == intent.files


def _check_acknowledged(content: dict[str, Any], ledgers: Sequence[Ledger]) -> int:
    """Every acknowledged edit is in ``content``: an acknowledged insertion is there unless its
    author deleted it later (not yet acknowledged: either is right), an acknowledged deletion is
    not, an acknowledged label is the label unless a later rename is on its way, an acknowledged
    meta value is there or a newer one of the same desktop. Returns how many edits were checked."""
    tokens = {part: set(TOKEN.findall(content[part])) for part in ("lyrics", "notes")}
    items = {part: {it["id"]: it for it in content[part]} for part in ("chords", "markers")}
    clip_notes = {c["id"]: {n["id"] for n in c["notes"]} for c in content["clips"]}
    files = {f["sha256"] for f in content["files"]}
    checked = 0
    for ledger in ledgers:
        sure, pending = ledger.done[: ledger.acked], ledger.done[ledger.acked :]
        checked += len(sure)
        pending_deleted = {op[2] for op in pending if op[0] in ("delete_token", "delete_item")}
        pending_labels: dict[str, set[str]] = defaultdict(set)
        for op in pending:
            if op[0] == "rename_item":
                pending_labels[op[2]].add(op[3])
        live_tokens: dict[str, str] = {}
        live_items: dict[str, tuple[str, dict[str, Any]]] = {}
        gone_tokens: dict[str, str] = {}
        gone_items: dict[str, str] = {}
        meta: dict[str, int] = {}
        for op in sure:
            kind = op[0]
            if kind == "insert_token":
                live_tokens[op[2]] = op[1]
            elif kind == "delete_token":
                gone_tokens[op[2]] = live_tokens.pop(op[2])
            elif kind == "insert_item":
                live_items[op[2]["id"]] = (op[1], dict(op[2]))
            elif kind == "rename_item":
                live_items[op[2]][1]["label"] = op[3]
            elif kind == "delete_item":
                gone_items[op[2]] = live_items.pop(op[2])[0]
            elif kind == "add_clip":
                assert op[1] in clip_notes, f"acknowledged clip {op[1]} missing"
            elif kind == "add_note":
                assert op[2]["id"] in clip_notes.get(op[1], set()), f"note {op[2]['id']} missing"
            elif kind == "meta":
                meta[op[1]] = op[2]
            elif kind == "add_file":
                assert op[1] in files, f"acknowledged file {op[1]} missing"
        for token, part in live_tokens.items():
            if token not in pending_deleted:
                assert token in tokens[part], f"acknowledged {token!r} missing from {part}"
        for token, part in gone_tokens.items():
            assert token not in tokens[part], f"deleted {token!r} still in {part}"
        for item_id, (part, values) in live_items.items():
            if item_id in pending_deleted:
                continue
            assert item_id in items[part], f"acknowledged {part} item {item_id} missing"
            assert items[part][item_id]["beat"] == values["beat"]
            label = items[part][item_id]["label"]
            assert label in {values["label"], *pending_labels[item_id]}, (item_id, label)
        for item_id, part in gone_items.items():
            assert item_id not in items[part], f"deleted {part} item {item_id} still there"
        for key, value in meta.items():
            assert content["meta"].get(key, -1) >= value, f"meta {key} older than acknowledged"
    return checked


def _note_acknowledged(ledgers: Sequence[Ledger], machines: Sequence[Machine | None]) -> None:
    """Advance each desktop's acknowledged count: the edits it ran before an empty outbox."""
    for ledger, machine in zip(ledgers, machines, strict=True):
        if machine is None:
            continue
        count = len(ledger.done)  # read first: an edit written after this is not counted
        if machine.sync_store.outbox_size() == 0:
            ledger.acked = count


@dataclass
class Run:
    """One fuzz run's desktops and what they did."""

    root: Path
    servers: Sequence[SyncServer]
    machines: list[Machine | None]
    emails: list[str]
    seed: int
    team_id: str = ""
    project_id: str = ""
    auditors: list[SyncClient] = field(default_factory=list)
    audits: list[int] = field(default_factory=list)  # edits checked by each mid-run audit

    def server_of(self, who: int) -> SyncServer:
        return self.servers[who % len(self.servers)]

    def open_machine(self, who: int, *, resume: bool) -> Machine:
        """Start (or, with ``resume``, start again on its old database) desktop ``who``."""
        machine = Machine(
            self.root,
            f"desk{who}",
            self.server_of(who).url,
            files=True,
            rng=random.Random(self.seed * 1000 + who + (500 if resume else 0)),
            **ENGINE_OPTIONS,
        )
        if resume:
            assert machine.client.resume(self.emails[who]), "no sign-in kept in the keyring"
        else:
            machine.client.login(self.emails[who], PASSWORD)
        self.machines[who] = machine
        return machine

    def live(self) -> list[Machine]:
        return [m for m in self.machines if m is not None]

    def audit(self, server_index: int, ledgers: Sequence[Ledger]) -> None:
        """Check every acknowledged edit through server ``server_index`` (retrying briefly while
        a just-restarted process warms up)."""
        _note_acknowledged(ledgers, self.machines)
        deadline = time.monotonic() + 20.0
        while True:
            try:
                content = server_content(self.auditors[server_index], wire_id(self.project_id))
                break
            except SyncError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)
        self.audits.append(_check_acknowledged(content, ledgers))


def run_convergence(
    root: Path,
    servers: Sequence[SyncServer],
    *,
    clients: int,
    steps: int,
    seed: int,
    kill: int = 0,
    down_steps: int = 0,
    on_converged: Callable[[Run], None] | None = None,
) -> Run:
    """The fuzz on running ``servers`` (desktop ``i`` uses ``servers[i % len(servers)]``).
    At half time ``servers[kill]`` is SIGKILLed and started again on its port after
    ``down_steps`` more steps (0: at once). ``on_converged`` runs after the final checks, with
    the desktops still running. Returns the run; the desktops are closed by then."""
    rng = random.Random(seed)
    previous = keyring.get_keyring()
    keyring.set_keyring(InMemoryTestKeyring())
    run = Run(root, servers, [None] * clients, [], seed)
    try:
        # One more member than desktops: the auditor, a client that only reads.
        run.team_id, run.emails = make_team(servers[0].url, clients + 1)
        for server in servers:
            auditor = SyncClient(server.url)
            auditor.login(run.emails[clients], PASSWORD)
            run.auditors.append(auditor)
        for who in range(clients):
            run.open_machine(who, resume=False)
        first = run.machines[0]
        assert first is not None

        def create() -> ShareSnapshot:
            project = first.projects.create("Konvergenz 🎼")
            with project.edit():
                project.lyrics += "⟦0.0 Anfang⟧"
            snapshot = ShareSnapshot.of(project, first.sync_store)
            project.close()
            return snapshot

        snapshot = first.owner.run(create)
        run.project_id = snapshot.project_id
        share_project(first.client, first.sync_store, snapshot, run.team_id)
        wire = wire_id(snapshot.project_id)
        for machine in run.live()[1:]:
            join_project(machine.client, machine.projects, machine.sync_store, run.team_id, wire)
        for machine in run.live():
            machine.open(snapshot.project_id)
            machine.engine.start()

        _fuzz(run, rng, steps=steps, kill=kill, down_steps=down_steps)
        if on_converged is not None:
            on_converged(run)
        return run
    finally:
        for machine in run.live():
            machine.close()
        keyring.set_keyring(previous)


def _fuzz(run: Run, rng: random.Random, *, steps: int, kill: int, down_steps: int) -> None:
    clients = len(run.machines)
    intent = Intent()
    intent.tokens["lyrics"].add("⟦0.0 Anfang⟧")
    mine = [Mine() for _ in range(clients)]
    ledgers = [Ledger() for _ in range(clients)]
    clips: list[str] = []
    sleeper = clients - 1
    offline: set[int] = set()
    killed = run.servers[kill]
    others = [i for i in range(len(run.servers)) if i != kill]
    for step in range(steps):
        if step == steps // 10:
            _machine(run, sleeper).go_offline()  # a long flight: edits pile up
        if step == steps * 3 // 10:
            _machine(run, sleeper).close()  # the laptop is shut on the plane
            run.machines[sleeper] = None
        if step == steps * 3 // 4:
            # Hours later: the app starts again, signs in from the keyring, sends its outbox.
            reopened = run.open_machine(sleeper, resume=True)
            reopened.open(run.project_id)
            reopened.engine.start()
        if step == steps // 2:
            killed.kill()  # SIGKILL: no shutdown, no flush
            if others:
                run.audit(others[0], ledgers)  # the other process keeps serving everything
        if step == steps // 2 + down_steps:
            relaunch_on_same_port(killed)
            run.audit(kill, ledgers)
        if step % 10 == 0:
            _note_acknowledged(ledgers, run.machines)
        if rng.random() < 0.05:
            who = rng.randrange(clients - 1)
            if who in offline:
                offline.discard(who)
                _machine(run, who).go_online()
            else:
                offline.add(who)
                _machine(run, who).go_offline()
        live = [i for i, m in enumerate(run.machines) if m is not None]
        who = rng.choice(live)
        if rng.random() < FILE_SHARE:
            op = _add_file(rng, _machine(run, who), who, mine[who], intent)
        else:
            op = _choose(rng, who, mine[who], intent, clips)
        if op[0] == "add_note" and not _has_clip(_machine(run, who), op[1]):
            # The clip (made elsewhere) has not arrived here yet: its maker adds the note.
            maker = int(op[1].split(".")[0])
            if run.machines[maker] is None:  # shut on the plane: the note is not made
                intent.clip_notes[op[1]].discard(op[2]["id"])
                continue
            who = maker
        machine = _machine(run, who)
        project = machine.project
        assert project is not None
        machine.owner.run(lambda p=project, o=op: _edit(p, o))
        ledgers[who].done.append(op)
        if op[0] == "add_file":
            machine.owner.run(machine.files_changed)
        time.sleep(rng.uniform(0.0, 0.01))
    for who in offline:
        _machine(run, who).go_online()

    machines = run.live()
    assert len(machines) == clients
    _wait_converged(machines, timeout=60.0)
    contents = [m.content() for m in machines]
    for content in contents[1:]:
        assert content == contents[0]
    _check(contents[0], intent)
    for machine in machines:
        assert machine.sync_store.outbox_size() == 0  # every edit acknowledged
    for ledger in ledgers:
        ledger.acked = len(ledger.done)
    wire = wire_id(run.project_id)
    for auditor in run.auditors:
        from_server = server_content(auditor, wire)
        assert from_server == contents[0], f"{auditor.server_url} holds another document"
        assert _check_acknowledged(from_server, ledgers) == sum(len(x.done) for x in ledgers)
    _wait_files(machines, intent.files, timeout=60.0)
    for auditor in run.auditors:
        for sha256 in sorted(intent.files):
            auditor.get_blob(run.team_id, sha256)  # raises unless the hash matches


def _machine(run: Run, who: int) -> Machine:
    machine = run.machines[who]
    assert machine is not None
    return machine


def _add_file(rng: random.Random, machine: Machine, who: int, mine: Mine, intent: Intent) -> Op:
    """Keep a new stem in desktop ``who``'s file store (offline too) and return the edit that
    lists it; its file sync uploads it when it can."""
    mine.seq += 1
    data = _stem(rng, f"{who}.{mine.seq}")
    sha256 = hashlib.sha256(data).hexdigest()
    assert machine.files is not None
    machine.files.add_bytes(data, sha256, "audio/wav")
    intent.files.add(sha256)
    return ("add_file", sha256, f"Stem {rng.choice(WORDS)}.wav", len(data))


def _has_clip(machine: Machine, clip_id: str) -> bool:
    project = machine.project
    assert project is not None
    return machine.owner.run(lambda: any(c.get("id") == clip_id for c in project.clips))


def _wait_files(machines: list[Machine], listed: set[str], timeout: float) -> None:
    """Until every desktop holds every listed file (downloaded and hash-checked by its file
    sync) and has no transfer left."""
    deadline = time.monotonic() + timeout
    while True:
        missing = {
            m.name: sorted(sha[:8] for sha in listed if m.files is None or not m.files.has(sha))
            for m in machines
        }
        pending = {m.name: m.file_sync.pending() if m.file_sync else 0 for m in machines}
        if not any(missing.values()) and not any(pending.values()):
            return
        if time.monotonic() > deadline:
            raise AssertionError(f"files did not follow: missing {missing}; pending {pending}")
        time.sleep(0.1)


def _wait_converged(machines: list[Machine], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while True:
        outboxes = [m.sync_store.outbox_size() for m in machines]
        contents = [m.content() for m in machines] if not any(outboxes) else []
        if contents and all(c == contents[0] for c in contents):
            return
        if time.monotonic() > deadline:
            states = [(m.name, m.engine.status()) for m in machines]
            raise AssertionError(f"no convergence: outboxes {outboxes}; {states}")
        time.sleep(0.1)


def test_five_desktops_converge(tmp_path: Path) -> None:
    # Access tokens last 2 s: every desktop refreshes (and rotates its refresh token) several
    # times during the run, across the SIGKILL too, as hours offline would make it.
    with SyncServer(tmp_path / "server", compact_after=80, access_ttl_s=2) as server:
        run = run_convergence(tmp_path, [server], clients=5, steps=300, seed=20261126)
    assert run.audits and run.audits[0] > 0  # the audit after the restart checked something
    with sqlite3.connect(tmp_path / "server" / "sync.sqlite3") as db:
        rotated = db.execute(
            "SELECT COUNT(*) FROM refresh_tokens WHERE revoked_at IS NOT NULL"
        ).fetchone()[0]
    db.close()
    assert rotated >= 10, rotated  # the desktops did refresh during the run


@pytest.mark.slow
@pytest.mark.timeout(1200)  # about 3 min alone on 2 busy cores
@pytest.mark.parametrize("seed", [1, 2])
def test_twenty_desktops_converge(tmp_path: Path, seed: int) -> None:
    with SyncServer(tmp_path / "server", compact_after=80) as server:
        run = run_convergence(tmp_path, [server], clients=20, steps=1500, seed=seed)
    assert run.audits and run.audits[0] > 0


def test_the_acknowledged_check_finds_lost_and_resurrected_edits() -> None:
    """The audit itself: a lost acknowledged edit or a deletion undone fails it; what a later,
    unacknowledged edit may have changed does not."""
    item = {"id": "1.2", "beat": 4.0, "label": "Ωμέγα", "symbol": "Am7"}
    ops: list[Op] = [
        ("insert_token", "lyrics", "⟦1.1 🎵⟧", "end"),
        ("insert_item", "chords", dict(item), 0.5),
        ("insert_token", "notes", "⟦1.3 x⟧", "start"),
        ("delete_token", "notes", "⟦1.3 x⟧"),
        ("add_clip", "1.4", "Clip", 0.0),
        ("add_note", "1.4", {"id": "1.5", "pitch": 60, "start": 0.0}),
        ("meta", "client_1", 6, 120.0),
        ("add_file", "ab" * 32, "Stem.wav", 10),
        ("rename_item", "chords", "1.2", "neu"),  # not acknowledged yet
        ("delete_token", "lyrics", "⟦1.1 🎵⟧"),  # not acknowledged yet
    ]
    ledger = Ledger(done=ops, acked=8)
    good = {
        "lyrics": "a⟦1.1 🎵⟧b",
        "notes": "",
        "chords": [dict(item)],
        "markers": [],
        "clips": [{"id": "1.4", "notes": [{"id": "1.5"}]}],
        "meta": {"client_1": 7},
        "files": [{"sha256": "ab" * 32, "name": "Stem.wav", "size": 10}],
    }
    assert _check_acknowledged(good, [ledger]) == 8
    # The pending deletion and rename may have arrived already.
    arrived = {**good, "lyrics": "ab", "chords": [{**item, "label": "neu"}]}
    assert _check_acknowledged(arrived, [ledger]) == 8
    broken = [
        {**good, "chords": []},
        {**good, "chords": [{**item, "label": "other"}]},
        {**good, "notes": "⟦1.3 x⟧"},
        {**good, "clips": [{"id": "1.4", "notes": []}]},
        {**good, "clips": []},
        {**good, "meta": {"client_1": 5}},
        {**good, "meta": {}},
        {**good, "files": []},
        {**good, "files": [{"sha256": "cd" * 32, "name": "Stem.wav", "size": 10}]},
    ]
    for content in broken:
        with pytest.raises(AssertionError):
            _check_acknowledged(content, [ledger])
    # Once the deletion of the first token is acknowledged too, the token must be gone.
    with pytest.raises(AssertionError):
        _check_acknowledged(good, [Ledger(done=ops, acked=len(ops))])
    # Nothing acknowledged: nothing is required.
    assert _check_acknowledged({**good, "lyrics": "", "chords": []}, [Ledger(done=ops)]) == 0
