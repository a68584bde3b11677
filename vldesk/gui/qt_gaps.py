"""Qt's own strings that PySide6's qtbase_zh_CN lacks (Qt 6 reworded them); our catalog has them.

Qt asks every installed translator in turn, so these fill in where Qt's catalog is silent.
"""

from __future__ import annotations

from vldesk.gui.i18n import mark_translatable

QT_STRINGS_MISSING_FROM_QTBASE = (
    mark_translatable("QFileDialog", "&Look in:"),
    mark_translatable("QFileDialog", "Files of &type:"),
    mark_translatable("QAbstractFileIconProvider", "Folder"),
    mark_translatable("QAbstractFileIconProvider", "File"),
    mark_translatable("QAbstractFileIconProvider", "Drive"),
    mark_translatable("QAbstractFileIconProvider", "Computer"),
    mark_translatable("QAbstractFileIconProvider", "Shortcut"),
    mark_translatable("QAbstractFileIconProvider", "Unknown"),
)
