"""The Numba kernels of the KLL quantile sketch (Karnin, Lang, Liberty 2016); the Python face
is :class:`weave_lite.profiles.sketches.kll.KLLSketch`.

The layout and the compaction schedule follow Apache DataSketches' ``KllDoublesSketch``:

- all retained items live in one float64 array; level ``h`` occupies
  ``items[levels[h]:levels[h+1]]`` and every item there stands for ``2**h`` stream values;
- level capacities decrease geometrically downwards: ``max(m, round(k * (2/3)**depth))`` where
  ``depth`` is the distance from the top level, so the sketch retains about ``3k`` items;
- level 0 grows downwards into free space at the start of the array; when there is none, the
  lowest level at or above its capacity is sorted (level 0 only; the others are kept sorted),
  halved by keeping every other item from a random offset (a seeded xorshift generator, so a
  profile is reproducible), and merged into the level above;
- ``merge`` folds the other sketch's level 0 in item by item, then merges the higher levels
  pairwise and compresses them in one pass (``_general_compress``);
- batches of at least ``CHUNK`` (16384) values take a faster path (``kll_update_batch``):
  each chunk of finite values is radix-sorted, halved with random offsets (each halving is a
  compaction) down to the lowest level whose capacity holds it, merged into that level and
  compressed. This compacts the low levels *less* often than the item-by-item schedule, so
  the error bound holds; it makes a 1M-value update about 4x faster (~15 ms here).

The default ``k = 1024`` (whylogs' "large" KLL) gives a normalised rank error of about 0.2%
(99% confidence); the accuracy tests check <= 0.5% on 1M values.

Only finite values are inserted: NaN and +-inf are skipped (the column profile counts them).
"""

from __future__ import annotations

import numpy as np
from numba import njit

from ._sort import sort_f64, sort_f64_range

DEFAULT_K = 1024
MIN_WIDTH = 8  # m: no level is ever smaller than this
_MAXL = 62  # levels array length is _MAXL + 2; 2**62 items is more than any stream

# meta slots
_NUM_LEVELS = 0
_N = 1
_L0_SORTED = 2
_K = 3
_M = 4
_META_LEN = 5

_ZERO = np.int64(0)  # a non-literal 0: literal arguments make Numba compile helpers twice
_POW3 = np.array([3**i for i in range(31)], dtype=np.int64)


# --------------------------------------------------------------------------- capacities
@njit(cache=True, nogil=True)
def _cap_aux_aux(k, depth):
    twok = k << 1
    tmp = (twok << depth) // _POW3[depth]
    return (tmp + 1) >> 1


@njit(cache=True, nogil=True)
def _cap_aux(k, depth):
    if depth <= 30:
        return _cap_aux_aux(k, depth)
    half = depth // 2
    rest = depth - half
    return _cap_aux_aux(_cap_aux_aux(k, half), rest)


@njit(cache=True, nogil=True)
def _level_capacity(k, num_levels, height, m):
    c = _cap_aux(k, num_levels - height - 1)
    return c if c > m else m


@njit(cache=True, nogil=True)
def _total_capacity(k, m, num_levels):
    t = 0
    for h in range(num_levels):
        t += _level_capacity(k, num_levels, h, m)
    return t


# --------------------------------------------------------------------------- helpers
@njit(cache=True, nogil=True)
def _rand_bit(rng):
    x = rng[0]
    x ^= x >> np.uint64(12)
    x ^= x << np.uint64(25)
    x ^= x >> np.uint64(27)
    rng[0] = x
    return np.int64((x * np.uint64(2685821657736338717)) >> np.uint64(63))


@njit(cache=True, nogil=True)
def _halve_down(buf, start, length, rng):
    half = length // 2
    j = start + _rand_bit(rng)
    for i in range(start, start + half):
        buf[i] = buf[j]
        j += 2


@njit(cache=True, nogil=True)
def _halve_up(buf, start, length, rng):
    half = length // 2
    j = start + length - 1 - _rand_bit(rng)
    for i in range(start + length - 1, start + half - 1, -1):
        buf[i] = buf[j]
        j -= 2


@njit(cache=True, nogil=True)
def _merge_sorted(a, sa, la, b, sb, lb, c, sc):
    # branch-free inner loop (random data makes a branchy merge mispredict half the time);
    # safe in place when c's writes trail b's reads, as in the compactions below
    lima = sa + la
    limb = sb + lb
    ia = sa
    ib = sb
    ic = sc
    while ia < lima and ib < limb:
        va = a[ia]
        vb = b[ib]
        take_a = va < vb
        c[ic] = va if take_a else vb
        ia += take_a
        ib += 1 - take_a
        ic += 1
    while ia < lima:
        c[ic] = a[ia]
        ia += 1
        ic += 1
    while ib < limb:
        c[ic] = b[ib]
        ib += 1
        ic += 1


@njit(cache=True, nogil=True)
def _find_level_to_compact(levels, num_levels, k, m):
    level = 0
    while True:
        pop = levels[level + 1] - levels[level]
        if pop >= _level_capacity(k, num_levels, level, m) or level == num_levels - 1:
            return level
        level += 1


@njit(cache=True, nogil=True)
def _add_empty_top_level(items, levels, meta):
    k = meta[_K]
    m = meta[_M]
    nl = meta[_NUM_LEVELS]
    cur_total = levels[nl]
    delta = _level_capacity(k, nl + 1, _ZERO, m)
    new_total = cur_total + delta
    new_items = np.empty(new_total, dtype=np.float64)
    for i in range(cur_total):
        new_items[delta + i] = items[i]
    for lvl in range(nl + 1):
        levels[lvl] += delta
    levels[nl + 1] = new_total
    meta[_NUM_LEVELS] = nl + 1
    return new_items


@njit(cache=True, nogil=True)
def _compress_while_updating(items, levels, meta, rng):
    k = meta[_K]
    m = meta[_M]
    nl = meta[_NUM_LEVELS]
    level = _find_level_to_compact(levels, nl, k, m)
    if level == nl - 1:
        items = _add_empty_top_level(items, levels, meta)
    raw_beg = levels[level]
    raw_lim = levels[level + 1]
    pop_above = levels[level + 2] - raw_lim
    raw_pop = raw_lim - raw_beg
    odd = raw_pop & 1
    adj_beg = raw_beg + odd
    adj_pop = raw_pop - odd
    half = adj_pop // 2
    if level == 0:
        sort_f64_range(items, adj_beg, adj_beg + adj_pop)
    if pop_above == 0:
        _halve_up(items, adj_beg, adj_pop, rng)
    else:
        _halve_down(items, adj_beg, adj_pop, rng)
        _merge_sorted(items, adj_beg, half, items, raw_lim, pop_above, items, adj_beg + half)
    levels[level + 1] -= half
    if odd:
        levels[level] = levels[level + 1] - 1
        items[levels[level]] = items[raw_beg]
    else:
        levels[level] = levels[level + 1]
    if level > 0:
        lo = levels[0]
        amount = raw_beg - lo
        for i in range(amount - 1, -1, -1):
            items[lo + half + i] = items[lo + i]
        for lvl in range(level):
            levels[lvl] += half
    return items


@njit(cache=True, nogil=True)
def _insert(items, levels, meta, rng, v):
    if levels[0] == 0:
        items = _compress_while_updating(items, levels, meta, rng)
    p = levels[0] - 1
    levels[0] = p
    items[p] = v
    meta[_L0_SORTED] = 0
    return items


# --------------------------------------------------------------------------- batch path
CHUNK = 16384  # values sorted at once by the batch path (a power of two)


@njit(cache=True, nogil=True)
def _merge_run(items, levels, meta, rng, run, run_len, j):
    """Merge a sorted run of weight ``2**j`` items into level ``j`` and compress."""
    k = meta[_K]
    m = meta[_M]
    nl = meta[_NUM_LEVELS]
    prov = nl if nl > j + 1 else j + 1
    retained = levels[nl] - levels[0]
    work = np.empty(retained + run_len, dtype=np.float64)
    wl = np.zeros(_MAXL + 2, dtype=np.int64)
    ol = np.zeros(_MAXL + 2, dtype=np.int64)
    for lvl in range(prov):
        sb = levels[lvl] if lvl < nl else 0
        sp = levels[lvl + 1] - levels[lvl] if lvl < nl else 0
        op = run_len if lvl == j else 0
        w0 = wl[lvl]
        wl[lvl + 1] = w0 + sp + op
        if op == 0:
            for i in range(sp):
                work[w0 + i] = items[sb + i]
        elif sp == 0:
            for i in range(op):
                work[w0 + i] = run[i]
        elif lvl == 0:  # level 0 is unsorted: append, general compress sorts it
            for i in range(sp):
                work[w0 + i] = items[sb + i]
            for i in range(op):
                work[w0 + sp + i] = run[i]
        else:
            _merge_sorted(items, sb, sp, run, _ZERO, op, work, w0)
    l0_sorted = meta[_L0_SORTED] != 0 and j != 0
    nl2, target, pop = _general_compress(k, m, prov, work, wl, ol, l0_sorted, rng)
    new_items = np.empty(target, dtype=np.float64)
    free = target - pop
    for i in range(pop):
        new_items[free + i] = work[ol[0] + i]
    shift = free - ol[0]
    for lvl in range(nl2 + 1):
        levels[lvl] = ol[lvl] + shift
    for lvl in range(nl2 + 1, _MAXL + 2):
        levels[lvl] = 0
    meta[_NUM_LEVELS] = nl2
    return new_items


@njit(cache=True, nogil=True)
def kll_prepare_chunk(values, start, buf, ka, kb, meta, rng, mm):
    """Batch path, step 1: gather the next ``CHUNK`` finite values from ``values[start:]``
    into ``buf``, radix-sort them and halve them (each halving is a compaction with a random
    offset) down to the lowest level ``j`` whose capacity holds them.

    Returns (index after the chunk's last value, run length, j); run length 0 means fewer
    than ``CHUNK`` finite values were left (the caller sends them through the per-item path).
    Step 2 is :func:`_merge_run`; the two are called in turn from Python (one Numba function
    calling the other would make Numba optimise the merge code once more at compile time).
    """
    k = meta[_K]
    m = meta[_M]
    nb = 0
    i = start
    nv = values.shape[0]
    while i < nv and nb < CHUNK:
        v = values[i]
        i += 1
        if v - v == 0.0:
            buf[nb] = v
            nb += 1
    if nb < CHUNK:
        return i, 0, 0
    sort_f64(buf, nb, ka, kb)
    if buf[0] < mm[0]:
        mm[0] = buf[0]
    if buf[nb - 1] > mm[1]:
        mm[1] = buf[nb - 1]
    nl = meta[_NUM_LEVELS]
    j = 0
    run_len = nb
    while run_len > _level_capacity(k, nl if nl > j + 1 else j + 1, j, m) and run_len > m:
        _halve_down(buf, _ZERO, run_len, rng)
        run_len //= 2
        j += 1
    meta[_N] += nb
    return i, run_len, j


def kll_update_batch(items, levels, meta, rng, mm, values):
    """Batch update (see the module docstring); returns (items, index of the first value not
    consumed), the rest being for the per-item path.

    Compacting a whole sorted chunk at the low levels does fewer compactions than the
    per-item schedule would, so the error bound of the sketch is kept.
    """
    buf = np.empty(CHUNK, dtype=np.float64)
    ka = np.empty(CHUNK, dtype=np.uint64)
    kb = np.empty(CHUNK, dtype=np.uint64)
    done = 0
    n = values.shape[0]
    while n - done >= CHUNK:
        nxt, run_len, j = kll_prepare_chunk(values, done, buf, ka, kb, meta, rng, mm)
        if run_len == 0:
            break
        items = _merge_run(items, levels, meta, rng, buf, run_len, j)
        done = nxt
    return items, done


# --------------------------------------------------------------------------- kernels
@njit(cache=True, nogil=True)
def kll_update(items, levels, meta, rng, mm, values):
    """Insert every finite value of ``values`` (float64); return the (maybe new) items array."""
    lo = mm[0]
    hi = mm[1]
    added = 0
    p = levels[0]
    i = 0
    nv = values.shape[0]
    while i < nv:
        if p == 0:
            levels[0] = 0
            items = _compress_while_updating(items, levels, meta, rng)
            p = levels[0]
        # fill the free space below level 0 without calls (the hot loop)
        while p > 0 and i < nv:
            v = values[i]
            i += 1
            if v - v != 0.0:  # NaN or +-inf
                continue
            if v < lo:
                lo = v
            if v > hi:
                hi = v
            p -= 1
            items[p] = v
            added += 1
    levels[0] = p
    if added:
        meta[_L0_SORTED] = 0
    mm[0] = lo
    mm[1] = hi
    meta[_N] += added
    return items


@njit(cache=True, nogil=True)
def _general_compress(k, m, num_levels_in, buf, in_levels, out_levels, l0_sorted, rng):
    num_levels = num_levels_in
    current = in_levels[num_levels] - in_levels[0]
    target = _total_capacity(k, m, num_levels)
    out_levels[0] = 0
    cur = -1
    done = False
    while not done:
        cur += 1
        if cur == num_levels - 1:
            in_levels[cur + 2] = in_levels[cur + 1]
        raw_beg = in_levels[cur]
        raw_lim = in_levels[cur + 1]
        raw_pop = raw_lim - raw_beg
        if current < target or raw_pop < _level_capacity(k, num_levels, cur, m):
            o = out_levels[cur]
            for i in range(raw_pop):
                buf[o + i] = buf[raw_beg + i]
            out_levels[cur + 1] = o + raw_pop
        else:
            pop_above = in_levels[cur + 2] - raw_lim
            odd = raw_pop & 1
            adj_beg = raw_beg + odd
            adj_pop = raw_pop - odd
            half = adj_pop // 2
            if odd:
                buf[out_levels[cur]] = buf[raw_beg]
                out_levels[cur + 1] = out_levels[cur] + 1
            else:
                out_levels[cur + 1] = out_levels[cur]
            if cur == 0 and not l0_sorted:
                sort_f64_range(buf, adj_beg, adj_beg + adj_pop)
            if pop_above == 0:
                _halve_up(buf, adj_beg, adj_pop, rng)
            else:
                _halve_down(buf, adj_beg, adj_pop, rng)
                _merge_sorted(buf, adj_beg, half, buf, raw_lim, pop_above, buf, adj_beg + half)
            current -= half
            in_levels[cur + 1] -= half
            if cur == num_levels - 1:
                num_levels += 1
                target += _level_capacity(k, num_levels, _ZERO, m)
        if cur == num_levels - 1:
            done = True
    return num_levels, target, current


@njit(cache=True, nogil=True)
def kll_merge(items, levels, meta, rng, mm, o_items, o_levels, o_meta, o_mm):
    """Merge the other sketch (``o_*``) into this one; return the new items array."""
    if o_meta[_N] == 0:
        return items
    final_n = meta[_N] + o_meta[_N]
    for i in range(o_levels[0], o_levels[1]):
        items = _insert(items, levels, meta, rng, o_items[i])
    o_nl = o_meta[_NUM_LEVELS]
    if o_nl > 1:
        k = meta[_K]
        m = meta[_M]
        my_nl = meta[_NUM_LEVELS]
        retained = levels[my_nl] - levels[0]
        space = retained + (o_levels[o_nl] - o_levels[1])
        work = np.empty(space, dtype=np.float64)
        wl = np.zeros(_MAXL + 2, dtype=np.int64)
        ol = np.zeros(_MAXL + 2, dtype=np.int64)
        prov = my_nl if my_nl > o_nl else o_nl
        # level 0: this sketch's (the other's level 0 was inserted above)
        pop0 = levels[1] - levels[0]
        for i in range(pop0):
            work[i] = items[levels[0] + i]
        wl[1] = pop0
        for lvl in range(1, prov):
            sp = levels[lvl + 1] - levels[lvl] if lvl < my_nl else 0
            op = o_levels[lvl + 1] - o_levels[lvl] if lvl < o_nl else 0
            wl[lvl + 1] = wl[lvl] + sp + op
            if sp > 0 and op == 0:
                for i in range(sp):
                    work[wl[lvl] + i] = items[levels[lvl] + i]
            elif sp == 0 and op > 0:
                for i in range(op):
                    work[wl[lvl] + i] = o_items[o_levels[lvl] + i]
            elif sp > 0 and op > 0:
                _merge_sorted(items, levels[lvl], sp, o_items, o_levels[lvl], op, work, wl[lvl])
        nl, target, pop = _general_compress(k, m, prov, work, wl, ol, meta[_L0_SORTED] != 0, rng)
        new_items = np.empty(target, dtype=np.float64)
        free = target - pop
        for i in range(pop):
            new_items[free + i] = work[ol[0] + i]
        shift = free - ol[0]
        for lvl in range(nl + 1):
            levels[lvl] = ol[lvl] + shift
        for lvl in range(nl + 1, _MAXL + 2):
            levels[lvl] = 0
        meta[_NUM_LEVELS] = nl
        items = new_items
    meta[_N] = final_n
    if o_mm[0] < mm[0]:
        mm[0] = o_mm[0]
    if o_mm[1] > mm[1]:
        mm[1] = o_mm[1]
    return items


@njit(cache=True, nogil=True)
def kll_sorted_view(items, levels, meta):
    """Return (values, cumulative weights) of the retained items, sorted by value.

    Level 0 is sorted, then the (sorted) levels are merged in one at a time with weights.
    """
    nl = meta[_NUM_LEVELS]
    n_ret = levels[nl] - levels[0]
    vals = np.empty(n_ret, dtype=np.float64)
    wts = np.empty(n_ret, dtype=np.int64)
    v2 = np.empty(n_ret, dtype=np.float64)
    w2 = np.empty(n_ret, dtype=np.int64)
    p0 = levels[1] - levels[0]
    for i in range(p0):
        vals[i] = items[levels[0] + i]
        wts[i] = 1
    sort_f64_range(vals, _ZERO, p0)
    cur = p0
    for lvl in range(1, nl):
        w = np.int64(1) << lvl
        sb = levels[lvl]
        sp = levels[lvl + 1] - sb
        ia = 0
        ib = 0
        ic = 0
        while ia < cur and ib < sp:
            if vals[ia] <= items[sb + ib]:
                v2[ic] = vals[ia]
                w2[ic] = wts[ia]
                ia += 1
            else:
                v2[ic] = items[sb + ib]
                w2[ic] = w
                ib += 1
            ic += 1
        while ia < cur:
            v2[ic] = vals[ia]
            w2[ic] = wts[ia]
            ia += 1
            ic += 1
        while ib < sp:
            v2[ic] = items[sb + ib]
            w2[ic] = w
            ib += 1
            ic += 1
        cur = ic
        tv = vals
        vals = v2
        v2 = tv
        tw = wts
        wts = w2
        w2 = tw
    cw = np.empty(cur, dtype=np.int64)
    acc = 0
    for j in range(cur):
        acc += wts[j]
        cw[j] = acc
    out = np.empty(cur, dtype=np.float64)
    for j in range(cur):
        out[j] = vals[j]
    return out, cw
