"""The in-memory run of recent revisions that woken long-polls answer from: it must never skip a
revision, whatever order pushes are recorded in, and stays within its bounds."""

from __future__ import annotations

import random

from hypothesis import given
from hypothesis import strategies as st

from server.recent import MAX_BYTES, MAX_REVISIONS, MAX_UPDATE, RecentRevisions


def test_answers_only_a_gapless_run_after_the_client_revision() -> None:
    recent = RecentRevisions()
    recent.add("p", 1, [b"a", b"b"])
    recent.add("p", 5, [b"e"])  # 3 and 4 came from elsewhere (or are still on their way)
    assert recent.after("p", 0, 1 << 20) == [(1, b"a"), (2, b"b")]
    assert recent.after("p", 2, 1 << 20) == []  # 3 is not here: the database answers
    assert recent.after("p", 4, 1 << 20) == [(5, b"e")]
    recent.add("p", 3, [b"c", b"d"])
    assert [r for r, _ in recent.after("p", 0, 1 << 20)] == [1, 2, 3, 4, 5]
    assert recent.after("other", 0, 1 << 20) == []


def test_byte_limit_and_large_updates() -> None:
    recent = RecentRevisions()
    recent.add("p", 1, [b"x" * 10, b"y" * 10, b"z" * 10])
    assert [r for r, _ in recent.after("p", 0, 25)] == [1, 2]
    assert [r for r, _ in recent.after("p", 0, 5)] == [1]  # at least one
    recent.add("p", 4, [b"L" * (MAX_UPDATE + 1), b"w"])
    assert [r for r, _ in recent.after("p", 0, 1 << 30)] == [1, 2, 3]  # 4 is not kept
    assert recent.after("p", 4, 1 << 30) == [(5, b"w")]


def test_bounds() -> None:
    recent = RecentRevisions()
    recent.add("p", 1, [b"u"] * (MAX_REVISIONS + 50))
    kept = recent.after("p", 50, 1 << 30)
    assert len(kept) == MAX_REVISIONS and kept[0][0] == 51
    big = [b"b" * (MAX_UPDATE // 2)] * (2 * MAX_BYTES // (MAX_UPDATE // 2))
    recent.add("q", 1, big)
    total = sum(len(d) for _, d in recent.after("q", len(big) // 2, 1 << 40))
    assert 0 < total <= MAX_BYTES


@given(st.lists(st.integers(1, 5), min_size=1, max_size=30), st.randoms())
def test_any_recording_order_never_skips(sizes: list[int], rnd: random.Random) -> None:
    pushes, revision = [], 1
    for size in sizes:
        pushes.append((revision, [bytes([revision % 256, i]) for i in range(size)]))
        revision += size
    recent = RecentRevisions()
    order = list(pushes)
    rnd.shuffle(order)
    for first, batch in order:
        recent.add("p", first, batch)
        for after in range(revision):
            got = [r for r, _ in recent.after("p", after, 1 << 30)]
            assert got == list(range(after + 1, after + 1 + len(got)))
    assert [r for r, _ in recent.after("p", 0, 1 << 30)] == list(range(1, revision))
