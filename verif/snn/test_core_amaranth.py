"""The core's RTL controller (`hdl.snn.core.SnnCore`) in Amaranth's simulator: the macro
commands it issues are exactly the command-level model's (`golden.snn.CoreModel`), and its
output spikes are the layer-level reference's, timestep by timestep."""

import pytest
from cimforge.golden.cim import decode
from cimforge.golden.network import reference
from cimforge.golden.snn import CoreModel
from cimforge.params.cim_macro import Op
from cimforge.params.snn import PRESETS, HostOp
from cimforge.snn_host import load_program, parse_readout, read_program, step_program
from cimforge.verif import seeds
from cimforge.verif.snn.drive import simulate
from cimforge.verif.snn.stimulus import check_readout, mapping_for, random_events

CORE = PRESETS["small"]


def run_core(core_params, net, mapping, events, rng, stall=0.3):
    """Loads, runs and reads back: (commands issued after loading, spikes, readout)."""
    program = load_program(core_params, net, mapping)
    setup = len(mapping.macro_image) + 1         # MACRO commands before the first step
    reads = read_program(core_params, mapping)
    run = simulate(core_params, program + step_program(core_params, net, events) + reads,
                   timesteps=len(events), answers=len(reads), rng=rng, stall=stall)
    return run.issued[setup:], run.spikes, parse_readout(mapping, run.rdata)


def describe(word):
    op, a, b, _ = decode(CORE.macro, word)
    return f"{Op(op).name}({a}, {b})"


@pytest.mark.parametrize("kind", ["fc", "conv"])
@pytest.mark.parametrize("stationarity", ["ws", "os", "chunked"])
@pytest.mark.parametrize("trial", range(2))
def test_networks_issue_the_model_commands(kind, stationarity, trial):
    """Random networks, mapped ws (resident), os, or ws on the fewest rows (chunked): the RTL
    issues the model's commands one for one and spikes like the reference."""
    rng = seeds.rng("core-rtl", kind, stationarity, trial)
    np_rng = seeds.np_rng("core-rtl", kind, stationarity, trial)
    # Saturating layers in every other trial: the model's event order is then the contract.
    net, mapping = mapping_for(np_rng, kind, stationarity, CORE.macro, CORE.buffer_rows,
                               overflow=("wrap", "saturate")[trial % 2])
    events = random_events(np_rng, net, steps=3)
    model = CoreModel(CORE.macro, net, mapping, CORE.queue_depth)
    want = model.run(events)
    issued, spikes, readout = run_core(CORE, net, mapping, events, rng)
    for i, (got, exp) in enumerate(zip(issued, model.commands)):
        assert got == exp, (f"command {i}: RTL {describe(got)}, model {describe(exp)}; before: "
                            f"{[describe(w) for w in model.commands[max(0, i - 4):i]]}")
    # Then the readout's own MACRO commands (counter reads, STOREs of resident membranes).
    fmt = CORE.host_format
    readout_commands = [fmt.field_value(w, "data") for w in read_program(CORE, mapping)
                        if fmt.field_value(w, "op") == HostOp.MACRO]
    assert issued[len(model.commands):] == readout_commands, \
        f"{len(issued)} commands issued, the model issues {len(model.commands)} (+ readout)"
    check_readout(readout, model, mapping)
    assert spikes == [step[-1] for step in reference(net, events).spikes]
    assert spikes == [step[-1] for step in want.spikes]
