"""The validated options of :func:`~subsetsum.construct_ticket`, and the package's ticket warning.

Every argument is checked once, here, with an error that names it and says what was expected;
the later stages read the :class:`TicketOptions` they are given and nothing else.
"""

from __future__ import annotations

import numbers
from dataclasses import dataclass, replace

from .._checks import check_int, check_positive_float
from .executor import RayExecutor, get_executor
from .methods import METHODS
from .source import DENSITY_SCHEMES, layer_densities

__all__ = ["DEFAULT_DELTA", "FIXED_SIZE_DELTA", "TicketOptions", "TicketWarning", "TicketToleranceError"]

# Allowed probability that the first solve leaves anything for the repair pass. The repair pass
# makes every ticket meet its tolerances whatever delta is, so delta only trades a wider source
# (and a larger ticket) against repair work: on the LeNet-shape L+1 benchmark 0.01 asks ~1e-9 per
# problem (union bound over 17M problems) and gives a ticket 1.26x the size at 0.5, whose first
# solve leaves on average 0.4 problems to the repair pass (benchmarks/results/ticket.md).
DEFAULT_DELTA = 0.5
# A fixed-size ticket (subset_size) has a size known before solving, which only a repair (new
# block neurons or copies, each with its edges) could change: its first solve should stand alone.
FIXED_SIZE_DELTA = 0.01


class TicketWarning(UserWarning):
    """A ticket that does not meet what was asked (parameters above tolerance, an end-to-end bound
    above ``output_eps``), or a request that makes a degenerate ticket.

    >>> import warnings
    >>> issubclass(TicketWarning, UserWarning)
    True
    """


class TicketToleranceError(ValueError):
    """Raised by ``construct_ticket(..., strict=True)`` instead of a :class:`TicketWarning`."""


@dataclass(frozen=True)
class TicketOptions:
    """Every option of a construction (see :func:`~subsetsum.construct_ticket` for their meaning).

    ``init`` is derived from ``source``: "uniform" or "looks_linear" (generated) or "user";
    ``tolerance_scale`` shrinks every layer's tolerance (the build's retry when the certified
    bound of a first attempt exceeds ``output_eps``).

    >>> TicketOptions.create(method="2L", eps=0.05).rho
    'auto'
    >>> TicketOptions.create(rho=0)
    Traceback (most recent call last):
    ...
    ValueError: rho: expected "auto" or an int >= 1, got 0
    """

    method: str = "L+1"
    eps: float = 0.01
    output_eps: float | None = None
    rho: object = "auto"
    delta: float = DEFAULT_DELTA
    max_size: int | None = 10
    input_bound: float = 1.0
    init: str = "uniform"
    density: float = 1.0
    density_scheme: str = "uniform"
    subset_size: int | None = None
    seed: int = 0
    device: str | None = None
    repair: bool = True
    strict: bool = False
    progress: object = None
    tolerance_scale: float = 1.0
    executor: object = None

    @classmethod
    def create(cls, *, method="L+1", eps=0.01, output_eps=None, rho="auto", delta=None, max_size=10,
               input_bound=1.0, source=None, density=1.0, density_scheme="uniform", subset_size=None, seed=0,
               device=None, repair=True, strict=False, progress=None, activation_intercept=0.0,
               executor=None) -> "TicketOptions":
        if method not in METHODS:
            raise ValueError(f"method: expected one of {METHODS}, got {method!r}")
        eps = check_positive_float("eps", eps)
        if output_eps is not None:
            output_eps = check_positive_float("output_eps", output_eps)
        if isinstance(rho, str):
            if rho != "auto":
                raise ValueError(f'rho: expected "auto" or an int >= 1, got {rho!r}')
        elif isinstance(rho, bool) or not isinstance(rho, numbers.Integral):
            raise TypeError(f'rho: expected "auto" or an int >= 1, got {type(rho).__name__}')
        elif rho < 1:
            raise ValueError(f'rho: expected "auto" or an int >= 1, got {rho}')
        else:
            rho = int(rho)
        if delta is None:
            delta = DEFAULT_DELTA if subset_size is None else FIXED_SIZE_DELTA
        delta = check_positive_float("delta", delta)
        if delta >= 1.0:
            raise ValueError(f"delta: expected a probability in (0, 1), got {delta}")
        if subset_size is not None:
            subset_size = check_int("subset_size", subset_size, 1)
        limit = 64 if subset_size is None else 256
        if rho != "auto" and rho > limit:
            raise ValueError(f"rho: expected at most {limit} (the solver takes {limit} elements per problem "
                             f"{'with subset_size' if subset_size else 'in min_size mode'}), got {rho}")
        max_size = check_int("max_size", max_size, 1)
        input_bound = check_positive_float("input_bound", input_bound)
        if density_scheme not in DENSITY_SCHEMES:
            raise ValueError(f"density_scheme: expected one of {DENSITY_SCHEMES}, got {density_scheme!r}")
        layer_densities([(1, 1)], density, density_scheme)  # validates density
        density = float(density)
        seed = check_int("seed", seed, 0, 2**63)
        for name, value in (("strict", strict), ("repair", repair)):
            if not isinstance(value, bool):
                raise TypeError(f"{name}: expected a bool, got {type(value).__name__}")
        if progress is not None and not isinstance(progress, bool) and not callable(progress):
            raise TypeError(f"progress: expected None, a bool or a callable(done, total), got {progress!r}")
        device = _check_device(device)
        executor = get_executor(executor)
        runner = getattr(executor, "inner", executor)  # a CheckpointExecutor runs on its inner one
        if device is not None and isinstance(runner, RayExecutor) and not runner.num_gpus:
            raise ValueError(f"executor: device={device!r} solves on GPUs, so every Ray task needs one; pass "
                             "executor=RayExecutor(num_gpus=1) (or a fraction of a GPU), or device=None")
        if source is None:
            init = "looks_linear" if activation_intercept != 0 else "uniform"
        elif isinstance(source, str):
            if source not in ("uniform", "looks_linear"):
                raise ValueError("source: expected None, 'uniform', 'looks_linear', a torch module or a list of "
                                 f"arrays, got {source!r}")
            init = source
        else:
            init = "user"
        return cls(method, eps, output_eps, rho, delta, max_size, input_bound, init, density, density_scheme,
                   subset_size, seed, device, repair, strict, progress, executor=executor)

    def tightened(self, factor: float) -> "TicketOptions":
        """The same options with every layer's tolerance multiplied by ``factor``."""
        return replace(self, tolerance_scale=self.tolerance_scale * factor)


def _check_device(device):
    if device is None:
        return None
    if not (isinstance(device, str) or type(device).__module__.startswith("torch")):
        raise TypeError(f"device: expected None or a string like 'cuda', got {type(device).__name__}")
    name = str(device)
    if name == "cpu":
        return None
    if not name.startswith("cuda"):
        raise ValueError(f"device: expected None, 'cpu' or 'cuda[:N]', got {device!r}")
    from .._info import cuda_available

    if not cuda_available():
        raise ValueError(f"device: {name!r} was asked for but no CUDA device is available "
                         "(subsetsum.cuda_available() is False); use device=None to build on the host")
    return name
