"""Parameters of the LFSR noise bank (`lfsr_bank`) and the maps that define its lanes, which
the hardware's XOR networks and the golden model (`cimforge.golden.lfsr`) are both built from."""

from dataclasses import dataclass
from functools import cache

from . import Params, gf2, param
from .lfsr_polynomials import MAX_LANES, MAX_LENGTH, MIN_LENGTH, polynomials


@dataclass(frozen=True)
class LfsrBankParams(Params):
    """A bank of independent Galois LFSR lanes, each giving one `width`-bit word per cycle."""

    block = "lfsr_bank"

    width: int = param(8, "bits per noise word (per lane)", lo=1, hi=MAX_LENGTH)
    lanes: int = param(4, "number of independent lanes (words per cycle)", lo=1, hi=MAX_LANES)
    length: int = param(32, "LFSR register length L (period 2^L - 1 bits)",
                        lo=MIN_LENGTH, hi=MAX_LENGTH)
    reset_seed: int = param(0, "seed loaded at reset (a run-time seed stream can replace it)",
                            lo=0, hi=(1 << MAX_LENGTH) - 1)

    def check(self):
        available = len(polynomials(self.length))
        if self.lanes > available:
            raise self.error("lanes", f"degree {self.length} has only {available} primitive "
                                      f"polynomials, so at most {available} lanes; use a larger "
                                      f"length")
        if self.width > self.length:
            raise self.error("width", f"must not exceed length = {self.length} (more bits "
                                      f"per word than register bits would make them dependent)")
        if self.reset_seed >> self.length:
            raise self.error("reset_seed", f"must fit in length = {self.length} bits")


GOLDEN_GAMMA = 0x9E3779B97F4A7C15


def salt(lane: int, length: int) -> int:
    return (((lane + 1) * GOLDEN_GAMMA) % (1 << 64)) >> (64 - length)


def lane_state(seed: int, lane: int, length: int) -> int:
    """State lane `lane` loads for `seed` (zero remapped to 1)."""
    state = (seed ^ salt(lane, length)) & ((1 << length) - 1)
    return state or 1


# Seed whitening (the RACA core applies it on its way to the bank). The LFSR is linear, so
# states that differ in a few bits give streams that differ by a sparse, fixed pattern: seeds
# 0, 1, 2, ... would give nearly the same noise. `whiten` is a nonlinear permutation of L-bit
# words (add-rotate-xor rounds, one per clock in hardware), so nearby seeds land far apart and
# distinct seeds still give distinct states.
WHITEN_ROUNDS = 8
WHITEN_GAMMA = 0xBF58476D1CE4E5B9


def whiten_shifts(length: int) -> tuple[int, int]:
    """(a, b) of a round at `length` bits: y = (x + k)(1 + 2^a) mod 2^L; x' = y ^ (y >> b)."""
    return (length + 2) // 3, (length + 1) // 2


def whiten_constant(round_: int, length: int) -> int:
    """Round `round_`'s constant k (the top `length` bits of (round + 1) * WHITEN_GAMMA)."""
    return (((round_ + 1) * WHITEN_GAMMA) % (1 << 64)) >> (64 - length)


def whiten_round(x: int, round_: int, length: int) -> int:
    a, b = whiten_shifts(length)
    mask = (1 << length) - 1
    y = (x + whiten_constant(round_, length)) & mask
    y = (y + (y << a)) & mask                   # times an odd number: a bijection
    return y ^ (y >> b)                         # a bijection too (b >= 1)


def whiten(seed: int, length: int) -> int:
    """The state seed the RACA core sends to its noise bank for SEED = `seed`."""
    for round_ in range(WHITEN_ROUNDS):
        seed = whiten_round(seed, round_, length)
    return seed


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


PRESETS = {
    "default": LfsrBankParams(),
    "raca": LfsrBankParams(width=8, lanes=16, length=32),
    "tiny": LfsrBankParams(width=4, lanes=1, length=16),
}
