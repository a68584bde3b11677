"""Asking about the image: questions and presets, reading ahead, the answer as it streams, and
the ways on after running out of memory."""

from __future__ import annotations

import time
from collections.abc import Callable

from PySide6.QtCore import QCoreApplication, QObject, Qt, Slot

from vldesk.core.generation import GenerationResult, GenerationSettings, StopReason
from vldesk.core.inference.memory import memory_in_use
from vldesk.core.presets import PRESETS, get_preset
from vldesk.gui.controllers.batch import BatchController
from vldesk.gui.controllers.models import ModelController, ModelState
from vldesk.gui.controllers.preferences import Preferences
from vldesk.gui.main_window import MainWindow
from vldesk.gui.model_choice import no_model_text
from vldesk.gui.session import ChatSession
from vldesk.gui.widgets.message_banner import BannerAction, Level
from vldesk.gui.workers.failure import Failure, FailureKind
from vldesk.gui.workers.inference_client import InferenceClient

#: The smallest image budget a retry after running out of memory goes down to.
MIN_RETRY_IMAGE_TOKENS = 64


def _tr(text: str) -> str:
    return QCoreApplication.translate("DesktopApp", text)


def stop_note(reason: str | None) -> str:
    """What is written under an answer that ended early (a ``StopReason`` value)."""
    if reason == StopReason.CANCELLED.value:
        return _tr("stopped")
    if reason == StopReason.MAX_TOKENS.value:
        return _tr("cut off at the token limit (Settings → Max new tokens)")
    return ""


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
        #: The question being changed (0: the first); Send then replaces it.
        self.editing: int | None = None

        w = window
        panel = w.prompt_panel
        panel.preset_clicked.connect(self.ask_preset)
        panel.prompt_submitted.connect(self.ask)
        panel.stop_requested.connect(session.stop)
        panel.prompt_edit.textChanged.connect(self._read_ahead)
        w.new_conversation_action.triggered.connect(lambda: session.new_conversation())
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
        session.conversation_cut.connect(w.answer_view.keep_first)
        session.conversation_reset.connect(self._on_conversation_reset)
        session.conversation_reset.connect(self.update_actions)
        # A question being changed belongs to the conversation it was in: Send must not cut
        # another one (reopened from history) or what is left of this one.
        session.conversation_restored.connect(self._end_edit)
        session.conversation_cut.connect(self._end_edit)
        w.answer_view.edit_requested.connect(self.begin_edit)
        w.answer_view.regenerate_requested.connect(self.regenerate)
        w.regenerate_action.triggered.connect(self.regenerate)
        w.edit_question_action.triggered.connect(
            lambda: self.begin_edit(self._session.question_count() - 1)
        )
        panel.edit_cancelled.connect(self._end_edit)
        panel.set_presets_start_fresh(preferences.settings.presets_start_fresh)
        panel.presets_start_fresh_changed.connect(
            lambda fresh: preferences.remember(presets_start_fresh=fresh)
        )
        session.history_error.connect(
            lambda text: w.show_message(
                _tr("The answer could not be saved to history: {0}").format(text), Level.WARNING
            )
        )

    # -- what can be done now ----------------------------------------------------------------

    def update_can_ask(self) -> None:
        self._window.prompt_panel.set_can_ask(self._session.can_ask and not self._batch.holds_model)
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
        can_change = (
            self._session.can_ask and not self._session.busy and not self._batch.holds_model
        )
        w.regenerate_action.setEnabled(can_change and self._session.can_regenerate)
        w.edit_question_action.setEnabled(can_change and has_turns)
        w.answer_view.set_editable(can_change)
        image = self._session.image
        w.save_caption_action.setEnabled(
            has_turns and not self._session.busy and image is not None and image.path is not None
        )
        w.prompt_panel.set_conversation_started(has_turns)
        if self.editing is not None and not can_change:
            self._end_edit()

    def show_placeholder(self) -> None:
        view = self._window.answer_view
        models = self._models
        if models.ref is None and models.info is None and models.state is not ModelState.LOADING:
            view.set_placeholder(no_model_text())  # (loading without one: a server at start)
        elif models.state is ModelState.UNLOADED:
            # Presets and the question box are off: say how to get the model back.
            view.set_placeholder(
                _tr("*The model is unloaded.* Choose a model in the **Model** menu to load one.")
            )
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
        else:
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
        """Ask ``question`` (the prompt box's, or a preset's with its answer length); while an
        earlier question is being changed, a typed question replaces it."""
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
        settings = self.generation_settings(preset_tokens)
        if self.editing is not None and preset_tokens is None:
            sent = self._session.edit(self.editing, question, settings, system)
        else:
            sent = self._session.ask(question, settings, system)
        if sent and preset_tokens is None:
            self._end_edit()
            panel.clear_prompt()
        return sent

    @Slot(str)
    def ask_preset(self, name: str) -> bool:
        preset = get_preset(name)
        settings = self._preferences.settings
        if settings.presets_start_fresh and self._session.conversation.turns:
            self._session.new_conversation(keep_region=True)
        return self.ask(preset.prompt(settings.preset_language), preset.max_new_tokens)

    @Slot()
    def regenerate(self) -> bool:
        """Answer the last question again (a preset's question with that preset's length)."""
        questions = self._session.questions()
        question = questions[-1] if questions else ""
        settings = self.generation_settings(_preset_tokens(question))
        system = self._window.prompt_panel.system_prompt()
        if not self._session.regenerate(settings, system):
            return False
        self._end_edit()
        return True

    @Slot(int)
    def begin_edit(self, number: int) -> None:
        """Put question ``number`` in the prompt box; Send replaces it and what follows."""
        session = self._session
        questions = session.questions()
        if session.busy or not session.can_ask or not 0 <= number < len(questions):
            return
        self.editing = number
        self._window.prompt_panel.set_editing(number, questions[number])

    def _end_edit(self) -> None:
        if self.editing is not None:
            self.editing = None
            self._window.prompt_panel.set_editing(None)

    @Slot()
    def _on_conversation_reset(self) -> None:
        self._end_edit()
        # The last answer's figures were about the conversation that is gone.
        self._window.status_panel.set_generation(None, None, None)

    @Slot()
    def _read_ahead(self) -> None:
        """While the first question about an image is typed, the CPU reads the image (half a
        minute for a photo on a small one); on a GPU that takes a moment anyway."""
        if not self._models.on_cpu or self._batch.holds_model:
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
        notes = {reason: stop_note(reason.value) for reason in StopReason}
        w = self._window
        model = result.stats.model or self._session.model_name or ""
        w.answer_view.finish_answer(result.text, notes.get(result.stop_reason, ""), model)
        stats = result.stats
        w.status_panel.set_generation(
            stats.image_tokens,
            stats.time_to_first_token_s,
            stats.decode_tokens_per_s,
            stats.reused_tokens,
        )
        if self._models.server is not None:
            # A server answered: this app's memory says nothing about it.
            w.status_panel.set_memory(None)
        else:
            # What the process (or the GPU) holds now, not the answer's own peak.
            device = self._models.info.device if self._models.info is not None else stats.device
            w.status_panel.set_memory(memory_in_use(device), stats.peak_memory_bytes)
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


def _preset_tokens(question: str) -> int | None:
    """The answer length of the preset whose prompt ``question`` is (in any language)."""
    for preset in PRESETS:
        if question in preset.prompts.values():
            return preset.max_new_tokens
    return None
