"""Spectrogram rows are a fixed span of audio whatever the engine's hop."""

from __future__ import annotations

import numpy as np
import pytest

from ui.live.spectrum import FLOOR_DB, ROW_SECONDS, ROWS, SpectrumPanel

BANDS = 8


@pytest.fixture
def panel(qtbot):  # type: ignore[no-untyped-def]
    widget = SpectrumPanel()
    qtbot.addWidget(widget)
    return widget


def _column(level: float) -> np.ndarray:
    return np.full(BANDS, level, dtype=np.float32)


def _rows_written(panel: SpectrumPanel) -> np.ndarray:
    rows = panel.spectrogram_rows()
    assert rows is not None and rows.shape == (ROWS, BANDS)
    return rows[(rows > FLOOR_DB).any(axis=1)]


@pytest.mark.parametrize("hop_s", [0.008, 0.01, 0.0107, 0.02, 0.0427])
def test_one_second_of_columns_makes_one_second_of_rows(panel, hop_s: float) -> None:  # type: ignore[no-untyped-def]
    count = round(1.0 / hop_s)
    panel.add_columns([_column(-50.0)] * count, hop_s)
    written = len(_rows_written(panel))
    assert abs(written - count * hop_s / ROW_SECONDS) <= 1.0


def test_short_columns_merge_by_their_maximum(panel) -> None:  # type: ignore[no-untyped-def]
    panel.add_columns([_column(-80.0), _column(-30.0)], 0.01)  # two hops, one row
    rows = _rows_written(panel)
    assert len(rows) == 1 and np.all(rows[0] == -30.0)


def test_a_long_column_fills_the_rows_it_lasts(panel) -> None:  # type: ignore[no-untyped-def]
    panel.add_columns([_column(-40.0)], 3 * ROW_SECONDS)
    rows = _rows_written(panel)
    assert len(rows) == 3 and np.all(rows == -40.0)
    panel.add_columns([_column(-20.0)], 0.5 * ROW_SECONDS)  # half a row: nothing yet
    assert len(_rows_written(panel)) == 3
    panel.add_columns([_column(-70.0)], 0.5 * ROW_SECONDS)
    rows = _rows_written(panel)
    assert len(rows) == 4 and np.all(rows[-1] == -20.0)


def test_no_columns_while_stopped(panel) -> None:  # type: ignore[no-untyped-def]
    panel.add_columns([_column(-40.0)], 0.0)
    assert panel.spectrogram_rows() is None
