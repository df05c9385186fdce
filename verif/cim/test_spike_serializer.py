"""The spike serializer on its own: every set bit once, lowest first, one per cycle while the
sink is ready (no gap between groups), and `idle` exactly when nothing is left."""


import pytest
from amaranth.sim import Simulator
from cimforge.hdl.cim.spike_serializer import GROUP, SpikeSerializer
from cimforge.verif import seeds


def masks(width, rng):
    full = (1 << width) - 1
    yield full                                          # every bit, across every group
    yield 1 << (width - 1)                              # only the last one
    yield 0
    for density in (0.05, 0.5, 0.9):
        yield sum(1 << i for i in range(width) if rng.random() < density)


@pytest.mark.parametrize("width", [1, 3, GROUP, GROUP + 1, 37, 4 * GROUP, 256])
@pytest.mark.parametrize("stall", [0.0, 0.4])
def test_serializer_order_rate_idle(width, stall):
    rng = seeds.rng("serializer", width, stall)
    dut = SpikeSerializer(width)
    cases = list(masks(width, rng))
    log = []

    async def testbench(ctx):
        for mask in cases:
            assert ctx.get(dut.idle)
            ctx.set(dut.load, 1)
            ctx.set(dut.mask, mask)
            await ctx.tick()
            ctx.set(dut.load, 0)
            got, cycles, first = [], 0, None
            while not ctx.get(dut.idle):
                ready = rng.random() >= stall
                ctx.set(dut.spikes.ready, ready)
                if ctx.get(dut.spikes.valid):
                    first = cycles if first is None else first
                    if ready:
                        got.append(ctx.get(dut.spikes.payload))
                elif first is not None and stall == 0.0:
                    raise AssertionError(f"gap in the spike stream at {len(got)} of {mask:x}")
                await ctx.tick()
                cycles += 1
                assert cycles < 4 * width + 10, "serializer does not finish"
            ctx.set(dut.spikes.ready, 0)
            log.append((mask, got, first))

    sim = Simulator(dut)
    sim.add_clock(1e-8)
    sim.add_testbench(testbench)
    sim.run()
    for mask, got, first in log:
        assert got == [i for i in range(width) if mask >> i & 1], hex(mask)
        assert mask == 0 or first == 3, first       # load at t, first spike valid at t + 4
