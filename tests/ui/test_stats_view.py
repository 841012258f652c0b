"""The Stats room with a real database: import exports in a worker (the event loop keeps
ticking), the mapping dialog for an unknown layout, the timeline, a forecast with its
backtested error, and the exports. Screenshot: ``tests/artifacts/screenshots/stats.png``."""

from __future__ import annotations

import csv
import gc
import math
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path

import pytest
from PySide6.QtCore import QCoreApplication, QEvent, QTimer
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from app.context import AppContext
from tests.ui.conftest import save_screenshot
from ui.main_window import MainWindow
from ui.stats import StatsRoom, install_stats_view


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
    qtbot.waitUntil(lambda: not room.busy, timeout=20000)
    assert ticks, "the event loop stood still during the import"
    assert room.series.count() == 1 and room.table.rowCount() == 3
    metrics = [room.metric.itemData(i) for i in range(room.metric.count())]
    assert set(metrics) == {"listeners", "streams", "followers"}
    room.metric.setCurrentIndex(metrics.index("streams"))
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
    qtbot.waitUntil(lambda: not room.busy, timeout=10000)
    dialog = room.mapping_dialog
    assert dialog.isVisible() and len(dialog.roles) == 2
    dialog.kind.setCurrentIndex(dialog.kind.findData("audience"))
    dialog.roles[0].setCurrentIndex(dialog.roles[0].findData("date"))
    dialog.roles[1].setCurrentIndex(dialog.roles[1].findData("streams"))
    dialog._accept()
    qtbot.waitUntil(lambda: not room.busy and room.series.count() == 1, timeout=10000)
    report = room.last_reports[0]
    assert report.status == "imported" and report.values_added == 1 and report.rows_rejected == 1
    window.close()


def test_a_short_series_says_why_there_is_no_forecast(
    qtbot: QtBot, context: AppContext, tmp_path: Path
) -> None:
    window, room = _open(qtbot, context)
    room.import_files([_audience(tmp_path / "short.csv", days=10)])
    qtbot.waitUntil(lambda: not room.busy, timeout=10000)
    room.start_forecast()
    qtbot.waitUntil(lambda: not room.busy, timeout=10000)
    assert room.forecast is None and "No forecast" in room.forecast_label.text()
    window.close()
