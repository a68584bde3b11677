"""Models on disk: the catalog, the store, machine fit, and downloads from ModelScope."""
