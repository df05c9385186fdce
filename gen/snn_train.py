"""Training spiking networks in numpy whose integer form is what the accelerator computes.

The network: dense layers, each followed by integrate-and-fire neurons that integrate
v += W x + b every timestep, fire on v >= theta and subtract theta (the hardware's IF with
`reset="subtract"`); the prediction is the output layer's spike count, highest first. Trained
by backpropagation through time with a fast-sigmoid surrogate gradient (the reset is not
differentiated), softmax cross-entropy on the spike counts, Adam.

Quantisation-aware: from `qat_from` of the epochs on, the forward pass uses the weights,
biases and thresholds the NIR compiler (`cimforge.nirbridge`) will make of them, scaled back:
per layer s = (2^(B_W-1) - 1) / max|W, b|, W_q = round(s W) / s, theta_q = ceil(s theta) / s
(straight-through: the gradient passes the rounding unchanged). The trained float network is
written as a NIR graph (Affine + IF per layer) and compiled by the same bridge, so the shipped
integer network is exactly `from_nir(graph, CompileOptions(reset="subtract", ...))`.
"""

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class TrainConfig:
    hidden: tuple = (128,)
    b_w: int = 4
    b_v: int = 16
    threshold: float = 1.0
    epochs: int = 40
    batch: int = 32
    lr: float = 2e-3
    qat_from: float = 0.5          # fraction of the epochs before fake quantisation starts
    count_scale: float = 0.5       # logits = count_scale * spike counts
    seed: int = 0


def fake_quantise(weight, bias, threshold, b_w):
    """The compiler's rounding, scaled back to float (see the module docstring)."""
    qmax = (1 << (b_w - 1)) - 1
    scale = qmax / max(np.max(np.abs(weight)), np.max(np.abs(bias)), 1e-12)
    return (np.round(weight * scale) / scale, np.round(bias * scale) / scale,
            np.ceil(threshold * scale - 1e-9) / scale)


def _surrogate(x):
    return 1.0 / (1.0 + 10.0 * np.abs(x)) ** 2


def forward(params, x, threshold: float, quantise_bits: int | None = None, keep=False):
    """x: (batch, T, n_in) spike counts. Returns output spike counts (batch, n_out) and, with
    `keep`, every layer's inputs, membranes (before firing) and spikes per timestep."""
    batch, steps, _ = x.shape
    layers = []
    for weight, bias in params:
        theta = threshold
        if quantise_bits:
            weight, bias, theta = fake_quantise(weight, bias, threshold, quantise_bits)
        layers.append((weight, bias, theta))
    trace = [dict(inputs=[], v=[], spikes=[]) for _ in layers]
    v = [np.zeros((batch, w.shape[0])) for w, _, _ in layers]
    counts = np.zeros((batch, layers[-1][0].shape[0]))
    for t in range(steps):
        signal = x[:, t]
        for i, (weight, bias, theta) in enumerate(layers):
            v[i] = v[i] + signal @ weight.T + bias
            spikes = (v[i] >= theta).astype(float)
            if keep:
                trace[i]["inputs"].append(signal)
                trace[i]["v"].append(v[i] - theta)
                trace[i]["spikes"].append(spikes)
            v[i] = v[i] - theta * spikes
            signal = spikes
        counts += signal
    return counts, (layers, trace)


def _gradients(params, x, y, config: TrainConfig, quantise: bool):
    counts, (layers, trace) = forward(params, x, config.threshold,
                                      config.b_w if quantise else None, keep=True)
    logits = config.count_scale * counts
    logits -= logits.max(axis=1, keepdims=True)
    p = np.exp(logits)
    p /= p.sum(axis=1, keepdims=True)
    loss = -np.mean(np.log(p[np.arange(len(y)), y] + 1e-12))
    d_counts = (p - np.eye(p.shape[1])[y]) * config.count_scale / len(y)
    steps = x.shape[1]
    grads = [None] * len(params)
    d_spikes = [d_counts] * steps                    # into the top layer's spikes, per t
    for i in reversed(range(len(params))):
        weight = layers[i][0]
        d_w, d_b = np.zeros_like(weight), np.zeros(weight.shape[0])
        d_below = [None] * steps
        carry = np.zeros_like(d_spikes[0])           # d loss / d v after timestep t
        for t in reversed(range(steps)):
            d_v = carry + d_spikes[t] * _surrogate(trace[i]["v"][t])
            d_w += d_v.T @ trace[i]["inputs"][t]
            d_b += d_v.sum(axis=0)
            d_below[t] = d_v @ weight
            carry = d_v
        grads[i] = (d_w, d_b)
        d_spikes = d_below
    return loss, grads


def train(x: np.ndarray, y: np.ndarray, config: TrainConfig, log=print):
    """Float (W, b) per layer for spike-count inputs x (N, T, n_in) and labels y."""
    rng = np.random.default_rng(config.seed)
    sizes = [x.shape[2], *config.hidden, int(y.max()) + 1]
    params = [(rng.normal(0, 1.0 / np.sqrt(n_in), (n_out, n_in)), np.zeros(n_out))
              for n_in, n_out in zip(sizes, sizes[1:])]
    moments = [[np.zeros_like(a) for a in layer for _ in (0, 1)] for layer in params]
    step = 0
    for epoch in range(config.epochs):
        quantise = epoch >= config.qat_from * config.epochs
        order = rng.permutation(len(x))
        losses = []
        for start in range(0, len(x), config.batch):
            idx = order[start:start + config.batch]
            loss, grads = _gradients(params, x[idx], y[idx], config, quantise)
            losses.append(loss)
            step += 1
            new = []
            for layer, grad, m in zip(params, grads, moments):
                updated = []
                for k, (value, g) in enumerate(zip(layer, grad)):
                    m[2 * k] = 0.9 * m[2 * k] + 0.1 * g
                    m[2 * k + 1] = 0.999 * m[2 * k + 1] + 0.001 * g * g
                    m_hat = m[2 * k] / (1 - 0.9 ** step)
                    v_hat = m[2 * k + 1] / (1 - 0.999 ** step)
                    updated.append(value - config.lr * m_hat / (np.sqrt(v_hat) + 1e-8))
                new.append(tuple(updated))
            params = new
        if log and (epoch % 10 == 9 or epoch == config.epochs - 1):
            log(f"  epoch {epoch + 1}: loss {np.mean(losses):.3f}"
                + (" (fake-quantised)" if quantise else ""))
    return params


def predict(counts: np.ndarray) -> np.ndarray:
    """The hardware's rule: the output neuron with the most spikes, the lowest on a tie."""
    return np.argmax(counts, axis=1)


def to_graph(params, threshold: float, input_shape: tuple):
    """The float network as a NIR graph: Affine + IF (r = 1, v_threshold = threshold) per
    layer, a Flatten first if the input is a map."""
    import nir

    from .golden.nir_graph import sequence
    named = []
    if len(input_shape) > 1:
        named.append(("flatten", nir.Flatten(input_type={"input": np.array(input_shape)},
                                              start_dim=0)))
    for i, (weight, bias) in enumerate(params):
        named.append((f"fc{i}", nir.Affine(weight=weight, bias=bias)))
        named.append((f"if{i}", nir.IF(r=np.ones(len(bias)),
                                       v_threshold=np.full(len(bias), float(threshold)),
                                       v_reset=np.zeros(len(bias)))))
    return sequence(input_shape, *named)
