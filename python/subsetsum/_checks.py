"""Argument checks shared by the public functions: each names the argument and what was expected.

TypeError for the wrong kind of value, ValueError for a value out of range.
"""

from __future__ import annotations

import math
import numbers


def check_int(name: str, value, lo: int) -> int:
    """``value`` as an int >= lo (bools and floats rejected).

    >>> check_int("k", 3, 0)
    3
    """
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name}: expected an int, got {type(value).__name__}")
    value = int(value)
    if value < lo:
        raise ValueError(f"{name}: expected an int >= {lo}, got {value}")
    return value


def check_positive_float(name: str, value) -> float:
    """``value`` as a finite float > 0 (bools rejected).

    >>> check_positive_float("eps", 0.01)
    0.01
    """
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name}: expected a positive float, got {type(value).__name__}")
    value = float(value)
    if not (math.isfinite(value) and value > 0):
        raise ValueError(f"{name}: expected a finite float > 0, got {value}")
    return value
