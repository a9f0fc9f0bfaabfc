"""The compiled bookkeeping of solved problems (``_core.record_chosen``) against the numpy
reference: every problem's certified error term (``bounds.problem_contributions``, bit for bit)
and the edges its chosen elements keep."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from subsetsum import _core
from subsetsum.tickets.bounds import BIAS, BLOCK, COPIES, problem_contributions


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
    problems = dict(errors=errors, found=found, prob_rows=prob_rows, positions=positions, p_idx=p_idx, e_idx=e_idx,
                    w_chosen=w_chosen)
    return terms, problems, first


@settings(max_examples=150, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), prev_block=st.booleans(), cubic=st.sampled_from([0.0, 0.5, 2.0]))
def test_record_chosen_matches_reference(seed, prev_block, cubic):
    terms, pr, first = _instance(seed, prev_block, cubic)
    contrib, rows, cols, problems, hit = _core.record_chosen(**terms, **pr)

    pos, p_idx, e_idx = pr["positions"], pr["p_idx"], pr["e_idx"]
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
    terms, pr, _first = _instance(3, True, 0.5)
    while pr["p_idx"].size == 0:
        terms, pr, _first = _instance(int(np.random.default_rng().integers(1 << 30)), True, 0.5)
    bad = dict(pr, e_idx=np.full_like(pr["e_idx"], terms["members"].shape[1]))
    with pytest.raises(ValueError, match="chosen elements"):
        _core.record_chosen(**terms, **bad)
    bad = dict(pr, positions=np.full_like(pr["positions"], terms["members"].shape[0]))
    with pytest.raises(ValueError, match="positions"):
        _core.record_chosen(**terms, **bad)
    with pytest.raises(ValueError, match="w_chosen"):
        _core.record_chosen(**terms, **dict(pr, w_chosen=pr["w_chosen"].astype(np.float64)))
