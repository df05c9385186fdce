"""Random spiking networks and input events for the accelerator's tests."""

import numpy as np
from cimforge.golden.network import Conv2d, Flatten, Linear, Network, Neurons, SumPool2d


def neurons(rng, shape, b_w, b_v, overflow):
    # 1-bit weights are -1 or 0: such a layer fires on negative thresholds.
    threshold = rng.integers(-3, 0, shape) if b_w == 1 else rng.integers(1, 1 << (b_w - 1), shape)
    return Neurons(threshold, b_w, b_v, reset=str(rng.choice(["zero", "subtract"])),
                   overflow=overflow)


def weights(rng, shape, b_w):
    """Mostly positive, so that layers fire."""
    if b_w == 1:
        return rng.integers(-1, 1, shape)
    magnitude = rng.integers(0, 1 << (b_w - 1), shape)
    return np.where(rng.random(shape) < 0.2, -magnitude, magnitude)


def random_network(rng, kind: str, overflow: str = "wrap") -> Network:
    b_w = int(rng.integers(1, 9))
    b_v = int(rng.integers(max(b_w + 1, 4), 17))
    bias = lambda n: weights(rng, n, b_w) if rng.random() < 0.5 else None
    if kind == "fc":
        sizes = [int(rng.integers(3, 20)) for _ in range(int(rng.integers(2, 5)))]
        layers = [Linear(weights(rng, (n_out, n_in), b_w), neurons(rng, n_out, b_w, b_v, overflow),
                         bias(n_out)) for n_in, n_out in zip(sizes, sizes[1:])]
        return Network((sizes[0],), layers)
    c_in, h = 2, int(rng.choice([4, 6]))
    c_mid = int(rng.integers(1, 6))
    stride = int(rng.choice([1, 2]))
    out = (h + 2 - 3) // stride + 1
    conv = Conv2d(weights(rng, (c_mid, c_in, 3, 3), b_w),
                  neurons(rng, (c_mid, out, out), b_w, b_v, overflow),
                  stride=stride, padding=1, bias=bias(c_mid))
    layers = [conv]
    if out % 2 == 0:
        layers.append(SumPool2d(2))
        out //= 2
    n_out = int(rng.integers(2, 8))
    layers += [Flatten(), Linear(weights(rng, (n_out, c_mid * out * out), b_w),
                                 neurons(rng, n_out, b_w, b_v, overflow), bias(n_out))]
    return Network((c_in, h, h), layers)


def random_events(rng, net: Network, steps: int) -> list:
    size = int(np.prod(net.input_shape))
    return [list(rng.choice(size, int(rng.binomial(size, 0.5)))) for _ in range(steps)]
