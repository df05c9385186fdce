"""cocotb testbench: a generated top's AXI4-Stream ports driven and read only by cocotbext-axi
(`verif/axis_vip.py`: random pauses on every port, random bits in every input's padding),
against the golden models. One test per block; the launcher (`test_axis_vip.py`) runs the
one for its configuration's block."""

from types import SimpleNamespace

import cocotb
import numpy as np
from amaranth.hdl import Shape
from amaranth.lib.wiring import In, Out
from cimforge.blocks import get
from cimforge.golden import aer
from cimforge.golden.cim import CimMacroModel, Op, encode
from cimforge.golden.lfsr import LfsrBankModel
from cimforge.golden.network import reference
from cimforge.golden.raca import Op as RacaOp
from cimforge.golden.raca import RacaModel, Reg, command, run_commands
from cimforge.golden.raca import program as raca_program
from cimforge.golden.snn import CoreModel
from cimforge.golden.snn_system import SystemModel
from cimforge.mapper import map_network
from cimforge.params.aer_mesh import PORTS
from cimforge.params.lfsr_bank import LfsrBankParams
from cimforge.snn_host import load_program, parse_readout, read_program, step_program
from cimforge.system_host import ends_per_step, parse_out, spike_of
from cimforge.system_host import load_program as system_load
from cimforge.system_host import step_program as system_step
from cimforge.system_mapper import map_system
from cimforge.verif import testbench
from cimforge.verif.aer.tb_mesh import check_deliveries
from cimforge.verif.aer.traffic import random_event, random_tables
from cimforge.verif.axis_vip import Port
from cimforge.verif.cim.stimulus import busy_readout, program
from cimforge.verif.cim.tb_macro import compare
from cimforge.verif.harness import testbench_config
from cimforge.verif.raca.stimulus import random_input
from cimforge.verif.raca.stimulus import random_network as raca_network
from cimforge.verif.raca.tb_lfsr_bank import assert_words, split
from cimforge.verif.snn.stimulus import check_readout, random_events, random_network
from cocotb.triggers import ClockCycles

PAUSE = 0.3


async def start(dut):
    """Reset, then the configuration, a seeded generator and a `Port` maker that knows every
    stream's payload width from the block's core."""
    params, args = testbench_config()
    core = get(params.block).core(params)
    streams = {name: member for name, member in core.signature.members.items()
               if member.is_signature}
    widths = {name: Shape.cast(member.signature.members["payload"].shape).width
              for name, member in streams.items()}
    # Every stream idle (valid and ready low) through reset, before the VIP takes it over.
    params, args, rng = await testbench.start(
        dut, sources=[f"s_axis_{n}" for n, m in streams.items() if m.flow == In],
        sinks=[f"m_axis_{n}" for n, m in streams.items() if m.flow == Out])

    def port(prefix: str, pause: float = PAUSE) -> Port:
        name = prefix.split("_", 2)[2]                 # s_axis_<name> / m_axis_<name>
        return Port(dut, prefix, widths[name], rng, pause)

    return params, args, rng, port


def lanes_of(words, p: LfsrBankParams) -> np.ndarray:
    return np.array([split(w, p.width, p.lanes) for w in words], dtype=np.uint64)


async def check_lfsr_bank(dut, p: LfsrBankParams, port, rng, prefix: str = "", words=60):
    """The reset sequence, then a seed (sent while the output waits) and its sequence."""
    model = LfsrBankModel(p)
    noise = port(f"m_axis_{prefix}noise")
    assert_words(lanes_of(await noise.take(words), p), model.after_reset(words),
                 "lfsr_bank: reset sequence")
    noise.vip.clear_pause_generator()
    noise.vip.pause = True
    await ClockCycles(dut.clk, 4)
    noise.vip.clear()
    seed = rng.getrandbits(p.length)
    await port(f"s_axis_{prefix}seed").send([seed])
    noise.pause(PAUSE)
    assert_words(lanes_of(await noise.take(words), p), model.words(seed, words),
                 f"lfsr_bank: seed {seed:#x}")


async def check_cim_macro(dut, p, port, rng, prefix: str = ""):
    """Zero the array, then a random program and the counters: every read-data word and spike
    equals the model's (the last two words, BUSY and WAITS, depend on the pauses)."""
    cmds = [encode(p, Op.LOAD, row) for row in range(p.rows)] + [encode(p, Op.CLEAR)]
    body, _ = program(p, rng)
    cmds += body + busy_readout(p)
    model = CimMacroModel(p)
    model.run(cmds)
    rdata, spikes = port(f"m_axis_{prefix}rdata"), port(f"m_axis_{prefix}spike")
    await port(f"s_axis_{prefix}cmd").send(cmds)
    compare(model, await rdata.take(len(model.rdata)), await spikes.take(len(model.spikes)),
            0, 0, "cim_macro", tail=2)
    await spikes.nothing_more()


@cocotb.test()
async def through_cocotbext_axi(dut):
    params, args, rng, port = await start(dut)
    np_rng = np.random.default_rng(rng.getrandbits(32))
    block = params.block
    if block == "lfsr_bank":
        await check_lfsr_bank(dut, params, port, rng)
    elif block == "cim_macro":
        await check_cim_macro(dut, params, port, rng)
    elif block == "combined":
        members = dict(params.members())
        await check_lfsr_bank(dut, members["lfsr_bank"], port, rng, "lfsr_bank_")
        await check_cim_macro(dut, members["cim_macro"], port, rng, "cim_macro_")
    elif block == "aer_mesh":
        await check_mesh(dut, params, port, rng)
    elif block == "aer_router":
        await check_router(dut, params, port, rng)
    elif block == "raca":
        await check_raca(params, port, rng)
    elif block == "snn_core":
        await check_snn_core(params, port, np_rng)
    elif block == "snn_system":
        await check_snn_system(params, port, np_rng)
    else:
        raise AssertionError(f"no cocotbext-axi check for block {block}")


async def check_mesh(dut, p, port, rng, events=30):
    """Random tables (through the table port), then unicast and multicast flits from every
    core: every flit exactly once at the right ejection port, each flow in order
    (`tb_mesh.check_deliveries`); then the injection counters through the ctl/stat ports."""
    model = aer.AerMeshModel(p)
    writes = random_tables(p, rng, bad=False)
    for word in writes:
        model.write_table(word)
    await port("s_axis_table").send(writes)
    cores = [(c % p.cols, c // p.cols) for c in range(p.cores)]
    ejects = [port(f"m_axis_eject_{x}_{y}") for x, y in cores]
    injects = [port(f"s_axis_inject_{x}_{y}") for x, y in cores]
    for core, inject in enumerate(injects):
        words = [random_event(p, core, rng, bad=0) for _ in range(events)]
        for w in words:
            model.inject(core, w)
        await inject.send(words)
    ejected = []
    for dst, eject in enumerate(ejects):
        got = await eject.take(sum(map(len, model.delivered[dst].values())))
        ejected.append([(0, w) for w in got])
        await eject.nothing_more(5)
    check_deliveries(p, model, SimpleNamespace(ejected=ejected, cores=cores))
    stat, ctl = port("m_axis_stat"), port("s_axis_ctl")
    for core in range(p.cores):
        index = aer.counter_index(p, core, "injected")
        await ctl.send([aer.ctl(p, index)])
        assert await stat.take(1) == [model.counter(index)], f"aer_mesh: core {core} injected"


async def check_router(dut, p, port, rng, flits=40):
    """Flits from every input port to destinations XY routing allows from that side: each
    leaves on the port `golden.aer.xy_path` names, each input's flits in order per output."""
    me = p.y * p.cols + p.x
    present = [name for name in PORTS if hasattr(dut, f"s_axis_{name}_in_tdata")]
    allowed = {                                   # destinations (x, y) a side may send
        "local": lambda x, y: True,
        "west": lambda x, y: x >= p.x, "east": lambda x, y: x <= p.x,
        "south": lambda x, y: x == p.x and y >= p.y, "north": lambda x, y: x == p.x and y <= p.y,
    }
    targets = [(x, y) for y in range(p.rows) for x in range(p.cols)]
    expected = {name: [] for name in present}
    outputs = {name: port(f"m_axis_{name}_out") for name in present}
    tag = 0
    for side in present:
        choices = [t for t in targets if allowed[side](*t)]
        words = []
        for _ in range(flits):
            x, y = rng.choice(choices)
            tag += 1
            word = aer.flit(p, x, y, tag % (1 << p.addr_width))
            out = PORTS[aer.xy_path(p, me, y * p.cols + x)[0][1]]
            expected[out].append((side, word))
            words.append(word)
        await port(f"s_axis_{side}_in").send(words)
    for out in present:
        got = await outputs[out].take(len(expected[out]))
        for side in present:
            flow = [w for s, w in expected[out] if s == side]
            assert [w for w in got if w in set(flow)] == flow, f"aer_router: {side} -> {out}"


async def check_raca(p, port, rng):
    """A random network, then inferences: prediction and every vote count equal the
    model's."""
    cmd, rdata = port("s_axis_cmd"), port("m_axis_rdata")
    model = RacaModel(p)
    net = raca_network(p, rng)
    await cmd.send(raca_program(p, net))
    for inference in range(2):
        x = random_input(net.sizes[0], rng)
        seed = rng.getrandbits(p.lfsr_length)
        result = model.infer(net, x, 4, seed)
        await cmd.send(run_commands(p, x, 4, seed))
        for _ in range(10_000):
            await cmd.send([command(p, RacaOp.READ_REG, Reg.STATUS)])
            if not (await rdata.take(1))[0] & 1:
                break
        else:
            raise AssertionError("raca: the inference did not finish")
        regs = [Reg.PREDICTION] + [Reg.COUNT + c for c in range(net.sizes[-1])]
        await cmd.send([command(p, RacaOp.READ_REG, r) for r in regs])
        got = await rdata.take(len(regs))
        assert got == [result.prediction, *result.counts], f"raca: inference {inference}"


async def check_snn_core(p, port, np_rng):
    """A random network mapped hs-min: every timestep's spikes equal the reference's, then the
    readout (counters, membranes) equals the golden model's."""
    net = random_network(np_rng, "conv")
    mapping = map_network(net, p.macro, "hs-min", p.buffer_rows)
    events = random_events(np_rng, net, steps=3)
    host, spikes, rdata = port("s_axis_host"), port("m_axis_spike"), port("m_axis_rdata")
    await host.send(load_program(p, net, mapping))
    want = [step[-1] for step in reference(net, events).spikes]
    for t, step in enumerate(events):
        await host.send(step_program(p, net, [step]))
        got = []
        while True:
            fields = p.spike_format.unpack((await spikes.take(1))[0])
            if fields["end"]:
                break
            got.append(fields["address"])
        assert got == want[t], f"snn_core: timestep {t}: {got}, reference {want[t]}"
        # One frame per timestep: `tlast` on its end marker.
        assert spikes.frames[-1] == len(got) + 1 and not spikes.words, \
            f"snn_core: timestep {t}: a frame of {spikes.frames[-1]} words, expected " \
            f"{len(got) + 1} (the spikes and the end marker)"
    model = CoreModel(p.macro, net, mapping, p.queue_depth)
    model.run(events)
    reads = read_program(p, mapping)
    await host.send(reads)
    check_readout(parse_readout(mapping, await rdata.take(len(reads))), model, mapping,
                  "snn_core: ")


async def check_snn_system(system, port, np_rng):
    """A random network on the default plan: every timestep's output spikes (sorted) equal
    the golden system model's and the reference's."""
    net = random_network(np_rng, "fc")
    smap = map_system(net, system)
    events = random_events(np_rng, net, steps=3)
    want = SystemModel(system, smap).run(events).spikes
    assert want == [sorted(s[-1]) for s in reference(net, events).spikes]
    host, out = port("s_axis_host"), port("m_axis_out")
    await host.send(system_load(system, smap))
    for t, step in enumerate(events):
        await host.send(system_step(system, smap, step))
        got, ends = [], 0
        while ends < ends_per_step(smap):
            end, address = spike_of(system, parse_out(system, (await out.take(1))[0]))
            ends += end
            if not end:
                got.append(address)
        assert sorted(got) == want[t], f"snn_system: timestep {t}: {sorted(got)}, " \
                                       f"model {want[t]}"
