"""Shapley values of a small cooperative game, exact up to :data:`EXACT_PLAYERS` players.

Values are :class:`~fractions.Fraction` so that shares add up exactly to the whole. Beyond the
bound the value is estimated from :data:`SAMPLES` random orderings (seeded, so the same game
gives the same answer); every ordering's marginals add up to the whole, so the estimate does too,
and each share is within ``error_bound`` of the exact value with 95 % probability (Hoeffding's
inequality over marginals that lie in ``[0, spread]``).
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable
from dataclasses import dataclass
from fractions import Fraction
from functools import cache
from typing import Literal

#: Games with this many players or fewer are solved exactly (2^n coalitions).
EXACT_PLAYERS = 12
#: Orderings sampled beyond it.
SAMPLES = 2000
_CONFIDENCE = 0.05


@dataclass(frozen=True)
class Split:
    """The shares of the players, in their order, and how they were found."""

    shares: tuple[Fraction, ...]
    method: Literal["exact", "monte-carlo"]
    samples: int = 0
    error_bound: float = 0.0  # 95 % bound on each share's error (0 when exact)


def shapley(
    players: int, value: Callable[[int], Fraction], *, seed: str = "", exact_players: int = EXACT_PLAYERS
) -> Split:
    """The Shapley value of the game ``value`` (a coalition is a bit set of players, ``value(0)``
    is 0); exact up to ``exact_players`` players, sampled beyond."""
    if players <= exact_players:
        return Split(_exact(players, value), "exact")
    return _sampled(players, value, seed)


def _exact(players: int, value: Callable[[int], Fraction]) -> tuple[Fraction, ...]:
    values = [value(coalition) for coalition in range(1 << players)]
    weights = _weights(players)
    shares = []
    for player in range(players):
        bit = 1 << player
        share = Fraction(0)
        for coalition in range(1 << players):
            if not coalition & bit:
                share += weights[coalition.bit_count()] * (values[coalition | bit] - values[coalition])
        shares.append(share)
    return tuple(shares)


@cache
def _weights(players: int) -> tuple[Fraction, ...]:
    """The weight of a coalition of each size in a player's Shapley value."""
    total = math.factorial(players)
    return tuple(
        Fraction(math.factorial(size) * math.factorial(players - size - 1), total) for size in range(players)
    )


def _sampled(players: int, value: Callable[[int], Fraction], seed: str) -> Split:
    rng = random.Random(seed)
    totals = [Fraction(0)] * players
    spread = Fraction(0)
    order = list(range(players))
    for _ in range(SAMPLES):
        rng.shuffle(order)
        coalition, before = 0, Fraction(0)
        for player in order:
            coalition |= 1 << player
            after = value(coalition)
            totals[player] += after - before
            spread = max(spread, abs(after - before))
            before = after
    bound = float(spread) * math.sqrt(math.log(2 / _CONFIDENCE) / (2 * SAMPLES))
    return Split(tuple(total / SAMPLES for total in totals), "monte-carlo", SAMPLES, bound)
