"""The seed whitener in Amaranth's simulator: every result equal to `whiten` (the model's
function), WHITEN_ROUNDS cycles after the raw seed turns valid, with a result held until a
reader that stalls at random takes it."""

import pytest
from amaranth.sim import Simulator
from cimforge.hdl.raca.seed_whitener import SeedWhitener
from cimforge.params.lfsr_bank import WHITEN_ROUNDS, whiten
from cimforge.verif import seeds


@pytest.mark.parametrize("length", [8, 13, 20, 32])
def test_whitened_seeds_match_the_model(length):
    rng = seeds.rng("seed_whitener", length)
    dut = SeedWhitener(length)
    raw = [0, 1, (1 << length) - 1] + [rng.getrandbits(length) for _ in range(20)]
    checked = []

    async def testbench(ctx):
        for value in raw:
            ctx.set(dut.raw.valid, 1)
            ctx.set(dut.raw.payload, value)
            waited = 0
            while not ctx.get(dut.whitened.valid):
                assert not ctx.get(dut.raw.ready), "raw taken before its result left"
                await ctx.tick()
                waited += 1
            assert waited == WHITEN_ROUNDS, (value, waited)
            stall = rng.randrange(3)
            for _ in range(stall):                     # the result waits for its reader
                assert not ctx.get(dut.raw.ready)
                await ctx.tick()
                assert ctx.get(dut.whitened.valid)
            ctx.set(dut.whitened.ready, 1)
            assert ctx.get(dut.whitened.payload) == whiten(value, length), value
            assert ctx.get(dut.raw.ready)
            await ctx.tick()
            ctx.set(dut.whitened.ready, 0)
            ctx.set(dut.raw.valid, 0)
            assert not ctx.get(dut.whitened.valid)
            for _ in range(rng.randrange(3)):
                await ctx.tick()
            checked.append(value)

    sim = Simulator(dut)
    sim.add_clock(1e-6)
    sim.add_testbench(testbench)
    sim.run()
    assert len(checked) == len(raw)
