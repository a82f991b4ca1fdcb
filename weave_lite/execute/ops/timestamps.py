"""Kernels of the timestamps ops (being written)."""
