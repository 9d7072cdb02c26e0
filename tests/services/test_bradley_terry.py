"""Bradley-Terry fit: hand-checkable cases, the MLE equations, a synthetic population."""

from __future__ import annotations

import math
import random

import pytest

from switchboard.services.bradley_terry import (
    BASE,
    MAX_BOOTSTRAP,
    PairCounts,
    Vote,
    fit,
    win_probability,
)

TINY_PRIOR = 1e-9


def votes(a: str, b: str, a_wins: int, b_wins: int, ties: int = 0) -> list[Vote[str]]:
    return ([Vote(a, b, "a")] * a_wins + [Vote(a, b, "b")] * b_wins
            + [Vote(a, b, "tie")] * ties)


def by_model(ratings):
    return {r.model: r for r in ratings}


def test_two_models_three_to_one_is_odds_of_three() -> None:
    # P(A beats B) = 3/4 exactly at the maximum likelihood: p_A / p_B = 3, so the
    # rating gap is 400 * log10(3) = 190.85 points.
    ratings = by_model(fit(PairCounts().add_all(votes("A", "B", 3, 1)), prior=TINY_PRIOR))
    assert ratings["A"].rating - ratings["B"].rating == pytest.approx(
        400 * math.log10(3), abs=1e-3)
    assert win_probability(ratings["A"], ratings["B"]) == pytest.approx(0.75, abs=1e-6)
    assert (ratings["A"].votes, ratings["A"].wins) == (4, 3)


def test_a_cycle_is_a_draw() -> None:
    counts = PairCounts().add_all(
        votes("A", "B", 1, 0) + votes("B", "C", 1, 0) + votes("C", "A", 1, 0))
    ratings = fit(counts, prior=TINY_PRIOR)
    assert [r.rating for r in ratings] == pytest.approx([BASE] * 3, abs=1e-3)


def test_ties_count_half_a_win_each() -> None:
    # 2 wins, 2 losses and 2 ties is 3 wins out of 6: equal strength.
    ratings = by_model(fit(PairCounts().add_all(votes("A", "B", 2, 2, ties=2)),
                           prior=TINY_PRIOR))
    assert ratings["A"].rating == pytest.approx(ratings["B"].rating, abs=1e-6)
    assert ratings["A"].wins == 3


def test_the_fit_solves_the_likelihood_equations() -> None:
    # At the maximum: for every model, wins = sum over opponents of n_ij * P(i beats j).
    counts = PairCounts().add_all(
        votes("A", "B", 7, 3) + votes("B", "C", 6, 4, ties=2) + votes("A", "C", 8, 1)
        + votes("C", "D", 5, 5) + votes("A", "D", 2, 0))
    ratings = by_model(fit(counts, prior=TINY_PRIOR))
    for model in "ABCD":
        expected = 0.0
        for (w, lo), n in counts.wins.items():
            if model in (w, lo):
                other = lo if w == model else w
                expected += n * win_probability(ratings[model], ratings[other])
        assert ratings[model].wins == pytest.approx(expected, rel=1e-6)


def test_an_unbeaten_model_stays_finite_and_the_prior_shrinks_it() -> None:
    counts = PairCounts().add_all(votes("A", "B", 2, 0))
    ratings = by_model(fit(counts))  # the default prior
    assert BASE < ratings["A"].rating < BASE + 400
    assert ratings["B"].rating == pytest.approx(2 * BASE - ratings["A"].rating)
    many = by_model(fit(PairCounts().add_all(votes("A", "B", 200, 0))))
    assert many["A"].rating > ratings["A"].rating  # more evidence, less shrinkage


def test_nonsense_votes_are_ignored_and_an_empty_set_fits_to_nothing() -> None:
    counts = PairCounts().add_all([Vote("A", "A", "a"), Vote("A", "B", "a", weight=0)])
    assert fit(counts) == []
    with pytest.raises(ValueError, match="prior"):
        fit(PairCounts().add_all(votes("A", "B", 1, 0)), prior=0)


def test_a_synthetic_population_is_recovered_with_honest_intervals() -> None:
    rng = random.Random(7)
    truth = {f"m{i}": (i - 4) * 0.45 for i in range(9)}  # log-strengths, evenly spaced
    names = list(truth)
    counts: PairCounts[str] = PairCounts()
    for _ in range(20_000):
        a, b = rng.sample(names, 2)
        p_a = 1 / (1 + math.exp(truth[b] - truth[a]))
        counts.add(Vote(a, b, "a" if rng.random() < p_a else "b"))
    ratings = fit(counts, bootstrap=100, seed=1)
    assert [r.model for r in ratings] == sorted(names, key=lambda n: -truth[n])
    # Differences are what the data identify: compare each to the middle model's.
    mid = by_model(ratings)["m4"].rating
    scale = 400 / math.log(10)
    covered = sum(
        r.low - mid <= scale * truth[r.model] <= r.high - mid + 1e-9
        or r.model == "m4" for r in ratings)
    assert covered >= 8  # a 95% interval: all but at most one of nine
    for r in ratings:
        assert r.low <= r.rating <= r.high
        assert r.high - r.low < 60  # ~2,200 votes each: a tight interval


def test_the_bootstrap_is_reproducible_and_bounded() -> None:
    counts = PairCounts().add_all(votes("A", "B", 30, 20) + votes("B", "C", 25, 25))
    first = fit(counts, bootstrap=50, seed=3)
    assert first == fit(counts, bootstrap=50, seed=3)
    assert fit(counts, bootstrap=10 * MAX_BOOTSTRAP, seed=3) == fit(
        counts, bootstrap=MAX_BOOTSTRAP, seed=3)
