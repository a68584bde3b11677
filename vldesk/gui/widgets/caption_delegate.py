"""Draws a folder panel row (thumbnail, name, state, caption) and edits its caption in place."""

from __future__ import annotations

from PySide6.QtCore import (
    QAbstractItemModel,
    QEvent,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    QRect,
    QSize,
    Qt,
)
from PySide6.QtGui import QColor, QFont, QKeyEvent, QPainter, QPalette, QPixmap
from PySide6.QtWidgets import (
    QAbstractItemDelegate,
    QPlainTextEdit,
    QStyle,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QWidget,
)

from vldesk.core.captions import CaptionEntry, ReviewState
from vldesk.gui.models.caption_model import THUMBNAIL_SIDE, EntryRole, status_text

PADDING = 6
#: Lines of caption shown in a row; the editor shows it all.
CAPTION_LINES = 3

Index = QModelIndex | QPersistentModelIndex


class CaptionDelegate(QStyledItemDelegate):
    """Every row is as tall as a thumbnail, so 10,000 rows lay out at once (uniform sizes).

    In the editor Enter saves, Shift+Enter starts a new line and Esc cancels.
    """

    def sizeHint(self, option: QStyleOptionViewItem, index: Index) -> QSize:
        # No width of its own: a list row spans the view, and the caption is elided to fit.
        return QSize(1, THUMBNAIL_SIDE + 2 * PADDING)

    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index: Index) -> None:
        entry = index.data(EntryRole)
        if not isinstance(entry, CaptionEntry):
            return
        painter.save()
        style = option.widget.style() if option.widget is not None else None
        if style is not None:
            style.drawPrimitive(
                QStyle.PrimitiveElement.PE_PanelItemViewItem, option, painter, option.widget
            )
        selected = bool(option.state & QStyle.StateFlag.State_Selected)
        palette = option.palette
        text_role = QPalette.ColorRole.HighlightedText if selected else QPalette.ColorRole.Text
        rect = option.rect.adjusted(PADDING, PADDING, -PADDING, -PADDING)
        picture = QRect(rect.left(), rect.top(), THUMBNAIL_SIDE, THUMBNAIL_SIDE)
        pixmap = index.data(Qt.ItemDataRole.DecorationRole)
        if isinstance(pixmap, QPixmap) and not pixmap.isNull():
            size = pixmap.size().scaled(picture.size(), Qt.AspectRatioMode.KeepAspectRatio)
            target = QRect(0, 0, size.width(), size.height())
            target.moveCenter(picture.center())
            painter.drawPixmap(target, pixmap)
        else:
            painter.fillRect(picture, palette.color(QPalette.ColorRole.AlternateBase))
        text = rect.adjusted(THUMBNAIL_SIDE + PADDING, 0, 0, 0)
        bold = QFont(option.font)
        bold.setBold(True)
        painter.setFont(bold)
        painter.setPen(palette.color(text_role))
        line = painter.fontMetrics().height()
        state = status_text(entry)
        painter.setFont(option.font)
        state_width = painter.fontMetrics().horizontalAdvance(state) if state else 0
        if state:
            painter.setPen(self._state_colour(entry, palette, selected))
            painter.drawText(text.right() - state_width, text.top(), state_width, line, 0, state)
        painter.setFont(bold)
        painter.setPen(palette.color(text_role))
        room = max(0, text.width() - state_width - PADDING)
        name = painter.fontMetrics().elidedText(entry.name, Qt.TextElideMode.ElideMiddle, room)
        painter.drawText(text.left(), text.top(), room, line, 0, name)
        painter.setFont(option.font)
        caption = index.data(Qt.ItemDataRole.DisplayRole) or ""
        placeholder = entry.caption is None
        colour = QPalette.ColorRole.PlaceholderText if placeholder and not selected else text_role
        painter.setPen(palette.color(colour))
        body = QRect(text.left(), text.top() + line + 2, text.width(), text.height() - line - 2)
        metrics = painter.fontMetrics()
        lines = max(1, min(CAPTION_LINES, body.height() // max(1, metrics.lineSpacing())))
        flat = " ".join(str(caption).split())
        shown = metrics.elidedText(
            flat, Qt.TextElideMode.ElideRight, body.width() * lines - metrics.averageCharWidth() * 4
        )
        painter.drawText(body, int(Qt.TextFlag.TextWordWrap), shown)
        painter.restore()

    @staticmethod
    def _state_colour(entry: CaptionEntry, palette: QPalette, selected: bool) -> QColor:
        if selected:
            return palette.color(QPalette.ColorRole.HighlightedText)
        if entry.review is ReviewState.REVIEWED:
            return palette.color(QPalette.ColorRole.Link)
        return palette.color(QPalette.ColorRole.PlaceholderText)

    # -- editing -----------------------------------------------------------------------------

    def createEditor(self, parent: QWidget, option: QStyleOptionViewItem, index: Index) -> QWidget:
        editor = QPlainTextEdit(parent)
        editor.setAccessibleName(self.tr("Caption"))
        editor.setTabChangesFocus(True)
        editor.installEventFilter(self)
        return editor

    def setEditorData(self, editor: QWidget, index: Index) -> None:
        if isinstance(editor, QPlainTextEdit):
            editor.setPlainText(str(index.data(Qt.ItemDataRole.EditRole) or ""))
            editor.selectAll()

    def setModelData(self, editor: QWidget, model: QAbstractItemModel, index: Index) -> None:
        if isinstance(editor, QPlainTextEdit):
            model.setData(index, editor.toPlainText(), Qt.ItemDataRole.EditRole)

    def updateEditorGeometry(
        self, editor: QWidget, option: QStyleOptionViewItem, index: Index
    ) -> None:
        rect = option.rect.adjusted(THUMBNAIL_SIDE + 2 * PADDING, 2, -2, -2)
        editor.setGeometry(rect)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if (
            isinstance(watched, QPlainTextEdit)
            and event.type() == QEvent.Type.KeyPress
            and isinstance(event, QKeyEvent)
            and event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter)
            and not event.modifiers() & Qt.KeyboardModifier.ShiftModifier
        ):
            self.commitData.emit(watched)
            self.closeEditor.emit(watched, QAbstractItemDelegate.EndEditHint.NoHint)
            return True
        return super().eventFilter(watched, event)
