"""The energy model (`cimforge.golden.energy`): its calibration against the FlexSpIM paper's
per-SOP energy, the arithmetic from counters, and what changes with the stationary operand."""

import numpy as np
import pytest
from cimforge.golden.energy import EnergyParams, core_energy
from cimforge.golden.network import Linear, Network, Neurons
from cimforge.golden.snn import CoreModel
from cimforge.mapper import map_network
from cimforge.params.cim_macro import Counter
from cimforge.params.snn import PRESETS, CoreCounter


def run_counters(net, stationarity, events):
    core = PRESETS["flexspim"]
    mapping = map_network(net, core.macro, stationarity, core.buffer_rows)
    result = CoreModel(core.macro, net, mapping, core.queue_depth).run(events)
    return result.macro, result.counters


@pytest.mark.parametrize("outputs", [16, 32, 64])
def test_an_8b_16b_sop_costs_what_the_paper_measured(outputs):
    """A dense layer, B_W 8, B_V 16 (the paper's operating point), weights resident: the
    energy the events add, over the SOPs they make (events x outputs), is 5.7 pJ. (Outputs
    that do not fill whole rows cost more per SOP: 48 outputs take 7.6 pJ, the mapper's
    lane groups leaving columns that add nothing useful active.)"""
    net = Network((64,), [Linear(np.ones((outputs, 64), int), Neurons(30000, 8, 16))])
    idle = core_energy(*run_counters(net, "ws", [[]]), cols=256)["macro"]
    busy = core_energy(*run_counters(net, "ws", [list(range(64))]), cols=256)["macro"]
    assert (busy - idle) / (64 * outputs) == pytest.approx(5.7)


def test_energy_is_the_counters_times_the_per_access_energies():
    macro = {c: 0 for c in Counter}
    core = {c: 0 for c in CoreCounter}
    macro.update({Counter.ACTIVE_COLS: 1000, Counter.IDLE_COLS: 500, Counter.LOADS: 3,
                  Counter.STORES: 2})
    core.update({CoreCounter.BUFFER_READS: 7, CoreCounter.BUFFER_WRITES: 1})
    params = EnergyParams(column_op=0.5, column_standby=0.1, buffer_bit=0.25)
    energy = core_energy(macro, core, cols=32, params=params)
    assert energy == {"macro": 1000 * 0.5 + 500 * 0.1, "macro_moves": 5 * 32 * 0.5,
                      "buffer": 8 * 32 * 0.25,
                      "total": 550 + 80 + 64}


def test_output_stationary_streams_weights_weight_stationary_does_not():
    """Same network and events: the macro's additions cost the same either way; os reads
    every event's weight rows from the buffer and loads them into the macro, ws does not."""
    rng = np.random.default_rng(3)
    net = Network((32,), [Linear(rng.integers(-3, 4, (16, 32)), Neurons(20, 4, 16))])
    events = [sorted(rng.choice(32, 12, replace=False).tolist()) for _ in range(3)]
    ws = core_energy(*run_counters(net, "ws", events), cols=256)
    os_ = core_energy(*run_counters(net, "os", events), cols=256)
    assert ws["macro"] == os_["macro"]
    assert os_["buffer"] > ws["buffer"] and os_["macro_moves"] > ws["macro_moves"] == 0



def test_a_system_pays_for_each_link_a_flit_crosses():
    """A 32-16-10 network on the 2 x 2 mesh: layer 0 on core 0 (corner (0, 0)), layer 1 split
    over cores 1, 2 and 3. Each spike and end marker core 0 sends goes to all three: one link
    to (1, 0), one to (0, 1), two to (1, 1), so four link traversals per flit sent to each
    destination; the mesh costs that times the flit's bits times `hop_bit`, the cores their
    own counters' worth."""
    from cimforge.blocks import get
    from cimforge.golden.energy import system_energy
    from cimforge.golden.snn_system import SystemModel
    from cimforge.params.snn_system import LinkCounter
    from cimforge.system_mapper import map_system

    rng = np.random.default_rng(5)
    net = Network((32,), [Linear(rng.integers(-3, 4, (16, 32)), Neurons(6, 4, 12)),
                          Linear(rng.integers(-3, 4, (10, 16)), Neurons(6, 4, 12))])
    events = [sorted(rng.choice(32, 12, replace=False).tolist()) for _ in range(3)]
    system = get("snn_system").configure("ecp5")
    smap = map_system(net, system, "hs-min", [(1, 1), (1, 3)])
    assert [p.core for p in smap.parts] == [0, 1, 2, 3] and smap.parts[0].dests == (1, 2, 3)
    model = SystemModel(system, smap)
    model.run(events)
    per_dest = model.links[0][LinkCounter.SENT] // 3           # spikes + markers
    assert per_dest > 3                                         # spikes, not only markers
    # XY routing, x first: (1, 1) is reached through (1, 0).
    assert model.mesh[0, "east"] == 2 * per_dest
    assert model.mesh[0, "north"] == model.mesh[1, "north"] == per_dest
    assert sum(n for (_, port), n in model.mesh.items() if port != "local") == 4 * per_dest
    energy = system_energy(model, EnergyParams(hop_bit=0.5))
    assert energy["mesh"] == 4 * per_dest * system.mesh.flit_width * 0.5
    cores = [core_energy(m.macro.counters, m.counters, system.core_params.macro.cols)
             for m in model.models.values()]
    assert energy["macro"] == pytest.approx(sum(c["macro"] for c in cores))
    assert energy["total"] == pytest.approx(sum(c["total"] for c in cores) + energy["mesh"])
