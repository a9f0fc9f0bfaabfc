"""Results do not depend on the thread count: num_threads=1 vs 2, and OMP_NUM_THREADS=1 vs 2 in
fresh processes."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

import subsetsum
from _brute import assert_results_equal, random_problems

# (mode, options, n, batch): every algorithm at least once.
CASES = [
    ("best", {"algorithm": "gray_code"}, 14, 1500),
    ("best", {"algorithm": "meet_in_the_middle"}, 26, 600),
    ("min_size", {"algorithm": "gray_code", "max_size": 6}, 14, 1500),
    ("min_size", {"algorithm": "increasing_size", "max_size": 6}, 20, 1500),
    ("fixed_size", {"algorithm": "exact_combinations", "k": 4}, 18, 1500),
    ("fixed_size", {"algorithm": "first_hit", "k": 8}, 100, 600),
    ("fixed_size", {"algorithm": "exact_combinations", "k": 2}, 80, 600),
]
CASE_IDS = [f"{mode}-{options['algorithm']}-n{n}" for mode, options, n, _ in CASES]

# The packaged subsetsum the tests import, so subprocesses load the very same build.
PACKAGE_ROOT = str(Path(subsetsum.__file__).resolve().parent.parent)


def case_problems(index: int, dtype=np.float32):
    _, _, n, batch = CASES[index]
    rng = np.random.default_rng([index, np.dtype(dtype).itemsize])
    return random_problems(rng, batch, n, dtype, masked=index % 2 == 1)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("index", range(len(CASES)), ids=CASE_IDS)
def test_cpu_results_identical_for_one_and_two_threads(index, dtype):
    mode, options, _, _ = CASES[index]
    targets, bases, mask = case_problems(index, dtype)
    results = [
        subsetsum.solve(targets, bases, mask=mask, eps=0.01, mode=mode, backend="cpu",
                        num_threads=threads, **options)
        for threads in (1, 2)
    ]
    # Bit for bit, float64 included: only the thread count differs.
    assert_results_equal(results[0], results[1], exact=True, problems=(targets, bases, mask))


@pytest.mark.parametrize("index", [0, 3, 6], ids=[CASE_IDS[i] for i in (0, 3, 6)])
def test_numba_results_identical_for_one_and_two_threads(index):
    mode, options, _, _ = CASES[index]
    options = {name: value for name, value in options.items() if name != "algorithm"}
    targets, bases, mask = case_problems(index)
    targets, bases, mask = targets[:300], bases[:300], None if mask is None else mask[:300]
    results = [
        subsetsum.solve(targets, bases, mask=mask, eps=0.01, mode=mode, backend="numba",
                        num_threads=threads, **options)
        for threads in (1, 2)
    ]
    assert_results_equal(results[0], results[1], exact=True, problems=(targets, bases, mask))


SUBPROCESS_SCRIPT = textwrap.dedent(
    """
    import sys
    import numpy as np
    import subsetsum

    out_path, seed = sys.argv[1], int(sys.argv[2])
    rng = np.random.default_rng(seed)
    arrays = {"cpu_threads": np.array(subsetsum.compile_options()["cpu_threads"])}
    bases = rng.uniform(-1, 1, size=(2000, 16)).astype(np.float32)
    targets = rng.uniform(-2, 2, size=2000).astype(np.float32)
    mask = rng.random((2000, 16)) < 0.8
    runs = [
        ("cpu_best", "cpu", dict(mode="best")),
        ("cpu_min_size", "cpu", dict(mode="min_size", max_size=5)),
        ("cpu_fixed_size", "cpu", dict(mode="fixed_size", k=5)),
        ("numba_min_size", "numba", dict(mode="min_size", max_size=5)),
    ]
    for name, backend, options in runs:
        r = subsetsum.solve(targets, bases, mask=mask, eps=0.001, backend=backend, **options)
        for field in ("subsets", "sums", "errors", "sizes", "found"):
            arrays[name + "_" + field] = getattr(r, field)
    np.savez(out_path, **arrays)
    """
)


def run_in_subprocess(tmp_path: Path, threads: int) -> dict:
    env = dict(os.environ)
    env["OMP_NUM_THREADS"] = str(threads)
    env["NUMBA_NUM_THREADS"] = str(threads)
    env["PYTHONPATH"] = os.pathsep.join(
        [PACKAGE_ROOT] + [p for p in env.get("PYTHONPATH", "").split(os.pathsep) if p]
    )
    out_path = tmp_path / f"threads_{threads}.npz"
    completed = subprocess.run(
        [sys.executable, "-c", SUBPROCESS_SCRIPT, str(out_path), "12345"],
        env=env, capture_output=True, text=True, timeout=300,
    )
    assert completed.returncode == 0, completed.stderr
    with np.load(out_path) as data:
        return {name: data[name] for name in data.files}


def test_omp_num_threads_does_not_change_results(tmp_path):
    one = run_in_subprocess(tmp_path, 1)
    two = run_in_subprocess(tmp_path, 2)
    if subsetsum.compile_options()["openmp"]:
        # The variable took effect, so the two runs really used different thread counts.
        assert int(one["cpu_threads"]) == 1
        assert int(two["cpu_threads"]) == 2
    assert one.keys() == two.keys()
    for name in one:
        if name != "cpu_threads":
            np.testing.assert_array_equal(one[name], two[name], err_msg=name)
