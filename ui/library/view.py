"""The Library room: add files and folders, watch them being analysed, sort and filter the
table, and look at one track in detail.

Threads: everything here runs on the main thread. :class:`app.library.Library` analyses on its
own worker; :attr:`LibraryRoom.timer` polls it at :data:`REFRESH_HZ` while it is busy (and stops
when it is idle) and reloads the table whenever the stored tracks changed. Keys: Ctrl+O adds
files; Delete removes the selected tracks from the library (never from the disk). Files and
folders dropped on the room are added too.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QItemSelectionModel, Qt, QTimer, QUrl, Signal
from PySide6.QtGui import QAction, QDragEnterEvent, QDropEvent, QKeySequence
from PySide6.QtWidgets import (
    QAbstractItemView,
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QProgressBar,
    QPushButton,
    QScrollArea,
    QSplitter,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from app.analyze_cli import AUDIO_SUFFIXES
from app.i18n import _, ngettext
from app.library import Library, Progress, Track, compatible
from ui.library.detail import MixList, ReadinessPanel, TrackOverview
from ui.library.model import BPM, FILE, TRACK_ID_ROLE, TrackFilter, TrackTableModel
from ui.live.common import muted

if TYPE_CHECKING:
    from ui.main_window import MainWindow

REFRESH_HZ = 10
FILE_COLUMN_WIDTH = 190
PROGRESS_STEPS = 1000


def progress_text(progress: Progress) -> str:
    if progress.total <= 0 or not progress.current:
        return _("Looking for audio files…")
    return _("{done} of {total} · {file}").format(
        done=min(progress.done + 1, progress.total), total=progress.total, file=progress.current
    )


def local_paths(urls: Iterable[QUrl]) -> list[Path]:
    return [Path(url.toLocalFile()) for url in urls if url.isLocalFile()]


class LibraryRoom(QWidget):
    message = Signal(str)  # for the status bar

    def __init__(self, library: Library) -> None:
        super().__init__()
        self.setObjectName("library-view")
        self.library = library
        self._revision = -1
        self._closed = False
        self._shown: Track | None = None
        self.file_dialog: QFileDialog | None = None

        self.add_files_button = QPushButton(_("Add files…"))
        self.add_files_button.setObjectName("library-add-files")
        self.add_files_button.clicked.connect(self.ask_files)
        self.add_folder_button = QPushButton(_("Add folder…"))
        self.add_folder_button.setObjectName("library-add-folder")
        self.add_folder_button.clicked.connect(self.ask_folder)
        self.cancel_button = QPushButton(_("Cancel analysis"))
        self.cancel_button.setObjectName("library-cancel")
        self.cancel_button.clicked.connect(self.cancel)
        self.progress = QProgressBar()
        self.progress.setObjectName("library-progress")
        self.progress.setRange(0, PROGRESS_STEPS)
        self.progress.setTextVisible(True)
        self.progress.setMinimumWidth(260)
        self.filter_box = QLineEdit()
        self.filter_box.setObjectName("library-filter")
        self.filter_box.setPlaceholderText(_("Filter by name, key, Camelot…"))
        self.filter_box.setClearButtonEnabled(True)
        self.filter_box.setMaximumWidth(280)
        self.filter_box.textChanged.connect(self.set_filter)
        strip = QHBoxLayout()
        strip.addWidget(self.add_files_button)
        strip.addWidget(self.add_folder_button)
        strip.addWidget(self.cancel_button)
        strip.addWidget(self.progress, 1)
        strip.addStretch(0)
        strip.addWidget(self.filter_box)

        self.model = TrackTableModel()
        self.proxy = TrackFilter()
        self.proxy.setSourceModel(self.model)
        self.table = QTableView()
        self.table.setObjectName("library-table")
        self.table.setModel(self.proxy)
        self.table.setSortingEnabled(True)
        self.table.sortByColumn(FILE, Qt.SortOrder.AscendingOrder)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.table.setAlternatingRowColors(True)
        self.table.setWordWrap(False)
        self.table.verticalHeader().setVisible(False)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(FILE, QHeaderView.ResizeMode.Interactive)
        header.resizeSection(FILE, FILE_COLUMN_WIDTH)
        header.setStretchLastSection(False)
        selection = self.table.selectionModel()
        selection.currentRowChanged.connect(lambda _now, _before: self._show_current())
        selection.selectionChanged.connect(lambda _new, _old: self._show_current())
        self.empty_label = muted(
            QLabel(
                _(
                    "Drop audio files or folders here, or add them with the buttons above "
                    "(Ctrl+O). Hookline analyses tempo, key, loudness and chords and keeps the "
                    "results."
                )
            )
        )
        self.empty_label.setObjectName("library-empty")
        self.empty_label.setWordWrap(True)
        left = QWidget()
        left_layout = QVBoxLayout(left)
        left_layout.setContentsMargins(0, 0, 0, 0)
        left_layout.addWidget(self.empty_label)
        left_layout.addWidget(self.table, 1)

        self.overview = TrackOverview()
        self.mixes = MixList()
        self.mixes.track_chosen.connect(self.select_track)
        self.readiness = ReadinessPanel()
        detail = QWidget()
        detail.setObjectName("library-detail")
        detail_layout = QVBoxLayout(detail)
        detail_layout.setContentsMargins(0, 0, 0, 0)
        detail_layout.addWidget(self.overview)
        detail_layout.addWidget(self.mixes, 1)
        detail_layout.addWidget(self.readiness, 2)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QScrollArea.Shape.NoFrame)
        scroll.setWidget(detail)
        scroll.setMinimumWidth(380)

        self.splitter = QSplitter(Qt.Orientation.Horizontal)
        self.splitter.addWidget(left)
        self.splitter.addWidget(scroll)
        self.splitter.setStretchFactor(0, 3)
        self.splitter.setStretchFactor(1, 2)
        self.splitter.setSizes([700, 480])
        layout = QVBoxLayout(self)
        layout.addLayout(strip)
        layout.addWidget(self.splitter, 1)

        self.add_files_action = QAction(_("Add files…"), self)
        self.add_files_action.setShortcut(QKeySequence(QKeySequence.StandardKey.Open))
        self.add_files_action.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
        self.add_files_action.triggered.connect(self.ask_files)
        self.addAction(self.add_files_action)
        self.remove_action = QAction(_("Remove from the library"), self)
        self.remove_action.setShortcut(QKeySequence(QKeySequence.StandardKey.Delete))
        self.remove_action.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        self.remove_action.triggered.connect(self.remove_selected)
        self.table.addAction(self.remove_action)
        self.table.setContextMenuPolicy(Qt.ContextMenuPolicy.ActionsContextMenu)

        self.setAcceptDrops(True)
        self.timer = QTimer(self)
        self.timer.setInterval(1000 // REFRESH_HZ)
        self.timer.timeout.connect(self._tick)
        self._tick()

    # -- what the user does ---------------------------------------------------------------------

    def add(self, paths: Iterable[Path | str]) -> int:
        if self._closed:
            return 0
        count = self.library.add_paths(paths)
        if count:
            self.timer.start()
            self._tick()
        return count

    def ask_files(self) -> QFileDialog:
        dialog = QFileDialog(self, _("Add audio files to the library"))
        dialog.setFileMode(QFileDialog.FileMode.ExistingFiles)
        patterns = " ".join(f"*{suffix}" for suffix in sorted(AUDIO_SUFFIXES))
        dialog.setNameFilters(
            [_("Audio files ({patterns})").format(patterns=patterns), _("All files (*)")]
        )
        dialog.filesSelected.connect(lambda files: self.add(files))
        dialog.open()
        self.file_dialog = dialog
        return dialog

    def ask_folder(self) -> QFileDialog:
        dialog = QFileDialog(self, _("Add a folder to the library"))
        dialog.setFileMode(QFileDialog.FileMode.Directory)
        dialog.setOption(QFileDialog.Option.ShowDirsOnly, True)
        dialog.fileSelected.connect(lambda folder: self.add([folder]))
        dialog.open()
        self.file_dialog = dialog
        return dialog

    def cancel(self) -> None:
        self.library.cancel()
        self._tick()

    def set_filter(self, text: str) -> None:
        self.proxy.setFilterFixedString(text.strip())

    def selected_tracks(self) -> list[Track]:
        tracks = []
        for index in self.table.selectionModel().selectedRows():
            track = self.model.track(self.proxy.mapToSource(index).row())
            if track is not None:
                tracks.append(track)
        return tracks

    def current_track(self) -> Track | None:
        """The track whose details show: the current row, else the first selected one."""
        index = self.table.currentIndex()
        if not index.isValid() or not self.table.selectionModel().isRowSelected(index.row()):
            rows = self.table.selectionModel().selectedRows()
            if not rows:
                return None
            index = rows[0]
        return self.model.track(self.proxy.mapToSource(index).row())

    def remove_selected(self) -> int:
        tracks = self.selected_tracks()
        if not tracks:
            return 0
        count = self.library.remove([t.id for t in tracks])
        self.message.emit(
            ngettext(
                "{count} track removed from the library (the file stays on disk)",
                "{count} tracks removed from the library (the files stay on disk)",
                count,
            ).format(count=count)
        )
        self._tick()
        return count

    def select_track(self, track_id: int) -> bool:
        row = self.model.row_of(track_id)
        if row < 0:
            return False
        index = self.proxy.mapFromSource(self.model.index(row, 0))
        if not index.isValid():  # filtered out: show everything again
            self.filter_box.clear()
            index = self.proxy.mapFromSource(self.model.index(row, 0))
        self.table.selectionModel().setCurrentIndex(
            index,
            QItemSelectionModel.SelectionFlag.ClearAndSelect
            | QItemSelectionModel.SelectionFlag.Rows,
        )
        self.table.scrollTo(index)
        return True

    def sort_by_bpm(self, order: Qt.SortOrder = Qt.SortOrder.AscendingOrder) -> None:
        self.table.sortByColumn(BPM, order)

    def shutdown(self) -> None:
        self._closed = True
        self.timer.stop()
        self.library.close()

    # -- drag and drop --------------------------------------------------------------------------

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        if local_paths(event.mimeData().urls()):
            event.acceptProposedAction()
        else:
            event.ignore()

    def dropEvent(self, event: QDropEvent) -> None:
        paths = local_paths(event.mimeData().urls())
        if paths:
            self.add(paths)
            event.acceptProposedAction()

    # -- the display timer ----------------------------------------------------------------------

    def _tick(self) -> None:
        poll = self.library.poll()
        for text in poll.messages:
            self.message.emit(text)
        progress = poll.progress
        self.cancel_button.setEnabled(progress.busy)
        self.progress.setVisible(progress.busy)
        if progress.busy:
            self.progress.setValue(int(progress.overall * PROGRESS_STEPS))
            self.progress.setFormat(progress_text(progress))
        if poll.revision != self._revision:
            self._revision = poll.revision
            self._reload()
        if not progress.busy and not poll.messages:
            self.timer.stop()

    def _reload(self) -> None:
        current = self.current_track()
        selected = {t.id for t in self.selected_tracks()}
        self.model.set_tracks(self.library.tracks())
        self.empty_label.setVisible(self.model.rowCount() == 0)
        selection = self.table.selectionModel()
        for row in range(self.model.rowCount()):
            track = self.model.track(row)
            if track is not None and track.id in selected:
                index = self.proxy.mapFromSource(self.model.index(row, 0))
                selection.select(
                    index,
                    QItemSelectionModel.SelectionFlag.Select
                    | QItemSelectionModel.SelectionFlag.Rows,
                )
        if current is not None and self.model.row_of(current.id) >= 0:
            row = self.model.row_of(current.id)
            index = self.proxy.mapFromSource(self.model.index(row, 0))
            selection.setCurrentIndex(index, QItemSelectionModel.SelectionFlag.NoUpdate)
        self._show_current()

    def _show_current(self) -> None:
        track = self.current_track()
        if track is self._shown and track is not None:
            return  # both selection signals fire for one click
        self._shown = track
        self.overview.show_track(track)
        if track is None:
            self.mixes.show_matches(None, [])
            self.readiness.show_checks([])
            return
        self.mixes.show_matches(track, compatible(track, self.model.tracks))
        self.readiness.show_checks(self.library.readiness(track))

    def track_id_at(self, proxy_row: int) -> int | None:
        value = self.proxy.index(proxy_row, 0).data(TRACK_ID_ROLE)
        return value if isinstance(value, int) else None


def install_library_view(window: MainWindow) -> LibraryRoom:
    """Fill ``window``'s Library room, wired to its status bar and closing with it."""
    room = LibraryRoom(Library(window.context.database))
    window.set_room_widget("library", room)
    room.message.connect(lambda text: window.statusBar().showMessage(text, 8000))
    window.closed.connect(room.shutdown)
    return room
