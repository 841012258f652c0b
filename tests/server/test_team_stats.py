"""Artist stats shared with a team: members only, checked snapshots, hostile bodies refused with
nothing stored, a departed member's figures no longer shown, and the schema step that added
the table."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import inspect, select

from server import db
from server.db import create_schema, make_engine
from server.protocol import MAX_STATS_BYTES, MAX_STATS_SONGS, clean_stats_snapshot
from tests.server.client import Api, error_code

SNAPSHOT = {
    "version": 1,
    "as_of": "2026-11-26",
    "first_day": "2016-06-01",
    "last_day": "2026-11-25",
    "audience": {"streams_28d": 123456.0, "listeners": 5400, "followers": None},
    "songs": [
        {"name": "Nachtfahrt 🌙", "streams_total": 9e5, "streams_28d": 4.2e4, "change": 0.25},
        {"name": "Second", "streams_total": None, "streams_28d": 10, "change": None},
    ],
}


def test_members_share_and_see_each_others_stats(api: Api) -> None:
    alice, bob, eve = api.user("Alice"), api.user("Bob"), api.user("Eve")
    team = api.team(alice)
    api.join(alice, team, bob, "viewer")
    r = api.request("PUT", f"/teams/{team}/stats", alice, json={**SNAPSHOT, "extra": "dropped"})
    assert r.status_code == 200 and r.json()["shared_at"] > 0
    listed = api.request("GET", f"/teams/{team}/stats", bob).json()["stats"]
    assert [(s["name"], s["snapshot"]) for s in listed] == [("Alice", SNAPSHOT)]
    # a viewer may share too; the newest comes first, and sharing again replaces
    api.request("PUT", f"/teams/{team}/stats", bob, json=SNAPSHOT)
    changed = {**SNAPSHOT, "songs": []}
    api.request("PUT", f"/teams/{team}/stats", alice, json=changed)
    listed = api.request("GET", f"/teams/{team}/stats", bob).json()["stats"]
    assert [(s["name"], s["snapshot"]["songs"]) for s in listed] == [
        ("Alice", []),
        ("Bob", SNAPSHOT["songs"]),
    ]
    # outsiders neither read nor write
    for method in ("GET", "PUT", "DELETE"):
        r = api.request(method, f"/teams/{team}/stats", eve, json=SNAPSHOT)
        assert r.status_code == 404, (method, r.status_code)
    # stopping, and leaving the team, take a member's figures off the list
    assert api.request("DELETE", f"/teams/{team}/stats", bob).status_code == 204
    assert [
        s["name"] for s in api.request("GET", f"/teams/{team}/stats", alice).json()["stats"]
    ] == ["Alice"]
    api.request("PUT", f"/teams/{team}/stats", bob, json=SNAPSHOT)
    assert api.request("DELETE", f"/teams/{team}/members/{bob.user_id}", bob).status_code == 204
    assert [
        s["name"] for s in api.request("GET", f"/teams/{team}/stats", alice).json()["stats"]
    ] == ["Alice"]


@pytest.mark.parametrize(
    "body",
    [
        {**SNAPSHOT, "version": 2},
        {**SNAPSHOT, "as_of": "yesterday"},
        {**SNAPSHOT, "audience": {"listeners": -1}},
        {**SNAPSHOT, "audience": {"listeners": True}},
        {**SNAPSHOT, "audience": {"listeners": 1e300}},
        {**SNAPSHOT, "songs": [{"name": ""}]},
        {**SNAPSHOT, "songs": [{"name": "\x00\x07"}]},
        {**SNAPSHOT, "songs": [{"name": "x"}] * (MAX_STATS_SONGS + 1)},
        {**SNAPSHOT, "songs": "not a list"},
        [SNAPSHOT],
    ],
)
def test_bad_snapshots_are_refused_and_nothing_is_stored(api: Api, body: object) -> None:
    alice = api.user("Alice")
    team = api.team(alice)
    r = api.request("PUT", f"/teams/{team}/stats", alice, json=body)
    assert r.status_code == 400 and error_code(r) == "bad_request"
    assert api.request("GET", f"/teams/{team}/stats", alice).json()["stats"] == []


def test_oversized_and_malformed_bodies_are_refused(api: Api) -> None:
    alice = api.user("Alice")
    team = api.team(alice)
    huge = {**SNAPSHOT, "padding": "x" * MAX_STATS_BYTES}
    r = api.request("PUT", f"/teams/{team}/stats", alice, json=huge)
    assert r.status_code == 413 and error_code(r) == "too_large"
    for raw in (b"{", b"\xff\xfe", b"[" * 100_00 + b"]" * 100_00, b"NaN"):
        r = api.request("PUT", f"/teams/{team}/stats", alice, content=raw)
        assert r.status_code in (400, 413), raw[:10]
    assert api.request("GET", f"/teams/{team}/stats", alice).json()["stats"] == []


JSONISH = st.recursive(
    st.none() | st.booleans() | st.floats() | st.integers() | st.text(max_size=30),
    lambda inner: st.lists(inner, max_size=5) | st.dictionaries(st.text(max_size=12), inner),
    max_leaves=30,
)


@given(
    st.fixed_dictionaries(
        {"version": st.just(1), "as_of": st.just("2026-01-01")},
        optional={"audience": JSONISH, "songs": JSONISH, "first_day": JSONISH},
    )
    | JSONISH
)
@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_any_json_is_cleaned_or_refused(data: object) -> None:
    try:
        clean = clean_stats_snapshot(data)
    except ValueError:
        return
    assert clean_stats_snapshot(clean) == clean  # stable
    text = json.dumps(clean, allow_nan=False)  # finite numbers only
    assert len(text) < MAX_STATS_BYTES


def test_a_version_1_database_is_upgraded_with_its_rows(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'old.sqlite3'}")
    try:
        create_schema(engine)
        with engine.begin() as c:  # as a server of version 1 left it
            db.team_stats.drop(c)
            c.execute(db.meta.update().values(value="1"))
            c.execute(db.teams.insert().values(id="a" * 32, name="Kept", created_at=1.0))
        create_schema(engine)
        with engine.connect() as c:
            assert c.execute(select(db.meta.c.value)).scalar() == str(db.SCHEMA_VERSION)
            assert c.execute(select(db.teams.c.name)).scalar() == "Kept"
        assert "team_stats" in inspect(engine).get_table_names()
        with engine.begin() as c:
            c.execute(db.meta.update().values(value=str(db.SCHEMA_VERSION + 1)))
        with pytest.raises(RuntimeError, match="schema version"):
            create_schema(engine)
    finally:
        engine.dispose()
