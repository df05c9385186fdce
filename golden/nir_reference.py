"""A float simulator of the NIR nodes cimforge compiles, straight from the graph's own
parameters: the yardstick for the quantisation gap, kept apart from the bit-exact integer
reference (`cimforge.golden.network.reference`).

Same discretisation as the compiler (`cimforge.nirbridge`, docs/nir.md): per timestep, the
input spike counts go through the chain node after node; Affine/Linear/Conv2d compute
I = W x (+ b); IF integrates v += dt r I; LIF (exactly, forward Euler, no approximation)
v += dt / tau (v_leak - v + r I); both fire on v >= v_threshold or v > v_threshold
(`firing`) and reset to zero or subtract the threshold (`reset`); sum and average pooling,
flattening in C order. No overflow: membranes are float64 (exact for integers below 2^53).
"""

from dataclasses import dataclass

import numpy as np

from .nir_graph import CompileOptions, chain, input_shape, setting


def conv2d(x: np.ndarray, weight: np.ndarray, stride, padding) -> np.ndarray:
    """PyTorch's cross-correlation: x (C_in, H, W), weight (C_out, C_in, kh, kw)."""
    (sy, sx), (py, px) = stride, padding
    c_out, _, kh, kw = weight.shape
    padded = np.pad(x, ((0, 0), (py, py), (px, px)))
    oh = (padded.shape[1] - kh) // sy + 1
    ow = (padded.shape[2] - kw) // sx + 1
    out = np.zeros((c_out, oh, ow))
    for ky in range(kh):
        for kx in range(kw):
            patch = padded[:, ky:ky + sy * (oh - 1) + 1:sy, kx:kx + sx * (ow - 1) + 1:sx]
            out += np.einsum("oc,chw->ohw", weight[:, :, ky, kx], patch)
    return out


def _pool(x: np.ndarray, kernel) -> np.ndarray:
    c, h, w = x.shape
    ky, kx = (int(k) for k in np.broadcast_to(np.asarray(kernel).reshape(-1), (2,)))
    return x.reshape(c, h // ky, ky, w // kx, kx).sum(axis=(2, 4))


def _as_pair(value):
    if isinstance(value, (str, bytes)):
        return value
    return tuple(int(v) for v in np.broadcast_to(np.asarray(value).reshape(-1), (2,)))


@dataclass
class FloatResult:
    """`spikes[t][i]`: neuron node i's spikes at timestep t (a 0/1 array, flat, C order);
    `counts`: the last neuron node's spike counts over the run."""
    spikes: list
    counts: np.ndarray


def simulate(graph, events: list, options: CompileOptions | None = None) -> FloatResult:
    """Runs `events` (per timestep, flat input addresses) through the NIR `graph`."""
    import nir
    options = options or CompileOptions()
    nodes = chain(graph)
    shape = input_shape(*nodes[0])
    size = int(np.prod(shape))
    state: dict[str, np.ndarray] = {}
    spikes = []
    for step in events:
        x = np.bincount(np.asarray(step, dtype=np.int64), minlength=size).astype(float)
        x = x.reshape(shape)
        fired = []
        for name, node in nodes[1:-1]:
            if isinstance(node, nir.Affine):
                x = np.asarray(node.weight, float) @ x + np.asarray(node.bias, float)
            elif isinstance(node, nir.Linear):
                x = np.asarray(node.weight, float) @ x
            elif isinstance(node, nir.Conv2d):
                padding = _as_pair(node.padding)
                if isinstance(padding, (str, bytes)):
                    k = np.asarray(node.weight).shape[2:]
                    padding = (0, 0) if padding in ("valid", b"valid") else (
                        (k[0] - 1) // 2, (k[1] - 1) // 2)
                x = conv2d(x, np.asarray(node.weight, float), _as_pair(node.stride), padding)
                x = x + np.broadcast_to(np.asarray(node.bias, float).reshape(-1),
                                        (x.shape[0],))[:, None, None]
            elif isinstance(node, nir.SumPool2d):
                x = _pool(x, node.kernel_size)
            elif isinstance(node, nir.AvgPool2d):
                x = _pool(x, node.kernel_size) / np.prod(_as_pair(node.kernel_size))
            elif isinstance(node, nir.Flatten):
                x = x.reshape(-1)
            elif isinstance(node, (nir.IF, nir.LIF)):
                v = state.get(name, np.zeros(x.shape))
                r = np.broadcast_to(np.asarray(node.r, float), x.shape)
                if isinstance(node, nir.IF):
                    v = v + options.dt * r * x
                else:
                    tau = np.broadcast_to(np.asarray(node.tau, float), x.shape)
                    v = v + options.dt / tau * (np.asarray(node.v_leak, float) - v + r * x)
                threshold = np.broadcast_to(np.asarray(node.v_threshold, float), x.shape)
                firing = setting(node, "firing", options.firing)
                spike = v >= threshold if firing == ">=" else v > threshold
                if setting(node, "reset", options.reset) == "zero":
                    v = np.where(spike, 0.0, v)
                else:
                    v = np.where(spike, v - threshold, v)
                state[name] = v
                x = spike.astype(float)
                fired.append(x.reshape(-1).astype(np.int64))
            else:
                raise ValueError(f"node {name!r}: {type(node).__name__} is not simulated")
        spikes.append(fired)
    counts = sum((step[-1] for step in spikes), np.zeros(len(spikes[0][-1]) if spikes else 0,
                                                         dtype=np.int64))
    return FloatResult(spikes, counts)


def spike_count_errors(graph, network, events: list, options: CompileOptions | None = None
                       ) -> list[float]:
    """The quantisation gap per weighted layer: the L1 distance between the float graph's and
    the integer `network`'s spike counts over `events`, over the float total."""
    from .network import reference
    exact, integer = simulate(graph, events, options), reference(network, events)
    errors = []
    for layer in range(len(network.weighted)):
        floats = np.sum([step[layer] for step in exact.spikes], axis=0)
        ints = np.zeros_like(floats)
        for step in integer.spikes:
            np.add.at(ints, step[layer], 1)
        errors.append(float(np.abs(floats - ints).sum() / max(floats.sum(), 1)))
    return errors
