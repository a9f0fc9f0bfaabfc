"""Argument checks shared by the public functions: each names the argument and what was expected.

TypeError for the wrong kind of value, ValueError for a value out of range.
"""

from __future__ import annotations

import math
import numbers


def check_int(name: str, value, lo: int, hi: int | None = None) -> int:
    """``value`` as an int >= lo, and < hi when hi is given (bools and floats rejected).

    >>> check_int("k", 3, 0)
    3
    >>> check_int("layer", 2**32, 0, 2**32)
    Traceback (most recent call last):
    ...
    ValueError: layer: expected an int in [0, 2**32), got 4294967296
    """
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name}: expected an int, got {type(value).__name__}")
    value = int(value)
    if hi is not None and not lo <= value < hi:
        raise ValueError(f"{name}: expected an int in [{lo}, {_bound(hi)}), got {value}")
    if value < lo:
        raise ValueError(f"{name}: expected an int >= {lo}, got {value}")
    return value


def check_probability(name: str, value) -> float:
    """``value`` as a float in [0, 1] (bools and NaN rejected).

    >>> check_probability("p", 0.25)
    0.25
    """
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name}: expected a float in [0, 1], got {type(value).__name__}")
    value = float(value)
    if not 0.0 <= value <= 1.0:  # NaN fails too
        raise ValueError(f"{name}: expected a float in [0, 1], got {value}")
    return value


def _bound(hi: int) -> str:
    """A bound as written in messages: powers of two as 2**k."""
    if hi > 1024 and hi & (hi - 1) == 0:
        return f"2**{hi.bit_length() - 1}"
    return str(hi)


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
