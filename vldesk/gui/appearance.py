"""The look the user chose: the system's colours or always light or dark, the font size, and
focus rings that stand out."""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QFont, QPainter, QPalette, QPen
from PySide6.QtWidgets import (
    QApplication,
    QProxyStyle,
    QStyle,
    QStyleFactory,
    QStyleOption,
    QStyleOptionComplex,
    QWidget,
)

#: Width of the focus ring in device-independent pixels.
FOCUS_RING_WIDTH = 2

_DARK_COLOURS = {
    QPalette.ColorRole.Window: "#2b2b2b",
    QPalette.ColorRole.WindowText: "#e6e6e6",
    QPalette.ColorRole.Base: "#1e1e1e",
    QPalette.ColorRole.AlternateBase: "#353535",
    QPalette.ColorRole.ToolTipBase: "#353535",
    QPalette.ColorRole.ToolTipText: "#e6e6e6",
    QPalette.ColorRole.PlaceholderText: "#8a8a8a",
    QPalette.ColorRole.Text: "#e6e6e6",
    QPalette.ColorRole.Button: "#353535",
    QPalette.ColorRole.ButtonText: "#e6e6e6",
    QPalette.ColorRole.BrightText: "#ff6b6b",
    QPalette.ColorRole.Light: "#4a4a4a",
    QPalette.ColorRole.Midlight: "#3c3c3c",
    QPalette.ColorRole.Mid: "#2f2f2f",
    QPalette.ColorRole.Dark: "#1a1a1a",
    QPalette.ColorRole.Shadow: "#000000",
    QPalette.ColorRole.Highlight: "#3d7bd9",
    QPalette.ColorRole.HighlightedText: "#ffffff",
    QPalette.ColorRole.Link: "#6fa8ff",
    QPalette.ColorRole.LinkVisited: "#b08cff",
}


def dark_palette() -> QPalette:
    """A dark palette for the Fusion style (for platforms that offer no dark one)."""
    palette = QPalette()
    for role, colour in _DARK_COLOURS.items():
        palette.setColor(role, QColor(colour))
    disabled = QPalette.ColorGroup.Disabled
    for role in (
        QPalette.ColorRole.Text,
        QPalette.ColorRole.ButtonText,
        QPalette.ColorRole.WindowText,
    ):
        palette.setColor(disabled, role, QColor("#7a7a7a"))
    return palette


def light_palette() -> QPalette:
    fusion = QStyleFactory.create("Fusion")
    return fusion.standardPalette() if fusion is not None else QPalette()


def _draw_ring(option: QStyleOption, painter: QPainter) -> None:
    painter.save()
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    painter.setPen(QPen(option.palette.color(QPalette.ColorRole.Highlight), FOCUS_RING_WIDTH))
    painter.setBrush(Qt.BrushStyle.NoBrush)
    inset = FOCUS_RING_WIDTH // 2
    painter.drawRoundedRect(option.rect.adjusted(inset, inset, -inset, -inset), 3, 3)
    painter.restore()


def _focused(option: QStyleOption) -> bool:
    return bool(option.state & QStyle.StateFlag.State_HasFocus)


class FocusRingStyle(QProxyStyle):
    """The platform's style, with keyboard focus drawn as a ring in the highlight colour
    around buttons, combo boxes and tool buttons (many styles only tint the frame a little,
    or draw a dotted line)."""

    _RINGED_CONTROLS = (QStyle.ControlElement.CE_PushButton,)
    _RINGED_COMPLEX = (
        QStyle.ComplexControl.CC_ToolButton,
        QStyle.ComplexControl.CC_ComboBox,
    )

    def drawControl(
        self,
        element: QStyle.ControlElement,
        option: QStyleOption,
        painter: QPainter,
        widget: QWidget | None = None,
    ) -> None:
        super().drawControl(element, option, painter, widget)
        if element in self._RINGED_CONTROLS and _focused(option):
            _draw_ring(option, painter)

    def drawComplexControl(
        self,
        control: QStyle.ComplexControl,
        option: QStyleOptionComplex,
        painter: QPainter,
        widget: QWidget | None = None,
    ) -> None:
        super().drawComplexControl(control, option, painter, widget)
        if control in self._RINGED_COMPLEX and _focused(option):
            _draw_ring(option, painter)

    def drawPrimitive(
        self,
        element: QStyle.PrimitiveElement,
        option: QStyleOption,
        painter: QPainter,
        widget: QWidget | None = None,
    ) -> None:
        if element is QStyle.PrimitiveElement.PE_FrameFocusRect:  # check boxes, lists...
            _draw_ring(option, painter)
            return
        super().drawPrimitive(element, option, painter, widget)


@dataclass
class _SystemLook:
    """What the platform gave the app before any setting changed it."""

    style: str
    font: QFont


_system: _SystemLook | None = None
#: The (theme, font size) applied last; the platform's look is ("system", 0).
_applied = ("system", 0)


def install_focus_rings(app: QApplication) -> None:
    """Draw keyboard focus as a ring in the highlight colour, in the platform's style."""
    if not isinstance(app.style(), FocusRingStyle):
        app.setStyle(FocusRingStyle(QStyleFactory.create(app.style().name())))


def apply_appearance(app: QApplication, theme: str, font_size: int) -> None:
    """Apply the ``theme`` ("system", "light" or "dark") and ``font_size`` (points; 0 keeps
    the system's) settings to the whole app, now: open windows follow at once. The system's
    look is touched only when a setting moves away from it or back."""
    global _system, _applied
    if (theme, font_size) == _applied:
        return
    if _system is None:
        _system = _SystemLook(app.style().name(), QFont(app.font()))
    if theme != _applied[0]:
        hints = app.styleHints()
        if theme in ("light", "dark"):
            # Fusion paints with the palette everywhere (native styles may ignore it); the
            # colour scheme is asked for too, for the platform's own dialogs.
            app.setStyle(FocusRingStyle(QStyleFactory.create("Fusion")))
            app.setPalette(dark_palette() if theme == "dark" else light_palette())
            hints.setColorScheme(Qt.ColorScheme.Dark if theme == "dark" else Qt.ColorScheme.Light)
        else:
            app.setStyle(FocusRingStyle(QStyleFactory.create(_system.style)))
            hints.setColorScheme(Qt.ColorScheme.Unknown)
            app.setPalette(QPalette())  # an empty palette: the platform's, following it again
    if font_size != _applied[1]:
        font = QFont(_system.font)
        if font_size > 0:
            font.setPointSize(font_size)
        app.setFont(font)
    _applied = (theme, font_size)


def is_dark(palette: QPalette) -> bool:
    """Whether a palette is a dark one (its text lighter than its background)."""
    return (
        palette.color(QPalette.ColorRole.WindowText).lightness()
        > palette.color(QPalette.ColorRole.Window).lightness()
    )
