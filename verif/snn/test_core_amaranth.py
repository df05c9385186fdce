"""The core's RTL controller (`hdl.snn.core.SnnCore`) in Amaranth's simulator: the macro
commands it issues are exactly the command-level model's (`golden.snn.CoreModel`), and its
output spikes are the layer-level reference's, timestep by timestep."""

import pytest
from amaranth.sim import Simulator
from cimforge.golden.cim import decode
from cimforge.golden.network import reference
from cimforge.golden.snn import CoreModel
from cimforge.hdl.snn.core import SnnCore
from cimforge.params.cim_macro import Op
from cimforge.params.snn import PRESETS
from cimforge.verif import seeds
from cimforge.verif.snn.host import load_program, step_program
from cimforge.verif.snn.stimulus import mapping_for, random_events

CORE = PRESETS["small"]


def run_core(core_params, net, mapping, events, rng, stall=0.3):
    dut = SnnCore(core_params)
    program = load_program(core_params, net, mapping)
    setup = len(mapping.macro_image)             # MACRO commands before the first step
    steps = step_program(core_params, net, events)
    issued, spikes = [], []

    async def host(ctx):
        for word in program + steps:
            ctx.set(dut.host.valid, 1)
            ctx.set(dut.host.payload.as_value(), word)
            await ctx.tick().until(dut.host.ready)
        ctx.set(dut.host.valid, 0)

    async def monitor(ctx):
        async for _, _, valid, ready, word in ctx.tick().sample(
                dut.macro.cmd.valid, dut.macro.cmd.ready, dut.macro.cmd.payload.as_value()):
            if valid and ready:
                issued.append(word)

    async def sink(ctx):
        current = []
        for _ in range(200_000):
            ready = rng.random() >= stall
            ctx.set(dut.spike.ready, ready)
            if ready and ctx.get(dut.spike.valid):
                payload = ctx.get(dut.spike.payload)
                if payload["end"]:
                    spikes.append(current)
                    current = []
                    if len(spikes) == len(events):
                        return
                else:
                    current.append(payload["address"])
            await ctx.tick()
        raise AssertionError(f"timeout after {len(spikes)} of {len(events)} timesteps")

    sim = Simulator(dut)
    sim.add_clock(1e-8)
    sim.add_testbench(host, background=True)
    sim.add_process(monitor)
    sim.add_testbench(sink)
    sim.run()
    return issued[setup:], spikes, dut


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
    net, mapping = mapping_for(np_rng, kind, stationarity, CORE.macro, CORE.buffer_rows)
    events = random_events(np_rng, net, steps=3)
    model = CoreModel(CORE.macro, net, mapping)
    want = model.run(events)
    issued, spikes, dut = run_core(CORE, net, mapping, events, rng)
    for i, (got, exp) in enumerate(zip(issued, model.commands)):
        assert got == exp, (f"command {i}: RTL {describe(got)}, model {describe(exp)}; before: "
                            f"{[describe(w) for w in model.commands[max(0, i - 4):i]]}")
    assert len(issued) == len(model.commands), \
        f"{len(issued)} commands issued, the model issues {len(model.commands)}"
    assert spikes == [step[-1] for step in reference(net, events).spikes]
    assert spikes == [step[-1] for step in want.spikes]
