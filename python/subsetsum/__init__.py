"""subsetsum: millions of small real-valued subset-sum problems at once, and strong lottery
tickets built from them.

>>> import subsetsum
>>> r = subsetsum.solve([0.3], [[0.1, 0.2, 0.4]], eps=1e-6, mode="best")
>>> r.to_mask(3).tolist()
[[True, True, False]]
"""

from ._version import __version__
from .solve import SolveResult, solve
from ._info import algorithm_names, compile_options, cuda_available
from . import masks, stats, theory
from .tickets import Ticket, TicketToleranceError, TicketWarning, construct_ticket

__all__ = [
    "__version__",
    "solve",
    "SolveResult",
    "algorithm_names",
    "compile_options",
    "cuda_available",
    "masks",
    "stats",
    "theory",
    "construct_ticket",
    "Ticket",
    "TicketWarning",
    "TicketToleranceError",
]
