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


class DeviceMemoryPeak:
    """Peak device memory in use while the block runs (MB), sampled every 5 ms through
    cudaMemGetInfo: the solver allocates with the CUDA runtime, outside torch's allocator."""

    def __init__(self, device: int = 0):
        from subsetsum import _cuda

        self._info = lambda: _cuda.mem_info(device)
        self.peak_mb = 0.0

    def __enter__(self):
        import threading

        self._stop = threading.Event()
        free, total = self._info()
        self._base = total - free

        def sample():
            while not self._stop.wait(0.005):
                free, total = self._info()
                self.peak_mb = max(self.peak_mb, (total - free - self._base) / 2**20)

        self._thread = threading.Thread(target=sample, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()
