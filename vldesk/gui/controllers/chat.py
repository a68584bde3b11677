"""Asking about the image: questions and presets, reading ahead, the answer as it streams, and
the ways on after running out of memory."""

from __future__ import annotations

import time
from collections.abc import Callable

from PySide6.QtCore import QCoreApplication, QObject, Qt, Slot

from vldesk.core.generation import GenerationResult, GenerationSettings, StopReason
from vldesk.core.presets import get_preset
from vldesk.gui.controllers.batch import BatchController
from vldesk.gui.controllers.models import ModelController, ModelState
from vldesk.gui.controllers.preferences import Preferences
from vldesk.gui.main_window import MainWindow
from vldesk.gui.model_choice import no_model_text
from vldesk.gui.session import ChatSession
from vldesk.gui.widgets.message_banner import BannerAction, Level
from vldesk.gui.workers.inference import Failure, FailureKind
from vldesk.gui.workers.inference_client import InferenceClient

#: The smallest image budget a retry after running out of memory goes down to.
MIN_RETRY_IMAGE_TOKENS = 64


def _tr(text: str) -> str:
    return QCoreApplication.translate("DesktopApp", text)


class ChatController(QObject):
    """Sends questions to the :class:`ChatSession` and shows its answers in the window.

    ``has_image`` says whether an image is on screen (for the placeholder text).
    """

    def __init__(
        self,
        session: ChatSession,
        inference: InferenceClient,
        models: ModelController,
        batch: BatchController,
        preferences: Preferences,
        window: MainWindow,
        has_image: Callable[[], bool],
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self._session = session
        self._models = models
        self._batch = batch
        self._preferences = preferences
        self._window = window
        self._has_image = has_image
        self._stream_started: float | None = None
        #: Ask the last question again once the model is loaded (a retry on the CPU).
        self._retry_after_load: GenerationSettings | None = None

        w = window
        panel = w.prompt_panel
        panel.preset_clicked.connect(self.ask_preset)
        panel.prompt_submitted.connect(self.ask)
        panel.stop_requested.connect(session.stop)
        panel.prompt_edit.textChanged.connect(self._read_ahead)
        w.new_conversation_action.triggered.connect(session.new_conversation)
        w.focus_prompt_action.triggered.connect(
            lambda: panel.prompt_edit.setFocus(Qt.FocusReason.ShortcutFocusReason)
        )
        inference.token_count.connect(self._on_token_count)
        models.state_changed.connect(self._on_model_state)
        session.answer_started.connect(self._on_answer_started)
        session.answer_text.connect(w.answer_view.append_text)
        session.answer_finished.connect(self._on_answer_finished)
        session.answer_failed.connect(self._on_answer_failed)
        session.busy_changed.connect(panel.set_busy)
        session.busy_changed.connect(lambda _busy: self.update_actions())
        session.conversation_reset.connect(w.answer_view.clear)
        session.conversation_reset.connect(self.update_actions)
        session.history_error.connect(
            lambda text: w.show_message(
                _tr("The answer could not be saved to history: {0}").format(text), Level.WARNING
            )
        )

    # -- what can be done now ----------------------------------------------------------------

    def update_can_ask(self) -> None:
        self._window.prompt_panel.set_can_ask(self._session.can_ask and not self._batch.running)
        self.update_actions()

    def update_actions(self) -> None:
        w = self._window
        has_answer = self._session.last_result is not None
        w.export_answer_action.setEnabled(has_answer)
        w.copy_answer_action.setEnabled(has_answer)
        w.copy_alt_text_action.setEnabled(has_answer)
        has_turns = bool(self._session.conversation.turns)
        w.export_conversation_action.setEnabled(has_turns)
        w.copy_conversation_action.setEnabled(has_turns)

    def show_placeholder(self) -> None:
        view = self._window.answer_view
        models = self._models
        if models.ref is None and models.info is None:
            view.set_placeholder(no_model_text())
        elif models.info is None:
            view.set_placeholder(_tr("*Loading the model…*"))
        elif self._has_image():
            view.set_placeholder(
                _tr(
                    "Choose a preset below, or type a question about the image and press "
                    "**Enter**. Follow-up questions continue the conversation."
                )
            )
        else:
            view.set_placeholder(
                _tr(
                    "Open an image (**Ctrl+O**), drop one on the window or paste one "
                    "(**Ctrl+V**), then choose a preset or ask a question."
                )
            )

    @Slot(object)
    def _on_model_state(self, state: ModelState) -> None:
        self._session.set_model(self._models.loaded_name)
        if state is ModelState.FAILED:
            self._retry_after_load = None  # the failure's message is the placeholder
        elif state is not ModelState.UNLOADED:
            self.show_placeholder()
        self.update_can_ask()
        if state is ModelState.READY and self._retry_after_load is not None:
            settings, self._retry_after_load = self._retry_after_load, None
            self._session.retry(settings)

    # -- asking ------------------------------------------------------------------------------

    def generation_settings(self, preset_tokens: int | None = None) -> GenerationSettings:
        settings = self._preferences.settings.to_generation_settings()
        if preset_tokens is not None and preset_tokens > settings.max_new_tokens:
            # A preset that needs long answers (documents) gets them; the setting is a floor.
            settings = GenerationSettings(**{**settings.to_dict(), "max_new_tokens": preset_tokens})
        return settings

    @Slot(str)
    def ask(self, question: str, preset_tokens: int | None = None) -> bool:
        panel = self._window.prompt_panel
        system = panel.system_prompt()
        if system != self._preferences.settings.system_prompt:
            self._preferences.remember(system_prompt=system)
        if self._session.image is None:
            self._window.show_message(
                _tr("Open an image first (Ctrl+O, drop or paste)."), Level.INFO
            )
            return False
        if self._session.model_name is None:
            self._window.show_message(_tr("The model is not loaded yet."), Level.INFO)
            return False
        sent = self._session.ask(question, self.generation_settings(preset_tokens), system)
        if sent and preset_tokens is None:
            panel.clear_prompt()
        return sent

    @Slot(str)
    def ask_preset(self, name: str) -> bool:
        preset = get_preset(name)
        language = self._preferences.settings.preset_language
        return self.ask(preset.prompt(language), preset.max_new_tokens)

    @Slot()
    def _read_ahead(self) -> None:
        """While the first question about an image is typed, the CPU reads the image (half a
        minute for a photo on a small one); on a GPU that takes a moment anyway."""
        if not self._models.on_cpu or self._batch.running:
            return
        panel = self._window.prompt_panel
        if panel.prompt_edit.toPlainText().strip():
            self._session.read_ahead(self.generation_settings(), panel.system_prompt())

    # -- the answer --------------------------------------------------------------------------

    @Slot(str)
    def _on_answer_started(self, question: str) -> None:
        w = self._window
        w.banner.hide()
        self._stream_started = None
        w.answer_view.begin_answer(question)
        w.status_panel.set_generation(None, None, None)

    @Slot(int, int)
    def _on_token_count(self, _request_id: int, tokens: int) -> None:
        self._window.answer_view.set_token_count(tokens)
        now = time.perf_counter()
        if self._stream_started is None:
            self._stream_started = now
            return
        elapsed = now - self._stream_started
        if elapsed > 0.2:
            self._window.status_panel.set_generation(None, None, tokens / elapsed)

    @Slot(object)
    def _on_answer_finished(self, result: GenerationResult) -> None:
        notes = {
            StopReason.CANCELLED: _tr("stopped"),
            StopReason.MAX_TOKENS: _tr("cut off at the token limit (Settings → Max new tokens)"),
        }
        w = self._window
        w.answer_view.finish_answer(result.text, notes.get(result.stop_reason, ""))
        stats = result.stats
        w.status_panel.set_generation(
            stats.image_tokens,
            stats.time_to_first_token_s,
            stats.decode_tokens_per_s,
            stats.reused_tokens,
        )
        if stats.peak_memory_bytes:
            w.status_panel.set_memory(stats.peak_memory_bytes)
        self.update_actions()

    @Slot(object)
    def _on_answer_failed(self, failure: Failure) -> None:
        self._window.answer_view.fail_answer()
        if failure.kind is FailureKind.OUT_OF_MEMORY:
            self._offer_retry(failure.message)
        else:
            self._window.show_message(failure.message)

    def _offer_retry(self, message: str) -> None:
        """After running out of memory: a smaller image budget, or the CPU after a GPU."""
        current = self._preferences.settings.max_image_tokens
        smaller = max(MIN_RETRY_IMAGE_TOKENS, current // 2)
        actions: list[BannerAction] = []
        if smaller < current:
            actions.append(
                (
                    _tr("Retry with {0} image tokens").format(smaller),
                    lambda: self._retry_smaller(smaller),
                )
            )
        if self._models.on_gpu:
            actions.append((_tr("Retry on the CPU"), self._retry_on_cpu))
        self._window.show_message(message, Level.ERROR, actions)

    def _retry_smaller(self, tokens: int) -> None:
        self._preferences.remember(max_image_tokens=tokens)
        self._session.retry(self.generation_settings())

    def _retry_on_cpu(self) -> None:
        if self._models.ref is None:
            return
        self._retry_after_load = self.generation_settings()
        self._models.reload(device="cpu")
