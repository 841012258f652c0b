from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app import i18n
from app.settings import OPTIONS, OPTIONS_BY_KEY, SETTINGS_VERSION, Settings


def _siblings(path: Path) -> list[str]:
    return sorted(p.name for p in path.parent.iterdir() if p.name != path.name)


def test_defaults_when_no_file(tmp_path: Path) -> None:
    s = Settings.load(tmp_path / "settings.json")
    assert s.warnings == []
    for option in OPTIONS:
        assert s.get(option.key) == option.default
        assert option.validate(option.default) == option.default


def test_round_trip_keeps_values_and_types(tmp_path: Path) -> None:
    path = tmp_path / "settings.json"
    s = Settings.load(path)
    s.set("ui.language", "de")
    s.set("audio.reference_a", 432)  # an int is accepted for a float option
    s.set("audio.block_size", 128)
    s.save()
    again = Settings.load(path)
    assert again.warnings == []
    assert again.get("ui.language") == "de"
    assert again.get("audio.reference_a") == 432.0
    assert isinstance(again.get("audio.reference_a"), float)
    assert again.get("audio.block_size") == 128
    assert json.loads(path.read_text())["version"] == SETTINGS_VERSION


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("audio.reference_a", 500.0),
        ("audio.block_size", 32),
        ("ui.language", "xx"),
        ("audio.sample_rate", "48000"),
        ("audio.reference_a", float("nan")),
        ("audio.block_size", True),
        ("midi.api", 3),
    ],
)
def test_set_rejects_invalid_values(tmp_path: Path, key: str, value: object) -> None:
    s = Settings.load(tmp_path / "settings.json")
    with pytest.raises(ValueError):
        s.set(key, value)
    assert s.get(key) == OPTIONS_BY_KEY[key].default


def test_unknown_key_is_refused(tmp_path: Path) -> None:
    with pytest.raises(KeyError):
        Settings.load(tmp_path / "s.json").set("no.such.option", 1)


CORRUPT_FILES = {
    "not json": b"{ this is not json",
    "truncated": b'{"version": 2, "values": {"ui.lang',
    "a list": b"[1, 2, 3]",
    "no version": b'{"values": {}}',
    "version is text": b'{"version": "2", "values": {}}',
    "values not a map": b'{"version": 2, "values": [1]}',
    "invalid utf-8": b'{"version": 2, "values": {"ui.theme": "\xff\xfe"}}',
    "deeply nested": b'{"version": 2, "values": ' + b"[" * 100_000 + b"]" * 100_000 + b"}",
    "huge": b'{"version": 2, "values": {"pad": "' + b"x" * (2 << 20) + b'"}}',
    "giant integer": b'{"version": ' + b"9" * 10_000 + b', "values": {}}',
}


@pytest.mark.parametrize("case", sorted(CORRUPT_FILES))
def test_corrupt_file_gives_defaults_warning_and_is_kept_aside(tmp_path: Path, case: str) -> None:
    path = tmp_path / "settings.json"
    path.write_bytes(CORRUPT_FILES[case])
    s = Settings.load(path)
    assert s.as_dict() == {o.key: o.default for o in OPTIONS}
    assert len(s.warnings) == 1 and "defaults" in s.warnings[0]
    assert not path.exists()
    kept = [p for p in tmp_path.iterdir() if p.name.startswith("settings.json.corrupt-")]
    assert len(kept) == 1 and kept[0].read_bytes() == CORRUPT_FILES[case]
    s.save()  # and the app can write a fresh file afterwards
    assert Settings.load(path).warnings == []


def test_corrupt_warning_is_in_the_users_language(tmp_path: Path) -> None:
    path = tmp_path / "settings.json"
    path.write_bytes(b"\x00\x01garbage")
    if not i18n.catalog_available("de"):
        pytest.fail("compiled catalogs missing: run `make catalogs`")
    i18n.set_language("de")
    s = Settings.load(path)
    assert "Standardwerte" in s.warnings[0]


def test_settings_path_that_is_a_directory(tmp_path: Path) -> None:
    path = tmp_path / "settings.json"
    path.mkdir()
    s = Settings.load(path)
    assert s.warnings and s.get("ui.theme") == "dark"


def test_bad_single_value_resets_only_that_value(tmp_path: Path) -> None:
    path = tmp_path / "settings.json"
    path.write_text(
        json.dumps(
            {
                "version": 2,
                "values": {
                    "ui.language": "de",
                    "audio.reference_a": 9999,
                    "audio.block_size": "lots",
                    "unknown.future": 1,
                },
            }
        )
    )
    s = Settings.load(path)
    assert s.get("ui.language") == "de"
    assert s.get("audio.reference_a") == 440.0
    assert s.get("audio.block_size") == 256
    assert len(s.warnings) == 2
    assert path.exists()  # a mostly good file is not thrown away


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    blob=st.one_of(
        st.binary(max_size=2000),
        st.recursive(
            st.none() | st.booleans() | st.floats() | st.integers() | st.text(max_size=20),
            lambda c: (
                st.lists(c, max_size=5) | st.dictionaries(st.text(max_size=12), c, max_size=5)
            ),
            max_leaves=30,
        ).map(lambda v: json.dumps(v).encode()),
    )
)
def test_any_bytes_never_crash_loading(
    tmp_path_factory: pytest.TempPathFactory, blob: bytes
) -> None:
    path = tmp_path_factory.mktemp("fuzz") / "settings.json"
    path.write_bytes(blob)
    s = Settings.load(path)
    for option in OPTIONS:
        assert option.validate(s.get(option.key)) == s.get(option.key)


def test_upgrade_from_version_1_keeps_values_and_backs_up(tmp_path: Path) -> None:
    path = tmp_path / "settings.json"
    v1 = {
        "version": 1,
        "language": "ar",
        "input_device": "Scarlett 2i2",
        "reference_a": "442",
        "block_size": 512,
        "midi_in": "Keystation",
    }
    path.write_text(json.dumps(v1))
    s = Settings.load(path)
    assert s.warnings == []
    assert s.get("ui.language") == "ar"
    assert s.get("audio.input_device") == "Scarlett 2i2"
    assert s.get("audio.reference_a") == 442.0
    assert s.get("audio.block_size") == 512
    assert s.get("midi.input_port") == "Keystation"
    backup = tmp_path / "settings.v1.bak.json"
    assert json.loads(backup.read_text()) == v1
    s.save()
    assert json.loads(path.read_text())["version"] == SETTINGS_VERSION


def test_upgrade_of_a_bad_old_value_falls_back_for_that_value(tmp_path: Path) -> None:
    path = tmp_path / "settings.json"
    path.write_text(json.dumps({"version": 1, "language": "de", "reference_a": "four forty"}))
    s = Settings.load(path)
    assert s.get("ui.language") == "de"
    assert s.get("audio.reference_a") == 440.0


def test_file_from_a_newer_version_is_copied_before_use(tmp_path: Path) -> None:
    path = tmp_path / "settings.json"
    original = json.dumps(
        {"version": SETTINGS_VERSION + 1, "values": {"ui.theme": "light", "new.thing": [1]}}
    )
    path.write_text(original)
    s = Settings.load(path)
    assert s.get("ui.theme") == "light"
    assert any("newer" in w for w in s.warnings)
    assert (tmp_path / "settings.json.newer").read_text() == original


def test_save_is_atomic_and_leaves_no_temp_file(tmp_path: Path) -> None:
    path = tmp_path / "settings.json"
    s = Settings.load(path)
    s.set("ui.theme", "light")
    s.save()
    assert _siblings(path) == []
