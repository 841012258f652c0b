"""NoteState against hand-written cases and, for random message streams, a reference model
that recomputes everything from scratch."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from audio.midi_in import MidiEvent
from audio.midi_state import Decoded, NoteState, decode


def on(ch: int, note: int, vel: int = 100) -> tuple[int, int, int]:
    return (0x90 | ch, note, vel)


def off(ch: int, note: int) -> tuple[int, int, int]:
    return (0x80 | ch, note, 0)


def cc(ch: int, num: int, value: int) -> tuple[int, int, int]:
    return (0xB0 | ch, num, value)


def run(*messages: tuple[int, int, int]) -> NoteState:
    state = NoteState()
    for m in messages:
        state.apply(*m)
    return state


def test_decode_names_every_channel_message() -> None:
    assert decode(0x93, 60, 100) == Decoded("note_on", 3, 60, 100)
    assert decode(0x93, 60, 0) == Decoded("note_off", 3, 60, 0)
    assert decode(0x8F, 61, 40) == Decoded("note_off", 15, 61, 40)
    assert decode(0xB1, 64, 127) == Decoded("control", 1, 64, 127)
    assert decode(0xC2, 5) == Decoded("program", 2, 5, 0)
    assert decode(0xE0, 0, 64) == Decoded("pitch_bend", 0, 0, 0)
    assert decode(0xE0, 0, 0) == Decoded("pitch_bend", 0, 0, -8192)
    assert decode(0xE0, 127, 127) == Decoded("pitch_bend", 0, 0, 8191)
    assert decode(0xA4, 60, 30) == Decoded("poly_aftertouch", 4, 60, 30)
    assert decode(0xD5, 77) == Decoded("channel_aftertouch", 5, 0, 77)
    assert decode(0xF8).kind == "other" and decode(0x40).kind == "other"


def test_note_on_off_and_velocity_zero() -> None:
    state = run(on(0, 60), on(0, 64, 90), on(1, 67, 30))
    assert state.sounding() == (60, 64, 67) and state.velocity_of(64) == 90
    state.apply(*on(0, 64, 0))  # velocity 0 is a note-off
    state.apply(*off(1, 67))
    assert state.sounding() == (60,) and state.velocity_of(67) == 0


def test_sustain_pedal_holds_released_notes_until_pedal_up() -> None:
    state = run(cc(0, 64, 127), on(0, 60), off(0, 60), on(0, 62), off(0, 62))
    assert state.sounding() == (60, 62) and state.pedal_down(0)
    state.apply(*cc(0, 64, 10))  # below 64: up
    assert state.sounding() == ()


def test_sustain_is_per_channel_and_notes_are_deduplicated_across_channels() -> None:
    state = run(cc(1, 64, 127), on(0, 60), on(1, 60), off(0, 60), off(1, 60))
    assert state.sounding() == (60,)  # still sustained on channel 1
    version = state.version
    state.apply(*on(0, 60))  # sounds on two channels: the set does not change
    assert state.version == version
    state.apply(*cc(1, 64, 0))
    assert state.sounding() == (60,)
    state.apply(*off(0, 60))
    assert state.sounding() == ()


def test_restrike_while_sustained_then_release_with_pedal_up() -> None:
    state = run(cc(0, 64, 127), on(0, 60), off(0, 60), on(0, 60, 50), cc(0, 64, 0))
    assert state.sounding() == (60,) and state.velocity_of(60) == 50  # held again
    state.apply(*off(0, 60))
    assert state.sounding() == ()


def test_all_notes_off_respects_the_pedal_all_sound_off_does_not() -> None:
    state = run(on(2, 60), on(2, 64), on(3, 70), cc(2, 123, 0))
    assert state.sounding() == (70,)
    state = run(cc(2, 64, 127), on(2, 60), cc(2, 123, 0))
    assert state.sounding() == (60,)
    state.apply(*cc(2, 120, 0))
    assert state.sounding() == ()
    state = run(cc(2, 64, 127), on(2, 60), off(2, 60), cc(2, 121, 0))  # reset controllers
    assert state.sounding() == ()


def test_version_changes_only_with_the_sounding_set() -> None:
    state = NoteState()
    assert state.version == 0
    assert state.apply(*on(0, 60)) and state.version == 1
    for message in (on(0, 60, 20), cc(0, 7, 100), (0xE0, 0, 70), off(0, 61), cc(0, 64, 127)):
        assert not state.apply(*message)
    assert state.version == 1
    assert not state.apply(*off(0, 60))  # sustained
    assert state.apply(*cc(0, 64, 0)) and state.version == 2


def test_feed_takes_midi_events() -> None:
    state = NoteState()
    changed = state.feed([MidiEvent(0, 0, 0x90, 60, 100), MidiEvent(1, 0, 0x91, 62, 80)])
    assert changed and state.sounding() == (60, 62)
    assert state.reset() and state.sounding() == () and not state.reset()


class Reference:
    """The same rules, recomputed from the whole history every time."""

    def __init__(self) -> None:
        self.history: list[tuple[int, int, int]] = []

    def sounding(self) -> tuple[int, ...]:
        held: list[dict[int, int]] = [{} for _ in range(16)]
        sustained: list[dict[int, int]] = [{} for _ in range(16)]
        pedal = [False] * 16
        for status, d1, d2 in self.history:
            command, ch = status & 0xF0, status & 0x0F
            if command == 0x90 and d2 > 0:
                sustained[ch].pop(d1, None)
                held[ch][d1] = d2
            elif command in (0x80, 0x90) and d1 in held[ch]:
                velocity = held[ch].pop(d1)
                if pedal[ch]:
                    sustained[ch][d1] = velocity
            elif command == 0xB0 and d1 in (64, 121):
                pedal[ch] = d1 == 64 and d2 >= 64
                if not pedal[ch]:
                    sustained[ch].clear()
            elif command == 0xB0 and d1 == 123:
                if pedal[ch]:
                    sustained[ch].update(held[ch])
                held[ch].clear()
            elif command == 0xB0 and d1 == 120:
                held[ch].clear()
                sustained[ch].clear()
        notes = {n for ch in range(16) for n in (*held[ch], *sustained[ch])}
        return tuple(sorted(notes))


NOTES = st.integers(58, 63)  # few notes and channels, so streams collide often
CHANNELS = st.integers(0, 2)
MESSAGES = st.one_of(
    st.tuples(CHANNELS.map(lambda c: 0x90 | c), NOTES, st.integers(0, 127)),
    st.tuples(CHANNELS.map(lambda c: 0x80 | c), NOTES, st.integers(0, 127)),
    st.tuples(
        CHANNELS.map(lambda c: 0xB0 | c),
        st.sampled_from([64, 64, 64, 120, 121, 123, 7]),
        st.sampled_from([0, 63, 64, 127]),
    ),
    st.tuples(CHANNELS.map(lambda c: 0xE0 | c), st.integers(0, 127), st.integers(0, 127)),
)


@settings(max_examples=300, deadline=None)
@given(st.lists(MESSAGES, max_size=60))
def test_matches_the_reference_model_on_random_streams(
    messages: list[tuple[int, int, int]],
) -> None:
    state, reference = NoteState(), Reference()
    previous = ()
    versions = 0
    for message in messages:
        changed = state.apply(*message)
        reference.history.append(message)
        expected = reference.sounding()
        assert state.sounding() == expected
        assert changed == (expected != previous)
        versions += changed
        assert state.version == versions
        assert all(state.velocity_of(n) > 0 for n in expected)
        assert all(state.velocity_of(n) == 0 for n in range(128) if n not in expected)
        previous = expected
