"""Preset buttons, a free prompt box, an optional system prompt, and Send/Stop."""

from __future__ import annotations

import itertools
from collections.abc import Sequence

from PySide6.QtCore import QMimeData, Qt, Signal
from PySide6.QtGui import QKeyEvent, QKeySequence, QTextCursor
from PySide6.QtWidgets import (
    QCheckBox,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QSizePolicy,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from vldesk.core.presets import Preset

PRESET_COLUMNS = 3


class PromptEdit(QPlainTextEdit):
    """A prompt box where Enter sends and Shift+Enter starts a new line.

    Signals:
        submitted(): Enter was pressed.
        image_pasted(): an image (or image files) was pasted here; it is for the viewer.
    """

    submitted = Signal()
    image_pasted = Signal()

    def canInsertFromMimeData(self, source: QMimeData) -> bool:
        return source.hasImage() or source.hasUrls() or super().canInsertFromMimeData(source)

    def insertFromMimeData(self, source: QMimeData) -> None:
        if (source.hasImage() or source.hasUrls()) and not source.hasText():
            self.image_pasted.emit()
            return
        if source.hasUrls() and all(url.isLocalFile() for url in source.urls()):
            self.image_pasted.emit()  # copied files: open them rather than type their paths
            return
        super().insertFromMimeData(source)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        enter = event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter)
        if enter and not event.modifiers() & Qt.KeyboardModifier.ShiftModifier:
            event.accept()
            self.submitted.emit()
            return
        super().keyPressEvent(event)


class PromptPanel(QWidget):
    """Where questions are asked. Knows nothing about models or images: it only emits.

    Signals:
        preset_clicked(str): a preset's name.
        prompt_submitted(str): the free prompt's text (never empty).
        stop_requested(): the user wants the current answer to stop.
        edit_cancelled(): the user no longer wants to change an earlier question.
        presets_start_fresh_changed(bool): whether presets start a new conversation.
    """

    preset_clicked = Signal(str)
    prompt_submitted = Signal(str)
    stop_requested = Signal()
    edit_cancelled = Signal()
    presets_start_fresh_changed = Signal(bool)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._preset_buttons: dict[str, QPushButton] = {}
        self._busy = False
        self._can_ask = False
        self._presets: list[tuple[Preset, str]] = []
        #: Whether there is a conversation a preset could continue.
        self._conversation_started = False

        self._presets_grid = QGridLayout()
        self._presets_grid.setContentsMargins(0, 0, 0, 0)

        self.prompt_edit = PromptEdit(self)
        self.prompt_edit.setPlaceholderText(
            self.tr("Ask about the image… (Enter sends, Shift+Enter adds a line)")
        )
        self.prompt_edit.setAccessibleName(self.tr("Question"))
        self.prompt_edit.setTabChangesFocus(True)
        self.prompt_edit.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)
        self.prompt_edit.setFixedHeight(self.fontMetrics().lineSpacing() * 4)
        self.prompt_edit.submitted.connect(self._submit)

        self.system_toggle = QToolButton(self)
        self.system_toggle.setText(self.tr("System prompt"))
        self.system_toggle.setCheckable(True)
        self.system_toggle.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        self.system_toggle.setArrowType(Qt.ArrowType.RightArrow)
        self.system_toggle.setAutoRaise(True)
        self.system_toggle.setAccessibleName(self.tr("Show the system prompt"))
        self.system_toggle.toggled.connect(self._show_system_prompt)

        self.system_edit = QPlainTextEdit(self)
        self.system_edit.setPlaceholderText(
            self.tr("Optional instructions for every answer, e.g. “Answer in French.”")
        )
        self.system_edit.setAccessibleName(self.tr("System prompt"))
        self.system_edit.setTabChangesFocus(True)
        self.system_edit.setFixedHeight(self.fontMetrics().lineSpacing() * 3)
        self.system_edit.setVisible(False)

        self.send_button = QPushButton(self.tr("Send"), self)
        self.send_button.setToolTip(self.tr("Ask the question (Enter)"))
        self.send_button.setAccessibleName(self.tr("Send the question"))
        self.send_button.clicked.connect(self._submit)
        self.stop_button = QPushButton(self.tr("Stop"), self)
        self.stop_button.setToolTip(self.tr("Stop the answer (Esc)"))
        self.stop_button.setAccessibleName(self.tr("Stop the answer"))
        self.stop_button.setShortcut(QKeySequence(Qt.Key.Key_Escape))
        self.stop_button.clicked.connect(self.stop_requested)

        self.fresh_presets_check = QCheckBox(self.tr("Presets start a new conversation"), self)
        self.fresh_presets_check.setToolTip(
            self.tr(
                "On: a preset asks about the image afresh. Off: it continues the "
                "conversation, like a typed question."
            )
        )
        self.fresh_presets_check.toggled.connect(self._on_fresh_toggled)

        # Shown while an earlier question is being changed: Send replaces it.
        self.editing_label = QLabel(self)
        self.editing_label.setWordWrap(True)
        self.cancel_edit_button = QPushButton(self.tr("Cancel Edit"), self)
        self.cancel_edit_button.setAccessibleName(self.tr("Cancel changing the question"))
        self.cancel_edit_button.clicked.connect(self._cancel_edit)
        editing = QHBoxLayout()
        editing.addWidget(self.editing_label, 1)
        editing.addWidget(self.cancel_edit_button)
        self.set_editing(None)

        buttons = QHBoxLayout()
        buttons.addWidget(self.system_toggle)
        buttons.addStretch(1)
        buttons.addWidget(self.stop_button)
        buttons.addWidget(self.send_button)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(self._presets_grid)
        layout.addLayout(editing)
        layout.addWidget(self.prompt_edit)
        layout.addLayout(buttons)
        layout.addWidget(self.system_edit)
        # Tab follows the layout: question, system prompt toggle, Stop, Send, system prompt.
        self._chain(
            [
                self.cancel_edit_button,
                self.prompt_edit,
                self.system_toggle,
                self.stop_button,
                self.send_button,
                self.system_edit,
            ]
        )
        self._update_enabled()

    def set_presets(
        self, presets: Sequence[Preset], language: str, title_language: str | None = None
    ) -> None:
        """(Re)build the preset buttons; Alt+1… trigger them. Their prompts (the tool tips) are
        in ``language``, their titles in ``title_language`` (the interface's; default the same).
        """
        titles = title_language or language
        old = set(self._preset_buttons.values())
        # setTabOrder ignores widgets that take no focus: anchor on the last one that does.
        before: QWidget | None = self.cancel_edit_button.previousInFocusChain()
        while before is not None and (
            before in old
            or before is self.fresh_presets_check
            or before.focusPolicy() == Qt.FocusPolicy.NoFocus
        ):
            before = before.previousInFocusChain()
            if before is self.cancel_edit_button:
                before = None
        for button in old:
            self._presets_grid.removeWidget(button)
            button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
            button.deleteLater()
        self._preset_buttons.clear()
        self._presets = [(preset, language) for preset in presets]
        for index, preset in enumerate(presets):
            button = QPushButton(preset.title(titles), self)
            button.setAccessibleName(preset.title(titles))
            if index < 9:
                button.setShortcut(QKeySequence(f"Alt+{index + 1}"))
            button.clicked.connect(lambda _=False, name=preset.name: self.preset_clicked.emit(name))
            row, column = divmod(index, PRESET_COLUMNS)
            self._presets_grid.addWidget(button, row, column)
            self._preset_buttons[preset.name] = button
        # After the last preset, in the cells its row leaves free (a row of its own if none).
        row, column = divmod(len(presets), PRESET_COLUMNS)
        self._presets_grid.addWidget(
            self.fresh_presets_check, row, column, 1, PRESET_COLUMNS - column
        )
        # New buttons join the end of the focus chain; Tab should reach them just before the
        # question box, in reading order.
        anchor = [before] if before is not None else []
        self._chain(
            [
                *anchor,
                *self._preset_buttons.values(),
                self.fresh_presets_check,
                self.cancel_edit_button,
            ]
        )
        self._describe_presets()
        self._update_enabled()

    def set_presets_start_fresh(self, fresh: bool) -> None:
        self.fresh_presets_check.setChecked(fresh)
        self._describe_presets()

    def set_conversation_started(self, started: bool) -> None:
        """Whether a preset would continue a conversation (its tooltip says which it does)."""
        self._conversation_started = started
        self._describe_presets()

    def preset_effect(self) -> str:
        """What pressing a preset does to the conversation, in words."""
        if not self._conversation_started:
            return self.tr("Starts a conversation about this image.")
        if self.fresh_presets_check.isChecked():
            return self.tr("Starts a new conversation about this image.")
        return self.tr("Continues this conversation.")

    def _describe_presets(self) -> None:
        effect = self.preset_effect()
        for preset, language in self._presets:
            button = self._preset_buttons.get(preset.name)
            if button is not None:
                button.setToolTip(f"{preset.prompt(language)}\n\n{effect}")
                button.setAccessibleDescription(f"{preset.prompt(language)} {effect}")

    def _on_fresh_toggled(self, fresh: bool) -> None:
        self._describe_presets()
        self.presets_start_fresh_changed.emit(fresh)

    def set_editing(self, number: int | None, question: str = "") -> None:
        """Show that question ``number`` (0: the first) is being changed (``None``: none is);
        its text goes into the question box."""
        editing = number is not None
        self.editing_label.setVisible(editing)
        self.cancel_edit_button.setVisible(editing)
        if number is None:
            return
        self.editing_label.setText(
            self.tr(
                "Changing question {0}: Send asks it again and replaces its answer and "
                "everything after it."
            ).format(number + 1)
        )
        self.prompt_edit.setPlainText(question)
        self.prompt_edit.moveCursor(QTextCursor.MoveOperation.End)
        self.prompt_edit.setFocus(Qt.FocusReason.OtherFocusReason)

    def _cancel_edit(self) -> None:
        self.set_editing(None)
        self.prompt_edit.clear()
        self.edit_cancelled.emit()

    @staticmethod
    def _chain(widgets: Sequence[QWidget]) -> None:
        for first, second in itertools.pairwise(widgets):
            QWidget.setTabOrder(first, second)

    def preset_button(self, name: str) -> QPushButton:
        return self._preset_buttons[name]

    def system_prompt(self) -> str:
        return self.system_edit.toPlainText().strip()

    def set_system_prompt(self, text: str) -> None:
        self.system_edit.setPlainText(text)
        if text and not self.system_toggle.isChecked():
            self.system_toggle.setChecked(True)

    def set_busy(self, busy: bool) -> None:
        """While an answer streams: Stop is enabled, asking is not."""
        self._busy = busy
        self._update_enabled()

    def set_can_ask(self, can_ask: bool) -> None:
        """Whether there is an image and a model to ask about."""
        self._can_ask = can_ask
        self._update_enabled()

    def clear_prompt(self) -> None:
        self.prompt_edit.clear()

    def _submit(self) -> None:
        text = self.prompt_edit.toPlainText().strip()
        if not text or self._busy or not self._can_ask:
            return
        self.prompt_submitted.emit(text)

    def _show_system_prompt(self, shown: bool) -> None:
        self.system_edit.setVisible(shown)
        self.system_toggle.setArrowType(
            Qt.ArrowType.DownArrow if shown else Qt.ArrowType.RightArrow
        )

    def _update_enabled(self) -> None:
        ready = self._can_ask and not self._busy
        for button in self._preset_buttons.values():
            button.setEnabled(ready)
        self.send_button.setEnabled(ready)
        self.stop_button.setEnabled(self._busy)
