"""Regular expressions for RE2 (Arrow's regex engine) with Python's meaning: ``\\d \\w \\s``
spelled out as the Unicode classes Python's ``re`` gives them (RE2's own are ASCII-only), and
patterns checked up front so that a bad one is a clear error."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from weave_lite.kernels.text import TABLES_LOCK, all_code_points


def check_regex(pattern: str) -> None:
    try:
        pc.match_substring_regex(pa.array([""], type=pa.string()), pattern=pattern)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as exc:
        detail = str(exc).split(":", 1)[-1].strip() if ":" in str(exc) else str(exc)
        raise ValueError(f"invalid regular expression {pattern!r} (RE2 syntax): {detail}") from None


_CLASS_TESTS = {"d": str.isdecimal, "w": lambda c: c.isalnum() or c == "_", "s": str.isspace}
_CLASSES: dict[str, str] = {}


def _class_body(letter: str) -> str:
    """The code points Python's ``re`` means by ``\\d``, ``\\w`` or ``\\s`` (Unicode-aware, as
    ``str.isdecimal``, ``str.isalnum() or "_"``, ``str.isspace``), as RE2 class ranges."""
    with TABLES_LOCK:
        if letter not in _CLASSES:
            cps = all_code_points()
            chars = np.zeros(2 * len(cps), dtype=np.uint32)
            chars[0::2] = cps
            test = _CLASS_TESTS[letter]
            text = chars.tobytes().decode("utf-32-le")[0::2]
            member = cps[np.fromiter((test(c) for c in text), dtype=bool, count=len(cps))].astype(np.int64)
            breaks = np.flatnonzero(np.diff(member) != 1)
            starts = np.concatenate([member[:1], member[breaks + 1]])
            ends = np.concatenate([member[breaks], member[-1:]])
            _CLASSES[letter] = "".join(
                f"\\x{{{a:x}}}" + (f"-\\x{{{b:x}}}" if b > a else "") for a, b in zip(starts.tolist(), ends.tolist())
            )
        return _CLASSES[letter]


def python_classes(pattern: str) -> str:
    """``pattern`` with ``\\d \\w \\s`` (and ``\\D \\W \\S`` outside brackets) spelled out as the
    Unicode classes Python's ``re`` gives them; RE2's own are ASCII-only.  Everything else is
    left to RE2 (its ``\\b`` stays ASCII, its ``$`` matches only at the very end)."""
    if "\\" not in pattern:
        return pattern
    out: list[str] = []
    i, n = 0, len(pattern)
    in_class = False
    while i < n:
        c = pattern[i]
        if c == "\\" and i + 1 < n:
            nxt = pattern[i + 1]
            if nxt == "Q":  # RE2's literal text up to \\E
                end = pattern.find("\\E", i + 2)
                end = n if end < 0 else end + 2
                out.append(pattern[i:end])
                i = end
                continue
            if nxt in "dws":
                body = _class_body(nxt)
                out.append(body if in_class else f"[{body}]")
            elif nxt in "DWS" and not in_class:
                out.append(f"[^{_class_body(nxt.lower())}]")
            else:
                out.append(pattern[i : i + 2])
            i += 2
            continue
        if in_class:
            if c == "[" and pattern.startswith("[:", i):  # [[:alpha:]]
                end = pattern.find(":]", i + 2)
                end = n if end < 0 else end + 2
                out.append(pattern[i:end])
                i = end
                continue
            if c == "]":
                in_class = False
        elif c == "[":
            j = i + 1
            if j < n and pattern[j] == "^":
                j += 1
            if j < n and pattern[j] == "]":  # a leading ] is literal
                j += 1
            out.append(pattern[i:j])
            in_class = True
            i = j
            continue
        out.append(c)
        i += 1
    return "".join(out)
