"""``app.lyrics`` on its own: melodies from project clips (whatever a sync delivered), and
the tools' refusals."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.lyrics import LyricsError, LyricsTools, meter_beats, project_melodies


class _Project:
    def __init__(self, content: Any) -> None:
        self._content = content

    def content(self) -> Any:
        if isinstance(self._content, Exception):
            raise self._content
        return self._content


def test_clips_become_melodies_in_their_meter() -> None:
    project = _Project({"clips": [
        {"name": "Verse", "meter": "6/8", "notes": [[60, 0, 1.5, 90], [62, 1.5, 1.5, 90]]},
        {"name": "Empty", "notes": []},
        {"name": "Odd meter", "meter": "7/0", "notes": [[64, 0, 1, 90]]},
    ]})  # fmt: skip
    melodies = project_melodies(project)
    assert [m.name for m in melodies] == ["Verse", "Odd meter"]
    assert (melodies[0].beats_per_bar, melodies[0].beat_unit) == (3.0, 1.5)
    assert melodies[1].beats_per_bar == 4.0  # a meter that is not one falls back to 4/4
    assert project_melodies(_Project(RuntimeError("closed"))) == []


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=5) | st.dictionaries(st.text(max_size=6), inner,
                                                                 max_size=5),
    max_leaves=30,
)  # fmt: skip


@settings(max_examples=200, deadline=None)
@given(json_values)
def test_any_clip_data_gives_melodies_or_nothing(content: Any) -> None:
    for melody in project_melodies(_Project({"clips": content})):
        assert melody.notes and all(0 <= n.pitch <= 127 and n.duration > 0 for n in melody.notes)


def test_meters_in_quarter_notes() -> None:
    assert meter_beats(4, 4) == (4.0, 1.0)
    assert meter_beats(3, 4) == (3.0, 1.0)
    assert meter_beats(6, 8) == (3.0, 1.5)
    assert meter_beats(12, 8) == (6.0, 1.5)
    assert meter_beats(2, 2) == (4.0, 2.0)


def test_unknown_languages_and_kinds_are_refused() -> None:
    with pytest.raises(LyricsError, match="not supported"):
        LyricsTools(language="klingon")
    tools = LyricsTools()
    with pytest.raises(LyricsError, match="Unknown kind"):
        tools.rhymes("fire", kinds=["rhymey"])
    with pytest.raises(LyricsError, match="between 1 and 24"):
        tools.suggest(0)
