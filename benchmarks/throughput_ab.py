"""Throughput of the installed ``subsetsum`` against a baseline build of it, interleaved.

Used to check that a change to the core (say, an interrupt check inside the searches) costs no
speed: each scenario of the CPU benchmarks runs alternately in a child process that imports the
baseline (``--baseline DIR``, put first on ``sys.path``) and in one that imports the installed
package, ``--rounds`` times each; the best rate of each side is compared, so that other load on
the machine hurts both sides alike.

    git worktree add /tmp/base <commit> && (cd /tmp/base && pip wheel --no-deps -w /tmp/w .)
    mkdir /tmp/basepkg && (cd /tmp/basepkg && unzip -q /tmp/w/subsetsum-*.whl)
    python benchmarks/throughput_ab.py --baseline /tmp/basepkg

Problems: targets and elements i.i.d. Uniform[-1, 1], float32, seeded (``instances.py``), the
same for both sides.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent

# (mode, n, max_size, k, problems): the scenarios of compare_cpu.py, at a size of about 1 s each
SCENARIOS = [
    ("min_size", 15, 10, None, 2_000_000),
    ("min_size", 55, 10, None, 1_000_000),  # the base sets of a LeNet-shape L+1 ticket
    ("best", 24, None, None, 20_000),
    ("best", 32, None, None, 1_000),
    ("fixed_size", 64, None, 8, 1_000_000),
]

CHILD = """
import json, sys, time
if {baseline!r}:
    # an editable install hooks sys.meta_path ahead of sys.path: drop it for the baseline side
    sys.meta_path = [f for f in sys.meta_path if "editable" not in type(f).__module__.lower()]
    sys.path.insert(0, {baseline!r})
sys.path.insert(0, {here!r})
import numpy as np
import subsetsum
from instances import Setting, make_problems
mode, n, max_size, k, count = {scenario!r}
setting = Setting(mode=mode, n=n, max_size=max_size, k=k)
targets, bases = make_problems(setting, count, np.float32, seed=0)
subsetsum.solve(targets[:100], bases[:100], **setting.solve_options())  # warm up
start = time.perf_counter()
result = subsetsum.solve(targets, bases, **setting.solve_options())
seconds = time.perf_counter() - start
print(json.dumps(dict(rate=count / seconds, found=float(np.mean(result.found)),
                      where=subsetsum.__file__)))
"""


def run_side(scenario, baseline: str | None) -> dict:
    code = CHILD.format(here=str(HERE), scenario=scenario, baseline=baseline or "")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--baseline", required=True,
                        help="folder holding the baseline build's subsetsum package")
    parser.add_argument("--rounds", type=int, default=5, help="runs per side (default: 5)")
    args = parser.parse_args(argv)
    print("| scenario | baseline, problems/s (best of runs) | this build | ratio |")
    print("|---|---:|---:|---:|")
    for scenario in SCENARIOS:
        base, new = [], []
        for _ in range(args.rounds):
            base.append(run_side(scenario, args.baseline))
            new.append(run_side(scenario, None))
        if base[0]["where"] == new[0]["where"]:
            raise SystemExit(f"both sides imported {new[0]['where']}: check --baseline")
        if base[0]["found"] != new[0]["found"]:
            print(f"found rates differ: {base[0]['found']} vs {new[0]['found']}", file=sys.stderr)
        best_base = max(r["rate"] for r in base)
        best_new = max(r["rate"] for r in new)
        mode, n, max_size, k, count = scenario
        label = f"{mode} n={n}" + (f" max_size={max_size}" if max_size else "") + (
            f" k={k}" if k else "")
        print(f"| {label} ({count:,} problems) | {best_base:,.0f} | {best_new:,.0f} | "
              f"{best_new / best_base:.3f} |", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
