"""Bradley-Terry strengths from pairwise votes, with bootstrap intervals (issue 16).

Why Bradley-Terry and not online Elo (what Open WebUI's arena uses): Elo updates after
each vote, so the same votes in another order give other ratings; a Bradley-Terry fit
depends only on the counts, so a leaderboard is reproducible and a refit is cheap. The
model: P(i beats j) = p_i / (p_i + p_j).

The fit works on **counts per pair**, not on individual votes: 100,000 votes between 20
models are at most 190 pairs, so one iteration costs O(pairs) whatever the number of
votes (measured in ``bench/grades.py``). The fit maximises the likelihood by Newton's
method (``_fit`` says why not Hunter's MM iteration); a tie counts half a win for each
side. The plain maximum does not exist when a model won (or lost) every vote it got; a
**prior** fixes that: every model plays ``prior`` virtual ties against a virtual
reference of strength 1 (a Bayesian-style shrinkage towards "average"), so a model with
two wins and no losses is rated above average, not infinitely strong, and a model with no
votes at all sits exactly at the reference.

Intervals come from a **Poisson bootstrap** (each vote's weight drawn from Poisson(1),
so a cell of c identical votes gets a Poisson(c) count): the standard large-data
substitute for resampling n votes with replacement, and again O(cells) per resample
instead of O(votes). Reported as the 2.5th and 97.5th percentiles of the refitted
ratings.

Ratings are shown on the familiar Elo-like scale (``400 * log10(p) + 1000``), which
only rescales the fitted strengths.
"""

from __future__ import annotations

import math
import random
from collections.abc import Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Generic, Literal, TypeVar

K = TypeVar("K", bound=Hashable)
Outcome = Literal["a", "b", "tie"]

SCALE = 400.0 / math.log(10.0)
"""Elo-like points per unit of natural-log strength."""
BASE = 1000.0
"""The rating of the virtual reference (an average model)."""
DEFAULT_PRIOR = 1.0
"""Virtual ties per model against the reference: enough to keep an unbeaten model
finite, small enough that ~20 real votes dominate it."""
MAX_ITERATIONS = 100
TOLERANCE = 1e-12
BOOTSTRAP_TOLERANCE = 1e-7
"""A resample only feeds a percentile: a gradient 1e-7 of the votes from the maximum
moves a rating by far less than the interval's own noise, and saves Newton steps."""
MAX_BOOTSTRAP = 1_000
"""Resamples are the cost of an interval: bounded whatever a caller asks for."""


@dataclass(frozen=True, slots=True)
class Vote(Generic[K]):
    """One comparison: ``a`` against ``b``; ``winner`` is ``"a"``, ``"b"`` or ``"tie"``."""

    a: K
    b: K
    winner: Outcome
    weight: float = 1.0


@dataclass(frozen=True, slots=True)
class Rating(Generic[K]):
    model: K
    rating: float
    """Elo-like: 1000 is the average reference; +400 means 10:1 odds against it."""
    low: float
    high: float
    """The 95% bootstrap interval (equal to ``rating`` when no bootstrap was asked)."""
    votes: float
    """Votes this model took part in (weights summed)."""
    wins: float
    """Wins, a tie counting half."""


class PairCounts(Generic[K]):
    """Votes folded into counts per unordered pair: what the fit needs, whatever the
    number of votes. ``add`` is O(1), so a running service can keep one of these and
    refit from it without re-reading every vote."""

    def __init__(self) -> None:
        self.wins: dict[tuple[K, K], float] = {}
        """(winner, loser) -> votes won (ties add half to each direction)."""
        self.models: dict[K, None] = {}

    def add(self, vote: Vote[K]) -> None:
        if vote.a == vote.b or vote.weight <= 0:
            return  # a model against itself says nothing about its strength
        self.models.setdefault(vote.a)
        self.models.setdefault(vote.b)
        if vote.winner == "a":
            self._won(vote.a, vote.b, vote.weight)
        elif vote.winner == "b":
            self._won(vote.b, vote.a, vote.weight)
        else:
            self._won(vote.a, vote.b, vote.weight / 2)
            self._won(vote.b, vote.a, vote.weight / 2)

    def add_all(self, votes: Iterable[Vote[K]]) -> PairCounts[K]:
        for vote in votes:
            self.add(vote)
        return self

    def _won(self, winner: K, loser: K, weight: float) -> None:
        key = (winner, loser)
        self.wins[key] = self.wins.get(key, 0.0) + weight


def _fit(models: Sequence[K], wins: Mapping[tuple[K, K], float],
         prior: float, start: Mapping[K, float] | None = None,
         tolerance: float = TOLERANCE) -> dict[K, float]:
    """The maximum of the (prior-regularised) likelihood in natural-log strengths
    (reference = 0), by Newton's method with step halving.

    Why Newton and not Hunter's MM iteration: MM converges linearly and, on data where
    models are far apart, needs thousands of sweeps; the likelihood is concave and its
    Hessian is a weighted graph Laplacian plus the prior's diagonal (positive definite
    thanks to the prior), so Newton converges in a handful of steps, each O(pairs + K^3)
    for K models — small, since K is the number of models compared."""
    index = {m: i for i, m in enumerate(models)}
    size = len(models)
    won = [prior] * size  # the prior's virtual ties: half a win per virtual vote
    pairs: dict[tuple[int, int], float] = {}
    for (w, lo), count in wins.items():
        if count <= 0:
            continue
        i, j = index[w], index[lo]
        won[i] += count
        key = (i, j) if i < j else (j, i)
        pairs[key] = pairs.get(key, 0.0) + count
    edges = [(i, j, n) for (i, j), n in pairs.items()]
    # A bootstrap resample starts from the full fit: a step or two from its own maximum.
    theta = [start[m] for m in models] if start else [0.0] * size
    objective = _log_likelihood(theta, won, edges, prior)
    for _ in range(MAX_ITERATIONS):
        gradient = [won[i] - 2.0 * prior * _sigmoid(theta[i]) for i in range(size)]
        hessian = [[0.0] * size for _ in range(size)]  # of the NEGATED likelihood
        for i in range(size):
            s = _sigmoid(theta[i])
            hessian[i][i] = 2.0 * prior * s * (1.0 - s)
        for i, j, n in edges:
            s = _sigmoid(theta[i] - theta[j])
            gradient[i] -= n * s
            gradient[j] -= n * (1.0 - s)
            curvature = n * s * (1.0 - s)
            hessian[i][i] += curvature
            hessian[j][j] += curvature
            hessian[i][j] -= curvature
            hessian[j][i] -= curvature
        if max(abs(g) for g in gradient) < tolerance * (1.0 + sum(won)):
            break
        step = _solve(hessian, gradient)
        scale = 1.0
        while True:  # step halving: the likelihood must not go down
            trial = [t + scale * d for t, d in zip(theta, step, strict=True)]
            value = _log_likelihood(trial, won, edges, prior)
            if value >= objective - 1e-12 * (1.0 + abs(objective)) or scale < 1e-6:
                break
            scale /= 2.0
        theta, objective = trial, value
    return {m: theta[index[m]] for m in models}


def _sigmoid(x: float) -> float:
    if x >= 0:
        return 1.0 / (1.0 + math.exp(-x))
    e = math.exp(x)
    return e / (1.0 + e)


def _log1pexp(x: float) -> float:
    return x + math.log1p(math.exp(-x)) if x > 0 else math.log1p(math.exp(x))


def _log_likelihood(theta: Sequence[float], won: Sequence[float],
                    edges: Sequence[tuple[int, int, float]], prior: float) -> float:
    value = sum(w * t for w, t in zip(won, theta, strict=True))
    value -= sum(2.0 * prior * _log1pexp(t) for t in theta)
    for i, j, n in edges:
        # log(e^ti + e^tj) = tj + log(1 + e^(ti - tj))
        value -= n * (theta[j] + _log1pexp(theta[i] - theta[j]))
    return value


def _solve(matrix: list[list[float]], vector: list[float]) -> list[float]:
    """x with matrix @ x = vector, for a symmetric positive definite matrix (Cholesky;
    the matrices here are K x K for K models)."""
    size = len(vector)
    lower = [[0.0] * size for _ in range(size)]
    for i in range(size):
        for j in range(i + 1):
            total = matrix[i][j] - sum(lower[i][k] * lower[j][k] for k in range(j))
            if i == j:
                lower[i][i] = math.sqrt(max(total, 1e-300))
            else:
                lower[i][j] = total / lower[j][j]
    forward = [0.0] * size
    for i in range(size):
        forward[i] = (vector[i] - sum(lower[i][k] * forward[k] for k in range(i))) / lower[i][i]
    result = [0.0] * size
    for i in reversed(range(size)):
        result[i] = (forward[i] - sum(lower[k][i] * result[k]
                                      for k in range(i + 1, size))) / lower[i][i]
    return result


def _poisson(rng: random.Random, mean: float) -> int:
    """A Poisson(mean) draw: Knuth's product method for small means, the normal
    approximation (continuity-corrected) for large ones, where it is accurate."""
    if mean <= 0:
        return 0
    if mean > 60:
        return max(0, round(rng.gauss(mean, math.sqrt(mean))))
    limit, k, product = math.exp(-mean), 0, rng.random()
    while product > limit:
        k += 1
        product *= rng.random()
    return k


def _percentile(sorted_values: Sequence[float], q: float) -> float:
    if not sorted_values:
        return 0.0
    position = q * (len(sorted_values) - 1)
    lower = math.floor(position)
    upper = min(lower + 1, len(sorted_values) - 1)
    fraction = position - lower
    return sorted_values[lower] * (1 - fraction) + sorted_values[upper] * fraction


def fit(counts: PairCounts[K], *, prior: float = DEFAULT_PRIOR, bootstrap: int = 0,
        seed: int = 0) -> list[Rating[K]]:
    """Ratings for every model seen, best first (ties in rating by name order of
    appearance). ``bootstrap`` resamples (at most ``MAX_BOOTSTRAP``) give the interval;
    ``seed`` makes it reproducible."""
    if prior <= 0:
        raise ValueError("prior must be positive (it keeps unbeaten models finite)")
    models = list(counts.models)
    if not models:
        return []
    centre = _fit(models, counts.wins, prior)
    intervals: dict[K, tuple[float, float]] = {}
    rounds = min(max(bootstrap, 0), MAX_BOOTSTRAP)
    if rounds:
        rng = random.Random(seed)
        samples: dict[K, list[float]] = {m: [] for m in models}
        cells = list(counts.wins.items())
        for _ in range(rounds):
            resampled = {key: float(_poisson(rng, n)) for key, n in cells}
            for model, value in _fit(models, resampled, prior, centre,
                                     BOOTSTRAP_TOLERANCE).items():
                samples[model].append(value)
        for model, values in samples.items():
            values.sort()
            intervals[model] = (_percentile(values, 0.025), _percentile(values, 0.975))
    votes: dict[K, float] = dict.fromkeys(models, 0.0)
    wins: dict[K, float] = dict.fromkeys(models, 0.0)
    for (winner, loser), n in counts.wins.items():
        votes[winner] += n
        votes[loser] += n
        wins[winner] += n
    ratings = []
    for model in models:
        low, high = intervals.get(model, (centre[model], centre[model]))
        ratings.append(Rating(
            model=model, rating=BASE + SCALE * centre[model],
            low=BASE + SCALE * low, high=BASE + SCALE * high,
            votes=votes[model], wins=wins[model]))
    ratings.sort(key=lambda r: -r.rating)
    return ratings


def win_probability(a: Rating[K], b: Rating[K]) -> float:
    """P(a beats b) from two ratings on the Elo-like scale."""
    return 1.0 / (1.0 + math.exp((b.rating - a.rating) / SCALE))
