"""The expression language front end: text -> graph nodes.

``parse(text)`` turns an expression (SPEC section 3, grammar in
``grammar/weave.lark``) into :mod:`weave_lite.graph.nodes`;
:func:`weave_lite.graph.printer.render` turns nodes back into text.
"""

from weave_lite.lang.parser import MAX_DEPTH, MAX_LENGTH, parse

__all__ = ["MAX_DEPTH", "MAX_LENGTH", "parse"]
