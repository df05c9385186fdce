"""Pairwise (all-pairs) test design: every pair of values of any two factors appears in at least
one row, in far fewer rows than the full grid. Greedy and seeded, so the rows are stable."""

import itertools
import random


def pairwise(factors: dict[str, list], allowed=lambda row: True, seed: int = 0) -> list[dict]:
    names = list(factors)
    uncovered = {(a, va, b, vb) for a, b in itertools.combinations(names, 2)
                 for va in factors[a] for vb in factors[b]
                 if _pair_possible(factors, allowed, a, va, b, vb)}
    rng = random.Random(seed)
    rows = []
    while uncovered:
        best, best_gain = None, -1
        for _ in range(60):
            a, va, b, vb = rng.choice(sorted(uncovered, key=repr))
            row = {a: va, b: vb}
            for name in rng.sample(names, len(names)):
                if name in row:
                    continue
                options = [v for v in factors[name] if allowed({**row, name: v}, partial=True)]
                if not options:
                    break
                row[name] = max(options, key=lambda v: (_gain({**row, name: v}, uncovered),
                                                        rng.random()))
            if len(row) == len(names) and allowed(row, partial=False):
                gain = _gain(row, uncovered)
                if gain > best_gain:
                    best, best_gain = row, gain
        if best is None or best_gain == 0:
            break
        rows.append(best)
        uncovered -= {(a, best[a], b, best[b]) for a, b in itertools.combinations(names, 2)}
    return rows


def _gain(row, uncovered):
    return sum((a, row[a], b, row[b]) in uncovered
               for a, b in itertools.combinations(list(row), 2))


def _pair_possible(factors, allowed, a, va, b, vb):
    return allowed({a: va, b: vb}, partial=True)
