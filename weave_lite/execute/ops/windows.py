"""Kernels of the windows ops (being written)."""
