"""Inference: the engine seam and the in-process transformers engine with its helpers."""
