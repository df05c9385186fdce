"""The fast RTL path (`cimforge.verif.fast_sim`, `cimforge run --sim fast`) against the cocotb
path on the same Verilog: the same output spikes, the same counters (both checked against the
golden model inside `run`) and the same cycles; and what it does when the program is wrong."""

import pytest
from cimforge.golden.network import reference
from cimforge.params.snn import PRESETS
from cimforge.runner import run
from cimforge.verif import fast_sim, seeds
from cimforge.verif.snn.stimulus import random_events, random_network


@pytest.mark.parametrize("kind", ["fc", "conv"])
def test_fast_path_equals_the_cocotb_path(kind):
    rng = seeds.np_rng("fast-sim", kind)
    net = random_network(rng, kind)
    events = random_events(rng, net, steps=4)
    fast = run(net, events, sim="fast")
    cocotb = run(net, events, sim="verilator")
    assert fast.spikes == cocotb.spikes == [step[-1] for step in reference(net, events).spikes]
    assert fast.counters == cocotb.counters
    # cocotb starts counting the first timestep while the last load word may still be in
    # flight (its source's queue is empty one cycle before the word is taken): at most one
    # cycle more over the run.
    assert cocotb.cycles - fast.cycles in (0, 1), (fast.cycles, cocotb.cycles)


def test_without_the_golden_model_the_caller_gets_the_rtl_spikes():
    rng = seeds.np_rng("fast-sim-unchecked")
    net = random_network(rng, "fc")
    events = random_events(rng, net, steps=3)
    unchecked = run(net, events, sim="fast", check=False)
    assert unchecked.spikes == [step[-1] for step in reference(net, events).spikes]
    assert unchecked.counters["core.events_in"] == sum(map(len, events))
    assert unchecked.cycles > 0


def test_an_answer_that_never_comes_is_an_error_not_a_hang(tmp_path):
    """A readout word that is not a read command gets no answer: the driver gives up after
    its cycle limit (a timestep without its end marker takes the same way out, after 50
    million cycles) and the run is an error naming what did not come."""
    core = PRESETS["small"]
    with pytest.raises(fast_sim.FastSimError, match="the readout did not come back"):
        fast_sim.run(core, [], [], [0], 0, 1, 1, 1, tmp_path)
