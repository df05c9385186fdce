"""cocotb testbench: the CIM macro's Verilog against `cimforge.golden.cim`.

Launcher arguments (CIMFORGE_ARGS): `programs` (random programs to run), `events`, `layers`,
`shape` (keyword arguments for `random_shape`: fixed lane width, B_W, B_V, saturate,
subtract), `gap`/`stall` (idle and backpressure probabilities).
"""


from collections import Counter as Tally

import cocotb
import numpy as np
from cimforge.golden.cim import (
    CimMacroModel,
    LayerConfig,
    Op,
    bits_to_int,
    encode,
    if_layer,
    modes_for,
)
from cimforge.golden.snn import CoreModel
from cimforge.mapper import MappingError, map_network
from cimforge.verif import testbench
from cimforge.verif.cim.stimulus import busy_readout, program
from cimforge.verif.snn.stimulus import random_events, random_network
from cimforge.verif.streams import StreamSink, StreamSource, bus
from cocotb.triggers import ClockCycles, RisingEdge


async def start(dut, zero: bool = False):
    params, args, rng = await testbench.start(dut, sources=["s_axis_cmd"],
                                              sinks=["m_axis_rdata", "m_axis_spike"])
    if zero:
        # Reset does not clear the array (block RAM): zero it so a test that reads rows it did
        # not load starts from the model's state; clear the counters the LOADs counted.
        cmds = [encode(params, Op.LOAD, row) for row in range(params.rows)]
        await run_program(dut, params, cmds + [encode(params, Op.CLEAR)], rng, gap=0, stall=0)
    return params, args, rng


async def run_program(dut, params, cmds, rng, *, gap, stall, model=None):
    """Send `cmds`, collect outputs until the model's read-data count has arrived (and the
    spikes have drained); return (model, rdata, spikes)."""
    model = model or CimMacroModel(params)
    start_rdata, start_spikes = len(model.rdata), len(model.spikes)
    model.run(cmds)
    source = StreamSource(dut.clk, bus(dut, "s_axis_cmd"), rng=rng, idle=gap)
    rdata = StreamSink(dut.clk, bus(dut, "m_axis_rdata"), rng=rng, stall=stall)
    spikes = StreamSink(dut.clk, bus(dut, "m_axis_spike"), rng=rng, stall=stall)
    for word in cmds:
        source.send(word)
    want_rdata = len(model.rdata) - start_rdata
    want_spikes = len(model.spikes) - start_spikes
    limit = 200 + 60 * len(cmds) * (1 + params.max_slices)
    for _ in range(limit):
        if len(rdata.received) >= want_rdata and len(spikes.received) >= want_spikes \
                and not source.busy:
            break
        await RisingEdge(dut.clk)
    else:
        raise AssertionError(f"timeout: {len(rdata.received)}/{want_rdata} read-data, "
                             f"{len(spikes.received)}/{want_spikes} spikes")
    await ClockCycles(dut.clk, 4)
    for task in (rdata, spikes):
        task.stop()
    source._task.cancel()
    dut.s_axis_cmd_tvalid.value = 0
    return (model, [v for _, v in rdata.received], [v for _, v in spikes.received],
            start_rdata, start_spikes)


def compare(model, rdata, spikes, start_rdata, start_spikes, what, tail=0):
    """Read-data and spikes since (start_rdata, start_spikes) equal the model's, but for the
    last `tail` read-data words (environment-dependent counters, checked by the caller)."""
    want = model.rdata[start_rdata:len(model.rdata) - tail]
    rdata = rdata[:len(rdata) - tail]
    assert len(rdata) == len(want), f"{what}: {len(rdata)} read-data words, expected {len(want)}"
    for i, (got, exp) in enumerate(zip(rdata, want)):
        assert got == exp, f"{what}: read-data {i}: RTL {got:#x}, model {exp:#x}"
    assert spikes == model.spikes[start_spikes:], f"{what}: spikes differ"


@cocotb.test()
async def random_programs(dut):
    """Random programs (see cim_stimulus) with random gaps and backpressure: every read-out row,
    counter and spike matches the model; BUSY = model's BUSY + WAITS when nothing stalls."""
    params, args, rng = await start(dut, zero=True)
    model = CimMacroModel(params)
    for index in range(args.get("programs", 3)):
        cmds, _ = program(params, rng, layers=args.get("layers", 2),
                          events=args.get("events", 12), shape_kwargs=args.get("shape"))
        stall = 0.0 if index == 0 else args.get("stall", 0.3)
        cmds += busy_readout(params)
        model, rdata, spikes, r0, s0 = await run_program(
            dut, params, cmds, rng, gap=args.get("gap", 0.3), stall=stall, model=model)
        compare(model, rdata, spikes, r0, s0, f"program {index}", tail=2)
        waits, busy = rdata[-2:]
        model_busy = model.rdata[-1]
        if stall == 0:
            assert busy - waits == model_busy, f"BUSY {busy} - WAITS {waits} != {model_busy}"
        else:
            assert busy - waits >= model_busy
    assert model.executed[Op.ACC] and model.executed[Op.FIRE] and model.executed["dropped"]


@cocotb.test()
async def shape_sweep(dut):
    """One program per run-time shape the launcher passes (a pairwise sweep of lane widths,
    B_W, B_V, overflow and reset modes)."""
    params, args, rng = await start(dut, zero=True)
    model = CimMacroModel(params)
    shapes = args.get("shapes", [])
    for shape in shapes:
        cmds, _ = program(params, rng, layers=1, events=args.get("events", 12),
                          shape_kwargs=shape, raw=0.0)
        model, rdata, spikes, r0, s0 = await run_program(
            dut, params, cmds, rng, gap=args.get("gap", 0.3), stall=args.get("stall", 0.3),
            model=model)
        compare(model, rdata, spikes, r0, s0, f"shape {shape}")
    assert model.executed[Op.ACC] >= len(shapes)


@cocotb.test()
async def hazards(dut):
    """Directed hazards: back-to-back ACCs on the same membrane rows, FIRE right after ACC,
    LOAD over a row an ACC is walking, STORE right after a write, all without gaps."""
    params, args, rng = await start(dut)
    widths = [max(1, min(4, params.cols))] * max(1, params.cols // 4)
    config = LayerConfig(modes_for(widths, params.cols), 3, min(8, params.max_slices * widths[0]))
    n = config.n
    # The launchers run this on arrays of 70 rows and more; a smaller one is a launcher error,
    # not a pass.
    assert 3 * n + 1 <= params.rows, f"hazards needs {3 * n + 1} rows, the array has {params.rows}"
    lanes = len(config.lanes)
    cmds = [encode(params, *c) for c in config.commands(params)]
    cmds += [encode(params, Op.LOAD, row) for row in range(3 * n)]     # every row it reads
    v, w, th = 0, n, 2 * n
    for base, values, bits in [(v, [1] * lanes, config.b_v), (w, [3] * lanes, config.b_w),
                               (th, [5] * lanes, config.b_v)]:
        for k, row in enumerate(config.pack(values, bits)):
            cmds.append(encode(params, Op.LOAD, base + k, 0, bits_to_int(row)))
    cmds += [encode(params, Op.ACC, w, v)] * 3                       # RAW on the same rows
    cmds += [encode(params, Op.FIRE, v, th), encode(params, Op.STORE, v)]
    cmds += [encode(params, Op.ACC, w, v), encode(params, Op.LOAD, v + n - 1, 0, 1),
             encode(params, Op.ACC, w, v), encode(params, Op.STORE, v + n - 1)]
    cmds += [encode(params, Op.STORE, r) for r in range(3 * n)]
    model, rdata, spikes, r0, s0 = await run_program(dut, params, cmds, rng, gap=0.0, stall=0.0)
    compare(model, rdata, spikes, r0, s0, "hazards")
    assert len(spikes) == lanes            # 1 + 3 * 3 = 10 >= 5: every lane fired once


@cocotb.test()
async def shape_invariance(dut):
    """One IF timestep under several lane shapes: membranes and spikes identical to each other
    and to the layer-level reference (V += W^T s; fire; reset)."""
    params, args, rng = await start(dut)
    b_w, b_v = args.get("b_w", 4), args.get("b_v", 10)
    neurons = args.get("neurons", 3)
    inputs = 4
    weights = np.array([[rng.randint(-(1 << (b_w - 1)), (1 << (b_w - 1)) - 1)
                         for _ in range(neurons)] for _ in range(inputs)])
    v0 = np.array([rng.randint(-20, 20) for _ in range(neurons)])
    threshold = 6
    spikes_in = [0, 2, 3, 2]
    reference_v, reference_fired = if_layer(v0, weights, spikes_in, threshold, b_v)
    results = []
    for width in args.get("widths", [1, 3, 4, 7]):
        if width * neurons > params.cols or width > params.lane_limit:
            continue
        config = LayerConfig(modes_for([width] * neurons, params.cols), b_w, b_v)
        n = config.n
        s_w = max(config.slices(b_w, width), 1)
        if (inputs * s_w) + 2 * n > params.rows or n > params.max_slices:
            continue
        cmds = [encode(params, *c) for c in config.commands(params)]
        v_row, th_row, w_base = 0, n, 2 * n
        rows = {}
        for k, row in enumerate(config.pack(v0, b_v)):
            rows[v_row + k] = row
        for k, row in enumerate(config.pack([threshold] * neurons, b_v)):
            rows[th_row + k] = row
        for i in range(inputs):
            for k, row in enumerate(config.pack(weights[i], b_w)):
                rows[w_base + i * s_w + k] = row
        cmds += [encode(params, Op.LOAD, r, 0, bits_to_int(bits)) for r, bits in rows.items()]
        cmds += [encode(params, Op.ACC, w_base + i * s_w, v_row) for i in spikes_in]
        cmds += [encode(params, Op.FIRE, v_row, th_row)]
        cmds += [encode(params, Op.STORE, v_row + k) for k in range(n)]
        model, rdata, spikes, r0, s0 = await run_program(dut, params, cmds, rng, gap=0.2,
                                                         stall=0.2)
        compare(model, rdata, spikes, r0, s0, f"lane width {width}")
        stored = np.array([[(word >> c) & 1 for c in range(params.cols)] for word in rdata])
        membranes = config.unpack(stored, b_v)
        fired = [config.lanes.index(next(l for l in config.lanes if l[1] == s)) for s in spikes]
        results.append((width, membranes.tolist(), fired))
        assert membranes.tolist() == reference_v.tolist(), f"width {width}: membranes"
        assert fired == list(np.flatnonzero(reference_fired)), f"width {width}: spikes"
    assert len(results) >= 2, "fewer than two shapes fit this macro"


@cocotb.test()
async def core_streams(dut):
    """The command streams of the accelerator's core (`golden.snn.CoreModel`: random networks
    mapped ws, os and hs-min, chunked where the macro is small) run on the RTL under gaps and
    backpressure: every spike and every STOREd membrane row equals the model's."""
    params, args, rng = await start(dut, zero=True)
    np_rng = np.random.default_rng(rng.getrandbits(32))
    ran = Tally()
    for attempt in range(args.get("attempts", 40)):
        if sum(ran.values()) == args.get("networks", 4):
            break
        kind = ["fc", "conv"][attempt % 2]
        net = random_network(np_rng, kind)
        stationarity = ["ws", "os", "hs-min"][sum(ran.values()) % 3]
        try:
            mapping = map_network(net, params, stationarity)
        except MappingError:
            continue                      # too large for this macro: draw another
        core = CoreModel(params, net, mapping)     # loads the macro image, then clears
        core.run(random_events(np_rng, net, steps=2))
        # The image sets every row the network reads before writing (membranes to zero), so
        # what the previous network left in the array does not matter.
        cmds = [encode(params, Op.LOAD, row, 0, bits)
                for row, bits in sorted(mapping.macro_image.items())]
        cmds += [encode(params, Op.CLEAR)] + core.commands   # the fences read spike counts
        dut._log.info(f"network {attempt}: {kind}, {stationarity}, {len(cmds)} commands")
        model, rdata, spikes, r0, s0 = await run_program(
            dut, params, cmds, rng, gap=args.get("gap", 0.3), stall=args.get("stall", 0.3))
        compare(model, rdata, spikes, r0, s0, f"network {attempt} ({kind}, {stationarity})")
        assert spikes == core.macro.spikes, "the core model's spikes differ"
        ran[kind, all(p.resident for p in mapping.plans)] += 1
    assert sum(ran.values()) == args.get("networks", 4), f"only {dict(ran)} networks fitted"
    assert {kind for kind, _ in ran} == {"fc", "conv"}, f"networks run: {dict(ran)}"
    testbench.measure("networks", [[kind, resident, count]
                                   for (kind, resident), count in ran.items()])
