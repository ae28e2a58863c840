"""Choosing points: Latin hypercube over bin indices (seeded), plus full grid and random.

Latin hypercube (scipy's `qmc.LatinHypercube`) splits each dimension's [0, 1) into n
strata and takes one sample per stratum; scaled by the number of bins and floored, every
bin of every dimension is covered about n/bins times, which random sampling does not
guarantee. The same seed always gives the same points.
"""

from __future__ import annotations

import itertools

import numpy as np

from ..errors import InputError
from .space import Space

MAX_POINTS = 100_000


def _check_count(n: int) -> None:
    if isinstance(n, bool) or not isinstance(n, int) or not 1 <= n <= MAX_POINTS:
        raise InputError(f"the number of points must be a whole number 1..{MAX_POINTS}, got {n!r}", field="n_points")


def _to_bins(space: Space, unit: np.ndarray) -> np.ndarray:
    sizes = np.array(space.sizes)
    return np.minimum(np.floor(unit * sizes).astype(np.int64), sizes - 1)


def latin_hypercube(space: Space, n: int, seed: int = 0) -> np.ndarray:
    """`n` points (rows of bin indices) by Latin hypercube sampling."""
    _check_count(n)
    from scipy.stats import qmc

    sampler = qmc.LatinHypercube(d=len(space), rng=np.random.default_rng(seed))
    return _to_bins(space, sampler.random(n))


def random_points(space: Space, n: int, seed: int = 0) -> np.ndarray:
    """`n` points drawn uniformly (for comparison with Latin hypercube)."""
    _check_count(n)
    return _to_bins(space, np.random.default_rng(seed).random((n, len(space))))


def full_grid(space: Space, limit: int = MAX_POINTS) -> np.ndarray:
    """Every combination of bins, refused when there are more than `limit`."""
    total = int(np.prod(space.sizes, dtype=object))
    if total > limit:
        raise InputError(
            f"the full grid has {total:,} points, more than the limit of {limit:,}",
            field="sampling",
            fix="use latin_hypercube, or narrow the space's bins",
        )
    return np.array(list(itertools.product(*(range(size) for size in space.sizes))), dtype=np.int64)


def coverage(space: Space, points: np.ndarray) -> float:
    """Share of (dimension, bin) pairs that at least one point uses."""
    used = sum(len(np.unique(points[:, i])) for i in range(len(space)))
    return used / sum(space.sizes)
