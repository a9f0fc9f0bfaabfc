"""How a layer reads its input: a vector, or a feature map through a convolution or a flatten.

Every layer of the ticket code is stored *lowered*: a weight matrix (n_out, channels * fan) over
the layer's input features (j, tap), with ``fan`` features per input channel j:

* a plain linear layer: one feature per input neuron (``fan = 1``);
* a ``Conv2d`` with a kh x kw kernel: feature (j, a, b) is input channel j at kernel offset
  (a, b), ``fan = kh * kw``; the lowered weight is the PyTorch weight (c_out, c_in, kh, kw)
  reshaped to (c_out, c_in * kh * kw), so feature index ``j * fan + a * kw + b``;
* a linear layer after ``nn.Flatten`` of a (C, H, W) map: feature (c, p) is channel c at
  position p, ``fan = H * W`` (PyTorch's flatten order, index ``c * H * W + p``).

This is what makes the constructions of 001_d33223a708772bec.txt carry over to convolutional
targets (Burkholz, ICML 2022): every lowered weight is one subset-sum problem, and its elements
are source weights at the same feature of copies of input channel j (L+1) or of channel j's
univariate block (2L). A univariate block before a convolution is a 1x1 convolution
(:meth:`LayerOp.pointwise`), so it commutes with zero padding whenever the block represents an
input of 0 by 0; see :func:`block_keeps_zero`.

Pooling is read as part of the layer after it (``LayerOp.pool``): the layer pools its input map,
then reads the pooled map. Average pooling is linear and max pooling is 1-Lipschitz in the sup
norm, so both act on every copy of a channel on its own and an error of at most e per copy stays
at most e after pooling (the bounds need nothing new); a max pool before a monotone activation
equals one after it, which is how the parser reads ``Conv2d -> MaxPool2d -> ReLU``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["LayerOp", "block_keeps_zero"]


def _pair(name: str, value) -> tuple[int, int]:
    if isinstance(value, (int, np.integer)):
        return int(value), int(value)
    value = tuple(int(v) for v in value)
    if len(value) != 2:
        raise ValueError(f"{name}: expected an int or a pair of ints, got {value}")
    return value


@dataclass(frozen=True)
class LayerOp:
    """How one layer reads its input.

    kind : "linear" or "conv"
    channels : input channels (input neurons of a plain linear layer)
    in_size : (H, W) of the map the layer reads (after its pooling), or () for a vector input
    kernel, stride, padding, dilation : (int, int) of a convolution (zero padding)
    pool : () or (how, kernel, stride, padding, map size before pooling), how "avg" or "max":
        the layer's input is this pooling of a larger map (``count_include_pad`` average)

    >>> op = LayerOp("conv", 2, (5, 5), kernel=(3, 3), padding=(1, 1))
    >>> op.fan, op.out_size, op.padded
    (9, (5, 5), True)
    >>> LayerOp("linear", 4, (3, 3)).fan   # a linear layer after Flatten of a (4, 3, 3) map
    9
    """

    kind: str
    channels: int
    in_size: tuple = ()
    kernel: tuple = (1, 1)
    stride: tuple = (1, 1)
    padding: tuple = (0, 0)
    dilation: tuple = (1, 1)
    pool: tuple = ()

    @staticmethod
    def dense(n_in: int) -> "LayerOp":
        """A linear layer on a vector of ``n_in`` features."""
        return LayerOp("linear", int(n_in))

    @property
    def fan(self) -> int:
        """Lowered input features per input channel."""
        if self.kind == "conv":
            return self.kernel[0] * self.kernel[1]
        return int(np.prod(self.in_size)) if self.in_size else 1

    @property
    def features(self) -> int:
        return self.channels * self.fan

    @property
    def out_size(self) -> tuple:
        """(H_out, W_out) of a convolution's output map; () for a linear layer."""
        if self.kind != "conv":
            return ()
        return tuple((n + 2 * p - d * (k - 1) - 1) // s + 1 for n, p, d, k, s in
                     zip(self.in_size, self.padding, self.dilation, self.kernel, self.stride))

    @property
    def padded(self) -> bool:
        """Some output reads a padded zero."""
        return self.kind == "conv" and any(self.padding)

    @property
    def source_size(self) -> tuple:
        """(H, W) of the map the layer is given: before its pooling."""
        return tuple(self.pool[4]) if self.pool else self.in_size

    def pointwise(self) -> "LayerOp":
        """The op of a univariate block on this layer's input: a 1x1 convolution on a map input
        (pooling first, when the layer pools), a linear layer on a vector input."""
        if self.in_size:
            return LayerOp("conv", self.channels, self.in_size, pool=self.pool)
        return LayerOp.dense(self.channels)

    def unpooled(self) -> "LayerOp":
        """This op on an input already pooled (the layer after a block that pooled)."""
        return LayerOp(self.kind, self.channels, self.in_size, self.kernel, self.stride, self.padding,
                       self.dilation)

    def with_channels(self, channels: int) -> "LayerOp":
        """The same op reading ``channels`` input channels (the ticket's wider layers)."""
        return LayerOp(self.kind, int(channels), self.in_size, self.kernel, self.stride, self.padding,
                       self.dilation, self.pool)

    def expand(self, per_channel) -> np.ndarray:
        """A per-channel vector repeated over the channel's ``fan`` features (float64)."""
        return np.repeat(np.asarray(per_channel, dtype=np.float64), self.fan)

    def feature_interval(self, lo, hi) -> tuple[np.ndarray, np.ndarray]:
        """Per-feature bounds (lowered) from per-channel bounds [lo, hi] of the given map: padded
        zeros (of the convolution, or counted by an average pool) widen them to include 0."""
        lo, hi = self.expand(lo), self.expand(hi)
        if self.padded or (self.pool and self.pool[0] == "avg" and any(self.pool[3])):
            lo, hi = np.minimum(lo, 0.0), np.maximum(hi, 0.0)
        return lo, hi

    def always_inside_tap(self) -> int | None:
        """A kernel offset (lowered index) that reads an input position, never a padded zero,
        for every output position; None when there is none. Constant channels feed biases
        through it (a constant channel is zero-padded like any other)."""
        if self.kind != "conv":
            return 0
        taps = []
        for axis in range(2):
            n, p, d, k, s = (self.in_size[axis], self.padding[axis], self.dilation[axis], self.kernel[axis],
                             self.stride[axis])
            last = self.out_size[axis] - 1
            ok = [a for a in range(k) if a * d - p >= 0 and last * s + a * d - p <= n - 1]
            if not ok:
                return None
            taps.append(min(ok, key=lambda a: abs(a - (k - 1) / 2)))
        return taps[0] * self.kernel[1] + taps[1]

    def to_json(self) -> dict:
        out = {"kind": self.kind, "channels": self.channels, "in_size": list(self.in_size),
               "kernel": list(self.kernel), "stride": list(self.stride), "padding": list(self.padding),
               "dilation": list(self.dilation)}
        if self.pool:
            out["pool"] = [self.pool[0]] + [list(v) for v in self.pool[1:]]
        return out

    @staticmethod
    def from_json(d: dict) -> "LayerOp":
        pool = ()
        if d.get("pool"):
            pool = (str(d["pool"][0]), *(tuple(int(v) for v in part) for part in d["pool"][1:]))
        return LayerOp(str(d["kind"]), int(d["channels"]), tuple(int(v) for v in d["in_size"]),
                       *(tuple(int(v) for v in d[k]) for k in ("kernel", "stride", "padding", "dilation")),
                       pool=pool)

    # ------------------------------------------------------------ arithmetic

    def as_input(self, x: np.ndarray) -> np.ndarray:
        """x as this layer's input, pooled where the layer pools: (B, C, H, W) for a map, (B, C)
        for a vector."""
        x = np.asarray(x)
        size = self.source_size
        x = x.reshape((x.shape[0], self.channels, *size) if size else (x.shape[0], self.channels))
        return _pool(x, *self.pool[:4]) if self.pool else x

    def patches(self, x: np.ndarray) -> np.ndarray:
        """The lowered features of every output position: (B, channels * fan, positions) from x
        (B, C, H, W) or (B, C)."""
        x = self.as_input(x)
        batch = x.shape[0]
        if self.kind != "conv":
            return x.reshape(batch, -1, 1)
        (ph, pw), (dh, dw), (sh, sw), (kh, kw) = self.padding, self.dilation, self.stride, self.kernel
        ho, wo = self.out_size
        xp = np.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw))) if (ph or pw) else x
        taps = [xp[:, :, a * dh: a * dh + sh * (ho - 1) + 1: sh, b * dw: b * dw + sw * (wo - 1) + 1: sw]
                for a in range(kh) for b in range(kw)]
        return np.stack(taps, axis=2).reshape(batch, self.channels * kh * kw, ho * wo)

    def output(self, flat: np.ndarray) -> np.ndarray:
        """(B, n_out, positions) back to the layer's output: (B, n_out, H_out, W_out) or (B, n_out)."""
        if self.kind == "conv":
            return flat.reshape(flat.shape[0], flat.shape[1], *self.out_size)
        return flat.reshape(flat.shape[0], flat.shape[1])

    def apply(self, x: np.ndarray, weight: np.ndarray, bias: np.ndarray) -> np.ndarray:
        """The layer ``W x + b`` with a dense lowered weight (n_out, features) float64.

        >>> op = LayerOp("conv", 1, (3, 3), kernel=(2, 2))
        >>> op.apply(np.arange(9.0).reshape(1, 1, 3, 3), np.ones((1, 4)), np.zeros(1)).tolist()
        [[[[8.0, 12.0], [20.0, 24.0]]]]
        """
        p = self.patches(x)
        out = np.einsum("of,bfp->bop", weight, p, optimize=True) + np.asarray(bias)[None, :, None]
        return self.output(out)


def block_keeps_zero(activation, pairs: bool) -> bool:
    """Whether a univariate block represents an input of 0 by 0, so that it commutes with the
    zero padding of the convolution after it: true for activations with phi(0) = 0 (ReLU, leaky
    ReLU, tanh, identity) and for looks-linear pairs, whose opposite weights cancel phi(0)
    (001_d33223a708772bec.txt, Thm 2.6); not for a sigmoid block without pairs."""
    return pairs or activation.intercept == 0


def _pool(x: np.ndarray, how: str, kernel, stride, padding) -> np.ndarray:
    """Average (zero padding counted, as PyTorch's default) or max pooling of x (B, C, H, W)."""
    (kh, kw), (sh, sw), (ph, pw) = kernel, stride, padding
    fill = 0.0 if how == "avg" else -np.inf
    xp = np.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)), constant_values=fill) if (ph or pw) else x
    ho = (xp.shape[2] - kh) // sh + 1
    wo = (xp.shape[3] - kw) // sw + 1
    taps = [xp[:, :, a: a + sh * (ho - 1) + 1: sh, b: b + sw * (wo - 1) + 1: sw] for a in range(kh) for b in range(kw)]
    stacked = np.stack(taps, axis=0)
    return stacked.mean(axis=0) if how == "avg" else stacked.max(axis=0)


def pooled_size(size, kernel, stride, padding) -> tuple:
    """(H, W) after pooling a ``size`` map (floor mode)."""
    return tuple((n + 2 * p - k) // s + 1 for n, k, s, p in zip(size, kernel, stride, padding))
