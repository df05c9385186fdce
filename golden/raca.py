"""Bit-exact model of the RACA digital control plane (`cimforge.hdl.raca.core`), its tables and
its host side.

The contract (also in docs/raca.md):

* **Network.** L weight layers (1..max_layers); sizes n_0 (inputs), n_1..n_{L-1} (hidden),
  n_L (classes). Layer l has signed integer weights W_l (n_l x n_{l+1}, `weight_width` bits),
  signed biases b_l (`bias_width` bits) and a table scale `shift_l`. Inputs are binary.
* **Pre-activation.** z = b_l + sum of the weight rows of the active inputs, exact (the
  accumulator never wraps). The table argument is z' = z >> shift_l (arithmetic, floor);
  the hidden-neuron forms use c = clamp(z', -2^(Z-1), 2^(Z-1) - 1), Z = frac_bits + 4, so the
  tables cover z' * 2^-F in [-8, 8).
* **Noise.** One transfer per neuron per sample on the noise stream, in the order: sample,
  layer, neuron. A transfer carries `noise_words` uniform B-bit words (gauss_terms for the
  gauss form, else 1); the output layer uses word 0. The built-in source is an `lfsr_bank`
  (width B, lanes = noise_words, length = lfsr_length) reseeded at every START with
  whiten(SEED) (`cimforge.params.lfsr_bank.whiten`, a nonlinear permutation, so any seeds,
  0, 1, 2, ... included, give unrelated noise), so word k of transfer t is lane k's t-th word
  after that seed (`cimforge.golden.lfsr`). An external noise source gets the whitened seed.
* **Hidden neuron** (n_{l+1} of them, in index order), by the generation-time form:
  sigmoid: fire iff u < P[c], P[c] = round(2^B sigmoid(c 2^-F)), so P(fire) = P[c] / 2^B;
  threshold: fire iff c >= TH[u], TH[u] = the least c with u < P[c] (2^(Z-1) if none): the same
  decisions as sigmoid from a table indexed by the noise instead of by z;
  gauss: s = sum of the transfer's K words (Irwin-Hall), fire iff c >= TG[s], TG[s] =
  ceil(-1.702 g(s) 2^F) clamped to [-2^(Z-1), 2^(Z-1)], g(s) = ((s + K/2) / 2^B - K/2) /
  sqrt(K/12): Gaussian noise of standard deviation 1.702, so P(fire) ~ Phi(x / 1.702) ~
  sigmoid(x).
* **Output layer.** score_j = z'_j + G[u_j], G[u] = round(2^F * -ln(-ln((u + 0.5) / 2^B)))
  (Gumbel); the winner is the first j with the highest score. Then count[winner] += 1.
* **Inference.** START reseeds the noise, clears the counts, then runs T samples; layer 0's
  pre-activations do not depend on the sample and are computed once. Prediction: the first
  class with the most votes.
* **Rounding.** round(x) is floor(x + 1/2) everywhere. The tables come from
  `cimforge.params.raca_tables`, which the generator calls too.
"""

from dataclasses import dataclass, field

import numpy as np

from ..params.lfsr_bank import WHITEN_ROUNDS, LfsrBankParams, whiten
from ..params.raca import MAX_SHIFT, Op, RacaParams, Reg
from ..params.raca_tables import gauss_table, gumbel_table, sigmoid_table, threshold_table
from ..params.wire import ceil_div
from .lfsr import LfsrBankModel


def firing_probability(params: RacaParams, c: np.ndarray) -> np.ndarray:
    """Exact P(fire) of a hidden neuron for clamped table arguments c (from the tables)."""
    c = np.asarray(c)
    half = 1 << (params.frac_bits + 3)
    scale = 1 << params.noise_bits
    if params.neuron in ("sigmoid", "threshold"):
        return np.array(sigmoid_table(params.noise_bits, params.frac_bits))[c + half] / scale
    table = np.array(gauss_table(params.noise_bits, params.frac_bits, params.gauss_terms))
    pmf = np.ones(1)
    for _ in range(params.gauss_terms):           # Irwin-Hall: K-fold sum of uniform words
        pmf = np.convolve(pmf, np.full(scale, 1 / scale))
    return np.array([pmf[table <= value].sum() for value in c.ravel()]).reshape(c.shape)


# -- the network and its run-time configuration ----------------------------------------------

@dataclass
class Network:
    """Integer weights (list of (n_in, n_out) arrays), biases and table shifts per layer."""

    weights: list[np.ndarray]
    biases: list[np.ndarray]
    shifts: list[int]
    meta: dict = field(default_factory=dict)

    @property
    def sizes(self) -> list[int]:
        return [self.weights[0].shape[0]] + [w.shape[1] for w in self.weights]

    @property
    def layers(self) -> int:
        return len(self.weights)

    def check(self, params: RacaParams) -> None:
        """Raise ValueError if this network does not fit the generated maxima."""
        sizes = self.sizes
        if not 1 <= self.layers <= params.max_layers:
            raise ValueError(f"{self.layers} layers; this core runs 1..{params.max_layers}")
        limits = params.max_sizes(self.layers)
        names = ["inputs"] + ["hidden"] * (self.layers - 1) + ["classes"]
        for size, limit, name in zip(sizes, limits, names):
            if not 1 <= size <= limit:
                raise ValueError(f"{size} {name}; this core allows 1..{limit}")
        if sizes[-1] < 2:
            raise ValueError("the output layer needs at least 2 classes")
        for l, (w, b, s) in enumerate(zip(self.weights, self.biases, self.shifts)):
            if w.shape != (sizes[l], sizes[l + 1]) or b.shape != (sizes[l + 1],):
                raise ValueError(f"layer {l}: weight/bias shapes do not match the sizes")
            _check_range(w, params.weight_width, f"layer {l} weights")
            _check_range(b, params.bias_width, f"layer {l} biases")
            if not 0 <= s <= MAX_SHIFT:
                raise ValueError(f"layer {l}: shift {s} out of range 0..{MAX_SHIFT}")

    def to_npz(self, path, **extra) -> None:
        arrays = {f"w{l}": w for l, w in enumerate(self.weights)}
        arrays.update({f"b{l}": b for l, b in enumerate(self.biases)})
        np.savez_compressed(path, shifts=np.array(self.shifts), **arrays, **extra)

    @classmethod
    def from_npz(cls, path) -> "Network":
        with np.load(path) as data:
            layers = len(data["shifts"])
            return cls([data[f"w{l}"].astype(np.int64) for l in range(layers)],
                       [data[f"b{l}"].astype(np.int64) for l in range(layers)],
                       [int(s) for s in data["shifts"]])


def _check_range(values: np.ndarray, width: int, what: str) -> None:
    lo, hi = -(1 << (width - 1)), (1 << (width - 1)) - 1
    if values.size and (values.min() < lo or values.max() > hi):
        raise ValueError(f"{what} outside the signed {width}-bit range {lo}..{hi}")


# -- host side: commands, registers, memory images -------------------------------------------

def command(params: RacaParams, op: Op, addr: int = 0, data: int = 0) -> int:
    """One command word (`RacaParams.command_format`)."""
    return params.command_format.pack(op=op, addr=addr, data=data)


def _pack_signed(values, width: int) -> int:
    word = 0
    for k, v in enumerate(values):
        word |= (int(v) & ((1 << width) - 1)) << (k * width)
    return word


def weight_image(params: RacaParams, net: Network) -> dict[int, int]:
    """Weight memory words: layer l's tile (row tile rt, column tile ct) is tile number
    base_l + ct * row_tiles_l + rt; word tile * tile_rows + r holds row rt * tile_rows + r,
    column ct * tile_cols + c in bits [c * weight_width +: weight_width]."""
    tr, tc = params.tile_rows, params.tile_cols
    words, base = {}, 0
    for w in net.weights:
        n_in, n_out = w.shape
        row_tiles = ceil_div(n_in, tr)
        for ct in range(ceil_div(n_out, tc)):
            block = w[:, ct * tc:(ct + 1) * tc]
            for i in range(n_in):
                tile = base + ct * row_tiles + i // tr
                words[tile * tr + i % tr] = _pack_signed(block[i], params.weight_width)
        base += ceil_div(n_out, tc) * row_tiles
    return words


def bias_image(params: RacaParams, net: Network) -> dict[int, int]:
    """Bias words: one per column tile, layers in order; bias c of the tile in bits
    [c * bias_width +: bias_width]."""
    tc = params.tile_cols
    words, index = {}, 0
    for b in net.biases:
        for ct in range(ceil_div(len(b), tc)):
            words[index] = _pack_signed(b[ct * tc:(ct + 1) * tc], params.bias_width)
            index += 1
    return words


def input_words(params: RacaParams, x: np.ndarray) -> dict[int, int]:
    """Activation words of the input region: bit p of word k is input k * scan_width + p."""
    sw = params.scan_width
    return {k: sum(int(b) << p for p, b in enumerate(x[k * sw:(k + 1) * sw]))
            for k in range(ceil_div(len(x), sw))}


def program(params: RacaParams, net: Network) -> list[int]:
    """Commands that load a network (weights, biases, sizes, shifts)."""
    net.check(params)
    cmds = [command(params, Op.WRITE_REG, Reg.LAYERS, net.layers)]
    cmds += [command(params, Op.WRITE_REG, Reg.SIZE + k, n) for k, n in enumerate(net.sizes)]
    cmds += [command(params, Op.WRITE_REG, Reg.SHIFT + l, s) for l, s in enumerate(net.shifts)]
    cmds += [command(params, Op.WRITE_WEIGHT, a, d)
             for a, d in sorted(weight_image(params, net).items())]
    cmds += [command(params, Op.WRITE_BIAS, a, d)
             for a, d in sorted(bias_image(params, net).items())]
    return cmds


def check_run(params: RacaParams, x, samples: int, seed: int, inputs: int | None = None):
    """One inference's run-time values against what the hardware takes: T in the SAMPLES
    register's range, the seed in SEED's `lfsr_length` bits, `x` a binary vector of `inputs`
    (at most `max_inputs`) entries. Returns `x` as an integer array."""
    if not 1 <= samples <= params.max_samples:
        raise ValueError(f"samples (T) = {samples} is out of range; the SAMPLES register takes "
                         f"1..{params.max_samples}")
    if not 0 <= seed < 1 << params.lfsr_length:
        raise ValueError(f"seed = {seed} is out of range; the SEED register takes "
                         f"0..{(1 << params.lfsr_length) - 1} (lfsr_length = "
                         f"{params.lfsr_length} bits)")
    x = np.asarray(x)
    limit = params.max_inputs if inputs is None else inputs
    if x.ndim != 1 or len(x) > limit or (inputs is not None and len(x) != inputs):
        raise ValueError(f"x has shape {x.shape}; expected a vector of "
                         f"{'at most ' if inputs is None else ''}{limit} inputs")
    if not np.isin(x, (0, 1)).all():
        raise ValueError("x must be binary (0/1): the core's inputs are spikes")
    return x.astype(np.int64)


def run_commands(params: RacaParams, x: np.ndarray, samples: int, seed: int) -> list[int]:
    """Commands that load one input vector and start an inference."""
    x = check_run(params, x, samples, seed)
    cmds = [command(params, Op.WRITE_ACT, a, d) for a, d in input_words(params, x).items()]
    cmds += [command(params, Op.WRITE_REG, Reg.SAMPLES, samples),
             command(params, Op.WRITE_REG, Reg.SEED, seed),
             command(params, Op.START)]
    return cmds


# -- the model --------------------------------------------------------------------------------

@dataclass
class Inference:
    prediction: int
    counts: np.ndarray           # (classes,)
    winners: np.ndarray          # (T,) winner of each sample
    hidden: list[np.ndarray]     # per hidden layer: (T, n) activations of every sample
    transfers: int               # noise transfers consumed


def _exact_matmul(a: np.ndarray, w: np.ndarray) -> np.ndarray:
    """Integer a @ w through BLAS: binary activations times weights of at most 16 bits over at
    most 4096 inputs stay far below 2^53, so float64 is exact."""
    return (a.astype(np.float64) @ w.astype(np.float64)).astype(np.int64)


class RacaModel:
    """Vectorised over samples: each layer is one (T, n_in) @ (n_in, n_out) product."""

    def __init__(self, params: RacaParams):
        self.params = params
        p = params
        self.half = 1 << (p.frac_bits + 3)
        self.prob = np.array(sigmoid_table(p.noise_bits, p.frac_bits))
        self.thresh = np.array(threshold_table(p.noise_bits, p.frac_bits))
        self.gauss = (np.array(gauss_table(p.noise_bits, p.frac_bits, p.gauss_terms))
                      if p.neuron == "gauss" else None)
        self.gumbel = np.array(gumbel_table(p.noise_bits, p.frac_bits))
        self.bank = LfsrBankModel(LfsrBankParams(width=p.noise_bits, lanes=p.noise_words,
                                                 length=p.lfsr_length))

    def transfers(self, net: Network, samples: int) -> int:
        return samples * sum(net.sizes[1:])

    def noise(self, net: Network, samples: int, seed: int) -> np.ndarray:
        """The built-in source's transfers for one inference, (transfers, noise_words)."""
        state_seed = whiten(seed, self.params.lfsr_length)
        return self.bank.words(state_seed, self.transfers(net, samples)).astype(np.int64)

    def fire(self, z_shifted: np.ndarray, words: np.ndarray) -> np.ndarray:
        """Hidden decisions for table arguments z' (..., n) and noise words (..., n, K)."""
        c = np.clip(z_shifted, -self.half, self.half - 1)
        form = self.params.neuron
        if form == "sigmoid":
            return words[..., 0] < self.prob[c + self.half]
        if form == "threshold":
            return c >= self.thresh[words[..., 0]]
        return c >= self.gauss[words.sum(axis=-1)]

    def infer(self, net: Network, x: np.ndarray, samples: int, seed: int = 0,
              noise: np.ndarray | None = None) -> Inference:
        """One inference of binary input `x`; `noise` replaces the built-in LFSR source."""
        net.check(self.params)
        x = check_run(self.params, x, samples, seed, inputs=net.sizes[0])
        if noise is None:
            noise = self.noise(net, samples, seed)
        sizes = net.sizes
        per_sample = sum(sizes[1:])
        if len(noise) < samples * per_sample:
            raise ValueError("not enough noise transfers for this inference")
        noise = np.asarray(noise[:samples * per_sample], dtype=np.int64)
        noise = noise.reshape(samples, per_sample, self.params.noise_words)

        acts = x[None, :]                  # layer 0's input is the same in every sample
        hidden, offset = [], 0
        for l, (w, b, s) in enumerate(zip(net.weights, net.biases, net.shifts)):
            z = (_exact_matmul(acts, w) + b) >> s
            z = np.broadcast_to(z, (samples, w.shape[1]))
            words = noise[:, offset:offset + w.shape[1]]
            offset += w.shape[1]
            if l < net.layers - 1:
                acts = self.fire(z, words).astype(np.int64)
                hidden.append(acts)
            else:
                winners = np.argmax(z + self.gumbel[words[..., 0]], axis=1)
        counts = np.bincount(winners, minlength=sizes[-1])
        return Inference(int(np.argmax(counts)), counts, winners, hidden,
                         samples * per_sample)

    def predict(self, net: Network, images: np.ndarray, samples: int,
                seeds: np.ndarray) -> np.ndarray:
        return np.array([self.infer(net, x, samples, int(seed)).prediction
                         for x, seed in zip(images, seeds)])


def image_seed(index: int, length: int, base: int = 0) -> int:
    """The SEED of inference number `index`: base + index, wrapped to `length` bits. Plain
    consecutive seeds are fine: the core whitens every seed before it reaches the LFSRs."""
    return (base + index) % (1 << length)


def cycles(params: RacaParams, net: Network, x: np.ndarray, result: Inference) -> int:
    """Busy cycles of an inference whose noise is never late (the CYCLES register; with late
    noise, CYCLES = this + NOISE_WAIT). 2 to check the START and send the seed, WHITEN_ROUNDS
    to whiten it, 1 per sample to count its vote, and per sample and layer: 1 setup;
    per column tile (all tiles of layer 0 on the first sample only) 1 bias read + 1 + per scan
    chunk 1 + max(active inputs, 1), + 2 to finish the last addition; one per neuron drained
    and 2 for the last writes; then one per neuron sampled + 4."""
    sw, tc = params.scan_width, params.tile_cols
    samples = len(result.winners)
    total = 2 + WHITEN_ROUNDS + samples
    for t in range(samples):
        acts = np.asarray(x)
        for l, n_out in enumerate(net.sizes[1:]):
            total += 1
            if l > 0 or t == 0:
                n_in = len(acts)
                scan = 1 + sum(1 + max(int(acts[k:k + sw].sum()), 1)
                               for k in range(0, n_in, sw))
                total += ceil_div(n_out, tc) * (3 + scan) + n_out + 2
            total += n_out + 4
            if l < net.layers - 1:
                acts = result.hidden[l][t]
    return total


def winner_distribution(params: RacaParams, z_shifted: np.ndarray) -> np.ndarray:
    """Exact P(winner = i) of the noisy winner-takes-all for table arguments z' (first
    maximum wins), from the Gumbel table and uniform B-bit words."""
    g = np.array(gumbel_table(params.noise_bits, params.frac_bits))
    scores = np.asarray(z_shifted)[:, None] + g[None, :]            # (classes, words)
    out = np.zeros(len(scores))
    for i, own in enumerate(scores):
        p = np.ones(len(g))
        for j, other in enumerate(scores):
            if j != i:
                beaten = (other[None, :] < own[:, None]) if j < i \
                    else (other[None, :] <= own[:, None])
                p *= beaten.mean(axis=1)
        out[i] = p.mean()
    return out
