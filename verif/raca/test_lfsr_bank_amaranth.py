"""The LFSR bank in Amaranth's simulator against the golden model (fast; wide sweep)."""

import random

import numpy as np
import pytest
from amaranth.sim import Simulator
from cimforge.golden.lfsr import LfsrBankModel
from cimforge.hdl.raca.lfsr_bank import LfsrBank
from cimforge.params.lfsr_bank import LfsrBankParams
from cimforge.verif import seeds


def sweep(count: int, rng: random.Random) -> list[LfsrBankParams]:
    out = [LfsrBankParams(width=w, lanes=l, length=L) for w, l, L in
           [(1, 1, 8), (8, 16, 8), (3, 7, 9), (11, 2, 11), (64, 1, 64), (32, 3, 47)]]
    while len(out) < count:
        length = rng.randint(8, 64)
        out.append(LfsrBankParams(width=rng.randint(1, length), lanes=rng.randint(1, 6),
                                  length=length, reset_seed=rng.getrandbits(length)))
    return out


@pytest.mark.parametrize("params", sweep(14, seeds.rng("sweep")),
                         ids=lambda p: f"w{p.width}-l{p.lanes}-L{p.length}")
def test_random_handshakes_and_reseeds(params):
    """Random ready and random seed loads; the transferred words follow the model exactly."""
    rng = seeds.rng("handshakes", params.key())
    model = LfsrBankModel(params)
    dut = LfsrBank(params)
    transfers = []           # (segment index, payload lanes)
    loaded = [params.reset_seed]

    async def testbench(ctx):
        for _ in range(300):
            ready = rng.random() < 0.7
            load = rng.random() < 0.03
            seed = rng.getrandbits(params.length)
            ctx.set(dut.noise.ready, ready)
            ctx.set(dut.seed.valid, load)
            ctx.set(dut.seed.payload, seed)
            if ready and ctx.get(dut.noise.valid):
                transfers.append((len(loaded) - 1, [ctx.get(dut.noise.payload[k])
                                                   for k in range(params.lanes)]))
            if load and ctx.get(dut.seed.ready):
                loaded.append(seed)
            await ctx.tick()

    sim = Simulator(dut)
    sim.add_clock(1e-6)
    sim.add_testbench(testbench)
    sim.run()

    for segment, seed in enumerate(loaded):
        got = np.array([w for s, w in transfers if s == segment], dtype=np.uint64)
        expected = model.words(seed, len(got))
        assert np.array_equal(got.reshape(expected.shape), expected), \
            f"segment {segment} (seed {seed:#x}) differs"
    assert len(loaded) > 1 and len(transfers) > 100, "the stimulus did not exercise reseeding"
