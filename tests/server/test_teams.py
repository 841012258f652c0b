"""Teams, roles and invitations: nobody reaches another team's things, viewers cannot push."""

from __future__ import annotations

import hashlib
import time

import pytest

from tests.server.client import Api, Writer, error_code


@pytest.fixture
def two_teams(api: Api) -> dict:
    alice, bob = api.user("Alice"), api.user("Bob")
    team_a, team_b = api.team(alice, "A"), api.team(bob, "B")
    project_a = api.project(alice, team_a)
    writer = Writer()
    assert api.push(alice, project_a, [writer.type("la la")]).status_code == 200
    blob = b"stem bytes"
    sha = hashlib.sha256(blob).hexdigest()
    assert (
        api.request("PUT", f"/teams/{team_a}/blobs/{sha}", alice, content=blob).status_code == 201
    )
    return dict(alice=alice, bob=bob, team_a=team_a, team_b=team_b, project_a=project_a, sha=sha)


def test_outsiders_get_not_found_for_everything(api: Api, two_teams: dict) -> None:
    t = two_teams
    bob, team_a, project_a, sha = t["bob"], t["team_a"], t["project_a"], t["sha"]
    attempts = [
        api.request("GET", f"/teams/{team_a}/members", bob),
        api.request("GET", f"/teams/{team_a}/projects", bob),
        api.request("GET", f"/teams/{team_a}/activity", bob),
        api.request("POST", f"/teams/{team_a}/invitations", bob, json={"role": "owner"}),
        api.request("PUT", f"/teams/{team_a}/members/{bob.user_id}", bob, json={"role": "owner"}),
        api.request("GET", f"/teams/{team_a}/blobs/{sha}", bob),
        api.request("PUT", f"/teams/{team_a}/blobs/{sha}", bob, content=b"stem bytes"),
        api.pull(bob, project_a)[0],
        api.push(bob, project_a, [Writer().type("x")]),
        api.request(
            "POST", f"/teams/{team_a}/projects", bob, json={"project_id": "a" * 32, "name": "n"}
        ),
    ]
    for r in attempts:
        assert r.status_code == 404 and error_code(r) == "not_found", (r.request.url, r.text)
    # Bob's own team does not see Alice's blob even when he knows its hash.
    r = api.request("GET", f"/teams/{t['team_b']}/blobs/{sha}", bob)
    assert r.status_code == 404
    # ... until he uploads the same bytes himself (proving he has them).
    put = api.request("PUT", f"/teams/{t['team_b']}/blobs/{sha}", bob, content=b"stem bytes")
    assert put.status_code == 201
    assert api.request("GET", f"/teams/{t['team_b']}/blobs/{sha}", bob).content == b"stem bytes"


def test_lists_show_only_own_teams(api: Api, two_teams: dict) -> None:
    teams = api.request("GET", "/teams", two_teams["bob"]).json()["teams"]
    assert [t["team_id"] for t in teams] == [two_teams["team_b"]]
    assert teams[0]["role"] == "owner"


def test_viewer_reads_but_cannot_push_or_upload(api: Api, two_teams: dict) -> None:
    t = two_teams
    viewer = api.user("Vi")
    api.join(t["alice"], t["team_a"], viewer, "viewer")
    r, entries = api.pull(viewer, t["project_a"])
    assert r.status_code == 200 and len(entries) == 1
    push = api.push(viewer, t["project_a"], [Writer().type("no")])
    assert push.status_code == 403 and error_code(push) == "forbidden"
    put = api.request("PUT", f"/teams/{t['team_a']}/blobs/{'0' * 64}", viewer, content=b"")
    assert put.status_code == 403
    made = api.request(
        "POST", f"/teams/{t['team_a']}/projects", viewer, json={"project_id": "b" * 32, "name": "n"}
    )
    assert made.status_code == 403
    # Promoted by the owner, the same member can push.
    r = api.request(
        "PUT", f"/teams/{t['team_a']}/members/{viewer.user_id}", t["alice"], json={"role": "editor"}
    )
    assert r.status_code == 204
    assert api.push(viewer, t["project_a"], [Writer().type("yes")]).status_code == 200


def test_only_owners_change_membership_and_a_team_keeps_an_owner(api: Api, two_teams: dict) -> None:
    t = two_teams
    editor = api.user("Ed")
    api.join(t["alice"], t["team_a"], editor, "editor")
    path = f"/teams/{t['team_a']}/members/{t['alice'].user_id}"
    assert api.request("PUT", path, editor, json={"role": "viewer"}).status_code == 403
    assert api.request("DELETE", path, editor).status_code == 403
    last = api.request("PUT", path, t["alice"], json={"role": "editor"})
    assert last.status_code == 409 and error_code(last) == "conflict"
    # Anyone may leave.
    leave = api.request("DELETE", f"/teams/{t['team_a']}/members/{editor.user_id}", editor)
    assert leave.status_code == 204
    assert api.pull(editor, t["project_a"])[0].status_code == 404
    members = api.request("GET", f"/teams/{t['team_a']}/members", t["alice"]).json()["members"]
    assert [m["user_id"] for m in members] == [t["alice"].user_id]


def test_invitations_are_single_use(api: Api, two_teams: dict) -> None:
    t = two_teams
    r = api.request(
        "POST", f"/teams/{t['team_a']}/invitations", t["alice"], json={"role": "editor"}
    )
    token = r.json()["token"]
    first, second = api.user("One"), api.user("Two")
    ok = api.request("POST", f"/invitations/{token}/accept", first)
    assert ok.status_code == 200 and ok.json() == {"team_id": t["team_a"], "role": "editor"}
    again = api.request("POST", f"/invitations/{token}/accept", second)
    assert again.status_code == 410 and error_code(again) == "gone"
    assert api.request("POST", f"/invitations/{token}x/accept", second).status_code == 404


def test_invitations_expire(api: Api, two_teams: dict) -> None:
    t = two_teams
    r = api.request(
        "POST",
        f"/teams/{t['team_a']}/invitations",
        t["alice"],
        json={"role": "viewer", "expires_in_s": 1},
    )
    token = r.json()["token"]
    time.sleep(1.1)
    late = api.request("POST", f"/invitations/{token}/accept", api.user("Late"))
    assert late.status_code == 410


@pytest.mark.parametrize(
    "body",
    [
        {"role": "admin"},
        {"role": "viewer", "expires_in_s": 0},
        {"role": "viewer", "expires_in_s": True},
        {"role": "viewer", "expires_in_s": 1e12},
        {},
    ],
)
def test_bad_invitations_are_refused(api: Api, two_teams: dict, body: dict) -> None:
    r = api.request(
        "POST", f"/teams/{two_teams['team_a']}/invitations", two_teams["alice"], json=body
    )
    assert r.status_code == 400


def test_project_ids_are_unique_and_well_formed(api: Api, two_teams: dict) -> None:
    t = two_teams
    for project_id in ["A" * 32, "a" * 31, "../" + "a" * 29, 7, None]:
        r = api.request(
            "POST",
            f"/teams/{t['team_a']}/projects",
            t["alice"],
            json={"project_id": project_id, "name": "n"},
        )
        assert r.status_code == 400, project_id
    taken = api.request(
        "POST",
        f"/teams/{t['team_b']}/projects",
        t["bob"],
        json={"project_id": t["project_a"], "name": "mine now"},
    )
    assert taken.status_code == 409
    listed = api.request("GET", f"/teams/{t['team_a']}/projects", t["alice"]).json()["projects"]
    assert listed == [{"project_id": t["project_a"], "name": "Song", "revision": 1}]


def test_activity_counts_pushes_bytes_and_members(api: Api, two_teams: dict) -> None:
    t = two_teams
    editor = api.user("Ed")
    api.join(t["alice"], t["team_a"], editor, "editor")
    writer = Writer()
    updates = [writer.type("one"), writer.type("two")]
    # The project already holds Alice's first edit from another document: both merge fine.
    assert api.push(editor, t["project_a"], updates).status_code == 200
    days = api.request("GET", f"/teams/{t['team_a']}/activity?days=7", t["alice"]).json()["days"]
    assert len(days) == 7
    today = days[-1]
    assert today["pushes"] == 2 and today["updates"] == 3
    assert today["active_members"] == 2
    assert today["bytes"] >= sum(map(len, updates)) + len(b"stem bytes")
    assert all(d["pushes"] == 0 for d in days[:-1])
    other = api.request("GET", f"/teams/{t['team_b']}/activity?days=7", t["bob"]).json()["days"]
    assert other[-1]["pushes"] == 0
    for bad in ["0", "367", "x", "nan"]:
        r = api.request("GET", f"/teams/{t['team_a']}/activity?days={bad}", t["alice"])
        assert r.status_code == 400
