"""The accelerator system's golden model (`golden.snn_system`) against the layer-level
reference for random networks on random plans, and the system mapper's errors."""

import numpy as np
import pytest
from cimforge.golden.network import Linear, Network, Neurons, reference
from cimforge.golden.snn_system import SystemModel
from cimforge.mapper import MappingError
from cimforge.params.snn_system import PRESETS, SnnSystemParams
from cimforge.system_mapper import default_plan, map_system
from cimforge.verif import seeds
from cimforge.verif.snn.stimulus import random_events, random_network, random_plan


@pytest.mark.parametrize("kind", ["fc", "conv"])
@pytest.mark.parametrize("overflow", ["wrap", "saturate"])
@pytest.mark.parametrize("stationarity", ["ws", "os", "hs-min"])
def test_every_plan_equals_the_reference(kind, overflow, stationarity):
    """Output spikes per timestep and final membranes of every layer equal the reference's,
    for the default plan and a random one on 1 to 4 cores."""
    rng = seeds.np_rng("system golden", kind, overflow, stationarity)
    system = PRESETS["2x2"]
    plans_seen, checked = set(), 0
    for trial in range(60):
        net = random_network(rng, kind, overflow)
        events = random_events(rng, net, 3)
        want = reference(net, events)
        cores = int(rng.integers(1, 5))
        plans = [random_plan(rng, net, cores)]
        try:
            plans.append(default_plan(net, SnnSystemParams(rows=1, cols=cores, core="small"),
                                      stationarity))
        except MappingError:
            pass
        for plan in plans:
            try:
                mapping = map_system(net, system, stationarity, plan)
            except MappingError:
                continue            # an os convolution too large for one core's rows
            plans_seen.add(tuple(plan))
            checked += 1
            result = SystemModel(system, mapping).run(events)
            what = f"trial {trial} plan {plan}"
            assert result.spikes == [sorted(step[-1]) for step in want.spikes], what
            for got, ref in zip(result.membranes, want.membranes, strict=True):
                assert np.array_equal(got, ref), what
        if checked >= 24:
            break
    assert checked >= 24, f"only {checked} mappable plans drawn"
    # The sample covers pipelines and splits.
    assert any(len(p) > 1 for p in plans_seen) and any(n > 1 for p in plans_seen for _, n in p)


def fc(sizes, overflow="wrap"):
    layers = [Linear(np.ones((b, a), dtype=np.int64), Neurons(1, 2, 8, overflow=overflow))
              for a, b in zip(sizes, sizes[1:])]
    return Network((sizes[0],), layers)


@pytest.mark.parametrize("net, plan, message", [
    (fc([4, 4, 4]), [(1, 1)], "covering the 2 weighted layers"),
    (fc([4, 4, 4]), [(2, 2)], "several cores only for one layer"),
    (fc([4, 4, 4]), [(1, 4), (1, 1)], "needs 5 cores, the system has 4"),
    (fc([4, 2, 4]), [(1, 3), (1, 1)], "layer 0: split over 3 cores but has 2 output channels"),
    (fc([4, 4, 4], "saturate"), [(1, 2), (1, 1)], "layer 0: cannot be split"),
    (fc([4, 4, 4, 4, 4, 4]), [(5, 1)], "5 weighted layers on one core, it holds 4"),
    (fc([4, 4, 600]), [(1, 1), (1, 1)], "layer 1: does not fit this core's descriptor"),
])
def test_mapping_errors_name_the_layer_and_the_limit(net, plan, message):
    with pytest.raises(MappingError, match=message):
        map_system(net, PRESETS["2x2"], "ws", plan)


def test_fanout_limit():
    system = SnnSystemParams(rows=2, cols=2, core="small", max_fanout=2)
    with pytest.raises(MappingError, match="layer 0: sends to 3 cores, a core's link holds 2"):
        map_system(fc([4, 4, 4]), system, "ws", [(1, 1), (1, 3)])
