"""Controllers: each owns one part of the running app's state and says what changed by signals."""
