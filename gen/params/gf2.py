"""Arithmetic over GF(2): polynomials and linear maps held as Python ints, applied to numpy arrays.

A polynomial is an int whose bit i is the coefficient of x^i. A linear map on n-bit vectors is
a tuple of n ints, the images of the unit vectors (its columns).
"""

from functools import reduce

import numpy as np


def poly_mulmod(a: int, b: int, modulus: int) -> int:
    """(a * b) mod modulus, for a, b already reduced."""
    degree = modulus.bit_length() - 1
    result = 0
    while b:
        if b & 1:
            result ^= a
        b >>= 1
        a <<= 1
        if (a >> degree) & 1:
            a ^= modulus
    return result


def poly_powmod(base: int, exponent: int, modulus: int) -> int:
    result = 1
    for bit in bin(exponent)[2:]:
        result = poly_mulmod(result, result, modulus)
        if bit == "1":
            result = poly_mulmod(result, base, modulus)
    return result


def is_primitive(poly: int, order_factors: list[int]) -> bool:
    """True if `poly` (degree L, constant term 1) is primitive over GF(2).

    `order_factors` are the distinct primes dividing 2^L - 1. The polynomial is primitive iff x
    has multiplicative order exactly 2^L - 1 modulo it (a reducible polynomial has a unit group
    smaller than that, so the order test alone suffices).
    """
    degree = poly.bit_length() - 1
    if degree < 1 or not poly & 1:
        return False
    # Cheap filter first: x^(2^L) == x holds for every irreducible polynomial of degree L.
    x = 2 if degree > 1 else 2 ^ poly
    power = x
    for _ in range(degree):
        power = poly_mulmod(power, power, poly)
    if power != x:
        return False
    order = (1 << degree) - 1
    return all(poly_powmod(x, order // q, poly) != 1 for q in order_factors)


def apply_map(columns: tuple[int, ...], vector: int) -> int:
    """Image of one vector under the linear map given by its columns."""
    return reduce(lambda acc, j: acc ^ columns[j] if (vector >> j) & 1 else acc,
                  range(len(columns)), 0)


def compose(outer: tuple[int, ...], inner: tuple[int, ...]) -> tuple[int, ...]:
    """The map `outer` after `inner`."""
    return tuple(apply_map(outer, column) for column in inner)


def identity(n: int) -> tuple[int, ...]:
    return tuple(1 << j for j in range(n))


def power(columns: tuple[int, ...], exponent: int) -> tuple[int, ...]:
    result = identity(len(columns))
    square = columns
    while exponent:
        if exponent & 1:
            result = compose(square, result)
        square = compose(square, square)
        exponent >>= 1
    return result


def apply_map_np(columns: tuple[int, ...], vectors: np.ndarray) -> np.ndarray:
    """Apply a linear map (images of at most 64 bits) to a uint64 array, a byte at a time.

    One 256-entry table per input byte turns the map into a few gathers and XORs, so the cost
    is independent of how many output bits the map has.
    """
    vectors = np.asarray(vectors, dtype=np.uint64)
    out = np.zeros_like(vectors)
    index = np.arange(256, dtype=np.uint64)
    for base in range(0, len(columns), 8):
        table = np.zeros(256, dtype=np.uint64)
        for i, column in enumerate(columns[base:base + 8]):
            table[(index >> np.uint64(i)) & np.uint64(1) == 1] ^= np.uint64(column)
        out ^= table[(vectors >> np.uint64(base)) & np.uint64(0xFF)]
    return out
