"""Benchmark session helpers: collect problems/s per group and print cpu / numba ratios."""

from __future__ import annotations

import pytest

# group -> {backend: problems/s}, filled by the cases of this session
_THROUGHPUT: dict[str, dict[str, float]] = {}


@pytest.fixture
def record_throughput():
    """``record(group, backend, problems_per_second)`` for the end-of-session summary."""

    def record(group: str, backend: str, rate: float) -> None:
        _THROUGHPUT.setdefault(group, {})[backend] = rate

    return record


def pytest_terminal_summary(terminalreporter):
    if not _THROUGHPUT:
        return
    write = terminalreporter.write_line
    terminalreporter.section("throughput (problems/s, best round)")
    write(f"{'setting':<44} {'cpu':>14} {'numba':>14} {'cpu/numba':>10}")
    for group, rates in _THROUGHPUT.items():
        cpu, ref = rates.get("cpu"), rates.get("numba")
        ratio = f"{cpu / ref:.1f}x" if cpu and ref else "-"
        cpu_text = f"{cpu:,.0f}" if cpu else "-"
        ref_text = f"{ref:,.0f}" if ref else "-"
        write(f"{group:<44} {cpu_text:>14} {ref_text:>14} {ratio:>10}")
