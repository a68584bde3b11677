"""Tools, not shipped in the wheel: the translation catalog, a Ray batch script for clusters."""
