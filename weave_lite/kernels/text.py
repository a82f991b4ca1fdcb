"""Numba loops over UTF-8 bytes (the hot loops of the string kernels) and the case-mapping
tables they use, built once from Python's own ``str.upper`` / ``str.lower``.

Every loop takes a string column as (UTF-8 bytes, int64 offsets of the strings into them,
validity) and works on code points (UTF-8 is self-synchronizing, so byte matching is code point
matching).  See :mod:`weave_lite.execute.ops.strings` for the kernels.
"""

from __future__ import annotations

import threading

import numpy as np
from numba import njit


@njit(cache=True, nogil=True)
def decode_at(data, i):
    """(code point, byte length) of the UTF-8 sequence starting at ``data[i]``."""
    b0 = np.int64(data[i])
    if b0 < 0x80:
        return b0, 1
    if b0 < 0xE0:
        return ((b0 & 0x1F) << 6) | (np.int64(data[i + 1]) & 0x3F), 2
    if b0 < 0xF0:
        return ((b0 & 0x0F) << 12) | ((np.int64(data[i + 1]) & 0x3F) << 6) | (np.int64(data[i + 2]) & 0x3F), 3
    return (
        ((b0 & 0x07) << 18)
        | ((np.int64(data[i + 1]) & 0x3F) << 12)
        | ((np.int64(data[i + 2]) & 0x3F) << 6)
        | (np.int64(data[i + 3]) & 0x3F)
    ), 4


@njit(cache=True, nogil=True)
def utf8_len(cp):
    if cp < 0x80:
        return 1
    if cp < 0x800:
        return 2
    if cp < 0x10000:
        return 3
    return 4


@njit(cache=True, nogil=True)
def put(out, j, cp):
    """Write ``cp`` as UTF-8 at ``out[j]``; return the next position."""
    if cp < 0x80:
        out[j] = cp
        return j + 1
    if cp < 0x800:
        out[j] = 0xC0 | (cp >> 6)
        out[j + 1] = 0x80 | (cp & 0x3F)
        return j + 2
    if cp < 0x10000:
        out[j] = 0xE0 | (cp >> 12)
        out[j + 1] = 0x80 | ((cp >> 6) & 0x3F)
        out[j + 2] = 0x80 | (cp & 0x3F)
        return j + 3
    out[j] = 0xF0 | (cp >> 18)
    out[j + 1] = 0x80 | ((cp >> 12) & 0x3F)
    out[j + 2] = 0x80 | ((cp >> 6) & 0x3F)
    out[j + 3] = 0x80 | (cp & 0x3F)
    return j + 4


@njit(cache=True, nogil=True)
def final_sigma(data, start, i, after, end, ignorable, cased):
    """Python's Final_Sigma test for the capital sigma at bytes [i, after) of a string
    spanning [start, end): preceded by a cased letter and not followed by one, skipping
    case-ignorable code points both ways."""
    p = i
    found = False
    cp = 0
    while p > start:
        p -= 1
        while p > start and (data[p] & 0xC0) == 0x80:
            p -= 1
        cp, _ = decode_at(data, p)
        if not ignorable[cp]:
            found = True
            break
    if not (found and cased[cp]):
        return False
    q = after
    while q < end:
        cp, k = decode_at(data, q)
        if not ignorable[cp]:
            return not cased[cp]
        q += k
    return True


@njit(cache=True, nogil=True)
def case_map(data, offsets, valid, single, multi_off, multi_cps, lower, ignorable, cased):
    """Full case mapping of every string: ``single[cp]`` is the mapped code point, or
    ``-(k + 1)`` for the k-th multi-code-point mapping; capital sigma follows Final_Sigma
    when ``lower``."""
    n = len(offsets) - 1
    out_off = np.zeros(n + 1, dtype=np.int64)
    for r in range(n):
        size = 0
        if valid[r]:
            i = offsets[r]
            end = offsets[r + 1]
            while i < end:
                cp, k = decode_at(data, i)
                m = single[cp]
                if lower and cp == 0x3A3:
                    size += 2
                elif m >= 0:
                    size += utf8_len(m)
                else:
                    idx = -m - 1
                    for t in range(multi_off[idx], multi_off[idx + 1]):
                        size += utf8_len(multi_cps[t])
                i += k
        out_off[r + 1] = out_off[r] + size
    out = np.empty(out_off[n], dtype=np.uint8)
    for r in range(n):
        if not valid[r]:
            continue
        start = offsets[r]
        end = offsets[r + 1]
        i = start
        j = out_off[r]
        while i < end:
            cp, k = decode_at(data, i)
            m = single[cp]
            if lower and cp == 0x3A3:
                if final_sigma(data, start, i, i + k, end, ignorable, cased):
                    j = put(out, j, 0x3C2)
                else:
                    j = put(out, j, 0x3C3)
            elif m >= 0:
                j = put(out, j, m)
            else:
                idx = -m - 1
                for t in range(multi_off[idx], multi_off[idx + 1]):
                    j = put(out, j, multi_cps[t])
            i += k
    return out, out_off


@njit(cache=True, nogil=True)
def codepoint_to_byte(data, offsets, positions):
    """Byte offset of code point ``positions[r]`` of string r (clamped to its end)."""
    n = len(positions)
    out = np.empty(n, dtype=np.int64)
    for r in range(n):
        i = offsets[r]
        end = offsets[r + 1]
        k = positions[r]
        while k > 0 and i < end:
            b = data[i]
            if b < 0x80:
                i += 1
            elif b < 0xE0:
                i += 2
            elif b < 0xF0:
                i += 3
            else:
                i += 4
            k -= 1
        out[r] = min(i, end)
    return out


@njit(cache=True, nogil=True)
def insert_around_code_points(data, offsets, valid, insert):
    """``insert`` before every code point and at the end of every string (Python's
    ``s.replace("", insert)``)."""
    n = len(offsets) - 1
    k = len(insert)
    out_off = np.zeros(n + 1, dtype=np.int64)
    for r in range(n):
        size = 0
        if valid[r]:
            size = k
            for i in range(offsets[r], offsets[r + 1]):
                size += 1
                if (data[i] & 0xC0) != 0x80:
                    size += k
        out_off[r + 1] = out_off[r] + size
    out = np.empty(out_off[n], dtype=np.uint8)
    for r in range(n):
        if not valid[r]:
            continue
        j = out_off[r]
        for i in range(offsets[r], offsets[r + 1]):
            if (data[i] & 0xC0) != 0x80:
                for t in range(k):
                    out[j] = insert[t]
                    j += 1
            out[j] = data[i]
            j += 1
        for t in range(k):
            out[j] = insert[t]
            j += 1
    return out, out_off


@njit(cache=True, nogil=True)
def find_bytes(data, start, end, needle, n0, n1):
    """First byte position >= start where ``needle[n0:n1]`` occurs in ``data[start:end]``, or -1.
    (Byte matching is code point matching: UTF-8 is self-synchronizing.)"""
    m = n1 - n0
    last = end - m
    i = start
    while i <= last:
        k = 0
        while k < m and data[i + k] == needle[n0 + k]:
            k += 1
        if k == m:
            return i
        i += 1
    return -1


@njit(cache=True, nogil=True)
def match_rows(data, offsets, needles, n_offsets, mode):
    """Per row: 0 = contains, 1 = startsWith, 2 = endsWith (nulls are handled by the caller)."""
    n = len(offsets) - 1
    out = np.zeros(n, dtype=np.bool_)
    for r in range(n):
        s0, s1 = offsets[r], offsets[r + 1]
        n0, n1 = n_offsets[r], n_offsets[r + 1]
        m = n1 - n0
        if mode == 0:
            out[r] = find_bytes(data, s0, s1, needles, n0, n1) >= 0
        elif m <= s1 - s0:
            base = s0 if mode == 1 else s1 - m
            ok = True
            for k in range(m):
                if data[base + k] != needles[n0 + k]:
                    ok = False
                    break
            out[r] = ok
    return out


@njit(cache=True, nogil=True)
def replace_rows(data, offsets, valid, olds, o_off, news, w_off):
    """Python's ``s.replace(old, new)`` per row (``old`` empty: ``new`` around every code point)."""
    n = len(offsets) - 1
    out_off = np.zeros(n + 1, dtype=np.int64)
    for r in range(n):
        size = 0
        if valid[r]:
            s0, s1 = offsets[r], offsets[r + 1]
            o0, o1 = o_off[r], o_off[r + 1]
            k = w_off[r + 1] - w_off[r]
            if o1 == o0:
                size = k
                for i in range(s0, s1):
                    size += 1
                    if (data[i] & 0xC0) != 0x80:
                        size += k
            else:
                i = s0
                while True:
                    hit = find_bytes(data, i, s1, olds, o0, o1)
                    if hit < 0:
                        size += s1 - i
                        break
                    size += hit - i + k
                    i = hit + (o1 - o0)
        out_off[r + 1] = out_off[r] + size
    out = np.empty(out_off[n], dtype=np.uint8)
    for r in range(n):
        if not valid[r]:
            continue
        s0, s1 = offsets[r], offsets[r + 1]
        o0, o1 = o_off[r], o_off[r + 1]
        w0, w1 = w_off[r], w_off[r + 1]
        j = out_off[r]
        if o1 == o0:
            for i in range(s0, s1):
                if (data[i] & 0xC0) != 0x80:
                    for t in range(w0, w1):
                        out[j] = news[t]
                        j += 1
                out[j] = data[i]
                j += 1
            for t in range(w0, w1):
                out[j] = news[t]
                j += 1
        else:
            i = s0
            while True:
                hit = find_bytes(data, i, s1, olds, o0, o1)
                stop = s1 if hit < 0 else hit
                for t in range(i, stop):
                    out[j] = data[t]
                    j += 1
                if hit < 0:
                    break
                for t in range(w0, w1):
                    out[j] = news[t]
                    j += 1
                i = hit + (o1 - o0)
    return out, out_off


@njit(cache=True, nogil=True)
def split_rows(data, offsets, valid, seps, s_off):
    """Python's ``s.split(sep)`` per row (``sep`` empty: the code points): list offsets and the
    byte ranges of the pieces."""
    n = len(offsets) - 1
    counts = np.zeros(n, dtype=np.int64)
    for r in range(n):
        if not valid[r]:
            continue
        s0, s1 = offsets[r], offsets[r + 1]
        p0, p1 = s_off[r], s_off[r + 1]
        if p1 == p0:
            for i in range(s0, s1):
                if (data[i] & 0xC0) != 0x80:
                    counts[r] += 1
        else:
            c = 1
            i = s0
            while True:
                hit = find_bytes(data, i, s1, seps, p0, p1)
                if hit < 0:
                    break
                c += 1
                i = hit + (p1 - p0)
            counts[r] = c
    list_off = np.zeros(n + 1, dtype=np.int64)
    for r in range(n):
        list_off[r + 1] = list_off[r] + counts[r]
    starts = np.empty(list_off[n], dtype=np.int64)
    ends = np.empty(list_off[n], dtype=np.int64)
    for r in range(n):
        if not valid[r]:
            continue
        s0, s1 = offsets[r], offsets[r + 1]
        p0, p1 = s_off[r], s_off[r + 1]
        q = list_off[r]
        if p1 == p0:
            i = s0
            while i < s1:
                _, k = decode_at(data, i)
                starts[q] = i
                ends[q] = i + k
                q += 1
                i += k
        else:
            i = s0
            while True:
                hit = find_bytes(data, i, s1, seps, p0, p1)
                starts[q] = i
                if hit < 0:
                    ends[q] = s1
                    break
                ends[q] = hit
                q += 1
                i = hit + (p1 - p0)
    return list_off, starts, ends


@njit(cache=True, nogil=True)
def codepoints_present(data, offsets, valid, lo, hi):
    """Which code points of [lo, hi) occur in the strings."""
    seen = np.zeros(hi - lo, dtype=np.bool_)
    for r in range(len(offsets) - 1):
        if not valid[r]:
            continue
        i = offsets[r]
        end = offsets[r + 1]
        while i < end:
            cp, k = decode_at(data, i)
            if lo <= cp < hi:
                seen[cp - lo] = True
            i += k
    return seen


@njit(cache=True, nogil=True)
def find_rows(data, offsets, needles, n_offsets, broadcast):
    """Per row, the byte position of the first occurrence of its needle (row ``r``'s, or needle 0
    for every row when ``broadcast``) relative to the row's start, or -1."""
    n = len(offsets) - 1
    out = np.full(n, -1, dtype=np.int64)
    for r in range(n):
        k = 0 if broadcast else r
        at = find_bytes(data, offsets[r], offsets[r + 1], needles, n_offsets[k], n_offsets[k + 1])
        if at >= 0:
            out[r] = at - offsets[r]
    return out


@njit(cache=True, nogil=True)
def _decode_into(data, start, end, out):
    """The code points of ``data[start:end]`` into ``out``; returns how many."""
    i = start
    k = 0
    while i < end:
        cp, size = decode_at(data, i)
        out[k] = cp
        k += 1
        i += size
    return k


@njit(cache=True, nogil=True)
def levenshtein_rows(a_data, a_off, a_valid, b_data, b_off, b_valid, a_broadcast, b_broadcast, n):
    """Edit distance (insert, delete, substitute a code point; each costs 1) of every row's pair.

    A null string counts as "" (Weave).  One row of the dynamic programme over the shorter
    string: O(len_a * len_b) time and O(min(len_a, len_b)) memory per pair."""
    out = np.zeros(n, dtype=np.int64)
    longest_a = 0
    for r in range(len(a_off) - 1):
        longest_a = max(longest_a, a_off[r + 1] - a_off[r])
    longest_b = 0
    for r in range(len(b_off) - 1):
        longest_b = max(longest_b, b_off[r + 1] - b_off[r])
    xs = np.empty(longest_a, dtype=np.int64)
    ys = np.empty(longest_b, dtype=np.int64)
    row = np.empty(max(longest_a, longest_b) + 1, dtype=np.int64)
    for r in range(n):
        ra = 0 if a_broadcast else r
        rb = 0 if b_broadcast else r
        la = _decode_into(a_data, a_off[ra], a_off[ra + 1], xs) if a_valid[ra] else 0
        lb = _decode_into(b_data, b_off[rb], b_off[rb + 1], ys) if b_valid[rb] else 0
        long_s, short_s, ll, ls = xs, ys, la, lb
        if lb > la:
            long_s, short_s, ll, ls = ys, xs, lb, la
        if ls == 0:
            out[r] = ll
            continue
        for j in range(ls + 1):
            row[j] = j
        for i in range(1, ll + 1):
            diagonal = row[0]  # the previous row's value at j - 1
            row[0] = i
            c = long_s[i - 1]
            for j in range(1, ls + 1):
                above = row[j]
                best = diagonal + (0 if short_s[j - 1] == c else 1)
                if above + 1 < best:
                    best = above + 1
                if row[j - 1] + 1 < best:
                    best = row[j - 1] + 1
                row[j] = best
                diagonal = above
        out[r] = row[ls]
    return out


@njit(cache=True, nogil=True)
def all_in_class(data, offsets, table, bit):
    """Per row: the string is not empty and every code point has ``bit`` set in ``table``."""
    n = len(offsets) - 1
    out = np.zeros(n, dtype=np.bool_)
    for r in range(n):
        i, end = offsets[r], offsets[r + 1]
        ok = i < end
        while ok and i < end:
            cp, size = decode_at(data, i)
            ok = (table[cp] & bit) != 0
            i += size
        out[r] = ok
    return out


# -- case mapping tables, built once from Python's own str.upper / str.lower ----------------


_TABLES: dict[str, tuple] = {}
TABLES_LOCK = threading.Lock()


def all_code_points() -> np.ndarray:
    cps = np.arange(0x110000, dtype=np.uint32)
    return cps[(cps != 0) & ((cps < 0xD800) | (cps > 0xDFFF))]


def segments_after(text: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``text`` is items separated (and ended) by NUL: (code points, item starts, item lengths)."""
    out = np.frombuffer(text.encode("utf-32-le"), dtype=np.uint32)
    ends = np.flatnonzero(out == 0)
    starts = np.concatenate([[0], ends[:-1] + 1]).astype(np.int64)
    return out, starts, (ends - starts).astype(np.int64)


def case_table(upper: bool) -> tuple:
    key = "upper" if upper else "lower"
    with TABLES_LOCK:
        if key in _TABLES:
            return _TABLES[key]
        cps = all_code_points()
        joined = np.zeros(2 * len(cps), dtype=np.uint32)
        joined[0::2] = cps
        text = joined.tobytes().decode("utf-32-le")
        mapped, starts, lengths = segments_after(text.upper() if upper else text.lower())
        single = np.arange(0x110000, dtype=np.int64)
        one = lengths == 1
        single[cps[one]] = mapped[starts[one]]
        many = ~one
        multi_lengths = lengths[many]
        multi_off = np.zeros(len(multi_lengths) + 1, dtype=np.int64)
        np.cumsum(multi_lengths, out=multi_off[1:])
        gather = np.repeat(starts[many] - multi_off[:-1], multi_lengths) + np.arange(multi_off[-1], dtype=np.int64)
        multi_cps = mapped[gather].astype(np.int64)
        single[cps[many]] = -(np.arange(len(multi_lengths), dtype=np.int64) + 1)
        ignorable, cased = sigma_tables() if not upper else (np.zeros(1, np.bool_), np.zeros(1, np.bool_))
        _TABLES[key] = (single, multi_off, multi_cps, ignorable, cased)
        return _TABLES[key]


def sigma_tables() -> tuple[np.ndarray, np.ndarray]:
    """Case-ignorable and cased code points, read off Python's Final_Sigma behaviour:
    ``X + c + "Σ"`` lowercases to a final sigma iff the letter before the sigma (skipping
    case-ignorable ones) is cased.  With X = "A" (cased) and X = "1" (not cased) the results
    differ exactly when c is case-ignorable; when it is not, they tell whether c is cased."""
    cps = all_code_points()
    items = np.zeros((len(cps), 4), dtype=np.uint32)
    items[:, 1] = cps
    items[:, 2] = 0x3A3
    last = []
    for before in ("A", "1"):
        items[:, 0] = ord(before)
        out, starts, lengths = segments_after(items.tobytes().decode("utf-32-le").lower())
        last.append(out[starts + lengths - 1])
    ignorable = np.zeros(0x110000, dtype=np.bool_)
    cased = np.zeros(0x110000, dtype=np.bool_)
    ignorable[cps] = last[0] != last[1]
    cased[cps] = (last[1] == 0x3C2) & ~ignorable[cps]
    return ignorable, cased


# -- character classes, from Python's own str.isalpha / str.isalnum --------------------------

ALPHA = 1
ALNUM = 2


def class_table() -> np.ndarray:
    """Per code point: ``ALPHA`` if Python's ``str.isalpha``, ``ALNUM`` if ``str.isalnum``."""
    with TABLES_LOCK:
        if "classes" in _TABLES:
            return _TABLES["classes"][0]
        cps = all_code_points()
        text = cps.astype(np.uint32).tobytes().decode("utf-32-le")
        table = np.zeros(0x110000, dtype=np.uint8)
        alpha = np.fromiter((c.isalpha() for c in text), dtype=np.bool_, count=len(cps))
        alnum = np.fromiter((c.isalnum() for c in text), dtype=np.bool_, count=len(cps))
        table[cps] = np.where(alpha, ALPHA, 0) | np.where(alnum, ALNUM, 0)
        _TABLES["classes"] = (table,)
        return table
