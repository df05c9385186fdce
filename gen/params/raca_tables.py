"""The RACA neuron tables, in integers: computed once here, used by the hardware (ROMs in
`cimforge.hdl.raca.neuron`) and the golden model (`cimforge.golden.raca`) alike."""

import math
from functools import cache

GAUSS_SIGMA = 1.702     # Phi(x / 1.702) is within 0.0095 of sigmoid(x)


def _round(x: float) -> int:
    return math.floor(x + 0.5)


@cache
def sigmoid_table(noise_bits: int, frac_bits: int) -> tuple[int, ...]:
    """P[c + 2^(Z-1)] = round(2^B sigmoid(c 2^-F)) for c in [-2^(Z-1), 2^(Z-1))."""
    half = 1 << (frac_bits + 3)
    return tuple(_round((1 << noise_bits) / (1 + math.exp(-c / (1 << frac_bits))))
                 for c in range(-half, half))


@cache
def threshold_table(noise_bits: int, frac_bits: int) -> tuple[int, ...]:
    """TH[u] = the least c with u < P[c] (2^(Z-1) if there is none)."""
    half = 1 << (frac_bits + 3)
    probability = sigmoid_table(noise_bits, frac_bits)
    table = []
    for u in range(1 << noise_bits):
        firing = [c for c in range(-half, half) if u < probability[c + half]]
        table.append(firing[0] if firing else half)
    return tuple(table)


@cache
def gauss_table(noise_bits: int, frac_bits: int, terms: int) -> tuple[int, ...]:
    """TG[s] for s = 0..terms (2^B - 1): fire iff c >= TG[s]."""
    half = 1 << (frac_bits + 3)
    scale = 1 << noise_bits
    table = []
    for s in range(terms * (scale - 1) + 1):
        g = ((s + terms / 2) / scale - terms / 2) / math.sqrt(terms / 12)
        table.append(min(max(math.ceil(-GAUSS_SIGMA * g * (1 << frac_bits)), -half), half))
    return tuple(table)


@cache
def gumbel_table(noise_bits: int, frac_bits: int) -> tuple[int, ...]:
    """G[u] = round(2^F * -ln(-ln((u + 1/2) / 2^B)))."""
    scale = 1 << noise_bits
    return tuple(_round((1 << frac_bits) * -math.log(-math.log((u + 0.5) / scale)))
                 for u in range(scale))
