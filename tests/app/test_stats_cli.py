"""``hookline stats import`` and ``hookline stats show`` on a real database in a temporary home."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from app.stats_cli import stats

pytestmark = pytest.mark.usefixtures("english")


def _run(home: Path, *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(stats, list(args), env={"HOOKLINE_HOME": str(home)})
    return result.exit_code, result.output


def test_import_then_show(tmp_path: Path) -> None:
    timeline = tmp_path / "timeline.csv"
    timeline.write_text(
        "Date,Listeners,Streams,Followers,Notes\n"
        "2025-01-01,10,20,3,x\n2025-01-02,11,oops,4,y\n2025-01-02,12,22,5,z\n",
        encoding="utf-8",
    )
    songs = tmp_path / "songs.csv"
    songs.write_text("song,streams\n=cmd|' /C calc'!A0,7\nNight Drive,9\n", encoding="utf-8")
    code, out = _run(tmp_path, "import", str(timeline), str(songs), "--as-of", "2025-01-31")
    assert code == 0, out
    assert "timeline.csv: read as audience timeline (daily values)" in out
    assert "Ignored columns: Notes" in out
    assert "line 3: “oops” is not a number" in out
    assert "line 4" not in out  # line 4 is the first good row for that day
    code, out = _run(tmp_path, "show", "--json")
    data = json.loads(out)
    assert [i["kind"] for i in data["imports"]] == ["song", "audience"]
    audience = next(s for s in data["series"] if s["kind"] == "audience")
    assert audience["metrics"]["streams"] == {
        "first_day": "2025-01-01",
        "last_day": "2025-01-02",
        "days": 2,
        "total": 42.0,
        "latest": 22.0,
    }
    song_names = {s["entity"] for s in data["series"] if s["kind"] == "song"}
    assert song_names == {"=cmd|' /C calc'!A0", "Night Drive"}

    code, out = _run(tmp_path, "show", "--csv", "--kind", "song")
    assert code == 0
    rows = list(csv.reader(io.StringIO(out)))
    assert rows[0][:2] == ["kind", "entity"]
    assert ["song", "'=cmd|' /C calc'!A0"] in [r[:2] for r in rows]
    assert all(not r[1].startswith("=") for r in rows)

    code, out = _run(tmp_path, "import", str(timeline), "--json")
    report = json.loads(out)
    assert (report["values_added"], report["values_updated"]) == (0, 0)
    assert report["imported_before"] is not None


def test_unknown_layout_needs_a_mapping(tmp_path: Path) -> None:
    odd = tmp_path / "odd.csv"
    odd.write_text("Wann;Wie oft\n2025-01-01;4\n", encoding="utf-8")
    code, out = _run(tmp_path, "import", str(odd))
    assert code == 1
    assert "the columns were not recognised" in out and "Wann | Wie oft" in out
    code, out = _run(tmp_path, "import", str(odd), "--mapping", "kind=audience,date=0,streams=1")
    assert code == 0, out
    mapping = tmp_path / "m.json"
    mapping.write_text('{"kind": "audience", "date": "Wann", "listeners": "Wie oft"}')
    code, out = _run(tmp_path, "import", str(odd), "--mapping", f"@{mapping}", "--json")
    assert code == 0 and json.loads(out)["values_added"] == 1
    code, out = _run(tmp_path, "import", str(odd), "--mapping", "kind=band")
    assert code == 2 and "--mapping" in out


def test_bad_files_give_a_message_and_exit_1(tmp_path: Path) -> None:
    empty = tmp_path / "empty.csv"
    empty.write_bytes(b"")
    code, out = _run(tmp_path, "import", str(empty), str(tmp_path / "missing.csv"))
    assert code == 1
    assert "empty.csv: refused: The file is empty." in out
    assert "missing.csv: refused" in out
    code, out = _run(tmp_path, "show")
    assert code == 0 and "No statistics imported yet." in out


def test_show_text(tmp_path: Path) -> None:
    f = tmp_path / "p.csv"
    f.write_text("title,author,listeners,streams,date_added\nChill Mix,Spotify,5,1234,2024-02-01\n")
    assert _run(tmp_path, "import", str(f), "--as-of", "2025-01-31")[0] == 0
    _code, out = _run(tmp_path, "show")
    assert "playlist: Chill Mix (period totals)" in out
    assert "streams: 2025-01-31 to 2025-01-31, 1 days, total 1,234, latest 1,234" in out


def test_help_lists_the_mapping_syntax() -> None:
    result = CliRunner().invoke(stats, ["import", "--help"])
    assert "kind=song,date=Day" in result.output


def test_forecast_a_stored_series(tmp_path: Path) -> None:
    import csv as _csv
    import math
    from datetime import date, timedelta

    from click.testing import CliRunner

    from app.stats_cli import stats

    path = tmp_path / "audience.csv"
    with open(path, "w", encoding="utf-8", newline="") as out:
        writer = _csv.writer(out)
        writer.writerow(["date", "streams"])
        for i in range(120):
            value = round(500 * (1 + 0.2 * math.sin(2 * math.pi * i / 7)))
            writer.writerow([(date(2025, 1, 1) + timedelta(days=i)).isoformat(), value])
    runner = CliRunner()
    assert runner.invoke(stats, ["import", str(path)]).exit_code == 0
    result = runner.invoke(stats, ["forecast", "--days", "14", "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    days = data["days"]
    assert len(days) == 14 and days[0]["date"] == "2025-05-01"
    assert all(d["lower80"] <= d["point"] <= d["upper80"] for d in days)
    assert data["model"] in {b["model"] for b in data["backtest"]}
    result = runner.invoke(stats, ["forecast", "--kind", "song", "--name", "nothing"])
    assert result.exit_code == 1 and "import an export first" in result.output
