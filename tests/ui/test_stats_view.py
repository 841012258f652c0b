"""The Stats room with a real database: import exports in a worker (the event loop keeps
ticking), the mapping dialog for an unknown layout, the timeline, a forecast with its
backtested error, and the exports; the song and playlist tables (sorting, filter, Ctrl+F, a row
choosing the timeline), release markers and the day-of-week chart. Screenshots:
``tests/artifacts/screenshots/stats.png``, ``stats_songs.png``, ``stats_markers.png``,
``stats_playlists.png``."""

from __future__ import annotations

import csv
import gc
import math
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from PySide6.QtCore import QCoreApplication, QEvent, Qt, QTimer
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from app.context import AppContext
from app.spotify.store import Item, Snapshot, SpotifyStore
from app.spotify.sync import SyncReport
from tests.ui.conftest import save_screenshot
from ui.main_window import MainWindow
from ui.stats import StatsRoom, install_stats_view
from ui.stats.markers import marker_text, marker_tip
from ui.stats.view import _epoch


@pytest.fixture(autouse=True)
def release_widgets(qapp: QApplication) -> Iterator[None]:
    yield
    QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
    gc.collect()


def _audience(path: Path, days: int = 400) -> Path:
    start = date(2025, 1, 1)
    with open(path, "w", encoding="utf-8", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(["date", "listeners", "streams", "followers"])
        for i in range(days):
            weekly = 1.0 + 0.3 * math.sin(2 * math.pi * i / 7)
            streams = round((800 + 2 * i) * weekly)
            writer.writerow([(start + timedelta(days=i)).isoformat(), streams // 2, streams,
                             1000 + i])  # fmt: skip
    return path


def _open(qtbot: QtBot, context: AppContext) -> tuple[MainWindow, StatsRoom]:
    window = MainWindow(context)
    qtbot.addWidget(window)
    room = install_stats_view(window)
    window.show_room("stats")
    window.resize(1280, 800)
    window.show()
    qtbot.waitExposed(window)
    return window, room


def test_import_chart_forecast_and_export(
    qtbot: QtBot, context: AppContext, tmp_path: Path
) -> None:
    window, room = _open(qtbot, context)
    assert room.empty.isVisible() and not room.forecast_button.isEnabled()
    ticks: list[int] = []
    timer = QTimer()
    timer.timeout.connect(lambda: ticks.append(1))
    timer.start(10)
    room.import_files([_audience(tmp_path / "audience.csv")])
    qtbot.waitUntil(room.idle, timeout=20000)
    assert ticks, "the event loop stood still during the import"
    assert room.series.count() == 1 and room.table.rowCount() == 3
    metrics = [room.metric_picker.itemData(i) for i in range(room.metric_picker.count())]
    assert set(metrics) == {"listeners", "streams", "followers"}
    room.metric_picker.setCurrentIndex(metrics.index("streams"))
    x, y = room.curve.xData, room.curve.yData  # all of it (the view draws a downsampled copy)
    assert x is not None and y is not None
    assert len(x) == 400 and y[0] == pytest.approx(800, abs=1)

    room.days.setCurrentIndex(0)  # 30 days
    room.start_forecast()
    qtbot.waitUntil(lambda: room.forecast is not None, timeout=30000)
    assert len(room.forecast.point) == 30
    assert "wMAPE" in room.forecast_label.text()
    fx, fy = room.fc_curve.xData, room.fc_curve.yData
    assert fx is not None and fy is not None
    assert len(fx) == 30 and all(v >= 0 for v in fy)
    save_screenshot(window, "stats")

    png = tmp_path / "chart.png"
    assert room.export_png(png) and png.stat().st_size > 1000
    out = tmp_path / "series.csv"
    room.export_csv(out)
    rows = list(csv.reader(out.open(encoding="utf-8")))
    assert rows[0] == ["date", "kind", "name", "metric", "value"] and len(rows) == 401
    timer.stop()
    window.close()


def test_an_unknown_layout_asks_for_the_columns(
    qtbot: QtBot, context: AppContext, tmp_path: Path
) -> None:
    window, room = _open(qtbot, context)
    odd = tmp_path / "odd.csv"
    odd.write_text("Wann;Wie viele\n01.03.2025;12\n02.03.2025;=cmd|' /C calc'!A0\n", "utf-8")
    room.import_files([odd])
    qtbot.waitUntil(room.idle, timeout=10000)
    dialog = room.mapping_dialog
    assert dialog.isVisible() and len(dialog.roles) == 2
    dialog.kind.setCurrentIndex(dialog.kind.findData("audience"))
    dialog.roles[0].setCurrentIndex(dialog.roles[0].findData("date"))
    dialog.roles[1].setCurrentIndex(dialog.roles[1].findData("streams"))
    dialog._accept()
    qtbot.waitUntil(lambda: room.idle() and room.series.count() == 1, timeout=10000)
    report = room.last_reports[0]
    assert report.status == "imported" and report.values_added == 1 and report.rows_rejected == 1
    window.close()


def test_a_short_series_says_why_there_is_no_forecast(
    qtbot: QtBot, context: AppContext, tmp_path: Path
) -> None:
    window, room = _open(qtbot, context)
    room.import_files([_audience(tmp_path / "short.csv", days=10)])
    qtbot.waitUntil(room.idle, timeout=10000)
    room.start_forecast()
    qtbot.waitUntil(room.idle, timeout=10000)
    assert room.forecast is None and "No forecast" in room.forecast_label.text()
    window.close()


SONGS = ["Night Drive 🌙", "Ночь & نور", "Zephyr", "Glass Hearts"]
RELEASED = {"Night Drive 🌙": "2025-03-07", "Ночь & نور": "2025-03-07", "Zephyr": "2025-06-20",
            "Glass Hearts": "2025-10-03"}  # fmt: skip


def _catalogue(tmp_path: Path, days: int = 400) -> list[Path]:
    """An audience timeline with 20 % more streams on Fridays and steady growth, daily song
    timelines, a songs export with release dates (two songs on one day), a playlists export."""
    start = date(2025, 1, 1)
    audience, timeline = tmp_path / "audience.csv", tmp_path / "songs-daily.csv"
    with open(audience, "w", encoding="utf-8") as a, open(timeline, "w", encoding="utf-8") as t:
        a.write("date,listeners,streams,followers\n")
        t.write("date,song,streams\n")
        for i in range(days):
            day = start + timedelta(days=i)
            streams = round((1000 + 5 * i) * (1.2 if day.weekday() == 4 else 1.0))
            a.write(f"{day},{streams // 3},{streams},{200 + i}\n")
            for n, song in enumerate(SONGS):
                if day.isoformat() >= RELEASED[song]:
                    t.write(f"{day},{song},{(n + 1) * 10 + i % 7}\n")
    songs = tmp_path / "songs.csv"
    facts = [f"{s},QZES7250{n:04d},{100 * (n + 1)},1,{n},{RELEASED[s]}\n"
             for n, s in enumerate(SONGS)]  # fmt: skip
    songs.write_text("song,isrc,listeners,streams,saves,release_date\n" + "".join(facts), "utf-8")
    playlists = tmp_path / "playlists.csv"
    playlists.write_text(
        "playlist,author,listeners,streams,date_added\n"
        "Late Night Lo-Fi,Spotify,900,4000,2025-11-01\n"
        "Ruhige Sonntage,Marta Weiß,40,120,2025-12-24\n",
        encoding="utf-8",
    )
    return [audience, timeline, songs, playlists]


def _song_total(song: str, days: int = 400) -> int:
    """What _catalogue wrote for ``song``, summed independently of the store."""
    n, start = SONGS.index(song), date(2025, 1, 1)
    return sum((n + 1) * 10 + i % 7 for i in range(days)
               if (start + timedelta(days=i)).isoformat() >= RELEASED[song])  # fmt: skip


def _titles(panel: object) -> list[str]:
    from ui.stats.entities import ENTITY_ROLE, EntityPanel

    assert isinstance(panel, EntityPanel)
    proxy = panel.proxy
    return [str(proxy.index(r, 0).data(ENTITY_ROLE)) for r in range(proxy.rowCount())]


def test_song_and_playlist_tables_markers_and_weekdays(
    qtbot: QtBot, context: AppContext, tmp_path: Path
) -> None:
    window, room = _open(qtbot, context)
    assert room.songs.empty.isVisible() and not room.songs.view.isVisible()
    assert "Import a Spotify for Artists songs export" in room.songs.empty.text()
    room.import_files(_catalogue(tmp_path))
    qtbot.waitUntil(room.idle, timeout=20000)
    assert not room.songs.empty.isVisible() and room.songs.view.isVisible()

    # the songs table: largest total first; any column sorts; the filter reads names and ISRCs
    assert _titles(room.songs) == sorted(SONGS, key=_song_total, reverse=True)
    room.songs.view.sortByColumn(0, Qt.SortOrder.AscendingOrder)
    everything = ["Glass Hearts", "Night Drive 🌙", "Zephyr", "Ночь & نور"]
    assert _titles(room.songs) == everything
    needles = [("night", ["Night Drive 🌙"]), ("🌙", ["Night Drive 🌙"]), ("نور", ["Ночь & نور"]),
               ("72500002", ["Zephyr"]), ("\x00\u202e", []), ("x" * 10_000, []),
               ("", everything)]  # fmt: skip
    for needle, expected in needles:
        room.songs.filter.setText(needle)
        assert _titles(room.songs) == expected, needle
    assert room.songs.count.text() == "4"
    room.songs.filter.setText("HEARTS")
    assert room.songs.count.text() == "1 of 4"
    room.songs.filter.clear()
    model = room.songs.model
    glass = next(r for r in model.rows if r.entity == "Glass Hearts")
    assert glass.streams_total == _song_total("Glass Hearts")
    assert glass.streams_recent == sum(40 + i % 7 for i in range(400 - 28, 400))
    assert glass.release_date == date(2025, 10, 3) and glass.isrc == "QZES72500003"

    # choosing a row shows that song's daily timeline
    row = _titles(room.songs).index("Zephyr")
    room.songs.view.selectRow(row)
    assert room.current_key() == ("song", "Zephyr", "daily")
    x = room.curve.xData
    assert (
        x is not None and len(x) == (date(2025, 1, 1) + timedelta(399) - date(2025, 6, 20)).days + 1
    )

    # Ctrl+F from anywhere in the room reaches the filter of the table on show
    room.tabs.setCurrentWidget(room.table)
    window.activateWindow()
    room.series.setFocus()
    qtbot.waitUntil(lambda: room.series.hasFocus(), timeout=3000)
    qtbot.keyClick(room.series, Qt.Key.Key_F, Qt.KeyboardModifier.ControlModifier)
    assert room.tabs.currentWidget() is room.songs and room.songs.filter.hasFocus()

    # playlists
    assert _titles(room.playlists) == ["Late Night Lo-Fi", "Ruhige Sonntage"]
    lofi = room.playlists.model.rows[0]
    assert lofi.author == "Spotify" and lofi.streams_total == 4000

    # the day-of-week pattern of the audience's streams: Fridays 20 % over the other days
    room.series.setCurrentIndex(room.find_series(("audience", "", "daily")))
    room.metric_picker.setCurrentIndex(room.metric_picker.findData("streams"))
    pattern = room.weekday.pattern
    assert pattern is not None and pattern.vs_other_days[4] == pytest.approx(0.2, abs=0.002)
    assert "over 56 weeks" in room.weekday.caption.text()
    assert room.weekday.values[4].toPlainText().startswith("+20")

    # release markers: the days inside the view, two songs of one day on one line
    titles = [m.titles for m in room.markers.visible]
    assert titles == [("Night Drive 🌙", "Ночь & نور"), ("Zephyr",), ("Glass Hearts",)]
    first_label = room.markers.labels[0].toPlainText()
    assert first_label == "Night Drive 🌙 + 1 more"
    xs, _ys = room.markers.lines.getData()
    assert xs is not None and len(xs) == 2 * 3
    save_screenshot(window, "stats_songs")

    item = room.plot.getPlotItem()
    item.setXRange(_epoch(date(2025, 5, 1)), _epoch(date(2025, 8, 1)), padding=0)
    assert [m.titles for m in room.markers.visible] == [("Zephyr",)]
    save_screenshot(room.plot, "stats_markers")
    room.releases_box.setChecked(False)
    xs, _ys = room.markers.lines.getData()
    assert room.markers.visible == [] and (xs is None or len(xs) == 0)
    assert not any(label.isVisible() for label in room.markers.labels)
    room.releases_box.setChecked(True)
    assert [m.titles for m in room.markers.visible] == [("Zephyr",)]

    room.tabs.setCurrentWidget(room.playlists)
    save_screenshot(window, "stats_playlists")
    window.close()


def test_a_period_series_says_it_has_no_weekly_pattern(
    qtbot: QtBot, context: AppContext, tmp_path: Path
) -> None:
    window, room = _open(qtbot, context)
    assert room.weekday.pattern is None and room.weekday.caption.text()
    songs = tmp_path / "songs.csv"
    songs.write_text("song,streams,release_date\nOnly Song,5,2025-01-01\n", encoding="utf-8")
    room.import_files([songs])
    qtbot.waitUntil(lambda: room.idle() and room.series.count() == 1, timeout=10000)
    assert room.current_key() == ("song", "Only Song", "period")
    assert room.weekday.pattern is None and "not daily" in room.weekday.caption.text()
    assert not room.playlists.empty.isHidden() and room.playlists.view.isHidden()
    assert room.songs.empty.isHidden() and room.songs.view.isVisible()
    window.close()


def test_releases_from_spotify_join_the_timeline_after_a_sync(
    qtbot: QtBot, context: AppContext, tmp_path: Path
) -> None:
    """The artist's singles and albums from the latest Spotify snapshot (an artist whose track
    titles match the exports' songs) are drawn beside the exports' release days, marked as
    coming from Spotify; a followed colleague's releases are not; a finished scheduled sync
    reloads them. Screenshot: ``stats_spotify_releases.png``."""
    window, room = _open(qtbot, context)
    room.import_files(_catalogue(tmp_path))
    qtbot.waitUntil(room.idle, timeout=20000)
    me, colleague = "4Z8W4fKeB5YxbusRsdQVPb", "0OdUWJ0sBjDrqHygGUXeCF"
    snapshot = Snapshot(datetime(2026, 1, 2, tzinfo=UTC), "me", "Marta", "development",
                        "complete")  # fmt: skip
    snapshot.items += [
        Item("artist", me, "Marta"),
        Item("artist", colleague, "A colleague"),
        Item("album", "a1", "Zephyr", parent_id=me, details={"release_date": "2025-06-20"}),
        Item("album", "a2", "Winter Tapes", parent_id=me, details={"release_date": "2025-12-05"}),
        Item("album", "a3", "Demos", parent_id=me, details={"release_date": "2019"}),
        Item("album", "c1", "Theirs", parent_id=colleague, details={"release_date": "2025-08-01"}),
        Item("track", "t1", "Zephyr", parent_id="a1"),
        Item("track", "t2", "Glass Hearts", parent_id="a2"),
    ]
    snapshot_id = SpotifyStore(context.database).add(snapshot)
    # what the scheduled sync announces when it has stored a snapshot
    report = SyncReport("complete", "Updated.", snapshot_id, "development")
    room.spotify_panel.sync.finished.emit(report)  # type: ignore[attr-defined]
    qtbot.waitUntil(room.idle, timeout=20000)
    qtbot.waitUntil(lambda: len(room.markers.visible) == 4, timeout=5000)
    assert [(m.titles, m.on_spotify) for m in room.markers.visible] == [
        (("Night Drive 🌙", "Ночь & نور"), ()),
        (("Zephyr",), ()),  # the single is the export's song: said once
        (("Glass Hearts",), ()),
        ((), ("Winter Tapes",)),
    ]
    labels = [label.toPlainText() for label in room.markers.labels if label.isVisible()]
    # a day only Spotify knew says where it came from (shortened here: it is near the edge)
    assert any(t.startswith("Winter Tapes (on") for t in labels), labels
    assert marker_text(room.markers.visible[3]) == "Winter Tapes (on Spotify)"
    winter = room.markers.visible[3]
    assert "Winter Tapes (on Spotify)" in marker_tip(winter)
    save_screenshot(room.plot, "stats_spotify_releases")
    window.close()
