"""The reference interpreter (the oracle) and the hypothesis generators.

``interpreter.evaluate_reference`` interprets graph nodes over plain Python
lists of dicts, written from SPEC section 3 and docs/semantics.md alone; the
vectorized engine is differentially tested against it with the strategies of
``strategies``.
"""
