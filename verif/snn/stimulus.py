"""Random spiking networks, mappings and input events for the accelerator's tests, and the
check of what the RTL reads back against the golden model."""

from dataclasses import replace

import numpy as np
from cimforge.golden.cim import bits_to_int
from cimforge.golden.network import Conv2d, Flatten, Linear, Network, Neurons, SumPool2d
from cimforge.golden.snn import CoreModel
from cimforge.mapper import MappingError, map_network
from cimforge.params.cim_macro import TIMING_COUNTERS as MACRO_TIMING
from cimforge.params.cim_macro import Counter
from cimforge.params.snn import TIMING_COUNTERS, CoreCounter
from cimforge.snn_host import Readout


def neurons(rng, shape, b_w, b_v, overflow):
    # 1-bit weights are -1 or 0: such a layer fires on negative thresholds.
    threshold = rng.integers(-3, 0, shape) if b_w == 1 else rng.integers(1, 1 << (b_w - 1), shape)
    return Neurons(threshold, b_w, b_v, reset=str(rng.choice(["zero", "subtract"])),
                   overflow=overflow)


def weights(rng, shape, b_w):
    """Mostly positive and few zeros, so that layers fire."""
    if b_w == 1:
        return rng.integers(-1, 1, shape)
    magnitude = np.where(rng.random(shape) < 0.1, 0, rng.integers(1, 1 << (b_w - 1), shape))
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
    # One or two convolutions (kernel 1..3, stride 1..2, padding 0..1, maps not square),
    # sum pooling where the map divides, then one or two linear layers.
    shape = (int(rng.integers(1, 3)), int(rng.choice([4, 6])), int(rng.choice([3, 4, 6])))
    layers, current = [], shape
    for _ in range(int(rng.integers(1, 3))):
        c_out, k = int(rng.integers(1, 6)), int(rng.integers(1, 4))
        stride, pad = int(rng.integers(1, 3)), int(rng.integers(0, 2))
        oh = (current[1] + 2 * pad - k) // stride + 1
        ow = (current[2] + 2 * pad - k) // stride + 1
        if min(oh, ow) < 1:
            continue
        layers.append(Conv2d(weights(rng, (c_out, current[0], k, k), b_w),
                             neurons(rng, (c_out, oh, ow), b_w, b_v, overflow),
                             stride=stride, padding=pad, bias=bias(c_out)))
        current = (c_out, oh, ow)
        if oh % 2 == 0 and ow % 2 == 0 and rng.random() < 0.5:
            layers.append(SumPool2d(2))
            current = (c_out, oh // 2, ow // 2)
    sizes = [int(np.prod(current))] + [int(rng.integers(2, 8))
                                       for _ in range(int(rng.integers(1, 3)))]
    layers.append(Flatten())
    layers += [Linear(weights(rng, (n_out, n_in), b_w), neurons(rng, n_out, b_w, b_v, overflow),
                      bias(n_out)) for n_in, n_out in zip(sizes, sizes[1:])]
    return Network(shape, layers)


def random_events(rng, net: Network, steps: int) -> list:
    size = int(np.prod(net.input_shape))
    return [list(rng.choice(size, int(rng.binomial(size, 0.5)))) for _ in range(steps)]


def mapping_for(rng, kind: str, how: str, macro, buffer_rows: int, overflow: str = "wrap"):
    """A random `kind` network and its mapping: `ws`, `os`, `hs-min`, or `chunked` (ws on the
    fewest macro rows that hold it, so that its membranes pass through the buffer; networks
    whose layers all have one membrane group are drawn again)."""
    while True:
        net = random_network(rng, kind, overflow)
        if how != "chunked":
            return net, map_network(net, macro, how, buffer_rows)
        lo, hi = macro.max_slices, macro.rows
        while lo < hi:
            rows = (lo + hi) // 2
            try:
                map_network(net, replace(macro, rows=rows), "ws", buffer_rows)
                hi = rows
            except MappingError:
                lo = rows + 1
        mapping = map_network(net, replace(macro, rows=lo), "ws", buffer_rows)
        if not all(plan.resident for plan in mapping.plans):
            return net, mapping


DETERMINISTIC_MACRO = [c for c in Counter if c not in MACRO_TIMING]
DETERMINISTIC_CORE = [c for c in CoreCounter if c not in TIMING_COUNTERS]


def check_readout(got: Readout, model: CoreModel, mapping, what: str = ""):
    """The RTL's counters and final membrane rows (`got`) against the golden model's, after
    the same timesteps: every deterministic counter and every membrane row, bit for bit."""
    for c in DETERMINISTIC_MACRO:
        assert got.macro[c] == model.macro.counters[c], \
            f"{what}macro counter {c.name}: RTL {got.macro[c]}, model {model.macro.counters[c]}"
    for c in DETERMINISTIC_CORE:
        assert got.core[c] == model.counters[c], \
            f"{what}core counter {c.name}: RTL {got.core[c]}, model {model.counters[c]}"
    for plan, rows in zip(mapping.plans, got.membrane_rows):
        span = range(plan.groups * plan.s_v)
        want = ([bits_to_int(model.macro.array[plan.membrane_rows + r]) for r in span]
                if plan.resident else [model.buffer[plan.buffer_membranes + r] for r in span])
        assert rows == want, f"{what}layer {plan.layer}: membrane rows {rows}, model {want}"


def random_plan(rng, net: Network, cores: int) -> list:
    """A random system plan ((weighted layers, cores) per stage) for at most `cores` cores:
    random cuts into stages, then random splits of one-layer stages over the cores left (never
    a layer whose next layer saturates, as the mapper requires)."""
    weighted = net.weighted
    stages = int(rng.integers(1, min(len(weighted), cores) + 1))
    cuts = sorted(rng.choice(np.arange(1, len(weighted)), stages - 1, replace=False)) \
        if stages > 1 else []
    bounds = [0, *[int(c) for c in cuts], len(weighted)]
    plan = [[b - a, 1] for a, b in zip(bounds, bounds[1:])]
    spare = cores - stages
    for k in rng.permutation(len(plan)):
        first = bounds[k]
        layer = weighted[first]
        next_saturates = first + 1 < len(weighted) and \
            net.layers[weighted[first + 1]].neurons.overflow == "saturate"
        if plan[k][0] == 1 and spare and not next_saturates:
            extra = int(rng.integers(0, min(spare, net.shapes[layer][0] - 1) + 1))
            plan[k][1] += extra
            spare -= extra
    return [tuple(stage) for stage in plan]
