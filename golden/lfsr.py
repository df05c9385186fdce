"""Bit-exact model of the LFSR noise bank (`cimforge.hdl.raca.lfsr_bank`).

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

from ..params import gf2
from ..params.lfsr_bank import LfsrBankParams, lane_maps, lane_state
from ..params.lfsr_polynomials import polynomials


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
