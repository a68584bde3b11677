"""Developer tools: translation catalog extraction. Not shipped in the wheel."""
