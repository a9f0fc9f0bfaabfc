"""Random-call fuzzer for ``subsetsum.solve``: calls spread over worker subprocesses, each call
under a watchdog; a worker that crashes or overruns is recorded and replaced.

    python -m tests.fuzz.run --calls 100000              # from the repository root
    python -m tests.fuzz.run --calls 2000 --seed 7 --workers 4 --watchdog 20
    python -m tests.fuzz.run --replay 0 1234             # print call 1234 of seed 0, run it here

Exit status 0 when every call kept the contract (calls.py): no crash, no call over the watchdog,
no contract break; 1 otherwise, with each finding and its (seed, index) to replay.
"""

from __future__ import annotations

import argparse
import json
import os
import selectors
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

TESTS_DIR = Path(__file__).resolve().parent.parent


@dataclass
class Finding:
    index: int
    kind: str  # "crash", "timeout" or "break"
    label: str
    detail: str


@dataclass
class Summary:
    seed: int
    calls: int = 0
    results: int = 0
    errors: int = 0
    findings: list = field(default_factory=list)
    seconds: float = 0.0
    slowest: list = field(default_factory=list)  # (seconds, index, label)

    def count(self, kind: str) -> int:
        return sum(1 for f in self.findings if f.kind == kind)

    def report(self) -> str:
        lines = [
            f"seed {self.seed}: {self.calls} calls in {self.seconds:.0f} s: {self.results} "
            f"results kept the contract, {self.errors} clean errors; {self.count('crash')} "
            f"crashes, {self.count('timeout')} over the watchdog, {self.count('break')} "
            f"contract breaks",
        ]
        for seconds, index, label in sorted(self.slowest, reverse=True)[:5]:
            lines.append(f"  slow: {seconds:.2f} s  #{index} {label}")
        for f in self.findings[:50]:
            lines.append(f"  {f.kind}: #{f.index} (--replay {self.seed} {f.index}) {f.label}")
            lines.extend("      " + line for line in f.detail.splitlines()[:20])
        return "\n".join(lines)


def _package_root() -> str:
    import subsetsum

    return str(Path(subsetsum.__file__).resolve().parent.parent)


class Worker:
    """One worker subprocess (worker.py) and the call it is running."""

    def __init__(self, seed: int, self_test: bool):
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(
            [_package_root(), str(TESTS_DIR)]
            + [p for p in env.get("PYTHONPATH", "").split(os.pathsep) if p]
        )
        code = (f"import sys; sys.path.insert(0, {str(TESTS_DIR)!r}); "
                "from fuzz.worker import main; main()")
        self.stderr = tempfile.TemporaryFile(mode="w+")
        self.seed = seed
        self.proc = subprocess.Popen(
            [sys.executable, "-c", code] + (["--self-test"] if self_test else []),
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self.stderr, text=True,
            env=env, bufsize=1,
        )
        self.index = None
        self.started = 0.0
        ready = self.proc.stdout.readline()
        if not ready.startswith('{"ready"'):
            raise RuntimeError(f"fuzz worker did not start: {ready!r} {self.stderr_tail()}")

    def submit(self, index: int) -> None:
        self.index = index
        self.started = time.monotonic()
        self.proc.stdin.write(f"{self.seed} {index}\n")
        self.proc.stdin.flush()

    def stderr_tail(self) -> str:
        self.stderr.seek(0)
        return self.stderr.read()[-2000:]

    def close(self) -> None:
        """Ends the worker (end of input, then a kill if it lingers) and its pipes."""
        try:
            self.proc.stdin.close()
            self.proc.wait(timeout=10)
        except (OSError, subprocess.TimeoutExpired):
            self.proc.kill()
            self.proc.wait()
        self._close_pipes()

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()
        self._close_pipes()

    def _close_pipes(self) -> None:
        for pipe in (self.proc.stdin, self.proc.stdout, self.stderr):
            try:
                pipe.close()
            except OSError:  # a broken pipe to a dead worker
                pass


def _label(seed: int, index: int) -> str:
    from .calls import make_call

    try:
        return make_call(seed, index).label
    except Exception as exc:  # noqa: BLE001 - a label only
        return f"(no label: {exc})"


def run(calls: int, *, seed: int = 0, workers: int | None = None, watchdog: float = 20.0,
        start: int = 0, self_test: bool = False, verbose: bool = False) -> Summary:
    """Runs calls start .. start + calls - 1 of `seed`; returns what happened."""
    workers = max(1, min(workers or os.cpu_count() or 1, calls))
    summary = Summary(seed=seed)
    began = time.monotonic()
    pending = iter(range(start, start + calls))
    pool = [Worker(seed, self_test) for _ in range(workers)]
    selector = selectors.DefaultSelector()
    for w in pool:
        selector.register(w.proc.stdout, selectors.EVENT_READ, w)

    def replace(w: Worker, kind: str, detail: str) -> Worker:
        summary.calls += 1
        summary.findings.append(Finding(w.index, kind, _label(seed, w.index), detail))
        selector.unregister(w.proc.stdout)
        w.kill()
        fresh = Worker(seed, self_test)
        selector.register(fresh.proc.stdout, selectors.EVENT_READ, fresh)
        pool[pool.index(w)] = fresh
        return fresh

    def feed(w: Worker) -> None:
        index = next(pending, None)
        if index is None:
            w.index = None
        else:
            w.submit(index)

    for w in pool:
        feed(w)
    last_note = time.monotonic()
    while any(w.index is not None for w in pool):
        busy = [w for w in pool if w.index is not None]
        now = time.monotonic()
        wait = max(0.0, min(w.started + watchdog - now for w in busy))
        for key, _ in selector.select(timeout=wait):
            w = key.data
            if w.index is None:
                continue
            line = w.proc.stdout.readline()
            if not line:  # the worker died inside the call
                w.proc.wait()
                code = w.proc.returncode
                fresh = replace(w, "crash", f"exit status {code}\n{w.stderr_tail()}")
                feed(fresh)
                continue
            record = json.loads(line)
            seconds = time.monotonic() - w.started
            summary.calls += 1
            summary.slowest = sorted(summary.slowest + [(seconds, w.index, record["label"])],
                                     reverse=True)[:5]
            if record["outcome"] == "ok":
                if record["detail"].startswith("error"):
                    summary.errors += 1
                else:
                    summary.results += 1
            else:
                summary.findings.append(Finding(w.index, "break", record["label"],
                                                record["detail"]))
            feed(w)
        now = time.monotonic()
        for w in list(pool):
            if w.index is not None and now - w.started > watchdog:
                fresh = replace(w, "timeout", f"no answer after {watchdog:g} s")
                feed(fresh)
        if verbose and now - last_note > 30:
            last_note = now
            print(f"  {summary.calls} calls, {len(summary.findings)} findings, "
                  f"{now - began:.0f} s", file=sys.stderr, flush=True)
    for w in pool:
        selector.unregister(w.proc.stdout)
        w.close()
    summary.seconds = time.monotonic() - began
    return summary


def replay(seed: int, index: int) -> int:
    from .calls import make_call, run_call

    call = make_call(seed, index)
    print(f"call #{index} of seed {seed}: {call.label} (expect {call.expect})")
    print(f"  targets: {call.targets!r}")
    print(f"  bases:   {call.bases!r}")
    print(f"  kwargs:  {call.kwargs!r}")
    outcome, detail = run_call(call, recheck_threads=True)
    print(f"{outcome}: {detail}")
    return 0 if outcome == "ok" else 1


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.fuzz.run", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--calls", type=int, default=1000, help="calls to make (default: 1000)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the calls (default: 0)")
    parser.add_argument("--start", type=int, default=0, help="first call index (default: 0)")
    parser.add_argument("--workers", type=int, default=None,
                        help="worker processes (default: one per CPU)")
    parser.add_argument("--watchdog", type=float, default=20.0,
                        help="seconds a call may take before its worker is killed (default: 20)")
    parser.add_argument("--replay", type=int, nargs=2, metavar=("SEED", "INDEX"),
                        help="print one call and run it in this process")
    args = parser.parse_args(argv)
    if args.replay:
        return replay(*args.replay)
    if args.calls < 1:
        parser.error("--calls: expected an int >= 1")
    summary = run(args.calls, seed=args.seed, workers=args.workers, watchdog=args.watchdog,
                  start=args.start, verbose=True)
    print(summary.report())
    return 1 if summary.findings else 0


if __name__ == "__main__":
    sys.exit(main())
