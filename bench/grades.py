"""``python -m bench.grades [--votes N] [--models K] [--bootstrap B]``: what a leaderboard
refit costs.

Issue 16 asks for a refit of 100,000 ratings in at most a second. The votes are drawn
from a synthetic population with known strengths; reported: folding the votes into pair
counts (``PairCounts.add_all``, done once and then kept up to date vote by vote), the
fit alone, and the fit with a bootstrap interval. One core, like everything in bench/.
"""

from __future__ import annotations

import argparse
import math
import random
import time

from switchboard.services.bradley_terry import PairCounts, Vote, fit


def synthetic_votes(count: int, models: int, seed: int = 1) -> list[Vote[str]]:
    rng = random.Random(seed)
    strength = {f"model-{i}": rng.gauss(0.0, 1.0) for i in range(models)}
    names = list(strength)
    votes = []
    for _ in range(count):
        a, b = rng.sample(names, 2)
        p_a = 1.0 / (1.0 + math.exp(strength[b] - strength[a]))
        roll = rng.random()
        votes.append(Vote(a, b, "tie" if abs(roll - p_a) < 0.05 else
                          ("a" if roll < p_a else "b")))
    return votes


def measure(votes: int, models: int, bootstrap: int) -> dict[str, float]:
    data = synthetic_votes(votes, models)
    start = time.perf_counter()
    counts = PairCounts[str]().add_all(data)
    fold = time.perf_counter() - start
    start = time.perf_counter()
    fit(counts)
    alone = time.perf_counter() - start
    start = time.perf_counter()
    fit(counts, bootstrap=bootstrap)
    with_bootstrap = time.perf_counter() - start
    return {"fold_s": fold, "fit_s": alone, "fit_bootstrap_s": with_bootstrap,
            "total_s": fold + with_bootstrap}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--votes", type=int, default=100_000)
    parser.add_argument("--models", type=int, default=20)
    parser.add_argument("--bootstrap", type=int, default=100)
    args = parser.parse_args()
    result = measure(args.votes, args.models, args.bootstrap)
    print(f"{args.votes:,} votes, {args.models} models, {args.bootstrap} bootstrap resamples")
    print(f"  fold into pair counts   {result['fold_s'] * 1000:8.1f} ms")
    print(f"  fit                     {result['fit_s'] * 1000:8.1f} ms")
    print(f"  fit + bootstrap         {result['fit_bootstrap_s'] * 1000:8.1f} ms")
    print(f"  refit from scratch      {result['total_s'] * 1000:8.1f} ms")


if __name__ == "__main__":
    main()
