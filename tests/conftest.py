"""Shared test configuration: the `gpu` marker skips visibly where no CUDA device is present;
the `cpu_search` fixture runs a test under each vector search of the CPU solver."""

import pytest

import subsetsum
from subsetsum import _core

CPU_SEARCHES = ("scalar", "avx2", "avx512")


def pytest_collection_modifyitems(config, items):
    if subsetsum.cuda_available():
        return
    reason = "needs a CUDA device: " + (
        "the CUDA module was not built" if not subsetsum.compile_options()["cuda_module"]
        else "none is present"
    )
    skip_gpu = pytest.mark.skip(reason=reason)
    for item in items:
        if "gpu" in item.keywords:
            item.add_marker(skip_gpu)


@pytest.fixture(params=CPU_SEARCHES)
def cpu_search(request):
    """The CPU solver's searches of sizes 1-3 narrowed to one kind for the test (skipped where
    this CPU has none of that kind); the widest again afterwards."""
    if request.param not in _core.cpu_searches():
        pytest.skip(f"this CPU (or build) runs no {request.param} search")
    _core.set_cpu_search(request.param)
    try:
        yield request.param
    finally:
        _core.set_cpu_search(_core.cpu_searches()[-1])
