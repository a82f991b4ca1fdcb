"""Kernels of the strings ops (being written)."""
