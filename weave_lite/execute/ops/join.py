"""Kernels of the join ops (being written)."""
