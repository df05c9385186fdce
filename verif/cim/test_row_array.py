"""The CIM macro's bit array on its own: banks, and the two-cycle read of both ports."""

import numpy as np
import pytest
from amaranth.sim import Simulator
from cimforge.hdl.cim.row_array import RowArray, bank_depths
from cimforge.verif import seeds


def test_bank_depths():
    assert bank_depths(512) == [512]
    assert bank_depths(1040) == [1024, 16]
    assert bank_depths(33) == [32, 1]
    assert bank_depths(1) == [1]


@pytest.mark.parametrize("rows,cols", [(16, 5), (40, 24), (33, 8), (70, 37), (1, 3)])
def test_random_reads_and_writes(rows, cols):
    """Random writes and reads on both ports every cycle against a numpy array: a read sees
    every write that landed before its cycle, not the one in it, two cycles later."""
    rng = seeds.np_rng("row-array", rows, cols)
    dut = RowArray(rows, cols)
    cycles = 40 * rows + 100
    ops = [(int(rng.integers(rows)), int(rng.integers(1 << cols)), bool(rng.random() < 0.5),
            [int(rng.integers(rows)), int(rng.integers(rows))]) for _ in range(cycles)]
    mirror = np.zeros(rows, dtype=object)
    expected, got = [], []

    async def bench(ctx):
        for addr, word, en, reads in ops:
            ctx.set(dut.write_addr, addr)
            ctx.set(dut.write_data, word)
            ctx.set(dut.write_en, en)
            for port, row in enumerate(reads):
                ctx.set(dut.read_addr[port], row)
            expected.append([int(mirror[row]) for row in reads])
            if en:
                mirror[addr] = word
            got.append([ctx.get(dut.read_data[port]) for port in range(2)])
            await ctx.tick()

    sim = Simulator(dut)
    sim.add_clock(1e-6)
    sim.add_testbench(bench)
    sim.run()
    # `got[t]` is the row read at t - 2 (the array starts out zero).
    assert got[2:] == expected[:-2]
    assert sum(1 for e in expected if any(e)) > cycles // 2    # the reads saw real data
