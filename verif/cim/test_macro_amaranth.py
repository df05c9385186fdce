"""The CIM macro in Amaranth's simulator against the golden model (small arrays, wide sweep)."""


import pytest
from amaranth.sim import Simulator
from cimforge.golden.cim import Counter, Op, encode
from cimforge.hdl.cim.macro import CimMacro
from cimforge.params.cim_macro import CimMacroParams
from cimforge.verif import seeds
from cimforge.verif.cim.stimulus import busy_readout, expected, program
from cimforge.verif.stream_rules import checked

CONFIGS = [
    CimMacroParams(rows=40, cols=24, max_slices=32, max_lane=0, cmd_depth=2, rdata_depth=2,
                   fire_queue=0),
    CimMacroParams(rows=64, cols=37, max_slices=16, max_lane=5, cmd_depth=4, counter_width=16),
    CimMacroParams(rows=33, cols=8, max_slices=32, max_lane=3, cmd_depth=3, rdata_depth=3,
                   fire_queue=1),
    CimMacroParams(rows=24, cols=1, max_slices=8),
]


def simulate(params, cmds, rng, *, gap=0.3, stall=0.3, max_cycles=200_000):
    dut = CimMacro(params)
    model = expected(params, cmds)
    expected_rdata = len(model.rdata)
    rdata, spikes, done = [], [], []

    async def source(ctx):
        for word in cmds:
            while rng.random() < gap:
                await ctx.tick()
            ctx.set(dut.cmd.valid, 1)
            ctx.set(dut.cmd.payload.as_value(), word)
            await ctx.tick().until(dut.cmd.ready)
            ctx.set(dut.cmd.valid, 0)
        done.append(True)

    async def sink(ctx):
        for _ in range(max_cycles):
            ready_r, ready_s = rng.random() >= stall, rng.random() >= stall
            ctx.set(dut.rdata.ready, ready_r)
            ctx.set(dut.spike.ready, ready_s)
            if ready_r and ctx.get(dut.rdata.valid):
                rdata.append(ctx.get(dut.rdata.payload))
            if ready_s and ctx.get(dut.spike.valid):
                spikes.append(ctx.get(dut.spike.payload))
            await ctx.tick()
            if done and len(rdata) >= expected_rdata:
                return

    sim = Simulator(dut)
    sim.add_clock(1e-6)
    sim.add_testbench(source, background=True)
    sim.add_testbench(sink)
    for name in ("rdata", "spike"):
        sim.add_testbench(checked(getattr(dut, name), name), background=True)
    sim.run()
    return model, rdata, spikes


@pytest.mark.parametrize("index", range(12))
def test_random_programs(index):
    """Random programs with random command gaps and output backpressure (none for every third
    program, which makes the busy-cycle count exact)."""
    params = CONFIGS[index % len(CONFIGS)]
    rng = seeds.rng("random-programs", index)
    cmds, _ = program(params, rng, layers=2, events=14)
    cmds += busy_readout(params)
    stall = 0.0 if index % 3 == 0 else 0.3
    model, rdata, spikes = simulate(params, cmds, rng, stall=stall)
    assert len(rdata) == len(model.rdata), "read-data count differs"
    for i, (got, want) in enumerate(zip(rdata[:-2], model.rdata[:-2])):
        assert got == want, f"read-data {i}: RTL {got:#x}, model {want:#x}"
    assert spikes == model.spikes
    # BUSY = issue cycles + bubbles (the model's BUSY) + WAITS (timing of the environment).
    waits, busy = rdata[-2:]
    if stall == 0:
        assert busy - waits == model.rdata[-1]
    else:
        assert busy - waits >= model.rdata[-1]
    assert model.executed[Op.ACC] > 0 and model.executed[Op.FIRE] > 0, "program too tame"
    assert model.executed["dropped"] > 0, "program has no bad command"


def test_counters_read_right_after_slices():
    """COUNTER and CLEAR straight after ACC and FIRE, no gaps: the column counts of the last
    slice must already be in the value read (they are added a cycle late in the hardware)."""
    from cimforge.golden.cim import LayerConfig, modes_for
    params = CONFIGS[1]
    config = LayerConfig(modes_for([3, 5, 1, 4], params.cols, [1, 0, 2, 0]), 3, 7)
    cmds = [encode(params, *c) for c in config.commands(params)]
    reads = [encode(params, Op.COUNTER, c) for c in (Counter.ACTIVE_COLS, Counter.IDLE_COLS)]
    for op in (Op.ACC, Op.FIRE, Op.ACC):
        cmds += [encode(params, op, 5, 9)] + reads
        cmds += [encode(params, op, 9, 5), encode(params, Op.CLEAR)] + reads
    model, rdata, _ = simulate(params, cmds, seeds.rng("counters"), gap=0, stall=0)
    assert rdata == model.rdata
    assert min(model.rdata[::4]) > 0, "the reads after a slice op must see non-zero counts"


@pytest.mark.parametrize("fire_queue", [0, 1, 2, 3])
def test_back_to_back_fires_under_spike_backpressure(fire_queue):
    """FIREs back to back over membranes that fire most lanes while the spike port stalls
    often: the masks wait in the queue, and every FIRE's spikes leave in order."""
    from cimforge.golden.cim import LayerConfig, modes_for
    params = CimMacroParams(rows=32, cols=12, max_slices=4, max_lane=4, fire_queue=fire_queue)
    rng = seeds.rng("back-to-back-fires", fire_queue)
    config = LayerConfig(modes_for([4, 4, 4], params.cols), 4, 8)
    cmds = [encode(params, *c) for c in config.commands(params)]
    rows = list(range(0, 20, 2))                  # two-slice membranes; threshold rows 24, 25
    for row in rows:
        cmds += [encode(params, Op.LOAD, row + s, 0, rng.getrandbits(params.cols))
                 for s in range(2)]
    cmds += [encode(params, Op.FIRE, row, 24) for row in rows for _ in range(2)]
    cmds += [encode(params, Op.COUNTER, Counter.SPIKES)]
    model, rdata, spikes = simulate(params, cmds, rng, gap=0, stall=0.7)
    assert len(model.spikes) > 2 * len(rows), "membranes too quiet"
    assert spikes == model.spikes
    assert rdata == model.rdata


def test_acc_right_after_commit():
    """An ACC issued the cycle after a COMMIT that changes the lane structure must already
    use the new lanes (the hardware registers the decoded lane flags), on random data."""
    from cimforge.golden.cim import LayerConfig, modes_for
    params = CONFIGS[0]
    rng = seeds.rng("acc-after-commit")
    rows = [encode(params, Op.LOAD, r, 0, rng.getrandbits(params.cols)) for r in range(8)]
    narrow = LayerConfig(modes_for([2] * 12, params.cols), 2, 4)
    cmds = list(rows)
    for widths in ([3] * 8, [8, 8, 8], [1] * 24, [5, 7, 12]):
        wide = LayerConfig(modes_for(widths, params.cols), 3, 9)
        cmds += [encode(params, *c) for c in narrow.commands(params)]
        cmds += [encode(params, *c) for c in wide.commands(params)]
        cmds += [encode(params, Op.ACC, 0, 4), encode(params, Op.FIRE, 4, 2)]
        cmds += [encode(params, Op.STORE, r) for r in range(8)]
    model, rdata, spikes = simulate(params, cmds, rng, gap=0, stall=0)
    assert rdata == model.rdata
    assert spikes == model.spikes


def test_commit_right_after_mode_plane():
    """A COMMIT straight after the PLANE that writes the mode vector must be checked against
    that new vector (the hardware's mode check is registered): an invalid vector after a
    valid one is refused, a valid one after an invalid one is taken."""
    from cimforge.golden.cim import LayerConfig, modes_for
    params = CONFIGS[0]
    rng = seeds.rng("commit-after-plane")
    cmds = [encode(params, Op.LOAD, r, 0, rng.getrandbits(params.cols)) for r in range(8)]

    def modes_last(config):
        """The configuration's commands with the two mode planes written last."""
        planes = [encode(params, *c) for c in config.commands(params)]
        return planes[2:-1] + planes[:2] + planes[-1:]

    all_lsb = [encode(params, Op.PLANE, 0, 0, (1 << params.cols) - 1),
               encode(params, Op.PLANE, 1, 0, 0), encode(params, Op.COMMIT, 1)]
    layer = [encode(params, Op.ACC, 0, 4), encode(params, Op.FIRE, 4, 2)]
    layer += [encode(params, Op.STORE, r) for r in range(8)]
    for widths in ([3] * 8, [8, 8, 8], [1] * 24):
        cmds += modes_last(LayerConfig(modes_for(widths, params.cols), 3, 9)) + layer
        cmds += all_lsb + layer
    cmds.append(encode(params, Op.COUNTER, Counter.DROPPED))
    model, rdata, spikes = simulate(params, cmds, rng, gap=0, stall=0)
    assert model.rdata[-1] == 3, "every all-LSB COMMIT must be refused"
    assert rdata == model.rdata
    assert spikes == model.spikes


def test_reset_keeps_array_and_configuration():
    """A reset between two programs, with the macro idle, empties the pipeline and clears the
    counters but keeps the array and the committed configuration (neither is reset): the
    second program, which sets nothing, runs as after a CLEAR (the golden model)."""
    from amaranth.hdl import ClockDomain, Module
    from cimforge.golden.cim import DETERMINISTIC, LayerConfig, modes_for
    params = CONFIGS[1]
    rng = seeds.rng("reset")
    first = [encode(params, Op.LOAD, r, 0, rng.getrandbits(params.cols))
             for r in range(params.rows)]
    config = LayerConfig(modes_for([3, 5, 1, 4], params.cols, [1, 0, 2, 0]), 3, 7,
                         saturate=True, subtract=True)
    first += [encode(params, *c) for c in config.commands(params)]
    first += [encode(params, Op.ACC, w, 32) for w in (0, 8)]
    second = [encode(params, Op.ACC, w, 32) for w in (16, 24, 0)]
    second += [encode(params, Op.FIRE, 32, 48)]
    second += [encode(params, Op.STORE, r) for r in range(32, 40)]
    second += [encode(params, Op.COUNTER, c) for c in DETERMINISTIC]
    model = expected(params, first + [encode(params, Op.CLEAR)] + second)

    dut = CimMacro(params)
    top = Module()
    top.domains.sync = sync = ClockDomain("sync")
    # The testbench's own clock (the same edges, no reset): a tick of `sync` would stop at
    # the reset.
    top.domains.tb = tb = ClockDomain("tb", reset_less=True)
    top.d.comb += tb.clk.eq(sync.clk)
    top.submodules.dut = dut
    rdata, spikes = [], []

    async def source(ctx):
        for phase, cmds in enumerate((first, second)):
            for word in cmds:
                ctx.set(dut.cmd.valid, 1)
                ctx.set(dut.cmd.payload.as_value(), word)
                await ctx.tick("tb").until(dut.cmd.ready)
            ctx.set(dut.cmd.valid, 0)
            await ctx.tick("tb").repeat(300)          # idle: every result is out
            if phase == 0:
                ctx.set(sync.rst, 1)
                await ctx.tick("tb").repeat(2)
                ctx.set(sync.rst, 0)

    async def sink(ctx):
        ctx.set(dut.rdata.ready, 1)
        ctx.set(dut.spike.ready, 1)
        async for _, _, r_valid, r_data, s_valid, s_data in ctx.tick("tb").sample(
                dut.rdata.valid, dut.rdata.payload, dut.spike.valid, dut.spike.payload):
            if r_valid:
                rdata.append(r_data)
            if s_valid:
                spikes.append(s_data)

    sim = Simulator(top)
    sim.add_clock(1e-6, domain="sync")
    for name in ("rdata", "spike"):
        sim.add_testbench(checked(getattr(dut, name), name, "tb"), background=True)
    sim.add_testbench(source)
    sim.add_testbench(sink, background=True)
    sim.run()
    assert rdata == model.rdata
    assert spikes == model.spikes
    assert model.executed[Op.FIRE] == 1 and model.executed["dropped"] == 0


def test_command_format_variant(monkeypatch):
    """The command word is defined once (`CimMacroParams.command_format`): widen its op field
    there and the RTL's port and decoder and the model's encoder all follow, and still agree."""
    import cimforge.params.cim_macro as definition
    monkeypatch.setattr(definition, "OP_WIDTH", 7)
    params = CimMacroParams(rows=40, cols=12, max_slices=8, max_lane=4, cmd_depth=3)
    assert params.command_format["op"].width == 7
    assert params.command_format.offset("a") == 7
    assert CimMacro(params).signature.members["cmd"].signature.members["payload"].shape.size \
        == params.cmd_width
    rng = seeds.rng("variant")
    cmds, _ = program(params, rng, layers=2, events=10)
    # Whatever the random program did, end with one layer that surely accumulates and fires
    # (some seeds draw programs whose FIREs are all refused), and read its membranes back.
    from cimforge.golden.cim import LayerConfig, modes_for
    layer = LayerConfig(modes_for([4, 3, 1, 4], params.cols), 3, 7)
    cmds += [encode(params, *c) for c in layer.commands(params)]
    cmds += [encode(params, Op.ACC, 0, 16), encode(params, Op.FIRE, 16, 24)]
    cmds += [encode(params, Op.STORE, row) for row in range(16, 16 + layer.n)]
    model, rdata, spikes = simulate(params, cmds, rng)
    assert rdata == model.rdata and spikes == model.spikes
    assert model.executed[Op.ACC] > 0 and model.executed[Op.FIRE] > 0
    # An op value that only the wider field can carry is an unknown op: dropped and counted.
    wide = encode(params, 0x40 | Op.LOAD, 1, 0, 5)
    model, rdata, _ = simulate(params, [wide, encode(params, Op.COUNTER, Counter.DROPPED)], rng)
    assert rdata == model.rdata == [1]
