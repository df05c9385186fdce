"""A pin-light shell for measuring a core's resources and Fmax on small packages.

A generated core can have more ports than an iCE40 UP5K SG48 has pins (39), so benchmarks wrap
it: every input bit comes from a shift register fed by one pin (`sin`), every output bit is
registered and all of them are XOR-folded into one pin (`sout`) by a tree of registered 4-input
XORs. Nothing of the core can be optimised away, all its paths start and end at flip-flops, no
path of the shell is longer than one LUT, and the shell adds about 1.3 FF per port bit and one
LUT4 per three output bits.
"""

from amaranth.hdl import Cat, Module, Signal
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out


class BenchShell(wiring.Component):
    sin: In(1)
    sout: Out(1)

    def __init__(self, core: wiring.Component):
        self.core = core
        super().__init__()

    def elaborate(self, platform):
        m = Module()
        m.submodules.core = self.core
        inputs, outputs = [], []
        for name, member in self.core.signature.members.items():
            port = getattr(self.core, name)
            (outputs if member.flow == Out else inputs).append(port)
        in_bits = sum(len(p) for p in inputs)
        if in_bits:
            chain = Signal(in_bits)
            m.d.sync += chain.eq(Cat(self.sin, chain[:-1]))
            m.d.comb += Cat(*inputs).eq(chain)
        level = Signal(sum(len(p) for p in outputs))
        m.d.sync += level.eq(Cat(*outputs))
        while len(level) > 1:
            folded = Signal((len(level) + 3) // 4)
            m.d.sync += folded.eq(Cat(level[i:i + 4].xor() for i in range(0, len(level), 4)))
            level = folded
        m.d.comb += self.sout.eq(level)
        return m
