"""Choosing points: Latin hypercube over bin indices (seeded), plus full grid and random.

Latin hypercube splits each dimension's [0, 1) into n strata and takes one sample per
stratum; scaled by the number of bins and floored, every bin of every dimension is
covered about n/bins times, which random sampling does not guarantee. The draw is the
one of scipy's `qmc.LatinHypercube` (scrambled, strength 1) with the same generator, in
plain numpy so sampling does not import scipy. The same seed always gives the same
points; a run keeps its generator's state between samples (`draw_new`), so each sample
draws new points.
"""

from __future__ import annotations

import itertools
import math
from typing import Any

import numpy as np

from ..errors import InputError
from .space import MAX_POINTS, Space, check_count, check_seed

TOP_UP_ROUNDS = 64


def _to_bins(space: Space, unit: np.ndarray) -> np.ndarray:
    sizes = np.array(space.sizes)
    bins: np.ndarray = np.minimum(np.floor(unit * sizes).astype(np.int64), sizes - 1)
    return bins


def _unit_hypercube(rng: np.random.Generator, n: int, d: int) -> np.ndarray:
    """`n` Latin-hypercube samples in [0, 1)^d (scipy's scrambled LHS algorithm)."""
    jitter = rng.uniform(size=(n, d))
    strata = np.tile(np.arange(1, n + 1), (d, 1))
    for row in strata:
        rng.shuffle(row)
    return (strata.T - jitter) / n


def generator(seed: int, state: dict[str, Any] | None = None) -> np.random.Generator:
    """The generator of a run: seeded (as scipy seeds its engine from `default_rng(seed)`),
    or resumed from a saved `bit_generator.state`."""
    rng = np.random.Generator(np.random.PCG64(np.random.SeedSequence(check_seed(seed)).spawn(1)[0]))
    if state is not None:
        rng.bit_generator.state = state
    return rng


def latin_hypercube(space: Space, n: int, seed: int = 0) -> np.ndarray:
    """`n` points (rows of bin indices) by Latin hypercube sampling."""
    check_count(n)
    return _to_bins(space, _unit_hypercube(generator(seed), n, len(space)))


def draw_new(space: Space, n: int, rng: np.random.Generator, drawn: set[bytes], key: Any) -> np.ndarray:
    """`n` Latin-hypercube points none of which is in `drawn` (keys made by `key(points)`)
    nor repeated; draws again for the missing ones until there are `n`."""
    check_count(n)
    total = math.prod(space.sizes)
    if len(drawn) + n > total:
        raise InputError(
            f"the space has {total:,} points and the run has drawn {len(drawn):,}, so at most {total - len(drawn):,} new ones are left; asked for {n:,}",
            field="n_points",
            fix="ask for fewer points, widen the space's bins, or create a new run",
        )
    chosen: list[np.ndarray] = []
    seen = set(drawn)
    missing = n
    for _ in range(TOP_UP_ROUNDS):
        candidates = _to_bins(space, _unit_hypercube(rng, missing, len(space)))
        keep = []
        for index, blob in enumerate(key(candidates)):
            if blob not in seen:
                seen.add(blob)
                keep.append(index)
        chosen.append(candidates[keep])
        missing -= len(keep)
        if not missing:
            return np.concatenate(chosen)
    raise InputError(
        f"could not find {n:,} new points in {TOP_UP_ROUNDS} draws: the run has drawn most of the space",
        field="n_points",
        fix="ask for fewer points, widen the space's bins, or create a new run",
    )


def random_points(space: Space, n: int, seed: int = 0) -> np.ndarray:
    """`n` points drawn uniformly (for comparison with Latin hypercube)."""
    check_count(n)
    return _to_bins(space, np.random.default_rng(check_seed(seed)).random((n, len(space))))


def full_grid(space: Space, limit: int = MAX_POINTS) -> np.ndarray:
    """Every combination of bins, refused when there are more than `limit`."""
    total = math.prod(space.sizes)
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
