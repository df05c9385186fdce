"""The CIM macro's golden model against plain integer arithmetic and the layer-level reference."""


import numpy as np
import pytest
from cimforge.golden.cim import (
    LSB,
    MSB,
    PROP,
    STANDBY,
    CimMacroModel,
    Counter,
    LayerConfig,
    Op,
    bits_to_int,
    encode,
    if_layer,
    modes_for,
    modes_valid,
    saturate,
    wrap,
)
from cimforge.params import ParamError
from cimforge.params.cim_macro import CimMacroParams
from cimforge.verif import seeds
from cimforge.verif.cim.stimulus import config_of, random_shape

PARAMS = CimMacroParams(rows=128, cols=48, max_slices=32)


def load_values(model, config, base, values, bits):
    for k, row in enumerate(config.pack(values, bits)):
        model.execute(encode(model.p, Op.LOAD, base + k, 0, bits_to_int(row)))


def configured(config):
    model = CimMacroModel(PARAMS)
    model.run(encode(PARAMS, *c) for c in config.commands(PARAMS))
    return model


@pytest.mark.parametrize("index", range(40))
def test_acc_and_fire_equal_integer_arithmetic(index):
    """Any shape: ACC gives (V + W) mod 2^B_V or saturated, FIRE compares and resets per lane."""
    rng = seeds.rng("acc-fire", index)
    config = config_of(random_shape(PARAMS, rng), PARAMS)
    b_v, b_w, lanes = config.b_v, config.b_w, len(config.lanes)
    model = configured(config)
    rand = lambda bits: [rng.randint(-(1 << (bits - 1)), (1 << (bits - 1)) - 1)
                         for _ in range(lanes)]
    v, th = np.array(rand(b_v)), np.array(rand(b_v))
    load_values(model, config, 0, v, b_v)
    load_values(model, config, 80, th, b_v)
    for _ in range(4):
        w = np.array(rand(b_w))
        load_values(model, config, 40, w, b_w)
        model.execute(encode(PARAMS, Op.ACC, 40, 0))
        v = saturate(v + w, b_v) if config.saturate else wrap(v + w, b_v)
        assert config.unpack(model.array, b_v).tolist() == v.tolist()
    model.execute(encode(PARAMS, Op.FIRE, 0, 80))
    fired = v >= th
    v = np.where(fired, wrap(v - th, b_v) if config.subtract else 0, v)
    assert config.unpack(model.array, b_v).tolist() == v.tolist()
    assert model.spikes == [msb for (lsb, msb), f in zip(config.lanes, fired) if f]


def test_fully_connected_layer_matches_layer_reference():
    """A whole IF layer (6 neurons in 8-bit lanes, 12 inputs, 3 timesteps) run command by
    command equals the layer-level reference timestep by timestep."""
    rng = seeds.np_rng("fc-layer")
    neurons, inputs, b_w, b_v = 6, 12, 4, 12
    config = LayerConfig(modes_for([8] * neurons, PARAMS.cols), b_w, b_v)
    weights = rng.integers(-8, 8, size=(inputs, neurons))
    model = configured(config)
    v = np.zeros(neurons, dtype=np.int64)
    s_w = config.slices(b_w, 8)
    w_base, v_row, th_row = 10, 0, 4
    for i in range(inputs):
        load_values(model, config, w_base + i * s_w, weights[i], b_w)
    load_values(model, config, th_row, [9] * neurons, b_v)
    for _ in range(3):
        spikes_in = list(np.flatnonzero(rng.random(inputs) < 0.5))
        for i in spikes_in:
            model.execute(encode(PARAMS, Op.ACC, w_base + i * s_w, v_row))
        before = len(model.spikes)
        model.execute(encode(PARAMS, Op.FIRE, v_row, th_row))
        v, fired = if_layer(v, weights, spikes_in, 9, b_v)
        assert config.unpack(model.array[v_row:], b_v).tolist() == v.tolist()
        lanes_fired = [config.lanes.index(next(l for l in config.lanes if l[1] == c))
                       for c in model.spikes[before:]]
        assert lanes_fired == list(np.flatnonzero(fired))
    assert model.counters[Counter.ACC_EVENTS] > 0


def test_mode_rules():
    assert modes_valid([MSB, LSB, MSB, STANDBY, LSB, PROP, PROP, MSB])
    assert not modes_valid([PROP, MSB])                 # PROP outside a lane
    assert not modes_valid([LSB, PROP])                 # lane never ends
    assert not modes_valid([LSB, STANDBY, MSB])         # lane interrupted
    assert not modes_valid([LSB, LSB, MSB])             # lane restarted
    lanes = [MSB, LSB, MSB, STANDBY, LSB, PROP, PROP, MSB]
    assert modes_valid(lanes, lane_limit=4)
    assert not modes_valid(lanes, lane_limit=3)         # the 4-column lane is too wide
    assert modes_valid([MSB] * 5, lane_limit=1)


def test_bad_commit_keeps_configuration():
    config = LayerConfig(modes_for([4, 4], 16), 4, 8)
    params = CimMacroParams(rows=16, cols=16, max_slices=8)
    model = CimMacroModel(params)
    model.run(encode(params, *c) for c in config.commands(params))
    mode = model.mode.copy()
    bad = np.zeros(16, dtype=np.uint8)
    bad[3] = PROP                                        # PROP with nothing below
    model.execute(encode(params, Op.PLANE, 0, 0, bits_to_int(bad & 1)))
    model.execute(encode(params, Op.PLANE, 1, 0, bits_to_int(bad >> 1)))
    model.execute(encode(params, Op.COMMIT, 1, 0))
    assert model.counters[Counter.DROPPED] == 1
    assert model.mode.tolist() == mode.tolist() and model.n == config.n


def test_pack_unpack_round_trip():
    config = LayerConfig(modes_for([1, 3, 5, 16], 32, [0, 1, 2, 0]), 7, 19)
    values = [-(1 << 18), 123, -5, (1 << 18) - 1]
    assert config.unpack(config.pack(values, 19), 19).tolist() == values


@pytest.mark.parametrize("kwargs,fragment", [
    ({"rows": 1}, "'rows' = 1 is out of range"),
    ({"cols": 0}, "'cols' = 0 is out of range"),
    ({"rows": 8, "max_slices": 9}, "must not exceed rows"),
    ({"counter_width": 4}, "'counter_width' = 4 is out of range"),
])
def test_bad_parameters(kwargs, fragment):
    with pytest.raises(ParamError, match=fragment):
        CimMacroParams(**kwargs)


def test_layer_config_errors():
    with pytest.raises(ValueError, match="invalid mode vector"):
        LayerConfig(np.array([PROP, MSB]), 1, 2)
    with pytest.raises(ValueError, match="B_W <= B_V"):
        LayerConfig(modes_for([4], 4), 9, 8)
    with pytest.raises(ValueError, match="allows 4"):
        LayerConfig(modes_for([1], 4), 1, 8).planes(CimMacroParams(rows=8, cols=4,
                                                                   max_slices=4))
    with pytest.raises(ValueError, match="at most max_lane = 8"):
        LayerConfig(modes_for([9], 16), 4, 8).commands(CimMacroParams(rows=32, cols=16,
                                                                      max_lane=8))


@pytest.mark.parametrize("call,message", [
    (lambda c: c.pack([5000] * 3, 4), r"do not fit in 4-bit two's complement \(-8..7\)"),
    (lambda c: c.pack([1, 2], 4), r"one value per lane \(3\)"),
    (lambda c: c.pack([0] * 3, 0), "at least 1 bit"),
    (lambda c: modes_for([-3], 64), "at least 1 column"),
    (lambda c: modes_for([4, 4], 64, [1]), "one count >= 0 per lane"),
    (lambda c: modes_for([4], 64, [-1]), "one count >= 0 per lane"),
])
def test_bad_layer_values_are_clear_errors(call, message):
    config = LayerConfig(modes_for([4, 4, 4], 12), 4, 8)
    with pytest.raises(ValueError, match=message):
        call(config)


def random_stream(params, rng, length):
    """Commands as a stress test of the batch path: layer configurations (well-formed, and
    random planes), random row contents, ACCs that overlap, repeat, read what others write or
    run off the end, LOADs between them, FIREs, STOREs, COUNTER reads, CLEARs."""
    rows, words = params.rows, []

    def configure():
        shape = random_shape(params, rng)
        if rng.random() < 0.3:                   # random planes: odd pads and slice limits
            words.extend(encode(params, Op.PLANE, i, 0, rng.getrandbits(params.cols))
                         for i in range(params.planes))
            words.append(encode(params, Op.COMMIT, rng.randrange(params.max_slices), 0))
        else:
            config = config_of(shape, params)
            words.extend(encode(params, *c) for c in config.commands(params))
            if rng.random() < 0.3:               # the walk longer or shorter than the lanes
                words.append(encode(params, Op.COMMIT, rng.randrange(1, 5) - 1,
                                    rng.getrandbits(2) & ~1))
    configure()
    words += [encode(params, Op.LOAD, r, 0, rng.getrandbits(params.cols)) for r in range(rows)]
    hot = [rng.randrange(rows) for _ in range(6)]          # membrane rows hit again and again
    for _ in range(length):
        pick = rng.random()
        row = lambda: rng.choice(hot) if rng.random() < 0.6 else rng.randrange(rows)
        if pick < 0.7:
            words.append(encode(params, Op.ACC, row(), row()))
        elif pick < 0.8:
            words.append(encode(params, Op.LOAD, row(), 0, rng.getrandbits(params.cols)))
        elif pick < 0.85:
            words.append(encode(params, Op.FIRE, row(), row()))
        elif pick < 0.9:
            words.append(encode(params, Op.STORE, row()))
        elif pick < 0.95:
            words.append(encode(params, Op.COUNTER, rng.randrange(len(Counter))))
        elif pick < 0.97:
            words.append(encode(params, Op.CLEAR))
        else:
            configure()
    return words


@pytest.mark.parametrize("index", range(24))
def test_batched_run_equals_command_by_command(index):
    """`run` (wrap-mode ACCs in batches, as integer sums) against `execute` one command at a
    time (the slice-by-slice walk): the same array, counters, read data and spikes."""
    rng = seeds.rng("cim-batch", index)
    params = rng.choice([PARAMS, CimMacroParams(rows=64, cols=16, max_slices=16, max_lane=8),
                         CimMacroParams(rows=96, cols=40, max_slices=8)])
    words = random_stream(params, rng, 400)
    one, batched = CimMacroModel(params), CimMacroModel(params)
    for word in words:
        one.execute(word)
    start = 0
    while start < len(words):                       # in pieces, as a caller feeds it
        stop = start + rng.randint(1, 200)
        batched.run(words[start:stop])
        start = stop
    assert batched.executed[Op.ACC] == one.executed[Op.ACC] > 50
    assert np.array_equal(batched.array, one.array)
    assert list(batched.counters) == list(one.counters)
    assert (batched.rdata, batched.spikes) == (one.rdata, one.spikes)
    assert batched.executed == one.executed


def test_batched_run_takes_the_fast_path():
    """Whole layers of wrap-mode ACCs go through the batch (else the test above is vacuous)."""
    config = LayerConfig(modes_for([8] * 6, PARAMS.cols), 8, 16)
    model = configured(config)
    calls = []
    original = model.execute
    model.execute = lambda word: calls.append(word) or original(word)
    model.run([encode(PARAMS, Op.ACC, w, 100 + 2 * (w % 3)) for w in range(20)])
    assert calls == [] and model.executed[Op.ACC] == 20
