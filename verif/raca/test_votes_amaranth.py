"""The vote tally in Amaranth's simulator: counts and prediction against numpy's bincount and
argmax (the golden model's rule: most votes, lowest class on a tie)."""

import numpy as np
import pytest
from amaranth.sim import Simulator
from cimforge.blocks import get
from cimforge.hdl.raca.votes import VoteTally
from cimforge.verif import seeds


@pytest.mark.parametrize("preset", ["digits", "mnist"])
def test_counts_and_prediction_follow_argmax(preset):
    params = get("raca").configure(preset)
    rng = seeds.rng("votes", preset)
    dut = VoteTally(params)
    classes = params.max_classes
    checked = []

    async def testbench(ctx):
        for inference in range(30):
            ctx.set(dut.clear, 1)
            await ctx.tick()
            ctx.set(dut.clear, 0)
            # Few classes in play, so ties are common.
            in_play = rng.randint(2, classes)
            winners = [rng.randrange(in_play) for _ in range(rng.randint(1, 12))]
            for winner in winners:
                ctx.set(dut.vote, 1)
                ctx.set(dut.winner, winner)
                await ctx.tick()
                ctx.set(dut.vote, 0)
                await ctx.tick().repeat(1 + rng.randrange(3))   # NEXT, VOTE, then a gap
            counts = np.bincount(winners, minlength=classes)
            got = [ctx.get(dut.counts[c]) for c in range(classes)]
            assert got == counts.tolist(), (inference, winners)
            assert ctx.get(dut.prediction) == int(np.argmax(counts)), (inference, winners)
            checked.append(len(winners))

    sim = Simulator(dut)
    sim.add_clock(1e-6)
    sim.add_testbench(testbench)
    sim.run()
    assert len(checked) == 30
