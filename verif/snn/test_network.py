"""The network format and the layer-level reference: checks, the file round trip, and the
reference against a second, dense formulation of the same layer math."""

import numpy as np
import pytest
from cimforge.golden.network import (
    Conv2d,
    Flatten,
    Linear,
    Network,
    NetworkError,
    Neurons,
    SumPool2d,
    fire_order,
    reference,
    wrap,
)
from cimforge.verif import seeds


def random_network(rng, overflow="wrap") -> Network:
    """conv (stride, padding) -> sum pool -> flatten -> linear, random widths and thresholds."""
    c_in, h, w = 2, 6, 6
    c_mid = int(rng.integers(1, 4))
    b_w, b_v = int(rng.integers(2, 6)), int(rng.integers(6, 12))
    # Mostly positive weights and biases, so the conv layer fires at every seed.
    conv_w = rng.integers(-(1 << (b_w - 2)), 1 << (b_w - 1), (c_mid, c_in, 3, 3))
    conv = Conv2d(conv_w, Neurons(rng.integers(1, 1 << b_w, (c_mid, 6, 6)), b_w, b_v,
                                  reset=rng.choice(["zero", "subtract"]), overflow=overflow),
                  stride=1, padding=1, bias=rng.integers(0, 1 << (b_w - 1), c_mid))
    n_in = c_mid * 3 * 3
    n_out = int(rng.integers(2, 6))
    fc_w = rng.integers(-(1 << (b_w - 1)), 1 << (b_w - 1), (n_out, n_in))
    fc = Linear(fc_w, Neurons(int(rng.integers(1, 8)), b_w, b_v, overflow=overflow))
    return Network((c_in, h, w), [conv, SumPool2d(2), Flatten(), fc])


def random_events(rng, size: int, steps: int, rate: float = 0.3) -> list:
    return [list(rng.choice(size, int(rng.binomial(size, rate)))) for _ in range(steps)]


def dense_reference(net: Network, events: list) -> list:
    """The same network in wrap mode, written as dense layer math: a convolution by explicit
    output-position loops over zero-padded count maps, pooling by reshaping."""
    conv, _, _, fc = net.layers
    v1 = np.zeros(net.shapes[0], dtype=np.int64)
    v2 = np.zeros(net.shapes[3], dtype=np.int64)
    out = []
    for step in events:
        counts = np.bincount(step, minlength=int(np.prod(net.input_shape))).reshape(
            net.input_shape)
        padded = np.pad(counts, ((0, 0), (1, 1), (1, 1)))
        c_out, oh, ow = net.shapes[0]
        total = np.zeros_like(v1)
        for o in range(c_out):
            for y in range(oh):
                for x in range(ow):
                    total[o, y, x] = np.sum(padded[:, y:y + 3, x:x + 3] * conv.weight[o])
        n = conv.neurons
        v1 = wrap(v1 + conv.bias[:, None, None] + total, n.b_v)
        fired1 = v1 >= n.threshold
        v1 = np.where(fired1, wrap(v1 - n.threshold, n.b_v) if n.reset == "subtract" else 0, v1)
        pooled = fired1.astype(np.int64).reshape(c_out, oh // 2, 2, ow // 2, 2).sum(axis=(2, 4))
        v2 = wrap(v2 + fc.weight @ pooled.reshape(-1), fc.neurons.b_v)
        fired2 = v2 >= fc.neurons.threshold
        v2 = np.where(fired2, 0, v2)
        out.append((fire_order(net.shapes[0], np.flatnonzero(fired1.reshape(-1))),
                    sorted(np.flatnonzero(fired2))))
    return out, v1.reshape(-1), v2


@pytest.mark.parametrize("trial", range(6))
def test_reference_equals_dense_layer_math(trial):
    rng = seeds.np_rng("network-dense", trial)
    net = random_network(rng)
    events = random_events(rng, int(np.prod(net.input_shape)), steps=5)
    result = reference(net, events)
    spikes, v1, v2 = dense_reference(net, events)
    assert [tuple(map(list, s)) for s in result.spikes] == [tuple(map(list, s)) for s in spikes]
    assert np.array_equal(result.membranes[0], v1) and np.array_equal(result.membranes[1], v2)
    assert sum(len(s[0]) for s in result.spikes) > 0, "stimulus too weak: no conv spike"


def test_saturate_clamps_every_add_in_order():
    """Bias first, then events in arrival order; every add saturates (B_V = 4: -8..7)."""
    layer = Linear(np.array([[7, -8]]), Neurons(7, 4, 4, overflow="saturate"), bias=np.array([3]))
    net = Network((2,), [layer])
    # 0 + 3 = 3; +7 -> 7 (clamped from 10); -8 -> -1; fires? -1 < 7: no.
    assert reference(net, [[0, 1]]).membranes[0].tolist() == [-1]
    # In wrap mode the same events give 3 + 7 - 8 = 2.
    wrapped = Network((2,), [Linear(layer.weight, Neurons(7, 4, 4), bias=np.array([3]))])
    assert reference(wrapped, [[0, 1]]).membranes[0].tolist() == [2]


def test_subtract_reset_keeps_the_excess():
    net = Network((1,), [Linear(np.array([[5]]), Neurons(4, 4, 8, reset="subtract"))])
    result = reference(net, [[0], [0], []])
    assert [s[0] for s in result.spikes] == [[0], [0], []]
    assert result.membranes[0].tolist() == [2]          # 5-4=1, 1+5-4=2


def test_save_and_load_round_trip(tmp_path):
    rng = seeds.np_rng("network-file")
    net = random_network(rng)
    net.save(tmp_path / "net.npz")
    again = Network.load(tmp_path / "net.npz")
    assert again.input_shape == net.input_shape and again.shapes == net.shapes
    events = random_events(rng, int(np.prod(net.input_shape)), steps=3)
    a, b = reference(net, events), reference(again, events)
    assert a.spikes == b.spikes and all(np.array_equal(x, y)
                                        for x, y in zip(a.membranes, b.membranes))


NEURONS = Neurons(1, 4, 8)


@pytest.mark.parametrize("build, message", [
    (lambda: Network((4,), []), "at least one layer"),
    (lambda: Network((0,), [Linear(np.ones((1, 0)), NEURONS)]), "positive sizes"),
    (lambda: Network((4,), [Linear(np.ones((2, 3)), NEURONS)]), "layer 0 (linear): weight shape"),
    (lambda: Network((4,), [Linear(np.full((2, 4), 8), NEURONS)]), "do not fit b_w = 4"),
    (lambda: Network((4,), [Linear(np.ones((2, 4)), Neurons(300, 4, 8))]),
     "thresholds 300..300 do not fit b_v = 8"),
    (lambda: Network((4,), [Linear(np.ones((2, 4)), Neurons(1, 9, 8))]), "b_w = 9 exceeds"),
    (lambda: Network((4,), [Linear(np.ones((2, 4)), Neurons(1, 4, 8, reset="leak"))]),
     "reset = 'leak'"),
    (lambda: Network((4,), [Linear(np.ones((2, 4)), Neurons([1, 2, 3], 4, 8))]),
     "threshold shape (3,)"),
    (lambda: Network((4,), [Linear(np.ones((2, 4)), NEURONS, bias=np.array([1]))]),
     "bias shape (1,)"),
    (lambda: Network((4,), [Linear(np.full((2, 4), 0.5), NEURONS)]), "must be integers"),
    (lambda: Network((1, 4, 4), [Linear(np.ones((2, 16)), NEURONS)]), "add a flatten layer"),
    (lambda: Network((1, 4, 4), [SumPool2d(3), Flatten(), Linear(np.ones((2, 1)), NEURONS)]),
     "layer 0 (sumpool2d): kernel (3, 3) must divide"),
    (lambda: Network((1, 2, 2), [Conv2d(np.ones((1, 1, 3, 3)), NEURONS)]), "does not fit"),
    (lambda: Network((1, 4, 4), [Conv2d(np.ones((1, 1, 3, 3)), NEURONS, stride=0)]),
     "stride (0, 0) must be >= 1"),
    (lambda: Network((1, 4, 4), [Flatten()]), "the last layer must be weighted"),
])
def test_bad_networks_name_the_layer_and_the_problem(build, message):
    with pytest.raises(NetworkError) as error:
        build()
    assert message in str(error.value)


def test_bad_files(tmp_path):
    (tmp_path / "junk.npz").write_bytes(b"not a zip")
    with pytest.raises(NetworkError, match="not a cimforge network file"):
        Network.load(tmp_path / "junk.npz")
    np.savez(tmp_path / "other.npz", spec=np.array('{"format": "other", "version": 1}'))
    with pytest.raises(NetworkError, match="expected cimforge-snn 1"):
        Network.load(tmp_path / "other.npz")
