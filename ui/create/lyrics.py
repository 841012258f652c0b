"""The Create room's Lyrics pane: an editor bound to the project's lyrics, syllable counts and
rhyme-scheme letters in its margin, rhymes for the word under the cursor, line suggestions, and
the fit of the lines to the melody idea shown on the piano roll.

Binding: with a project open, the editor shows ``project.lyrics`` and writes every pause in
typing (:data:`SAVE_AFTER_MS`) back into it as one edit (the changed span only, so edits made
elsewhere at the same time merge); without one it keeps a draft file in the app's data folder.
Either way the text is on disk within half a second of the last key, and when the window
closes.

The rhyme panel follows the word under the cursor once it rests there. Keys:
``Ctrl+Shift+R`` rhymes for the word under the cursor (also while the index is still loading),
``Ctrl+Shift+Return`` suggests lines for the current line, ``Return`` on a rhyme or suggestion
puts it into the text.
"""

from __future__ import annotations

import logging
import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from PySide6.QtCore import QRect, QSize, Qt, QTimer, Signal
from PySide6.QtGui import QColor, QKeySequence, QPainter, QPaintEvent, QResizeEvent, QShortcut
from PySide6.QtWidgets import (
    QCheckBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPlainTextEdit,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from app.i18n import _, ngettext
from app.lyrics import LineFit, LyricsError, LyricsTools, Melody, SheetScan
from ui.live.common import Card, muted
from ui.theme import theme_colors

log = logging.getLogger(__name__)

SCAN_AFTER_MS = 250
SAVE_AFTER_MS = 500
FOLLOW_AFTER_MS = 400  # the rhyme panel follows the word under the cursor after this pause
LETTER_COLOURS = ("#e6a23c", "#67c23a", "#409eff", "#f56c6c", "#b37feb", "#36cfc9")


class _Margin(QWidget):
    def __init__(self, editor: LyricsEditor) -> None:
        super().__init__(editor)
        self.editor = editor

    def sizeHint(self) -> QSize:
        return QSize(self.editor.margin_width(), 0)

    def paintEvent(self, event: QPaintEvent) -> None:
        self.editor.paint_margin(event)


class LyricsEditor(QPlainTextEdit):
    """A plain-text editor with each line's syllable count and rhyme letter in the margin."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("lyrics-editor")
        self.margin = _Margin(self)
        self.marks: dict[int, tuple[str, str]] = {}  # block number -> (count, letter)
        self.blockCountChanged.connect(lambda _count: self._update_margin_width())
        self.updateRequest.connect(self._on_update_request)
        self._update_margin_width()

    def margin_width(self) -> int:
        return self.fontMetrics().horizontalAdvance("999? W") + 12

    def _update_margin_width(self) -> None:
        if self.layoutDirection() == Qt.LayoutDirection.RightToLeft:
            self.setViewportMargins(0, 0, self.margin_width(), 0)
        else:
            self.setViewportMargins(self.margin_width(), 0, 0, 0)

    def _on_update_request(self, rect: QRect, dy: int) -> None:
        if dy:
            self.margin.scroll(0, dy)
        else:
            self.margin.update(0, rect.y(), self.margin.width(), rect.height())

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        area = self.contentsRect()
        x = area.right() - self.margin_width() + 1 if self.isRightToLeft() else area.left()
        self.margin.setGeometry(QRect(x, area.top(), self.margin_width(), area.height()))

    def set_scan(self, sheet: SheetScan) -> None:
        self.marks = {
            line.number: (str(line.syllables) + ("" if line.certain else "?"), line.letter)
            for line in sheet.lines
            if not line.blank
        }
        self.margin.update()

    def paint_margin(self, event: QPaintEvent) -> None:
        colors = theme_colors()
        painter = QPainter(self.margin)
        painter.fillRect(event.rect(), QColor(colors.alternate_base))
        block = self.firstVisibleBlock()
        top = round(self.blockBoundingGeometry(block).translated(self.contentOffset()).top())
        height = self.fontMetrics().height()
        width = self.margin.width()
        count_width = self.fontMetrics().horizontalAdvance("999?")
        while block.isValid() and top <= event.rect().bottom():
            bottom = top + round(self.blockBoundingRect(block).height())
            mark = self.marks.get(block.blockNumber())
            if block.isVisible() and mark is not None:
                count, letter = mark
                painter.setPen(QColor(colors.muted_text))
                painter.drawText(QRect(2, top, count_width, height),
                                 Qt.AlignmentFlag.AlignRight, count)  # fmt: skip
                if letter:
                    index = (ord(letter[0]) - ord("A")) % len(LETTER_COLOURS)
                    painter.setPen(QColor(LETTER_COLOURS[index]))
                    painter.drawText(QRect(count_width + 6, top, width - count_width - 6, height),
                                     Qt.AlignmentFlag.AlignLeft, letter)  # fmt: skip
            block = block.next()
            top = bottom
        painter.end()

    def word_under_cursor(self) -> str:
        cursor = self.textCursor()
        block = cursor.block().text()
        pos = cursor.positionInBlock()
        start = pos
        while start > 0 and (block[start - 1].isalnum() or block[start - 1] in "'’"):
            start -= 1
        end = pos
        while end < len(block) and (block[end].isalnum() or block[end] in "'’"):
            end += 1
        return block[start:end].strip("'’")


class LyricsPane(QWidget):
    """The editor, the rhyme panel and the line suggestions (see the module notes)."""

    message = Signal(str)
    scanned = Signal(object)  # SheetScan

    def __init__(
        self,
        tools: LyricsTools,
        draft_path: Path,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("lyrics-pane")
        self.tools = tools
        self.draft_path = draft_path
        self.project: Any = None
        self._synced = ""  # the text last written to the project or the draft
        self.sheet: SheetScan | None = None
        self._waits = 0  # rescans put off while the dictionary loads
        self.editor = LyricsEditor()
        self.editor.setPlaceholderText(_("Write your lyrics here. Blank lines separate verses."))
        self.title = QLabel(_("Lyrics"))
        self.title.setObjectName("lyrics-title")
        self.summary = muted(QLabel(""))
        self.summary.setObjectName("lyrics-summary")

        self.rhymes_card = Card(_("Rhymes"), "lyrics-rhymes")
        self.rhyme_word = QLineEdit()
        self.rhyme_word.setObjectName("lyrics-rhyme-word")
        self.rhyme_word.setPlaceholderText(_("A word"))
        self.near = QCheckBox(_("Near rhymes too"))
        self.near.setObjectName("lyrics-near")
        self.rhyme_syllables = QSpinBox()
        self.rhyme_syllables.setObjectName("lyrics-rhyme-syllables")
        self.rhyme_syllables.setRange(0, 8)
        self.rhyme_syllables.setSpecialValueText(_("any length"))
        self.rhyme_syllables.setSuffix(" " + _("syll."))
        self.rhyme_list = QListWidget()
        self.rhyme_list.setObjectName("lyrics-rhyme-list")
        self.rhyme_list.setToolTip(_("Double-click or Return: put the word at the cursor"))
        row = QHBoxLayout()
        row.addWidget(self.rhyme_word, 1)
        row.addWidget(self.rhyme_syllables)
        self.rhymes_card.body.addLayout(row)
        self.rhymes_card.body.addWidget(self.near)
        self.rhymes_card.body.addWidget(self.rhyme_list, 1)

        self.suggest_card = Card(_("Line ideas"), "lyrics-suggest")
        self.suggest_syllables = QSpinBox()
        self.suggest_syllables.setObjectName("lyrics-suggest-syllables")
        self.suggest_syllables.setRange(1, 24)
        self.suggest_syllables.setValue(8)
        self.suggest_syllables.setSuffix(" " + _("syll."))
        self.rhyme_with = QLineEdit()
        self.rhyme_with.setObjectName("lyrics-rhyme-with")
        self.rhyme_with.setPlaceholderText(_("Rhyme with…"))
        self.suggest_button = QPushButton(_("Suggest lines"))
        self.suggest_button.setObjectName("lyrics-suggest-button")
        self.suggest_button.setToolTip(_("Suggest lines for the current line (Ctrl+Shift+Return)"))
        self.suggest_list = QListWidget()
        self.suggest_list.setObjectName("lyrics-suggest-list")
        self.suggest_list.setToolTip(_("Double-click or Return: insert the line after the cursor"))
        row = QHBoxLayout()
        row.addWidget(self.suggest_syllables)
        row.addWidget(self.rhyme_with, 1)
        self.suggest_card.body.addLayout(row)
        self.suggest_card.body.addWidget(self.suggest_button)
        self.suggest_card.body.addWidget(self.suggest_list, 1)

        helpers = QHBoxLayout()
        helpers.addWidget(self.rhymes_card, 1)
        helpers.addWidget(self.suggest_card, 1)
        helper_box = QWidget()
        helper_box.setLayout(helpers)
        helper_box.setMaximumHeight(250)
        helpers.setContentsMargins(0, 0, 0, 0)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.title)
        layout.addWidget(self.editor, 1)
        layout.addWidget(self.summary)
        layout.addWidget(helper_box)

        self.scan_timer = QTimer(self)
        self.scan_timer.setSingleShot(True)
        self.scan_timer.setInterval(SCAN_AFTER_MS)
        self.scan_timer.timeout.connect(self.rescan)
        self.save_timer = QTimer(self)
        self.save_timer.setSingleShot(True)
        self.save_timer.setInterval(SAVE_AFTER_MS)
        self.save_timer.timeout.connect(self.save)
        self.editor.textChanged.connect(self._on_text_changed)
        self.follow_timer = QTimer(self)
        self.follow_timer.setSingleShot(True)
        self.follow_timer.setInterval(FOLLOW_AFTER_MS)
        self.follow_timer.timeout.connect(self._follow_cursor)
        self.editor.cursorPositionChanged.connect(self.follow_timer.start)
        self.rhyme_word.returnPressed.connect(self.show_rhymes)
        self.near.toggled.connect(lambda _on: self.show_rhymes())
        self.rhyme_syllables.valueChanged.connect(lambda _v: self.show_rhymes())
        self.rhyme_list.itemActivated.connect(self._use_rhyme)
        self.suggest_button.clicked.connect(self.suggest)
        self.suggest_list.itemActivated.connect(self._use_suggestion)
        self._shortcut("Ctrl+Shift+R", self.rhymes_for_cursor)
        self._shortcut("Ctrl+Shift+Return", self.suggest)
        self.load_draft()

    def _shortcut(self, keys: str, slot: Callable[[], object]) -> None:
        shortcut = QShortcut(QKeySequence(keys), self)
        shortcut.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        shortcut.activated.connect(slot)

    # -- binding -----------------------------------------------------------------------------
    def bind(self, project: Any) -> None:
        """Show ``project``'s lyrics (None: the draft); what was typed is saved first."""
        self.save()
        self.project = project
        if project is None:
            self.load_draft()
            return
        text = str(project.lyrics)
        self._set_text(text)

    def _set_text(self, text: str) -> None:
        self._synced = text
        self.editor.blockSignals(True)
        self.editor.setPlainText(text)
        self.editor.blockSignals(False)
        self.rescan()

    def load_draft(self) -> None:
        try:
            text = self.draft_path.read_text(encoding="utf-8")
        except FileNotFoundError:
            text = ""
        except (OSError, UnicodeDecodeError) as exc:
            log.warning("the lyrics draft could not be read: %s", exc)
            text = ""
        self._set_text(text)

    def _on_text_changed(self) -> None:
        self.scan_timer.start()
        self.save_timer.start()

    def save(self) -> None:
        """Write what changed since the last save (the project, or the draft file)."""
        self.save_timer.stop()
        text = self.editor.toPlainText()
        if text == self._synced:
            return
        if self.project is not None and not getattr(self.project, "closed", False):
            _apply_change(self.project, self._synced, text)
        else:
            _write_atomically(self.draft_path, text)
        self._synced = text

    # -- scanning ----------------------------------------------------------------------------
    def rescan(self) -> None:
        self.scan_timer.stop()
        if not self.tools.ready and self._waits < 100:
            self._waits += 1  # the dictionary is still loading in the background
            self.summary.setText(_("Loading the pronunciation dictionary…"))
            self.scan_timer.start()
            return
        self._waits = 0
        try:
            sheet = self.tools.scan(self.editor.toPlainText())
        except LyricsError as exc:
            self.message.emit(str(exc))
            return
        self.sheet = sheet
        self.editor.set_scan(sheet)
        patterns = " ".join(s.pattern for s in sheet.stanzas)
        lines = len(sheet.sung_lines)
        summary = ngettext(
            "{lines} line · rhyme scheme {patterns}",
            "{lines} lines · rhyme scheme {patterns}",
            lines,
        ).format(lines=lines, patterns=patterns or "–")
        if sheet.lines_not_scanned or sheet.words_not_scanned:
            summary += " · " + _("only the start was scanned")
        self.summary.setText(summary)
        current = self.editor.textCursor().blockNumber()
        line = next((x for x in sheet.lines if x.number == current and not x.blank), None)
        if line is not None and line.syllables:
            self.suggest_syllables.setValue(min(24, line.syllables))
        self.scanned.emit(sheet)

    # -- rhymes and suggestions (filled in by set_rhyme_source / set_line_source) ------------
    def _follow_cursor(self) -> None:
        """Show rhymes for the word under the cursor once the cursor rests (only when the
        index is loaded: following the cursor never waits for it)."""
        word = self.editor.word_under_cursor()
        if word and word != self.rhyme_word.text() and self.tools.rhymes_ready:
            self.rhyme_word.setText(word)
            self.show_rhymes()

    def rhymes_for_cursor(self) -> None:
        word = self.editor.word_under_cursor()
        if word:
            self.rhyme_word.setText(word)
            self.show_rhymes()

    def show_rhymes(self) -> None:
        self.rhyme_list.clear()
        word = self.rhyme_word.text().strip()
        if not word:
            return
        if not self.tools.rhymes_ready:
            self.message.emit(_("Loading the rhyme index (a few seconds, the first time)…"))
        try:
            found = self.tools.rhymes(
                word, near=self.near.isChecked(), syllables=self.rhyme_syllables.value() or None
            )
        except LyricsError as exc:
            self.message.emit(str(exc))
            return
        if not found:
            self.rhyme_list.addItem(_("No rhymes found for “{word}”.").format(word=word))
            self.rhyme_list.item(0).setFlags(Qt.ItemFlag.NoItemFlags)
        for rhyme in found:
            item = QListWidgetItem(f"{rhyme.word}   ·  {rhyme.kind_label}")
            item.setData(Qt.ItemDataRole.UserRole, rhyme.word)
            self.rhyme_list.addItem(item)

    def _use_rhyme(self, item: QListWidgetItem) -> None:
        word = item.data(Qt.ItemDataRole.UserRole)
        if isinstance(word, str):
            self.editor.insertPlainText(word)
            self.editor.setFocus()

    def suggest(self) -> None:
        self.suggest_list.clear()
        cursor = self.editor.textCursor()
        before = self.editor.document().findBlockByNumber(max(0, cursor.blockNumber() - 1)).text()
        after = cursor.block().text() if cursor.block().text().strip() else before
        rhyme = self.rhyme_with.text().strip() or None
        try:
            ideas = self.tools.suggest(self.suggest_syllables.value(), rhyme_with=rhyme,
                                       after=after)  # fmt: skip
        except LyricsError as exc:
            self.message.emit(str(exc))
            return
        for text in ideas.lines:
            item = QListWidgetItem(text)
            item.setData(Qt.ItemDataRole.UserRole, text)
            self.suggest_list.addItem(item)
        if ideas.note:
            self.message.emit(ideas.note)

    def _use_suggestion(self, item: QListWidgetItem) -> None:
        text = item.data(Qt.ItemDataRole.UserRole)
        if not isinstance(text, str):
            return
        cursor = self.editor.textCursor()
        cursor.movePosition(cursor.MoveOperation.EndOfBlock)
        cursor.insertText("\n" + text)
        self.editor.setTextCursor(cursor)
        self.editor.setFocus()


class FitList(QListWidget):
    """Under the piano roll: each sung line against its phrase of the idea shown."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("lyrics-fit")
        self.setMaximumHeight(120)
        self.setToolTip(_("How the lyric lines fit the phrases of the melody shown above"))
        self.rows = 0

    def show_fit(self, fits: list[LineFit], melody: Melody | None) -> None:
        self.clear()
        self.rows = 0
        if melody is None or not fits:
            return
        for f in fits:
            text = f.line.text.strip()
            if len(text) > 48:
                text = text[:47] + "…"
            if not f.notes:
                verdict = _("no phrase left in the melody")
            elif f.difference > 0:
                verdict = ngettext(
                    "{count} syllable too many", "{count} syllables too many", f.difference
                ).format(count=f.difference)
            elif f.difference < 0:
                verdict = ngettext(
                    "{count} syllable too few", "{count} syllables too few", -f.difference
                ).format(count=-f.difference)
            else:
                verdict = _("fits")
            counts = _("syllables: {syllables}, notes: {notes}").format(
                syllables=f.line.syllables, notes=len(f.notes)
            )
            row = f"{text} — {counts}: {verdict}"
            if f.misplaced_words:
                row += " · " + _("stress on a weak beat: {words}").format(
                    words=", ".join(f.misplaced_words)
                )
            item = QListWidgetItem(row)
            if f.difference or f.misplaced_words or not f.notes:
                item.setForeground(QColor(theme_colors().accent))
            self.addItem(item)
            self.rows += 1


def _apply_change(project: Any, old: str, new: str) -> None:
    """Write the span that differs between ``old`` and ``new`` into ``project.lyrics``
    (pycrdt counts UTF-8 bytes)."""
    start = 0
    limit = min(len(old), len(new))
    while start < limit and old[start] == new[start]:
        start += 1
    end_old, end_new = len(old), len(new)
    while end_old > start and end_new > start and old[end_old - 1] == new[end_new - 1]:
        end_old -= 1
        end_new -= 1
    at = len(old[:start].encode("utf-8"))
    removed = len(old[start:end_old].encode("utf-8"))
    with project.edit():
        if removed:
            del project.lyrics[at : at + removed]
        if end_new > start:
            project.lyrics.insert(at, new[start:end_new])


def _write_atomically(path: Path, text: str) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".lyrics-", dir=path.parent)
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write(text)
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, path)
    except OSError as exc:
        log.warning("the lyrics draft could not be saved: %s", exc)
