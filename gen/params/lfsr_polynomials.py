"""The table of primitive polynomials behind the LFSR noise bank, shared by RTL and model.

For every register length L in MIN_LENGTH..MAX_LENGTH the table lists the first primitive
polynomials of degree L over GF(2), in ascending order of their integer value (bit i is the
coefficient of x^i). Lane k of a bank of length L uses entry k, so no two lanes of a bank share a
polynomial, and their m-sequences are not shifted copies of each other.

Degree 8 has only 16 primitive polynomials, degree 9 has 48, degree 10 has 60; from degree 11
on the table holds MAX_LANES of them. The table is generated once (`python -m
cimforge.params.lfsr_polynomials`) into `lfsr_polynomials.json`; the test suite re-proves
primitivity of its entries and that none was skipped.
"""

import json
import sys
from functools import cache
from pathlib import Path

from .gf2 import is_primitive

MIN_LENGTH = 8
MAX_LENGTH = 64
MAX_LANES = 64
TABLE_PATH = Path(__file__).with_name("lfsr_polynomials.json")


def order_factors(length: int) -> list[int]:
    """Distinct prime factors of 2^length - 1 (needs sympy; used to build and check the table)."""
    from sympy import factorint
    return sorted(factorint((1 << length) - 1))


def search(length: int, count: int) -> list[int]:
    """The first `count` primitive polynomials of degree `length`, ascending (fewer if there
    are fewer)."""
    factors = order_factors(length)
    found = []
    for poly in range((1 << length) + 1, 1 << (length + 1), 2):
        if is_primitive(poly, factors):
            found.append(poly)
            if len(found) == count:
                break
    return found


@cache
def table() -> dict[int, tuple[int, ...]]:
    raw = json.loads(TABLE_PATH.read_text())
    return {int(length): tuple(int(p, 16) for p in polys) for length, polys in raw.items()}


def polynomials(length: int) -> tuple[int, ...]:
    """The primitive polynomials of degree `length` available to lanes, lane 0 first."""
    return table()[length]


def main() -> None:
    out = {}
    for length in range(MIN_LENGTH, MAX_LENGTH + 1):
        out[str(length)] = [f"{p:#x}" for p in search(length, MAX_LANES)]
        print(f"degree {length}: {len(out[str(length)])} polynomials", file=sys.stderr)
    TABLE_PATH.write_text(json.dumps(out, indent=1) + "\n")


if __name__ == "__main__":
    main()
