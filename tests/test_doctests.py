"""Every docstring example in the package runs and shows what it claims."""

import doctest
import importlib
import pkgutil

import pytest

import subsetsum

MODULES = sorted(
    info.name for info in pkgutil.walk_packages(subsetsum.__path__, prefix="subsetsum.")
    if info.name.rsplit(".", 1)[-1] not in ("_core", "_cuda", "__main__")  # compiled; runs the CLI
)


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name):
    if name in ("subsetsum.demo", "subsetsum.tickets.ticket", "subsetsum.tickets.construct"):
        pytest.importorskip("torch")
    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    assert result.failed == 0, f"{result.failed} of {result.attempted} examples failed in {name}"
