"""The compiled bookkeeping of solved problems (``_core.record_chosen``) against the numpy
reference: every problem's certified error term (``bounds.problem_contributions``, bit for bit)
and the edges its chosen elements keep."""

import pickle

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from subsetsum import _core
from subsetsum.tickets.bounds import BIAS, BLOCK, COPIES, problem_contributions
from subsetsum.tickets.solve import chosen_lists


def _instance(seed: int, prev_block: bool, cubic: float):
    """A random group matrix and solved problems: rows of kind BLOCK (after a block layer) or
    COPIES (after copies) and BIAS, some with looks-linear partners; chosen elements sorted by
    problem, each problem's distinct and increasing."""
    rng = np.random.default_rng(seed)
    groups, width = int(rng.integers(1, 7)), int(rng.integers(1, 9))
    kind = np.where(rng.random(groups) < 0.3, BIAS, BLOCK if prev_block else COPIES).astype(np.int8)
    bound = rng.uniform(0, 3, groups)
    factor = np.where(kind == BLOCK, rng.uniform(0.5, 2, groups), 1.0)
    scale = rng.uniform(0.1, 4, groups)
    partner_step = np.where(rng.random(groups) < 0.4, rng.integers(1, 5, groups), 0).astype(np.int32)
    members = rng.integers(0, 1000, (groups, width)).astype(np.int32)
    first = rng.uniform(0, 2, (groups, width))
    member_term = (first * bound[:, None]) ** 3 if prev_block else rng.uniform(0, 0.1, (groups, width))
    n_problems = int(rng.integers(0, 40))
    prob_rows = rng.integers(0, 50, n_problems).astype(np.int64)
    positions = rng.integers(0, groups, n_problems).astype(np.int64)
    errors = rng.uniform(0, 0.05, n_problems)
    found = rng.random(n_problems) < 0.7
    chosen = [(p, e) for p in range(n_problems) for e in range(width) if rng.random() < 0.3]
    p_idx = np.array([c[0] for c in chosen], np.int64)
    e_idx = np.array([c[1] for c in chosen], np.int64)
    w_chosen = rng.uniform(-1, 1, p_idx.size).astype(np.float32)
    terms = dict(kind=kind, bound=bound, factor=factor, scale=scale, partner_step=partner_step, members=members,
                 member_term=member_term, block_multiplier=cubic if prev_block else 0.0)
    counts, elements, _ = chosen_lists(p_idx, e_idx, n_problems, width, w_chosen)
    dtype = rng.choice([np.uint8, np.uint16, np.uint32])  # any of the widths a block may send
    counts, elements = counts.astype(dtype), elements.astype(dtype)
    if rng.random() < 0.5:  # as from a Ray task or a checkpoint: unpickled dtypes are equal, not the same
        counts, elements = pickle.loads(pickle.dumps(counts)), pickle.loads(pickle.dumps(elements))
    problems = dict(errors=errors, found=found, prob_rows=prob_rows, positions=positions,
                    counts=counts, elements=elements, w_chosen=w_chosen)
    return terms, problems, first, p_idx, e_idx


@settings(max_examples=150, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), prev_block=st.booleans(), cubic=st.sampled_from([0.0, 0.5, 2.0]))
def test_record_chosen_matches_reference(seed, prev_block, cubic):
    terms, pr, first, p_idx, e_idx = _instance(seed, prev_block, cubic)
    contrib, rows, cols, problems, hit = _core.record_chosen(**terms, **pr)

    pos = pr["positions"]
    chosen_pos = pos[p_idx]
    chosen_weight = np.abs(terms["scale"][chosen_pos] * pr["w_chosen"].astype(np.float64))
    kinds = terms["kind"][pos]
    expected = problem_contributions(
        kinds, pr["errors"], terms["bound"][pos], terms["factor"][pos], p_idx, chosen_weight,
        chosen_first=first[chosen_pos, e_idx] if prev_block else None,
        chosen_copy_error=None if prev_block else terms["member_term"][chosen_pos, e_idx], cubic=cubic)
    assert contrib.tobytes() == expected.tobytes()  # bit for bit

    # edges: every chosen member and its partner, found problems' first
    step = terms["partner_step"][chosen_pos]
    col = terms["members"][chosen_pos, e_idx]
    ref = [(int(pr["prob_rows"][p]), int(c), int(p)) for p, c in zip(p_idx, col)]
    ref += [(int(pr["prob_rows"][p]), int(c + s), int(p)) for p, c, s in zip(p_idx, col, step) if s]
    got = list(zip(rows.tolist(), cols.tolist(), problems.tolist()))
    assert sorted(got) == sorted(ref)
    found = pr["found"]
    assert hit == sum(found[p] for _r, _c, p in ref)
    assert all(found[p] for p in problems[:hit]) and not any(found[p] for p in problems[hit:])
    assert rows.dtype == np.int32 and cols.dtype == np.int32 and problems.dtype == np.int64


def test_record_chosen_rejects_out_of_range_indices():
    seed = 3
    terms, pr, _first, _p, _e = _instance(seed, True, 0.5)
    while pr["elements"].size == 0:
        seed += 1
        terms, pr, _first, _p, _e = _instance(seed, True, 0.5)
    bad = dict(pr, elements=np.full_like(pr["elements"], terms["members"].shape[1]))
    with pytest.raises(ValueError, match="chosen elements"):
        _core.record_chosen(**terms, **bad)
    bad = dict(pr, positions=np.full_like(pr["positions"], terms["members"].shape[0]))
    with pytest.raises(ValueError, match="positions"):
        _core.record_chosen(**terms, **bad)
    more = pr["counts"].copy()
    more[0] += 1
    with pytest.raises(ValueError, match="counts: they add up to more"):
        _core.record_chosen(**terms, **dict(pr, counts=more))
    fewer = np.zeros_like(pr["counts"])
    with pytest.raises(ValueError, match="counts: they add up to 0"):
        _core.record_chosen(**terms, **dict(pr, counts=fewer))
    with pytest.raises(ValueError, match="counts: expected uint8, uint16 or uint32"):
        _core.record_chosen(**terms, **dict(pr, counts=pr["counts"].astype(np.int64)))
    with pytest.raises(ValueError, match="w_chosen"):
        _core.record_chosen(**terms, **dict(pr, w_chosen=pr["w_chosen"].astype(np.float64)))


@settings(max_examples=100, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), width=st.integers(1, 64))
def test_subset_chosen_lists_the_set_bits_with_their_weights(seed, width):
    rng = np.random.default_rng(seed)
    n = int(rng.integers(0, 30))
    bits = rng.integers(0, 2, (n, width)).astype(bool) & (rng.random((n, 1)) < 0.8)
    subsets = (bits.astype(np.uint64) << np.arange(width, dtype=np.uint64)).sum(axis=1, dtype=np.uint64)
    w = rng.uniform(-1, 1, n * width).astype(np.float32)
    counts, positions, weights = _core.subset_chosen(subsets, w, width)
    p, e = np.nonzero(bits)  # problem by problem, positions increasing
    assert counts.dtype == positions.dtype == np.uint8 and weights.dtype == np.float32
    assert np.array_equal(counts, bits.sum(axis=1)) and np.array_equal(positions, e)
    assert np.array_equal(weights, w[p * width + e])
    if width < 64 and n:
        with pytest.raises(ValueError, match="beyond width"):
            _core.subset_chosen(subsets | np.uint64(1 << width), w, width)


@settings(max_examples=100, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), width=st.sampled_from([1, 7, 256, 257, 70_000]))
def test_chosen_lists_keep_each_problems_order_in_the_narrowest_types(seed, width):
    rng = np.random.default_rng(seed)
    n = int(rng.integers(0, 20))
    k = int(rng.integers(0, 60))
    p_idx = rng.integers(0, max(n, 1), k) if n else np.zeros(0, np.int64)
    e_idx = rng.integers(0, width, p_idx.size)
    weights = rng.uniform(-1, 1, p_idx.size)
    counts, positions, chosen = chosen_lists(p_idx, e_idx, n, width, weights)
    assert counts.size == n and counts.sum() == p_idx.size
    assert positions.dtype == (np.uint8 if width <= 256 else np.uint16 if width <= 65536 else np.uint32)
    at = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
    for problem in range(n):  # each problem's elements and weights in their given order
        mine = p_idx == problem
        assert np.array_equal(positions[at[problem]:at[problem + 1]], e_idx[mine])
        assert np.array_equal(chosen[at[problem]:at[problem + 1]], weights[mine].astype(np.float32))
