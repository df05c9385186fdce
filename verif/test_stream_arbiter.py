"""`StreamArbiter` in Amaranth's simulator: random sources (gaps) and a random sink
(backpressure); every word arrives once, each source's in order, the output keeps the stream
rules, and no source waits more than `count` transfers while it asks."""

import pytest
from amaranth.sim import Simulator
from cimforge.hdl.common.stream_arbiter import StreamArbiter
from cimforge.verif import seeds, stream_rules


@pytest.mark.parametrize("count", [1, 2, 3, 5])
def test_merges_every_word_in_order_and_fairly(count):
    rng = seeds.rng("stream arbiter", count)
    dut = StreamArbiter(count, 16)
    words = [[(k << 12) | i for i in range(40)] for k in range(count)]
    got, waits = [], [0] * count

    def source(k):
        async def testbench(ctx):
            for word in words[k]:
                while rng.random() < 0.3:
                    await ctx.tick()
                ctx.set(dut.inputs[k].valid, 1)
                ctx.set(dut.inputs[k].payload, word)
                await ctx.tick().until(dut.inputs[k].ready)
                ctx.set(dut.inputs[k].valid, 0)
        return testbench

    async def sink(ctx):
        since = [0] * count             # transfers of others since source k started asking
        while len(got) < count * 40:
            ready = rng.random() < 0.7
            ctx.set(dut.out.ready, ready)
            await ctx.delay(1e-9)
            if ready and ctx.get(dut.out.valid):
                word = ctx.get(dut.out.payload)
                got.append(word)
                for k in range(count):
                    asking = ctx.get(dut.inputs[k].valid)
                    since[k] = 0 if (word >> 12 == k or not asking) else since[k] + 1
                    waits[k] = max(waits[k], since[k])
            await ctx.tick()

    sim = Simulator(dut)
    sim.add_clock(1e-6)
    for k in range(count):
        sim.add_testbench(source(k), background=True)
    sim.add_testbench(stream_rules.checked(dut.out, "out"), background=True)
    sim.add_testbench(sink)
    sim.run()
    assert sorted(got) == sorted(w for ws in words for w in ws)
    for k in range(count):
        assert [w for w in got if w >> 12 == k] == words[k]
    assert max(waits) < count, waits
