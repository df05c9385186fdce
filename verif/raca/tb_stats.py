"""cocotb testbench: the RTL's stochastic neurons as distributions.

* firing_curve: a hidden layer whose neurons have only a bias (W = 0, input inactive), at
  `points` table arguments from -9 to +9 (x 2^F, the ends beyond the table's clamp), 4 neurons
  per point; `inferences` inferences of T = 1 with consecutive seeds (1000, 1001, ...), each hidden layer read back.
  Each point's firing frequency must lie in the binomial band (4.5 sigma) around the exact
  table probability, and near the ideal curve (sigmoid, or Phi(x / 1.702) for the gauss form).
* wta_frequencies: one output layer (logits = biases), T = `wta_samples`; the vote counts
  against softmax and against the exact distribution of the tables, by chi-square.

Launcher arguments: `inferences`, `points`, `wta_samples`. Measures (`testbench.measure`)
`firing_<neuron>` and `wta`.
"""

import math

import cocotb
import numpy as np
from cimforge.golden.raca import (
    Network,
    Op,
    RacaModel,
    Reg,
    command,
    firing_probability,
    image_seed,
    program,
    run_commands,
    winner_distribution,
)
from cimforge.verif.raca.host import DONE, start
from cimforge.verif.testbench import measure
from scipy import stats

PER_POINT = 4
ALPHA = 1e-3


def _ideal(params, x):
    if params.neuron == "gauss":
        return 0.5 * (1 + math.erf(x / 1.702 / math.sqrt(2)))
    return 1 / (1 + math.exp(-x))


@cocotb.test()
async def firing_curve(dut):
    params, args, rng, host, noise = await start(dut)
    p = params
    scale = 1 << p.frac_bits
    points = np.unique(np.round(np.linspace(-9, 9, args.get("points", 16)) * scale)
                       .astype(np.int64))
    biases = np.repeat(points, PER_POINT)
    hidden = len(biases)
    assert hidden <= p.max_hidden, f"{len(points)} points x {PER_POINT} neurons need " \
                                   f"max_hidden >= {hidden}"
    net = Network([np.zeros((1, hidden), np.int64), np.zeros((hidden, 2), np.int64)],
                  [biases, np.zeros(2, np.int64)], [0, 0])
    await host.send(program(p, net))
    model = RacaModel(p)
    x = np.zeros(1, np.int64)
    fired = np.zeros(hidden, np.int64)
    runs = args.get("inferences", 200)
    words = -(-hidden // p.scan_width)
    for k in range(runs):
        seed = image_seed(k, p.lfsr_length, 1000)
        result = model.infer(net, x, 1, seed)
        if noise is not None:
            noise.need = result.transfers
        await host.send(run_commands(p, x, 1, seed))
        assert await host.wait_done(1000) == DONE
        got = await host.read([command(p, Op.READ_ACT, p.act_base[1] + w) for w in range(words)])
        bits = np.array([(got[i // p.scan_width] >> (i % p.scan_width)) & 1
                         for i in range(hidden)])
        assert np.array_equal(bits, result.hidden[0][0]), f"inference {k}: hidden layer differs"
        fired += bits
    half = 1 << (p.frac_bits + 3)
    record = []
    for i, c in enumerate(points):
        n = runs * PER_POINT
        hits = int(fired[i * PER_POINT:(i + 1) * PER_POINT].sum())
        exact = float(firing_probability(p, np.array([min(max(c, -half), half - 1)]))[0])
        ideal = _ideal(p, c / scale)
        sigma = math.sqrt(n * exact * (1 - exact))
        record.append({"x": c / scale, "trials": n, "fired": hits, "exact": exact,
                       "ideal": ideal})
        assert abs(hits - n * exact) <= 4.5 * sigma + 1, \
            f"x = {c / scale}: fired {hits}/{n}, table probability {exact:.4f}"
        # The table itself is within rounding (or the Irwin-Hall approximation) of the curve.
        assert abs(hits / n - ideal) <= 4.5 * sigma / n + 0.02, \
            f"x = {c / scale}: frequency {hits / n:.4f}, ideal {ideal:.4f}"
    measure(f"firing_{p.neuron}", record)


@cocotb.test()
async def wta_frequencies(dut):
    params, args, rng, host, noise = await start(dut)
    p = params
    scale = 1 << p.frac_bits
    logits = np.array([0.0, 0.5, 1.0, 1.5, -1.0, 2.0, 0.5])[:p.max_classes]
    biases = np.round(logits * scale).astype(np.int64)
    net = Network([np.zeros((1, len(biases)), np.int64)], [biases], [0])
    await host.send(program(p, net))
    samples = min(args.get("wta_samples", 2000), p.max_samples)
    x = np.zeros(1, np.int64)
    seed = image_seed(0, p.lfsr_length, 2000)
    result = RacaModel(p).infer(net, x, samples, seed)
    if noise is not None:
        noise.need = result.transfers
    await host.send(run_commands(p, x, samples, seed))
    assert await host.wait_done(samples * 40) == DONE
    counts = np.array(await host.read([command(p, Op.READ_REG, Reg.COUNT + c)
                                       for c in range(len(biases))]))
    assert np.array_equal(counts, result.counts)
    softmax = np.exp(biases / scale) / np.exp(biases / scale).sum()
    exact = winner_distribution(p, biases)
    chi_softmax = stats.chisquare(counts, samples * softmax)
    chi_exact = stats.chisquare(counts, samples * exact)
    measure("wta", {"logits": (biases / scale).tolist(), "samples": samples,
                        "counts": counts.tolist(), "softmax": softmax.tolist(),
                        "exact": exact.tolist(), "chi2_softmax": chi_softmax.statistic,
                        "p_softmax": chi_softmax.pvalue, "chi2_exact": chi_exact.statistic,
                        "p_exact": chi_exact.pvalue})
    assert chi_exact.pvalue > ALPHA, f"counts {counts} vs the tables' distribution: " \
                                     f"p = {chi_exact.pvalue:.2g}"
    assert chi_softmax.pvalue > ALPHA, f"counts {counts} vs softmax: p = {chi_softmax.pvalue:.2g}"
