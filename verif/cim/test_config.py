"""The macro's configuration on its own: the mode check against the golden model's rule, and
what a COMMIT makes active."""

import pytest
from amaranth.sim import Simulator
from cimforge.golden.cim import modes_for, modes_valid
from cimforge.hdl.cim.config import MacroConfig
from cimforge.params.cim_macro import LSB, MSB, PROP, STANDBY, CimMacroParams
from cimforge.verif import seeds


def mode_vectors(params: CimMacroParams, rng, count: int) -> list[list[int]]:
    """Valid lane layouts (some with lanes wider than the limit) and corrupted ones."""
    vectors = []
    for _ in range(count):
        widths, used = [], 0
        while used < params.cols:
            width = rng.randint(1, min(params.lane_limit + 2, params.cols - used))
            widths.append(width)
            used += width
        modes = [int(m) for m in modes_for(widths, params.cols)]
        for _ in range(rng.choice([0, 0, 1, 2])):
            modes[rng.randrange(params.cols)] = rng.choice([STANDBY, LSB, PROP, MSB])
        vectors.append(modes)
    return vectors


@pytest.mark.parametrize("cols,max_lane", [(12, 4), (16, 16), (37, 8), (40, 5)])
def test_modes_ok_is_the_golden_rule(cols, max_lane):
    params = CimMacroParams(rows=16, cols=cols, max_slices=4, max_lane=max_lane)
    rng = seeds.rng("config-modes", cols, max_lane)
    vectors = mode_vectors(params, rng, 60)
    dut = MacroConfig(params)
    verdicts = []

    async def bench(ctx):
        for modes in vectors:
            for plane in (0, 1):             # the mode field: bits 0 and 1 of a column's word
                ctx.set(dut.write_plane, 1)
                ctx.set(dut.plane, plane)
                await ctx.tick()
                ctx.set(dut.write_plane, 0)
                ctx.set(dut.plane_data, sum(((m >> plane) & 1) << c for c, m in enumerate(modes)))
                await ctx.tick()
            while not ctx.get(dut.settled):
                await ctx.tick()
            verdicts.append(bool(ctx.get(dut.modes_ok)))

    sim = Simulator(dut)
    sim.add_clock(1e-8)
    sim.add_testbench(bench)
    sim.run()
    expected = [modes_valid(modes, params.lane_limit) for modes in vectors]
    assert any(expected) and not all(expected), "stimulus is all valid or all invalid"
    wrong = [(modes, e) for modes, v, e in zip(vectors, verdicts, expected) if v != e]
    assert not wrong, f"{len(wrong)} verdicts differ, first: modes {wrong[0][0]} valid={wrong[0][1]}"


def test_commit_makes_the_shadow_active():
    params = CimMacroParams(rows=64, cols=8, max_slices=4, max_lane=8)
    rng = seeds.rng("config-commit")
    planes = [rng.getrandbits(params.cols) for _ in range(params.planes)]
    dut = MacroConfig(params)

    async def bench(ctx):
        for plane, word in enumerate(planes):
            ctx.set(dut.write_plane, 1)
            ctx.set(dut.plane, plane)
            await ctx.tick()
            ctx.set(dut.write_plane, 0)
            ctx.set(dut.plane_data, word)
        await ctx.tick()
        before = ctx.get(dut.config.as_value())
        ctx.set(dut.commit, 1)
        ctx.set(dut.slices_minus_1, 2)
        ctx.set(dut.flags, {"saturate": 1, "subtract": 0})
        await ctx.tick()
        ctx.set(dut.commit, 0)
        assert (ctx.get(dut.walk_length), ctx.get(dut.last_start)) == (3, 61)
        assert ctx.get(dut.saturate) == 1 and ctx.get(dut.subtract) == 0
        assert ctx.get(dut.config.as_value()) == before, "copied before the cycle after"
        await ctx.tick()
        config = ctx.get(dut.config.as_value())
        for c in range(params.cols):
            word = (config >> (c * params.planes)) & ((1 << params.planes) - 1)
            assert word == sum(((planes[i] >> c) & 1) << i for i in range(params.planes)), c

    sim = Simulator(dut)
    sim.add_clock(1e-8)
    sim.add_testbench(bench)
    sim.run()
