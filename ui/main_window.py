"""The main window: six rooms as tabs, the menus, and the status bar.

Why tabs and not docks: the rooms are whole workspaces a producer switches between (Ctrl+1..6),
one at a time on a laptop screen beside the DAW; tabs keep that switch obvious, flip correctly
for right-to-left languages and cost nothing to learn. Tools that belong beside every room
(a tuner strip, say) can still arrive as docks: the window state saved on exit includes them.

Public API for later features:

* ``room(key) -> QWidget`` and ``set_room_widget(key, widget)`` with keys from
  :data:`ui.rooms.ROOM_KEYS` ("live", "harmony", "create", "library", "stats", "team");
  ``show_room(key)``, ``current_room()``.
* ``status`` (:class:`ui.status_bar.HooklineStatusBar`): ``set_dropouts(n)``,
  ``set_midi_input(port)``, ``set_audio_input(device, demo)``, ``set_project(name)``.
* ``project``: the open :class:`app.projects.Project` or ``None``; ``create_project(name)``,
  ``open_project(project_id)``, ``close_project()``.
* Signals ``settings_changed(list[str])`` (keys saved by the settings dialog),
  ``project_created(object)`` (the new Project), ``project_changed(object)`` (the current
  project or None), ``project_closing(object)`` (before it closes) and ``closed()``.
"""

from __future__ import annotations

import logging
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QAction, QActionGroup, QCloseEvent, QKeySequence
from PySide6.QtWidgets import (
    QApplication,
    QInputDialog,
    QLineEdit,
    QMainWindow,
    QMessageBox,
    QTabWidget,
    QWidget,
)

from app import hardware
from app.context import AppContext
from app.i18n import _
from app.projects import Project, ProjectError
from ui.about import AboutDialog
from ui.messages import show_message
from ui.qt_language import layout_direction
from ui.rooms import ROOM_KEYS, ROOMS, ROOMS_BY_KEY, RoomPlaceholder
from ui.settings_dialog import SettingsDialog
from ui.shortcuts_dialog import ShortcutsDialog
from ui.status_bar import HooklineStatusBar
from ui.theme import apply_theme
from ui.window_state import WindowState, to_bytes, to_qbytearray

log = logging.getLogger(__name__)


class MainWindow(QMainWindow):
    settings_changed = Signal(list)
    room_shown = Signal(str)  # the key of the room that just became the current one
    project_created = Signal(object)
    project_changed = Signal(object)  # the current project, or None once it is closed
    project_closing = Signal(object)  # the project about to close: last chance to write to it
    closed = Signal()

    def __init__(self, context: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.context = context
        self.project: Project | None = None
        self.dialogs: dict[str, QWidget] = {}  # the last dialog of each kind, for tests
        self.setObjectName("hookline-main-window")
        self.setLayoutDirection(layout_direction())
        self.setMinimumSize(720, 480)
        self.resize(1100, 700)

        self.tabs = QTabWidget()
        self.tabs.setDocumentMode(True)
        self.tabs.setObjectName("rooms")
        self.setCentralWidget(self.tabs)
        self.status = HooklineStatusBar()
        self.setStatusBar(self.status)
        self.actions_by_name: dict[str, QAction] = {}
        self._build_actions()
        for room in ROOMS:
            shortcut = self.actions_by_name[f"room.{room.key}"].shortcut()
            self.tabs.addTab(RoomPlaceholder(room, shortcut), _(room.title))
        self.tabs.currentChanged.connect(self._room_changed)
        self._build_menus()
        self._update_title()
        self.refresh_status()
        self._room_changed(0)

    # -- rooms ------------------------------------------------------------------------------

    def room(self, key: str) -> QWidget:
        """The widget that fills room ``key`` now."""
        widget = self.tabs.widget(ROOM_KEYS.index(key))
        assert widget is not None  # every room always has a widget
        return widget

    def set_room_widget(self, key: str, widget: QWidget) -> None:
        """Replace room ``key``'s content (its empty state at first) with ``widget``."""
        index = ROOM_KEYS.index(key)
        was_current = self.tabs.currentIndex() == index
        old = self.tabs.widget(index)
        self.tabs.blockSignals(True)
        self.tabs.removeTab(index)
        self.tabs.insertTab(index, widget, _(ROOMS_BY_KEY[key].title))
        self.tabs.blockSignals(False)
        if was_current:
            self.tabs.setCurrentIndex(index)
        if old is not None and old is not widget:
            old.deleteLater()

    def show_room(self, key: str) -> None:
        self.tabs.setCurrentIndex(ROOM_KEYS.index(key))

    def current_room(self) -> str:
        return ROOM_KEYS[self.tabs.currentIndex()]

    def _room_changed(self, index: int) -> None:
        if 0 <= index < len(ROOM_KEYS):
            self.actions_by_name[f"room.{ROOM_KEYS[index]}"].setChecked(True)
            self.room_shown.emit(ROOM_KEYS[index])

    # -- actions and menus ------------------------------------------------------------------

    def _action(
        self, name: str, text: str, slot: Any, shortcuts: list[QKeySequence] | None = None
    ) -> QAction:
        action = QAction(text, self)
        if shortcuts:
            unique = {k.toString(): k for k in shortcuts if not k.isEmpty()}
            action.setShortcuts(list(unique.values()))
        action.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
        action.triggered.connect(slot)
        self.addAction(action)  # shortcuts work even with the menu bar hidden (full screen)
        self.actions_by_name[name] = action
        return action

    def _build_actions(self) -> None:
        key = QKeySequence
        self._action(
            "new_project", _("&New project…"), self.new_project, [key(key.StandardKey.New)]
        )
        self._action("quit", _("&Quit"), self.close, [key("Ctrl+Q")])
        self._action(
            "settings",
            _("&Settings…"),
            self.open_settings,
            [key("Ctrl+,"), *key.keyBindings(key.StandardKey.Preferences)],
        )
        group = QActionGroup(self)
        group.setExclusive(True)
        for number, room in enumerate(ROOMS, start=1):
            action = self._action(
                f"room.{room.key}",
                _(room.title),
                lambda _checked=False, k=room.key: self.show_room(k),
                [key(f"Ctrl+{number}")],
            )
            action.setCheckable(True)
            group.addAction(action)
        full = self._action("full_screen", _("&Full screen"), self.toggle_full_screen, [key("F11")])
        full.setCheckable(True)
        self._action("about", _("&About Hookline"), self.show_about)
        self._action("shortcuts", _("&Keyboard shortcuts"), self.show_shortcuts, [key("F1")])

    def _build_menus(self) -> None:
        a = self.actions_by_name
        bar = self.menuBar()
        file_menu = bar.addMenu(_("&File"))
        file_menu.addAction(a["new_project"])
        file_menu.addSeparator()
        file_menu.addAction(a["quit"])
        bar.addMenu(_("&Edit")).addAction(a["settings"])
        view_menu = bar.addMenu(_("&View"))
        for room in ROOMS:
            view_menu.addAction(a[f"room.{room.key}"])
        view_menu.addSeparator()
        view_menu.addAction(a["full_screen"])
        help_menu = bar.addMenu(_("&Help"))
        help_menu.addAction(a["shortcuts"])
        help_menu.addAction(a["about"])

    def toggle_full_screen(self) -> None:
        if self.isFullScreen():
            self.showNormal()
        else:
            self.showFullScreen()
        self.actions_by_name["full_screen"].setChecked(self.isFullScreen())

    # -- status and messages ----------------------------------------------------------------

    def refresh_status(self) -> None:
        """Show the audio input and MIDI port the settings name."""
        settings = self.context.settings
        device = str(settings.get("audio.input_device"))
        self.status.set_audio_input(device, hardware.uses_demo_input(device))
        self.status.set_midi_input(str(settings.get("midi.input_port")))

    def show_warnings(self, warnings: list[str]) -> QMessageBox | None:
        """Tell the user about start-up problems (a damaged settings file...) without blocking."""
        if not warnings:
            return None
        self.status.showMessage(" ".join(warnings))
        box = show_message(self, QMessageBox.Icon.Warning, _("Hookline"), "\n\n".join(warnings))
        self.dialogs["warnings"] = box
        return box

    def _update_title(self) -> None:
        name = self.project.name if self.project is not None else None
        if name:
            self.setWindowTitle(_("{project} — Hookline").format(project=name))
        else:
            self.setWindowTitle("Hookline")
        self.status.set_project(name)

    # -- projects ---------------------------------------------------------------------------

    def new_project(self) -> QInputDialog:
        """Ask for a name (without blocking); :meth:`create_project` runs when confirmed."""
        dialog = QInputDialog(self)
        dialog.setWindowTitle(_("New project"))
        dialog.setLabelText(_("Name of the song:"))
        dialog.setTextEchoMode(QLineEdit.EchoMode.Normal)
        dialog.setOkButtonText(_("Create project"))
        dialog.setLayoutDirection(layout_direction())
        dialog.textValueSelected.connect(self.create_project)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.open()
        self.dialogs["new_project"] = dialog
        return dialog

    def create_project(self, name: str) -> Project | None:
        """Create a project through the project store and make it the current one.

        The store checks the name; its message is shown when it refuses."""
        try:
            project = self.context.projects.create(name)
        except ProjectError as exc:
            log.warning("could not create a project: %s", exc)
            self.status.showMessage(str(exc), 10000)
            self.dialogs["error"] = show_message(
                self, QMessageBox.Icon.Warning, _("New project"), str(exc)
            )
            return None
        self.close_project()
        self.project = project
        self._update_title()
        self.status.showMessage(_("Created the project “{name}”.").format(name=project.name), 8000)
        self.project_created.emit(project)
        self.project_changed.emit(project)
        return project

    def open_project(self, project_id: str) -> Project | None:
        """Open a stored project (a team project just joined, for one) as the current one;
        the store's message is shown when it cannot be opened."""
        if self.project is not None and self.project.id == project_id:
            return self.project
        try:
            project = self.context.projects.open(project_id)
        except ProjectError as exc:
            log.warning("could not open project %s: %s", project_id, exc)
            self.status.showMessage(str(exc), 10000)
            return None
        self.close_project()
        self.project = project
        self._update_title()
        self.status.showMessage(_("Opened the project “{name}”.").format(name=project.name), 8000)
        self.project_changed.emit(project)
        return project

    def close_project(self) -> None:
        """Close the current project (its last changes are saved)."""
        if self.project is None:
            return
        self.project_closing.emit(self.project)
        try:
            self.project.close()
        except ProjectError:
            log.exception("could not save project %s while closing it", self.project.id)
        self.project = None
        self._update_title()
        self.project_changed.emit(None)

    # -- dialogs ----------------------------------------------------------------------------

    def open_settings(self) -> SettingsDialog:
        dialog = SettingsDialog(self.context.settings, self)
        dialog.accepted.connect(lambda: self._settings_accepted(dialog))
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.open()  # window-modal, but returns at once: the event loop keeps running
        self.dialogs["settings"] = dialog
        return dialog

    def _settings_accepted(self, dialog: SettingsDialog) -> None:
        changed = dialog.changed_keys
        if "ui.theme" in changed:
            app = QApplication.instance()
            if isinstance(app, QApplication):
                apply_theme(app, str(self.context.settings.get("ui.theme")))
        self.refresh_status()
        if "ui.language" in changed:
            self.status.showMessage(_("The new language applies the next time you start Hookline."))
        elif changed:
            self.status.showMessage(_("Settings saved."), 5000)
        if changed:
            self.settings_changed.emit(changed)

    def show_about(self) -> AboutDialog:
        dialog = AboutDialog(self.context.paths, self)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.show()
        self.dialogs["about"] = dialog
        return dialog

    def show_shortcuts(self) -> ShortcutsDialog:
        dialog = ShortcutsDialog(self.actions_by_name.values(), self)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.show()
        self.dialogs["shortcuts"] = dialog
        return dialog

    # -- window state -----------------------------------------------------------------------

    def window_state(self) -> WindowState:
        return WindowState(
            to_bytes(self.saveGeometry()), to_bytes(self.saveState()), self.current_room()
        )

    def restore_window_state(self, text: str) -> None:
        state = WindowState.decode(text)
        if state is None:
            return
        if state.geometry:
            self.restoreGeometry(to_qbytearray(state.geometry))
        if state.dock_state:
            self.restoreState(to_qbytearray(state.dock_state))
        if state.room in ROOM_KEYS:
            self.show_room(state.room)

    def save_window_state(self) -> None:
        """Keep the window's size, layout and room in the settings file."""
        settings = self.context.settings
        try:
            settings.set("ui.window_state", self.window_state().encode())
            settings.save()
        except (OSError, ValueError):
            log.exception("could not save the window state")

    def closeEvent(self, event: QCloseEvent) -> None:
        self.save_window_state()
        self.close_project()
        super().closeEvent(event)
        self.closed.emit()
