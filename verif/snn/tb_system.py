"""cocotb testbench: the accelerator system's Verilog (`snn_system`) running random networks on
random plans (pipelines of stages, layers split over cores), timestep by timestep, against the
golden system model and the layer-level reference.

Launcher arguments: `networks` (how many), `steps` (timesteps each), `gap`/`stall` (idle and
backpressure probabilities on the host and output streams).
"""

import cocotb
import numpy as np
from cimforge.golden.network import reference
from cimforge.golden.snn_system import SystemModel
from cimforge.mapper import MappingError
from cimforge.params.snn_system import LinkCounter, SystemOut
from cimforge.system_host import (
    ends_per_step,
    load_program,
    mesh_ports,
    mesh_read_program,
    parse_out,
    parse_readouts,
    read_program,
    spike_of,
    step_program,
)
from cimforge.system_mapper import map_system
from cimforge.verif import testbench
from cimforge.verif.snn.stimulus import check_readout, random_events, random_network, random_plan
from cimforge.verif.streams import StreamSink, StreamSource, bus
from cocotb.triggers import RisingEdge

KINDS = ["fc", "conv"]
STATIONARITIES = ["ws", "os", "hs-min"]


async def collect(dut, out, start: int, until, what: str, cycles: int = 400_000):
    """Waits until `until(words)` holds for the output words from index `start` on."""
    for _ in range(cycles):
        if until(out.received[start:]):
            return
        await RisingEdge(dut.clk)
    raise AssertionError(f"{what}: not done in {cycles} cycles")


@cocotb.test()
async def random_networks(dut):
    """Random linear and convolutional networks (pooling, flatten; wrapping or saturating) on
    random plans and stationarities (every fourth one with chunked membranes), random input
    events, random gaps and backpressure: what
    the host receives each timestep equals the golden model's and the reference's output
    spikes; then every core's deterministic counters and final membrane rows, every link's
    counts and every router's forwarded counters (the flits' hops) equal the model's."""
    system, args, rng = await testbench.start(dut, sources=["s_axis_host"], sinks=["m_axis_out"])
    np_rng = np.random.default_rng(rng.getrandbits(32))
    host = StreamSource(dut.clk, bus(dut, "s_axis_host"), rng=rng, idle=args.get("gap", 0.3))
    out = StreamSink(dut.clk, bus(dut, "m_axis_out"), rng=rng, stall=args.get("stall", 0.3))
    done = 0
    for index in range(40 * args.get("networks", 3)):
        kind, overflow = KINDS[index % 2], ("wrap", "saturate")[index // 2 % 2]
        stationarity = STATIONARITIES[index % 3]
        net = random_network(np_rng, kind, overflow)
        plan = random_plan(np_rng, net, system.cores)
        try:
            smap = map_system(net, system, stationarity, plan)
        except MappingError:
            continue                        # too large for these cores: draw again
        chunked = any(not plan.resident for part in smap.parts for plan in part.mapping.plans)
        if done % 4 == 3 and not chunked:
            continue                        # every fourth network has chunked membranes
        what = (f"network {index} ({kind}, {overflow}, {stationarity}, plan {plan}"
                f"{', chunked' if chunked else ''}): ")
        events = random_events(np_rng, net, steps=args.get("steps", 3))
        model = SystemModel(system, smap)
        want = model.run(events)
        assert want.spikes == [sorted(s[-1]) for s in reference(net, events).spikes], what
        for word in load_program(system, smap):
            host.send(word)
        ends = ends_per_step(smap)
        for t, step in enumerate(events):
            start = len(out.received)
            for word in step_program(system, smap, step):
                host.send(word)
            words = lambda got: [parse_out(system, w) for _, w in got]
            await collect(dut, out, start, lambda got: sum(
                spike_of(system, o)[0] for o in words(got)) == ends, f"{what}timestep {t}")
            got = words(out.received[start:])
            assert all(o.kind == SystemOut.SPIKE for o in got), f"{what}{got}"
            spikes = sorted(a for end, a in (spike_of(system, o) for o in got) if not end)
            assert spikes == want.spikes[t], \
                f"{what}timestep {t}: spikes {spikes}, model {want.spikes[t]}"
        reads = read_program(system, smap)
        start = len(out.received)
        for word in reads:
            host.send(word)
        await collect(dut, out, start, lambda got: len(got) == len(reads), f"{what}readout")
        readouts = parse_readouts(smap, [parse_out(system, w) for _, w in out.received[start:]])
        for part in smap.parts:
            readout, links = readouts[part.core]
            check_readout(readout, model.models[part.core], part.mapping,
                          f"{what}core {part.core}: ")
            assert links == [model.links[part.core][c] for c in LinkCounter], \
                f"{what}core {part.core}: link counters {links}, model {model.links[part.core]}"
        # Every router's forwarded counters (read and cleared): the flits' XY paths.
        reads = mesh_read_program(system)
        start = len(out.received)
        for word in reads:
            host.send(word)
        await collect(dut, out, start, lambda got: len(got) == len(reads), f"{what}mesh")
        got = [parse_out(system, w) for _, w in out.received[start:]]
        assert all(o.kind == SystemOut.STAT for o in got), f"{what}{got}"
        width = 1 << system.mesh.counter_width
        forwarded = {key: o.data for key, o in zip(mesh_ports(system), got)}
        assert forwarded == {key: want.mesh[key] % width for key in mesh_ports(system)}, \
            f"{what}mesh forwarded counters {forwarded}, model {dict(want.mesh)}"
        assert sum(forwarded.values()) > 0 or not any(p.dests for p in smap.parts), what
        done += 1
        if done == args.get("networks", 3):
            break
    assert done == args.get("networks", 3), f"only {done} mappable networks drawn"
