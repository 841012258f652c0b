"""The push validator in-process: pending structs and deletions, garbage, panics."""

from __future__ import annotations

import contextlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pycrdt import Map, Text

from server.config import ServerConfig, env_for
from server.ydoc import BadUpdate, apply_checked, decode_state_vector, full_state, new_doc
from tests.server.client import Writer


def test_in_order_updates_pass_and_out_of_order_ones_do_not() -> None:
    writer = Writer()
    a, b = writer.type("one"), writer.type(" two")
    doc = new_doc()
    with pytest.raises(BadUpdate):
        apply_checked(doc, [b])
    doc = new_doc()
    apply_checked(doc, [b, a])  # the batch as a whole leaves nothing pending
    assert str(doc.get("lyrics", type=Text)) == "one two"


def test_a_deletion_of_missing_text_is_refused() -> None:
    writer = Writer()
    writer.type("hello")
    del writer.text[0:2]
    with pytest.raises(BadUpdate, match="deletes"):
        apply_checked(new_doc(), [writer.updates[-1]])
    doc = new_doc()
    apply_checked(doc, writer.take())
    assert str(doc.get("lyrics", type=Text)) == "llo"


def test_maps_and_nested_types_pass() -> None:
    writer = Writer()
    chords = writer.doc.get("chords", type=Map)
    chords["bar 1"] = "Am7"
    chords["bar 2"] = "D9 🎹"
    doc = new_doc()
    apply_checked(doc, writer.take())
    assert dict(doc.get("chords", type=Map)) == {"bar 1": "Am7", "bar 2": "D9 🎹"}
    again = new_doc()
    apply_checked(again, [full_state(doc)])
    assert decode_state_vector(again.get_state()) == decode_state_vector(doc.get_state())


@settings(max_examples=300, deadline=None)
@given(st.lists(st.binary(min_size=0, max_size=120), min_size=1, max_size=3))
def test_random_bytes_raise_bad_update_or_pass_cleanly(batch: list[bytes]) -> None:
    doc = new_doc()
    try:
        apply_checked(doc, batch)
    except BadUpdate:
        return
    # Accepted: the document still encodes and replays into an equal one.
    copy = new_doc()
    copy.apply_update(full_state(doc))
    assert decode_state_vector(copy.get_state()) == decode_state_vector(doc.get_state())


@given(st.binary(max_size=64))
def test_state_vector_decoder_never_crashes(data: bytes) -> None:
    with contextlib.suppress(BadUpdate):
        decode_state_vector(data)


def test_config_from_environment() -> None:
    env = env_for(access_ttl_s=2, compact_after=7, sqlite_synchronous="NORMAL")
    config = ServerConfig.from_env(env, database_url="sqlite:///x")
    assert (config.access_ttl_s, config.compact_after) == (2.0, 7)
    assert config.sqlite_synchronous == "NORMAL" and config.database_url == "sqlite:///x"
    with pytest.raises(TypeError):
        env_for(no_such_setting=1)
    with pytest.raises(ValueError, match="COMPACT_AFTER"):
        ServerConfig.from_env({"HOOKLINE_SERVER_COMPACT_AFTER": "many"})


def test_serve_command_help() -> None:
    from click.testing import CliRunner

    from server.cli import serve

    result = CliRunner().invoke(serve, ["--help"])
    assert result.exit_code == 0
    for flag in ("--host", "--port", "--database", "--blobs"):
        assert flag in result.output
