"""What was built: algorithms, OpenMP, CUDA."""

from __future__ import annotations

from . import _core


def algorithm_names() -> list[str]:
    """Names accepted by ``solve(..., algorithm=...)``.

    >>> "meet_in_the_middle" in algorithm_names()
    True
    """
    return list(_core.algorithm_names())


def _cuda_module():
    try:
        from . import _cuda  # built only where nvcc was found
    except ImportError:
        return None
    return _cuda


def cuda_available() -> bool:
    """True when the CUDA module was built and a CUDA device is present.

    >>> isinstance(cuda_available(), bool)
    True
    """
    mod = _cuda_module()
    return bool(mod is not None and mod.device_count() > 0)


def compile_options() -> dict:
    """How the installed package was built, and what it finds at run time.

    >>> sorted(compile_options())[:3]
    ['cpu_search', 'cpu_threads', 'cuda_devices']
    """
    mod = _cuda_module()
    return {
        "openmp": bool(_core.has_openmp()),
        "cpu_threads": int(_core.max_threads()),
        "cpu_search": str(_core.cpu_search()),  # vector searches of min_size's sizes 1-3
        "cuda_module": mod is not None,
        "cuda_devices": int(mod.device_count()) if mod is not None else 0,
        "cuda_runtime": mod.runtime_version() if mod is not None else None,
        "max_elements": {name: int(_core.max_elements(name)) for name in _core.algorithm_names()},
        "default_work_limit": int(_core.default_work_limit()),
    }
