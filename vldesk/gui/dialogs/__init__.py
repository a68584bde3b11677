"""Dialogs: settings and errors."""
