"""The desktop app (PySide6): window, widgets, dialogs, Qt models and background workers."""
