"""Bit-exact model of the LFSR noise bank (`cimforge.hdl.lfsr_bank`).

The contract, bit for bit:

* **Register.** Lane k owns one L-bit Galois LFSR (L = `length`) in the multiply-by-x form, with
  p = `polynomials(L)[k]`, taps = p - x^L:

      out = s[L-1];   s' = ((s << 1) mod 2^L) ^ (taps if out else 0)

  The state is s(x) in GF(2)[x]/p(x), a step multiplies it by x, and since p is primitive every
  nonzero state recurs only after 2^L - 1 steps.
* **Word.** A lane's word is its next `width` output bits, the first one in the MSB. Each
  accepted word advances the lane by `width` steps (leap-forward), so consecutive words are
  consecutive, non-overlapping windows of the lane's own bit sequence.
* **Seed.** A seed of L bits puts lane k into the state `seed ^ salt(k)`, or 1 if that is zero
  (the all-zero state would lock up), with salt(k) the top L bits of (k + 1) * 0x9E3779B97F4A7C15
  mod 2^64. So seed 0 (the default reset seed) already starts every lane in a different,
  well-mixed state. The first word after a seed load is the first word of that state.
"""

from functools import cache

import numpy as np

from ..params.lfsr_bank import LfsrBankParams
from . import gf2
from .lfsr_polynomials import polynomials

GOLDEN_GAMMA = 0x9E3779B97F4A7C15


def salt(lane: int, length: int) -> int:
    return (((lane + 1) * GOLDEN_GAMMA) % (1 << 64)) >> (64 - length)


def lane_state(seed: int, lane: int, length: int) -> int:
    """State lane `lane` loads for `seed` (zero remapped to 1)."""
    state = (seed ^ salt(lane, length)) & ((1 << length) - 1)
    return state or 1


def step_map(poly: int) -> tuple[int, ...]:
    """The one-step map s -> x*s mod p, as the images of the unit vectors."""
    length = poly.bit_length() - 1
    taps = poly ^ (1 << length)
    return tuple(1 << (j + 1) for j in range(length - 1)) + (taps,)


@cache
def lane_maps(poly: int, width: int) -> tuple[tuple[int, ...], tuple[int, ...]]:
    """(leap, word): the state after `width` steps, and the `width`-bit word those steps emit,
    both as linear maps of the current state. The RTL's XOR networks are built from these."""
    length = poly.bit_length() - 1
    step = step_map(poly)
    word = [0] * length
    current = gf2.identity(length)            # current[j] = A^t e_j
    for t in range(width):
        for j in range(length):
            if (current[j] >> (length - 1)) & 1:
                word[j] |= 1 << (width - 1 - t)
        current = gf2.compose(step, current)
    return current, tuple(word)


@cache
def leap_power(poly: int, width: int, level: int) -> tuple[int, ...]:
    """The state map of 2^level words (width * 2^level steps)."""
    if level == 0:
        return lane_maps(poly, width)[0]
    half = leap_power(poly, width, level - 1)
    return gf2.compose(half, half)


def reference_bits(poly: int, state: int, count: int) -> list[int]:
    """The lane's output bit sequence, one step at a time (slow; the test oracle for `words`)."""
    length = poly.bit_length() - 1
    mask = (1 << length) - 1
    taps = poly ^ (1 << length)
    bits = []
    for _ in range(count):
        out = (state >> (length - 1)) & 1
        bits.append(out)
        state = ((state << 1) & mask) ^ (taps if out else 0)
    return bits


class LfsrBankModel:
    """Vectorised model: whole word sequences for every lane from a seed."""

    def __init__(self, params: LfsrBankParams):
        self.params = params
        self.polys = polynomials(params.length)[:params.lanes]

    def lane_words(self, lane: int, seed: int, count: int) -> np.ndarray:
        """The first `count` words of lane `lane` after loading `seed` (uint64)."""
        p = self.params
        leap, word = lane_maps(self.polys[lane], p.width)
        states = np.empty(count, dtype=np.uint64)
        if count == 0:
            return states
        states[0] = lane_state(seed, lane, p.length)
        # Doubling: states[f:2f] = A^(width*f) states[0:f], f = 2^level.
        filled, level = 1, 0
        while filled < count:
            take = min(filled, count - filled)
            jump = leap_power(self.polys[lane], p.width, level)
            states[filled:filled + take] = gf2.apply_map_np(jump, states[:take])
            filled += take
            level += 1
        return gf2.apply_map_np(word, states)

    def words(self, seed: int, count: int) -> np.ndarray:
        """The first `count` words after loading `seed`, shape (count, lanes)."""
        return np.stack([self.lane_words(lane, seed, count)
                         for lane in range(self.params.lanes)], axis=1)

    def after_reset(self, count: int) -> np.ndarray:
        return self.words(self.params.reset_seed, count)
