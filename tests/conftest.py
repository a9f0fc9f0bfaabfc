"""Shared test configuration: the `gpu` marker skips visibly where no CUDA device is present."""

import pytest

import subsetsum


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
