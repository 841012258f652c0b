"""The analysis hop: whole device blocks, so a reading never waits for part of a block."""

from __future__ import annotations

import pytest

from audio.engine import EngineConfig, LiveEngine, analysis_hop
from audio.stream import InputSpec


@pytest.mark.parametrize(
    ("rate", "block", "hop"),
    [
        (48000, 128, 384),  # 3 blocks: 8 ms, the most that fits in 10 ms
        (48000, 512, 512),  # one block (10.7 ms) when a block is already longer than the hop
        (48000, 64, 448),
        (44100, 128, 384),
        (192000, 128, 1920),  # exactly 10 ms
        (44100, 2048, 2048),  # one reading per block
        (96000, 960, 960),
    ],
)
def test_the_hop_is_a_whole_number_of_blocks(rate: int, block: int, hop: int) -> None:
    got = analysis_hop(rate, block, 0.01)
    assert got == hop
    assert got % block == 0
    assert got / rate <= 0.01 or got == block


@pytest.mark.parametrize("bad", [(0, 128, 0.01), (48000, 0, 0.01), (48000, 128, 0.0)])
def test_nonsense_is_refused(bad: tuple[int, int, float]) -> None:
    with pytest.raises(ValueError):
        analysis_hop(*bad)


def test_the_engine_uses_the_aligned_hop() -> None:
    engine = LiveEngine(EngineConfig(input=InputSpec("demo", 48000, 512)))
    try:
        assert engine.hop == 512
    finally:
        engine.ring.close()
