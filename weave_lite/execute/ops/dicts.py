"""Kernels of the dicts ops (being written)."""
