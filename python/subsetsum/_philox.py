"""Counter-based source weights: Philox4x32-10 shared by the CPU and CUDA backends.

The contract (fixed in ``csrc/include/subsetsum/philox.hpp``): the weight at (row, col) of layer
``layer`` in stream ``stream`` of a source network drawn with ``seed`` is a pure function of
(seed, stream, layer, row, col). It is word ``col & 3`` of Philox4x32-10 with counter
``(col >> 2, row, layer, stream)`` and key ``(seed & 0xffffffff, seed >> 32)``; that 32-bit word
``x`` gives

- ``uniform``: ``((x >> 8) * 2 + 1 - 2**24) * 2**-24``, an odd multiple of 2**-24 strictly
  inside (-1, 1) (symmetric, never 0, exact in float32);
- ``bernoulli``: ``x < floor(p * 2**32)`` (p = 1 always, p = 0 never).

So any block can be regenerated, grown by rows or columns, or gathered element by element, with
the same bits on any thread count and on the GPU. Ranges: seed in [0, 2**64), stream and layer
in [0, 2**32), rows in [0, 2**32), cols in [0, 2**34).

``rows`` and ``cols`` are an int, a ``range``, a sequence of ints or a 1-D integer array (an int
counts as one index). With ``outer=True`` the result has shape (R, C) and holds the value at
(rows[i], cols[j]); with ``outer=False`` rows and cols have the same length R and the result, of
shape (R,), holds the value at (rows[i], cols[i]).
"""

from __future__ import annotations

import numbers

import numpy as np

from . import _core
from ._checks import check_int, check_probability

_WORD = 2**32  # stream, layer, rows, Philox counter and key words
_COLS = 2**34  # cols: col >> 2 is the first counter word
_SEED = 2**64


def uniform(seed, stream, layer, rows, cols, *, outer: bool = True,
            num_threads: int | None = None) -> np.ndarray:
    """Source weights uniform in (-1, 1): float32, shape (R, C) (outer) or (R,) (pairs).

    Parameters
    ----------
    seed : int in [0, 2**64)
    stream, layer : int in [0, 2**32)
    rows : int, range, int sequence or int array, shape (R,), values in [0, 2**32)
    cols : int, range, int sequence or int array, shape (C,), values in [0, 2**34)
    outer : bool
        True: the block ``out[i, j]`` = value at (rows[i], cols[j]). False: R == C and
        ``out[i]`` = value at (rows[i], cols[i]).
    num_threads : int, optional
        CPU threads (default: all cores). The values never depend on it.

    Every value is an odd multiple of 2**-24 strictly inside (-1, 1), and a pure function of
    (seed, stream, layer, row, col): a gathered element equals the same element of any block.

    >>> w = uniform(7, 0, 1, range(3), range(8))
    >>> w.shape, w.dtype
    ((3, 8), dtype('float32'))
    >>> bool((uniform(7, 0, 1, 2, [5, 6]) == w[2, 5:7]).all())
    True
    >>> bool((uniform(7, 0, 1, [0, 2], [3, 4], outer=False) == [w[0, 3], w[2, 4]]).all())
    True
    """
    seed, stream, layer, rows, cols, outer = _where(seed, stream, layer, rows, cols, outer)
    out = np.empty(_shape(rows, cols, outer), dtype=np.float32)
    _core.philox_uniform_into(seed, stream, layer, rows, cols, out, outer, _threads(num_threads))
    return out


def bernoulli(seed, stream, layer, rows, cols, p, *, outer: bool = True,
              num_threads: int | None = None) -> np.ndarray:
    """Source Bernoulli(p) bits: bool, shape (R, C) (outer) or (R,) (pairs).

    True where the weight's 32-bit word is below ``floor(p * 2**32)``: p = 1 is always True and
    p = 0 never. Same (seed, stream, layer, rows, cols, outer, num_threads) contract as
    :func:`uniform`; p is a float in [0, 1]. A Bernoulli draw and a uniform draw with the same
    (seed, stream, layer) read the same words, so give them different streams or layers.

    >>> bernoulli(7, 1, 0, range(2), range(3), 1.0).tolist()
    [[True, True, True], [True, True, True]]
    >>> bool(bernoulli(7, 1, 0, range(100), range(100), 0.0).any())
    False
    """
    seed, stream, layer, rows, cols, outer = _where(seed, stream, layer, rows, cols, outer)
    threshold = int(_core.philox_bernoulli_threshold(check_probability("p", p)))
    out = np.empty(_shape(rows, cols, outer), dtype=np.bool_)
    _core.philox_bernoulli_into(seed, stream, layer, rows, cols, threshold, out, outer,
                                _threads(num_threads))
    return out


def uniform_tensor(seed, stream, layer, rows, cols, *, outer: bool = True):
    """:func:`uniform` drawn where the indices live: ``rows`` and ``cols`` int64 torch tensors
    on one device, the result a float32 tensor there (CUDA: the gather kernel of
    csrc/cuda/philox_fill.cu; CPU: the fills of :func:`uniform`). Same bits on every device.

    >>> import torch
    >>> w = uniform_tensor(7, 0, 1, torch.arange(3), torch.tensor([5, 0]))
    >>> bool((w.numpy() == uniform(7, 0, 1, range(3), [5, 0])).all())
    True
    """
    return _draw_tensor("uniform", seed, stream, layer, rows, cols, outer, None)


def bernoulli_tensor(seed, stream, layer, rows, cols, p, *, outer: bool = True):
    """:func:`bernoulli` on int64 torch tensors, as :func:`uniform_tensor`: a bool tensor on their
    device.

    >>> import torch
    >>> m = bernoulli_tensor(7, 1, 0, torch.arange(4), torch.arange(6), 0.5)
    >>> bool((m.numpy() == bernoulli(7, 1, 0, range(4), range(6), 0.5)).all())
    True
    """
    return _draw_tensor("bernoulli", seed, stream, layer, rows, cols, outer, check_probability("p", p))


def _draw_tensor(kind, seed, stream, layer, rows, cols, outer, p):
    import torch

    if rows.device != cols.device:
        raise ValueError(f"rows, cols: expected tensors on one device, got {rows.device} and {cols.device}")
    if rows.device.type != "cuda":
        r, c = rows.cpu().numpy(), cols.cpu().numpy()
        out = uniform(seed, stream, layer, r, c, outer=outer) if kind == "uniform" else \
            bernoulli(seed, stream, layer, r, c, p, outer=outer)
        return torch.from_numpy(out).to(rows.device)
    seed, stream, layer = check_int("seed", seed, 0, _SEED), check_int("stream", stream, 0, _WORD), \
        check_int("layer", layer, 0, _WORD)
    rows = rows.to(torch.int64).contiguous()
    cols = cols.to(torch.int64).contiguous()
    for name, a, bound in (("rows", rows, _WORD), ("cols", cols, _COLS)):
        if a.ndim != 1:
            raise ValueError(f"{name}: expected a 1-D tensor, got shape {tuple(a.shape)}")
        if a.numel() and (int(a.min()) < 0 or int(a.max()) >= bound):
            raise ValueError(f"{name}: expected values in [0, {_pow2(bound)})")
    if not outer and rows.numel() != cols.numel():
        raise ValueError(f"rows, cols: outer=False needs as many rows as cols, got {rows.numel()} and {cols.numel()}")
    from ._gpu import cuda_module

    cuda = cuda_module()
    shape = (rows.numel(), cols.numel()) if outer else (rows.numel(),)
    stream_handle = int(torch.cuda.current_stream(rows.device).cuda_stream)
    with torch.cuda.device(rows.device):
        if kind == "uniform":
            out = torch.empty(shape, dtype=torch.float32, device=rows.device)
            cuda.philox_uniform_gather(seed, stream, layer, rows.data_ptr(), rows.numel(), cols.data_ptr(),
                                       cols.numel(), bool(outer), out.data_ptr(), stream_handle)
        else:
            out = torch.empty(shape, dtype=torch.bool, device=rows.device)
            cuda.philox_bernoulli_gather(seed, stream, layer, rows.data_ptr(), rows.numel(), cols.data_ptr(),
                                         cols.numel(), bool(outer), int(_core.philox_bernoulli_threshold(p)),
                                         out.data_ptr(), stream_handle)
    return out


def philox4x32_10(counters, key) -> np.ndarray:
    """The raw Philox4x32-10 function: uint32 array (N, 4), row i the output for counters[i].

    Parameters
    ----------
    counters : ints, shape (N, 4), values in [0, 2**32)
    key : ints, shape (2,), values in [0, 2**32)

    Random123's first known-answer vector (zero counter and key):

    >>> [hex(x) for x in philox4x32_10([[0, 0, 0, 0]], [0, 0])[0]]
    ['0x6627e8d5', '0xe169c58d', '0xbc57ac4c', '0x9b00dbd8']
    """
    c = _int_array("counters", counters, _WORD)
    if c.ndim != 2 or c.shape[1] != 4:
        raise ValueError(f"counters: expected shape (N, 4), got {c.shape}")
    k = _int_array("key", key, _WORD)
    if k.shape != (2,):
        raise ValueError(f"key: expected shape (2,), got {k.shape}")
    c = np.ascontiguousarray(c, dtype=np.uint32)
    k = np.ascontiguousarray(k, dtype=np.uint32)
    out = np.empty(c.shape, dtype=np.uint32)
    _core.philox4x32_10_into(c, k, out)
    return out


def _where(seed, stream, layer, rows, cols, outer):
    seed = check_int("seed", seed, 0, _SEED)
    stream = check_int("stream", stream, 0, _WORD)
    layer = check_int("layer", layer, 0, _WORD)
    rows = _indices("rows", rows, _WORD)
    cols = _indices("cols", cols, _COLS)
    if not isinstance(outer, (bool, np.bool_)):
        raise TypeError(f"outer: expected a bool, got {type(outer).__name__}")
    outer = bool(outer)
    if not outer and rows.shape != cols.shape:
        raise ValueError(
            f"rows, cols: outer=False needs as many rows as cols, got {rows.size} and {cols.size}"
        )
    return seed, stream, layer, rows, cols, outer


def _shape(rows: np.ndarray, cols: np.ndarray, outer: bool) -> tuple[int, ...]:
    return (rows.size, cols.size) if outer else (rows.size,)


def _threads(num_threads) -> int:
    return 0 if num_threads is None else check_int("num_threads", num_threads, 1)


def _indices(name: str, value, bound: int) -> np.ndarray:
    """An int, range, int sequence or 1-D int array as a contiguous int64 array (n,)."""
    if isinstance(value, range):
        if len(value) and not (0 <= min(value[0], value[-1]) and max(value[0], value[-1]) < bound):
            raise ValueError(f"{name}: expected values in [0, {_pow2(bound)}), got {value}")
        return np.arange(value.start, value.stop, value.step, dtype=np.int64)
    if isinstance(value, numbers.Integral) and not isinstance(value, (bool, np.bool_)):
        return np.array([check_int(name, value, 0, bound)], dtype=np.int64)
    arr = _int_array(name, value, bound)
    if arr.ndim != 1:
        raise ValueError(f"{name}: expected an int or a 1-D sequence of ints, got shape {arr.shape}")
    return np.ascontiguousarray(arr, dtype=np.int64)


def _int_array(name: str, value, bound: int) -> np.ndarray:
    """``value`` as an integer numpy array with every entry in [0, bound); bools rejected."""
    if isinstance(value, (str, bytes)):
        raise TypeError(f"{name}: expected integers, got {type(value).__name__}")
    try:
        arr = np.asarray(value)
    except (TypeError, ValueError, OverflowError) as error:
        raise TypeError(f"{name}: expected integers ({error})") from None
    if arr.size == 0:
        return np.zeros(arr.shape, dtype=np.int64)
    if arr.dtype == object:  # Python ints beyond int64/uint64, or mixed types
        flat = arr.ravel().tolist()
        if not all(isinstance(v, numbers.Integral) and not isinstance(v, bool) for v in flat):
            raise TypeError(f"{name}: expected integers, got non-integer entries")
        bad = [v for v in flat if not 0 <= v < bound]
        if bad:
            raise ValueError(f"{name}: expected values in [0, {_pow2(bound)}), got {bad[0]}")
        return np.array(flat, dtype=np.int64).reshape(arr.shape)
    if arr.dtype.kind not in "iu":
        raise TypeError(f"{name}: expected integers, got dtype {arr.dtype}")
    lo, hi = arr.min(), arr.max()
    if lo < 0 or hi >= bound:
        raise ValueError(
            f"{name}: expected values in [0, {_pow2(bound)}), got {lo if lo < 0 else hi}"
        )
    return arr


def _pow2(bound: int) -> str:
    return f"2**{bound.bit_length() - 1}"
