"""Stage F on its own: the array and `RowForwarding` read like a memory whose writes land the
cycle they are issued, with the macro's three pipeline stages between issue and write-back."""

import pytest
from amaranth.hdl import Cat, Elaboratable, Module, Signal
from amaranth.lib import data
from amaranth.sim import Simulator
from cimforge.hdl.cim.forwarding import RowForwarding
from cimforge.hdl.cim.row_array import RowArray
from cimforge.params.wire import bits
from cimforge.verif import seeds


class Pipeline(Elaboratable):
    """One operation issued per cycle (an optional write and two reads) and carried through
    stages R, F and B like a macro command: reads go to the array at issue, the write lands
    in stage B, where the two rows read come out. `forwarding=False` registers the array's
    rows as they are (the planted bug)."""

    def __init__(self, rows: int, cols: int, forwarding: bool = True):
        aw = bits(rows)
        self.rows, self.cols, self.aw, self.forwarding = rows, cols, aw, forwarding
        self.op = data.StructLayout({"write": 1, "row": aw, "data": cols})
        self.issue = Signal(self.op)
        self.read_addr = [Signal(aw, name=f"read_addr{i}") for i in range(2)]
        self.out = [Signal(cols, name=f"out{i}") for i in range(2)]

    def elaborate(self, platform):
        m = Module()
        m.submodules.array = array = RowArray(self.rows, self.cols)
        at_r, at_f, at_b = (Signal(self.op, name=f"at_{s}") for s in "rfb")
        m.d.sync += [at_r.eq(self.issue), at_f.eq(at_r), at_b.eq(at_f)]
        m.d.comb += [array.read_addr[i].eq(self.read_addr[i]) for i in range(2)]
        m.d.comb += [array.write_en.eq(at_b.write), array.write_addr.eq(at_b.row),
                     array.write_data.eq(at_b.data)]
        if self.forwarding:
            m.submodules.forwarding = fwd = RowForwarding(self.cols, self.aw)
            m.d.comb += [fwd.read_addr[i].eq(self.read_addr[i]) for i in range(2)]
            m.d.comb += [fwd.raw.eq(Cat(*array.read_data)), fwd.write_data.eq(at_b.data)]
            for writer, at in zip(fwd.writers, (at_r, at_f, at_b)):
                m.d.comb += [writer.en.eq(at.write), writer.row.eq(at.row)]
            m.d.comb += [self.out[i].eq(fwd.rows[i]) for i in range(2)]
        else:
            m.d.sync += [self.out[i].eq(array.read_data[i]) for i in range(2)]
        return m


def stale_reads(rows: int, cols: int, forwarding: bool, salt: str) -> tuple[int, int]:
    """Runs random operations (writes to few rows, so reads often follow writes to the same
    row by 1, 2 or 3 cycles); returns (reads checked, reads that differ from the memory)."""
    rng = seeds.rng("forwarding", salt, rows, cols)
    dut = Pipeline(rows, cols, forwarding)
    ops = [(rng.random() < 0.6, rng.randrange(rows), rng.getrandbits(cols),
            [rng.randrange(rows), rng.randrange(rows)]) for _ in range(30 * rows + 60)]
    memory = [0] * rows
    expected = []                # per op, the rows its reads must return
    checked = wrong = 0

    async def bench(ctx):
        nonlocal checked, wrong
        # The array starts unknown: write every row first, away from the checked reads.
        for row in range(rows):
            ctx.set(dut.issue, {"write": 1, "row": row, "data": 0})
            await ctx.tick()
        ctx.set(dut.issue, {"write": 0, "row": 0, "data": 0})
        for _ in range(4):
            await ctx.tick()
        for cycle, (write, row, word, reads) in enumerate(ops + [(False, 0, 0, [0, 0])] * 3):
            ctx.set(dut.issue, {"write": write, "row": row, "data": word})
            for port, addr in enumerate(reads):
                ctx.set(dut.read_addr[port], addr)
            expected.append([memory[addr] for addr in reads])
            if write:
                memory[row] = word
            if cycle >= 3 and cycle - 3 < len(ops):   # the op issued 3 cycles ago is in B
                got = [ctx.get(dut.out[port]) for port in range(2)]
                checked += 1
                wrong += got != expected[cycle - 3]
            await ctx.tick()

    sim = Simulator(dut)
    sim.add_clock(1e-8)
    sim.add_testbench(bench)
    sim.run()
    return checked, wrong


@pytest.mark.parametrize("rows,cols", [(4, 6), (8, 16), (33, 5)])
def test_reads_see_every_earlier_write(rows, cols):
    checked, wrong = stale_reads(rows, cols, forwarding=True, salt="design")
    assert checked > 100 and wrong == 0, (
        f"{wrong} of {checked} reads missed an earlier write")


def test_without_forwarding_reads_are_stale():
    """The test above can fail: with the rows taken from the array as they are, reads right
    after a write to their row return the old row."""
    checked, wrong = stale_reads(4, 6, forwarding=False, salt="planted")
    assert wrong > checked // 10, f"only {wrong} of {checked} reads were stale"
