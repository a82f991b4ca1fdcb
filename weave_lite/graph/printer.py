"""Render graph nodes back to expression text (placeholder until the parser lands)."""

from __future__ import annotations


def render(node) -> str:  # pragma: no cover - replaced by the language layer
    raise NotImplementedError("graph printer is not written yet")
