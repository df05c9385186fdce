"""Random RACA networks and inputs for the testbenches (no simulator needed)."""

import random

import numpy as np
from cimforge.golden.raca import MAX_SHIFT, Network
from cimforge.params.raca import RacaParams


def random_sizes(params: RacaParams, rng: random.Random, layers: int | None = None) -> list[int]:
    layers = layers or rng.randint(1, params.max_layers)
    limits = params.max_sizes(layers)
    sizes = [rng.choice([1, rng.randint(1, limits[0]), limits[0]])]
    sizes += [rng.choice([1, rng.randint(1, n), n]) for n in limits[1:-1]]
    sizes.append(rng.choice([2, rng.randint(2, limits[-1]), limits[-1]]))
    return sizes


def random_network(params: RacaParams, rng: random.Random, sizes: list[int] | None = None,
                   density: float = 0.5) -> Network:
    """Random weights over the full signed range; each layer's shift puts the spread of its
    table arguments around +-2 (in units of 2^F), so neurons fire at all probabilities, with
    some layers scaled to hit the clamps."""
    sizes = sizes or random_sizes(params, rng)
    gen = np.random.default_rng(rng.getrandbits(32))
    wlo, whi = -(1 << (params.weight_width - 1)), (1 << (params.weight_width - 1)) - 1
    blo, bhi = -(1 << (params.bias_width - 1)), (1 << (params.bias_width - 1)) - 1
    weights, biases, shifts = [], [], []
    for n_in, n_out in zip(sizes, sizes[1:]):
        w = gen.integers(wlo, whi + 1, size=(n_in, n_out))
        spread = max(1.0, np.sqrt(n_in * density) * (whi - wlo) / 3.5)
        target = 2 << params.frac_bits
        shift = int(np.clip(round(np.log2(spread / target)), 0, MAX_SHIFT))
        if rng.random() < 0.2:
            shift = max(0, shift - rng.randint(1, 4))          # saturate the tables
        b = gen.integers(max(blo, -(int(spread) * 2)), min(bhi, int(spread) * 2) + 1,
                         size=n_out)
        weights.append(w)
        biases.append(b)
        shifts.append(shift)
    return Network(weights, biases, shifts)


def random_input(n: int, rng: random.Random) -> np.ndarray:
    density = rng.choice([0.0, 0.1, 0.5, 0.9, 1.0, rng.random()])
    return np.array([int(rng.random() < density) for _ in range(n)])


def stats_params(neuron: str) -> RacaParams:
    """The configuration the firing-statistics testbench (`tb_raca_stats`) runs on."""
    return RacaParams(max_layers=2, max_inputs=8, max_hidden=64, max_classes=8, tile_rows=8,
                      tile_cols=16, scan_width=8, max_samples=4095, neuron=neuron)
