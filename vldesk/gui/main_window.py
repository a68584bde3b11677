"""The main window: layout, menus, actions and docks. It holds no logic; app.py wires it up."""

from __future__ import annotations

import logging

from PySide6.QtCore import QByteArray, QCoreApplication, Qt, Signal
from PySide6.QtGui import QAction, QActionGroup, QCloseEvent, QKeySequence
from PySide6.QtWidgets import (
    QDockWidget,
    QMainWindow,
    QMenu,
    QProgressBar,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from vldesk.gui.widgets.answer_view import AnswerView
from vldesk.gui.widgets.batch_progress import BatchProgressView, BatchStatusButton
from vldesk.gui.widgets.drop_highlight import DropHighlight
from vldesk.gui.widgets.file_drop import FileDropFilter
from vldesk.gui.widgets.grounding_panel import GroundingPanel
from vldesk.gui.widgets.history_panel import HistoryPanel
from vldesk.gui.widgets.image_info import ImageInfoLabel
from vldesk.gui.widgets.image_viewer import ImageViewer
from vldesk.gui.widgets.message_banner import BannerAction, Level, MessageBanner
from vldesk.gui.widgets.prompt_panel import PromptPanel
from vldesk.gui.widgets.status_panel import StatusPanel

log = logging.getLogger(__name__)


def _action(
    parent: QWidget,
    text: str,
    shortcuts: QKeySequence.StandardKey | str | list[str] | None = None,
    tip: str = "",
) -> QAction:
    action = QAction(text, parent)
    if isinstance(shortcuts, list):
        action.setShortcuts([QKeySequence(s) for s in shortcuts])
    elif isinstance(shortcuts, QKeySequence.StandardKey):
        action.setShortcuts(shortcuts)
    elif shortcuts:
        action.setShortcut(QKeySequence(shortcuts))
    if tip:
        action.setStatusTip(tip)
        action.setToolTip(tip)
    parent.addAction(action)  # shortcuts work even while menus are hidden
    return action


class MainWindow(QMainWindow):
    """Image on the left, conversation and prompt on the right, history in a dock.

    Signals:
        files_dropped(list): local paths dropped anywhere on the window.
        closing(): the window is about to close (save state, stop workers).
    """

    files_dropped = Signal(list)
    closing = Signal()

    def __init__(self) -> None:
        super().__init__()
        self.setWindowTitle("vldesk")
        self.setObjectName("MainWindow")
        self.setAcceptDrops(True)

        self.viewer = ImageViewer(self)
        self.image_info = ImageInfoLabel(self)
        self.image_info.setAccessibleName(self.tr("Image information"))
        self.banner = MessageBanner(self)
        self.answer_view = AnswerView(self)
        self.grounding_panel = GroundingPanel(self)
        self.prompt_panel = PromptPanel(self)
        self.history_panel = HistoryPanel(self)
        self.status_panel = StatusPanel(self)
        self.load_progress = QProgressBar(self)
        self.load_progress.setRange(0, 0)  # busy: loading has no measurable steps
        self.load_progress.setMaximumWidth(160)
        self.load_progress.setAccessibleName(self.tr("Model loading"))
        self.load_progress.setVisible(False)

        left = QWidget(self)
        left_layout = QVBoxLayout(left)
        left_layout.setContentsMargins(0, 0, 0, 0)
        left_layout.addWidget(self.viewer, 1)
        left_layout.addWidget(self.image_info)
        right = QWidget(self)
        right_layout = QVBoxLayout(right)
        right_layout.setContentsMargins(0, 0, 0, 0)
        right_layout.addWidget(self.answer_view, 1)
        right_layout.addWidget(self.grounding_panel)
        right_layout.addWidget(self.prompt_panel)
        self.splitter = QSplitter(Qt.Orientation.Horizontal, self)
        self.splitter.setObjectName("MainSplitter")
        self.splitter.addWidget(left)
        self.splitter.addWidget(right)
        self.splitter.setStretchFactor(0, 3)
        self.splitter.setStretchFactor(1, 2)
        self.splitter.setChildrenCollapsible(False)
        self.splitter.setSizes([560, 560])
        central = QWidget(self)
        central_layout = QVBoxLayout(central)
        central_layout.addWidget(self.banner)
        central_layout.addWidget(self.splitter, 1)
        self.setCentralWidget(central)

        self.history_dock = QDockWidget(self.tr("History"), self)
        self.history_dock.setObjectName("HistoryDock")
        self.history_dock.setWidget(self.history_panel)
        self.addDockWidget(Qt.DockWidgetArea.LeftDockWidgetArea, self.history_dock)

        self.statusBar().addPermanentWidget(self.load_progress)
        self.statusBar().addPermanentWidget(self.status_panel)

        self._build_actions()
        self._build_menus()
        self._build_batch()
        self._build_folder_dock()
        self._build_conversation_actions()

        self.drop_filter = FileDropFilter(self)
        self.drop_filter.files_dropped.connect(self.files_dropped)
        self.drop_highlight = DropHighlight(central)
        self.drop_filter.dragging.connect(self.drop_highlight.set_dragging)
        for widget in (
            self,
            self.viewer.viewport(),
            self.answer_view.browser.viewport(),
            self.prompt_panel.prompt_edit.viewport(),
            self.prompt_panel.system_edit.viewport(),
            self.history_panel.list_view.viewport(),
        ):
            widget.installEventFilter(self.drop_filter)
        self.resize(1200, 760)

    def _build_actions(self) -> None:
        tr = self.tr
        key = QKeySequence.StandardKey
        self.open_action = _action(self, tr("&Open Image…"), key.Open, tr("Open an image file"))
        self.open_folder_action = _action(
            self,
            tr("Open &Folder…"),
            "Ctrl+Shift+O",
            tr("Review a folder's images and captions in the folder panel"),
        )
        self.paste_action = _action(
            self, tr("&Paste Image"), key.Paste, tr("Use the image on the clipboard")
        )
        self.next_action = _action(
            self, tr("&Next Image"), ["Right", "PgDown"], tr("The next image in the folder")
        )
        self.previous_action = _action(
            self, tr("P&revious Image"), ["Left", "PgUp"], tr("The previous image in the folder")
        )
        self.export_answer_action = _action(
            self, tr("Export &Answer…"), None, tr("Save the last answer as .txt or .md")
        )
        self.export_conversation_action = _action(
            self, tr("&Export Conversation…"), "Ctrl+E", tr("Save this conversation")
        )
        self.export_history_action = _action(
            self, tr("Export &History…"), None, tr("Save every history entry to one file")
        )
        self.describe_folder_action = _action(
            self,
            tr("&Describe Folder…"),
            "Ctrl+Shift+D",
            tr("Write a caption file for every image in a folder"),
        )
        self.settings_action = _action(self, tr("&Settings…"), "Ctrl+,", tr("Change settings"))
        self.settings_action.setMenuRole(QAction.MenuRole.PreferencesRole)
        self.quit_action = _action(self, tr("&Quit"), key.Quit)
        self.quit_action.setMenuRole(QAction.MenuRole.QuitRole)

        self.copy_answer_action = _action(
            self, tr("&Copy Answer"), "Ctrl+Shift+C", tr("Copy the last answer as Markdown")
        )
        self.copy_conversation_action = _action(
            self, tr("Copy C&onversation"), None, tr("Copy the whole conversation as Markdown")
        )
        self.new_conversation_action = _action(
            self, tr("&New Conversation"), key.New, tr("Start again about the same image")
        )
        self.focus_prompt_action = _action(self, tr("Ask a &Question"), "Ctrl+L")

        self.zoom_in_action = _action(self, tr("Zoom &In"), ["Ctrl++", "Ctrl+="])
        self.zoom_out_action = _action(self, tr("Zoom &Out"), "Ctrl+-")
        self.fit_action = _action(self, tr("&Fit to Window"), "Ctrl+0")
        self.actual_size_action = _action(self, tr("&Actual Size (100%)"), "Ctrl+1")
        self.history_action = self.history_dock.toggleViewAction()
        self.history_action.setText(tr("&History"))
        self.history_action.setShortcut(QKeySequence("Ctrl+H"))
        self.addAction(self.history_action)
        self.search_history_action = _action(self, tr("&Search History"), key.Find)

        self.open_model_folder_action = _action(
            self, tr("Open Model &Folder…"), None, tr("Use a model folder on this computer")
        )
        self.reload_model_action = _action(self, tr("&Reload Model"), "Ctrl+R")
        self.unload_model_action = _action(
            self, tr("&Unload Model"), None, tr("Free the memory the model uses")
        )
        self.manage_models_action = _action(
            self, tr("&Manage Models…"), "Ctrl+M", tr("Download, import, remove or choose a model")
        )
        self.connect_server_action = _action(
            self,
            tr("&Connect to a Server…"),
            None,
            tr("Chat with a model on an OpenAI-compatible server (vLLM, SGLang, vldesk serve…)"),
        )
        self.disconnect_server_action = _action(
            self, tr("&Disconnect from the Server"), None, tr("Back to the model on this computer")
        )
        self.disconnect_server_action.setEnabled(False)
        self.serve_action = _action(
            self,
            tr("&Serve on This Computer…"),
            None,
            tr("Let other programs and phones use the loaded model"),
        )
        self.model_group = QActionGroup(self)
        self.model_group.setExclusive(True)

        self.about_action = _action(self, tr("&About vldesk"))
        self.about_action.setMenuRole(QAction.MenuRole.AboutRole)
        self.open_log_folder_action = _action(self, tr("Open &Log Folder"))
        self.open_data_folder_action = _action(
            self, tr("Open &Data Folder"), None, tr("Show where the history is kept")
        )
        self.shortcuts_action = _action(self, tr("&Keyboard Shortcuts"), "F1")
        self.copy_alt_text_action = _action(
            self, tr("Copy as Alt &Text"), "Ctrl+Alt+C", tr("Copy the last answer as plain text")
        )

    def _build_menus(self) -> None:
        tr = self.tr
        menu_bar = self.menuBar()
        file_menu = menu_bar.addMenu(tr("&File"))
        self.file_menu = file_menu
        file_menu.addAction(self.open_action)
        file_menu.addAction(self.open_folder_action)
        file_menu.addAction(self.paste_action)
        self.recent_menu = file_menu.addMenu(tr("Open &Recent"))
        file_menu.addSeparator()
        file_menu.addAction(self.next_action)
        file_menu.addAction(self.previous_action)
        file_menu.addSeparator()
        file_menu.addAction(self.export_answer_action)
        file_menu.addAction(self.export_conversation_action)
        file_menu.addAction(self.export_history_action)
        file_menu.addSeparator()
        file_menu.addAction(self.describe_folder_action)
        file_menu.addSeparator()
        file_menu.addAction(self.settings_action)
        file_menu.addSeparator()
        file_menu.addAction(self.quit_action)

        edit_menu = menu_bar.addMenu(tr("&Edit"))
        self.edit_menu = edit_menu
        edit_menu.addAction(self.copy_answer_action)
        edit_menu.addAction(self.copy_conversation_action)
        edit_menu.addAction(self.copy_alt_text_action)
        edit_menu.addSeparator()
        edit_menu.addAction(self.focus_prompt_action)
        edit_menu.addAction(self.new_conversation_action)

        view_menu = menu_bar.addMenu(tr("&View"))
        self.view_menu = view_menu
        view_menu.addAction(self.zoom_in_action)
        view_menu.addAction(self.zoom_out_action)
        view_menu.addAction(self.fit_action)
        view_menu.addAction(self.actual_size_action)
        view_menu.addSeparator()
        view_menu.addAction(self.history_action)
        view_menu.addAction(self.search_history_action)

        self.model_menu = menu_bar.addMenu(tr("&Model"))
        self.set_model_entries([], None)

        help_menu = menu_bar.addMenu(tr("&Help"))
        help_menu.addAction(self.shortcuts_action)
        help_menu.addAction(self.open_data_folder_action)
        help_menu.addAction(self.open_log_folder_action)
        help_menu.addAction(self.about_action)

    def _build_batch(self) -> None:
        """The folder batch's progress dock (hidden until a batch starts) and status button."""
        self.batch_view = BatchProgressView()
        # Translated where the app built them before (the catalog keeps their context).
        self.batch_dock = QDockWidget(
            QCoreApplication.translate("DesktopApp", "Folder Batch"), self
        )
        self.batch_dock.setObjectName("BatchDock")
        self.batch_dock.setWidget(self.batch_view)
        self.addDockWidget(Qt.DockWidgetArea.BottomDockWidgetArea, self.batch_dock)
        self.batch_dock.hide()
        toggle = self.batch_dock.toggleViewAction()
        toggle.setText(QCoreApplication.translate("DesktopApp", "Folder &Batch"))
        toggle.setStatusTip(
            QCoreApplication.translate("DesktopApp", "Show the progress of describing a folder")
        )
        self.view_menu.addAction(toggle)
        self.batch_status = BatchStatusButton(self)
        self.statusBar().addPermanentWidget(self.batch_status)

    def _build_folder_dock(self) -> None:
        """The folder panel's dock, beside the history (its widget comes from the controller)."""
        self.folder_dock = QDockWidget(self.tr("Folder"), self)
        self.folder_dock.setObjectName("FolderDock")
        self.addDockWidget(Qt.DockWidgetArea.LeftDockWidgetArea, self.folder_dock)
        self.tabifyDockWidget(self.history_dock, self.folder_dock)
        self.folder_dock.hide()
        self.folder_panel_action = self.folder_dock.toggleViewAction()
        self.folder_panel_action.setText(self.tr("F&older Panel"))
        self.folder_panel_action.setShortcut(QKeySequence("Ctrl+Shift+F"))
        self.addAction(self.folder_panel_action)
        self.view_menu.addAction(self.folder_panel_action)

    def _build_conversation_actions(self) -> None:
        """Regenerate, edit, and saving an answer into the photo's metadata (Edit menu)."""
        tr = self.tr
        self.regenerate_action = _action(
            self, tr("&Regenerate Answer"), "Ctrl+Shift+R", tr("Answer the last question again")
        )
        self.edit_question_action = _action(
            self,
            tr("Edit &Last Question"),
            "Ctrl+Shift+E",
            tr("Change the last question and ask it again"),
        )
        self.save_caption_action = _action(
            self,
            tr("&Save Caption to Photo"),
            "Ctrl+Shift+S",
            tr("Write the selected text, or the last answer, into the photo's XMP description"),
        )
        self.caption_target_menu = QMenu(tr("Caption &Goes Into"), self)
        self.caption_target_group = QActionGroup(self)
        self.caption_sidecar_action = self.caption_target_menu.addAction(
            tr("An XMP &Sidecar (photo.jpg.xmp)")
        )
        self.caption_embed_action = self.caption_target_menu.addAction(tr("The &Photo File Itself"))
        for action, mode in (
            (self.caption_sidecar_action, "sidecar"),
            (self.caption_embed_action, "embed"),
        ):
            action.setCheckable(True)
            action.setData(mode)
            self.caption_target_group.addAction(action)
        menu = self.edit_menu
        menu.addSeparator()
        menu.addAction(self.regenerate_action)
        menu.addAction(self.edit_question_action)
        menu.addSeparator()
        menu.addAction(self.save_caption_action)
        menu.addMenu(self.caption_target_menu)

    def show_batch_view(self) -> None:
        dock = self.batch_dock
        if dock.isHidden() and not dock.isFloating():
            # As tall as it needs, but never more than about half the window.
            height = min(self.batch_view.sizeHint().height(), self.height() // 2)
            dock.show()
            self.resizeDocks([dock], [height], Qt.Orientation.Vertical)
        dock.show()
        dock.raise_()

    def show_message(
        self, text: str, level: Level = Level.ERROR, actions: list[BannerAction] | None = None
    ) -> None:
        """An inline message in the window (never a traceback); also logged."""
        log.log(logging.WARNING if level is Level.ERROR else logging.INFO, "message: %s", text)
        self.banner.show_message(text, level, actions)

    def set_model_entries(self, entries: list[tuple[str, str]], current: str | None) -> None:
        """Fill the Model menu with (label, reference) pairs; choosing one triggers its action.

        Each action's ``data()`` is the reference (a catalog id, a name or a folder path).
        """
        menu: QMenu = self.model_menu
        menu.clear()
        for action in self.model_group.actions():
            self.model_group.removeAction(action)
        if not entries:
            placeholder = menu.addAction(self.tr("No models installed"))
            placeholder.setEnabled(False)
        for label, ref in entries:
            action = menu.addAction(label)
            action.setCheckable(True)
            action.setData(ref)
            action.setChecked(ref == current)
            self.model_group.addAction(action)
        menu.addSeparator()
        menu.addAction(self.manage_models_action)
        menu.addAction(self.open_model_folder_action)
        menu.addAction(self.reload_model_action)
        menu.addAction(self.unload_model_action)
        menu.addSeparator()
        menu.addAction(self.connect_server_action)
        menu.addAction(self.disconnect_server_action)
        menu.addAction(self.serve_action)

    def set_recent_files(self, paths: list[str]) -> list[QAction]:
        """Fill File → Open Recent; returns the actions (their ``data()`` is the path)."""
        self.recent_menu.clear()
        actions = []
        for path in paths:
            action = self.recent_menu.addAction(path)
            action.setData(path)
            actions.append(action)
        self.recent_menu.setEnabled(bool(paths))
        return actions

    def save_layout(self) -> tuple[QByteArray, QByteArray, QByteArray]:
        return self.saveGeometry(), self.saveState(), self.splitter.saveState()

    def restore_layout(
        self, geometry: QByteArray | None, state: QByteArray | None, splitter: QByteArray | None
    ) -> None:
        if geometry:
            self.restoreGeometry(geometry)
        if state:
            self.restoreState(state)
            # The batch view is shown by a batch; at start there is none, and an empty dock
            # would take half the window.
            self.batch_dock.hide()
        if splitter:
            self.splitter.restoreState(splitter)

    def closeEvent(self, event: QCloseEvent) -> None:
        self.closing.emit()
        super().closeEvent(event)
