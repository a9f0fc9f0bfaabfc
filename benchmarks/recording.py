"""What the benchmark scripts record: the machine they ran on, and their results files."""

from __future__ import annotations

from pathlib import Path


def proc_field(path: str, key: str) -> str:
    """The value of the first ``key: value`` line of a /proc file ("unknown" where there is none).

    >>> proc_field("/nonexistent", "model name")
    'unknown'
    """
    try:
        for line in Path(path).read_text().splitlines():
            if line.startswith(key):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return "unknown"


def cpu_model() -> str:
    """The CPU's model name, from /proc/cpuinfo."""
    return proc_field("/proc/cpuinfo", "model name")


def write_results(path: str, lines: list[str]) -> None:
    """Write a results file (markdown ``lines``), creating its folder, and print it."""
    import os

    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        f.write("\n".join(lines))
    print("\n".join(lines))
