"""The core at command level (`golden.snn.CoreModel` on the bit-exact macro model) against the
layer-level reference, for random networks under every kind of mapping: weight-stationary with
resident or chunked membranes, output-stationary, HS-min; and the mapper's errors."""

import numpy as np
import pytest
from cimforge.golden.network import Linear, Network, Neurons, reference
from cimforge.golden.snn import CoreModel
from cimforge.mapper import MappingError, map_network
from cimforge.params.cim_macro import CimMacroParams, Counter
from cimforge.params.snn import CoreCounter
from cimforge.verif import seeds
from cimforge.verif.snn.stimulus import random_events, random_network

MACRO = CimMacroParams(rows=2048, cols=32, max_slices=16, max_lane=8)


def chunking_macro(net: Network) -> CimMacroParams:
    """The largest macro (in rows) too small to keep every layer's membranes resident."""
    rows = map_network(net, MACRO, "ws").rows_used
    while rows > 8:
        rows -= 4
        params = CimMacroParams(rows=rows, cols=32, max_slices=16, max_lane=8)
        try:
            mapping = map_network(net, params, "ws")
        except MappingError:
            break
        if not all(plan.resident for plan in mapping.plans):
            return params
    raise AssertionError("no macro size chunks this network")


def check(net, events, params, stationarity):
    mapping = map_network(net, params, stationarity)
    got = CoreModel(params, net, mapping).run(events)
    want = reference(net, events)
    assert got.spikes == want.spikes, "spikes differ from the reference"
    # Lanes past a layer's last channel never fire: every spike the macro sends is a neuron's.
    assert got.macro[Counter.SPIKES] == sum(len(s) for step in got.spikes for s in step)
    for i, (a, b) in enumerate(zip(got.membranes, want.membranes)):
        assert np.array_equal(a, b), f"layer {i}: membranes {a} != reference {b}"
    return mapping, got


@pytest.mark.parametrize("kind", ["fc", "conv"])
@pytest.mark.parametrize("stationarity", ["ws", "os", "hs-min"])
@pytest.mark.parametrize("trial", range(3))
def test_every_mapping_equals_the_reference(kind, stationarity, trial):
    rng = seeds.np_rng("core-model", kind, stationarity, trial)
    net = random_network(rng, kind)
    events = random_events(rng, net, steps=3)
    mapping, got = check(net, events, MACRO, stationarity)
    assert any(any(step) for step in got.spikes), "no layer fired: stimulus too weak"
    if stationarity != "hs-min":
        assert {p.stationarity for p in mapping.plans} == {stationarity}


@pytest.mark.parametrize("trial", range(4))
def test_chunked_membranes_equal_the_reference(trial):
    rng = seeds.np_rng("core-model-chunked", trial)
    net = random_network(rng, "conv")
    small = chunking_macro(net)
    _, got = check(net, random_events(rng, net, steps=3), small, "ws")
    assert got.counters[CoreCounter.BUFFER_WRITES] > 0


@pytest.mark.parametrize("kind", ["fc", "conv"])
def test_saturate_follows_the_stated_order(kind):
    rng = seeds.np_rng("core-model-saturate", kind)
    net = random_network(rng, kind, overflow="saturate")
    check(net, random_events(rng, net, steps=3), MACRO, "ws")


def test_hs_min_keeps_the_smaller_operand():
    net = Network((64,), [Linear(np.ones((4, 64), int), Neurons(5, 8, 16)),       # W 2048 b
                          Linear(np.ones((64, 4), int), Neurons(5, 2, 16))])      # W 512 b, V 1024 b
    plans = map_network(net, MACRO, "hs-min").plans
    assert [p.stationarity for p in plans] == ["os", "ws"]


def test_mapping_errors_name_the_layer_and_the_limit():
    big = Network((300,), [Linear(np.ones((32, 300), int), Neurons(5, 8, 16))])
    small = CimMacroParams(rows=160, cols=32, max_slices=16, max_lane=8)
    with pytest.raises(MappingError, match=r"layer 0: ws needs at least .* macro rows"):
        map_network(big, small, "ws")
    wide = Network((4,), [Linear(np.ones((2, 4), int), Neurons(5, 2, 64))])
    with pytest.raises(MappingError, match="layer 0: a 64-bit membrane needs"):
        map_network(wide, CimMacroParams(rows=64, cols=8, max_slices=4, max_lane=8), "ws")
    with pytest.raises(MappingError, match="stationarity 'xs'"):
        map_network(big, MACRO, "xs")
