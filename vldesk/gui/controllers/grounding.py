"""Boxes and regions: draws an answer's boxes on the image, lists and exports them, and asks
about a region dragged on the image."""

from __future__ import annotations

import logging
from dataclasses import replace
from pathlib import Path

from PySide6.QtCore import QCoreApplication, QObject, Qt, Slot
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QFileDialog

from vldesk.core.errors import VldeskError
from vldesk.core.generation import GenerationResult
from vldesk.core.grounding import (
    CONTEXT_IMAGE_TOKENS,
    ImageBoxes,
    Region,
    RegionQuestion,
    boxes_from_answer,
    boxes_in_region,
    write_coco,
    write_yolo,
)
from vldesk.core.models.catalog import Family
from vldesk.gui.controllers.images import ImageController
from vldesk.gui.controllers.models import ModelController
from vldesk.gui.main_window import MainWindow
from vldesk.gui.session import ChatSession
from vldesk.gui.widgets.box_overlay import BoxOverlay
from vldesk.gui.widgets.region_selection import RegionSelector

log = logging.getLogger(__name__)

COCO_FILTER = "COCO JSON (*.json)"
YOLO_FILTER = "YOLO (*.txt)"
COCO_SUFFIX = ".json"


def _tr(text: str) -> str:
    return QCoreApplication.translate("GroundingController", text)


class GroundingController(QObject):
    """Owns the box overlay, the region selector and their actions.

    After each answer its boxes or points are parsed and mapped (the model family's
    convention, the budget the image was sent with, the region when it was about one) onto the
    image's original pixels, drawn, and listed under the answer.
    """

    def __init__(
        self,
        session: ChatSession,
        models: ModelController,
        images: ImageController,
        window: MainWindow,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self._session = session
        self._models = models
        self._images = images
        self._window = window
        w = window
        self.overlay = BoxOverlay(w.viewer, w.viewer)
        self.selector = RegionSelector(w.viewer, w.viewer)
        self.panel = w.grounding_panel
        self._build_actions()

        session.answer_finished.connect(self._on_answer)
        session.conversation_reset.connect(self._on_reset)
        session.conversation_cut.connect(self._on_cut)
        session.region_restored.connect(self._on_region_restored)
        models.state_changed.connect(lambda _state: self._update_family())
        images.changed.connect(self._on_image_changed)
        self.selector.region_selected.connect(self.select_region)
        self.selector.selecting_changed.connect(self.select_region_action.setChecked)
        self.panel.box_selected.connect(self._on_box_selected)
        self.panel.clear_region_requested.connect(self.clear_region)
        self.panel.show_boxes_toggled.connect(self.show_boxes_action.setChecked)
        self._update_actions()

    def _build_actions(self) -> None:
        w = self._window
        self.show_boxes_action = QAction(_tr("Show Bo&xes"), w)
        self.show_boxes_action.setCheckable(True)
        self.show_boxes_action.setChecked(True)
        self.show_boxes_action.setShortcut(QKeySequence("Ctrl+B"))
        self.show_boxes_action.setStatusTip(_tr("Draw the boxes found in the answer on the image"))
        self.show_boxes_action.toggled.connect(self.set_boxes_visible)
        self.select_region_action = QAction(_tr("Select Re&gion"), w)
        self.select_region_action.setCheckable(True)
        self.select_region_action.setShortcut(QKeySequence("Ctrl+Shift+X"))
        self.select_region_action.setStatusTip(
            _tr("Drag a rectangle on the image to ask about it (or Shift+drag at any time)")
        )
        self.select_region_action.toggled.connect(self.selector.set_selecting)
        self.clear_region_action = QAction(_tr("C&lear Region"), w)
        self.clear_region_action.triggered.connect(self.clear_region)
        self.export_boxes_action = QAction(_tr("Export &Boxes…"), w)
        self.export_boxes_action.setStatusTip(
            _tr("Save the boxes of the last answer as COCO JSON or YOLO labels")
        )
        self.export_boxes_action.triggered.connect(lambda: self.export_boxes())
        for action in (
            self.show_boxes_action,
            self.select_region_action,
            self.clear_region_action,
            self.export_boxes_action,
        ):
            w.addAction(action)  # shortcuts work while menus are hidden
        w.view_menu.addSeparator()
        w.view_menu.addAction(self.show_boxes_action)
        w.view_menu.addAction(self.select_region_action)
        w.view_menu.addAction(self.clear_region_action)
        # File → after Export History…
        actions = w.file_menu.actions()
        after = actions[actions.index(w.export_history_action) + 1]
        w.file_menu.insertAction(after, self.export_boxes_action)
        # The image's context menu offers the same.
        for action in (self.select_region_action, self.show_boxes_action, self.export_boxes_action):
            w.viewer.addAction(action)
        w.viewer.setContextMenuPolicy(Qt.ContextMenuPolicy.ActionsContextMenu)

    # -- boxes -----------------------------------------------------------------------------------

    @property
    def boxes(self) -> ImageBoxes | None:
        """The boxes of the last answer, in original pixels (``None``: none found)."""
        return self.overlay.boxes

    def _family(self) -> Family | None:
        info = self._models.info
        if info is None:
            return None
        try:
            return Family(info.family)
        except ValueError:
            return None

    def _update_family(self) -> None:
        self._session.family = self._family()

    @Slot(object)
    def _on_answer(self, result: GenerationResult) -> None:
        self.show_answer_boxes(result.text)

    def show_answer_boxes(self, answer: str) -> ImageBoxes | None:
        """Parse ``answer`` (the last one shown) and draw its boxes; returns what was drawn."""
        boxes = self._map(answer)
        self.overlay.show_boxes(boxes)
        self.panel.set_boxes(self.overlay.boxes)
        self._update_actions()
        return self.overlay.boxes

    def _map(self, answer: str) -> ImageBoxes | None:
        image = self._session.image
        asked = self._session.last_asked
        family = asked.family if asked is not None else None
        if image is None or asked is None or family is None:
            return None
        budget = asked.max_image_tokens
        name = image.path.name if image.path is not None else image.loaded.name
        try:
            if asked.region is not None and asked.crop_size is not None:
                return boxes_in_region(answer, family, asked.region, asked.crop_size, budget, name)
            return boxes_from_answer(answer, family, image.loaded, budget, name)
        except (ValueError, VldeskError) as exc:
            log.info("no boxes drawn: %s", exc)
            return None

    @Slot(bool)
    def set_boxes_visible(self, visible: bool) -> None:
        self.overlay.set_boxes_visible(visible)
        self.show_boxes_action.setChecked(visible)
        self.panel.show_boxes_check.setChecked(visible)

    @Slot(int)
    def _on_box_selected(self, row: int) -> None:
        self.overlay.highlight(row if row >= 0 else None)

    def export_boxes(self, path: Path | None = None, chosen_filter: str = "") -> bool:
        """Save the last answer's boxes: ``.json`` as COCO, ``.txt`` as YOLO (with classes.txt
        beside it). Asks where when ``path`` is not given."""
        boxes = self.overlay.boxes
        if boxes is None:
            return False
        if path is None:
            suggested = Path(boxes.file_name or "boxes").with_suffix(COCO_SUFFIX).name
            chosen, chosen_filter = QFileDialog.getSaveFileName(
                self._window,
                _tr("Export Boxes"),
                suggested,
                f"{COCO_FILTER};;{YOLO_FILTER}",
            )
            if not chosen:
                return False
            path = Path(chosen)
        if path.suffix.lower() not in (".json", ".txt"):
            path = path.with_suffix(".txt" if chosen_filter == YOLO_FILTER else ".json")
        try:
            if path.suffix.lower() == ".json":
                write_coco(path, [boxes])
                saved = str(path)
            else:
                # YOLO names the label file after the image; here, after the file chosen.
                write_yolo(path.parent, [replace(boxes, file_name=path.name)])
                saved = _tr("{0} and classes.txt").format(path)
        except (OSError, VldeskError) as exc:
            self._window.show_message(_tr("The boxes could not be saved: {0}").format(exc))
            return False
        self._window.statusBar().showMessage(_tr("Saved {0}.").format(saved), 5000)
        return True

    # -- regions ---------------------------------------------------------------------------------

    @Slot(object)
    def select_region(self, region: Region) -> None:
        """Questions from now on are about ``region`` (original pixels of the current image)."""
        image = self._session.image
        if image is None:
            return
        size = image.loaded.image.size
        question = RegionQuestion(region, size, CONTEXT_IMAGE_TOKENS)
        self._set_region(question)
        self._window.prompt_panel.prompt_edit.setFocus(Qt.FocusReason.OtherFocusReason)

    def _set_region(self, question: RegionQuestion | None) -> None:
        self._session.region = question
        if question is None:
            self.overlay.show_region(None)
        else:
            self.overlay.show_region(question.region, question.image_size)
        self.panel.set_region(question)
        self._update_actions()

    @Slot()
    def clear_region(self) -> None:
        self._set_region(None)

    @Slot(object)
    def _on_region_restored(self, question: RegionQuestion | None) -> None:
        """A conversation reopened from history: its region is shown and asked about again, and
        the boxes of its last answer are drawn again."""
        self._set_region(question)
        turns = self._session.conversation.turns
        last_answer = turns[-1].text if turns and turns[-1].role == "assistant" else ""
        self.show_answer_boxes(last_answer)

    @Slot()
    def _on_reset(self) -> None:
        self._clear_boxes()
        self._set_region(None)

    @Slot(int)
    def _on_cut(self, _answers_left: int) -> None:
        """The last answer is being replaced (regenerate, edit): its boxes go with it; the
        region stays selected."""
        self._clear_boxes()

    def _clear_boxes(self) -> None:
        self.overlay.show_boxes(None)
        self.panel.set_boxes(None)
        self._update_actions()

    @Slot()
    def _on_image_changed(self) -> None:
        current = self._images.current
        self.selector.set_original_size(current.loaded.image.size if current else None)
        self._update_actions()

    def _update_actions(self) -> None:
        self.export_boxes_action.setEnabled(self.overlay.boxes is not None)
        self.select_region_action.setEnabled(self._images.current is not None)
        self.clear_region_action.setEnabled(self._session.region is not None)
