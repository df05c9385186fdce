"""The RACA core's register map in hardware, built from its declaration
(`RacaParams.registers`)."""

from itertools import groupby

from amaranth.hdl import Module
from amaranth.lib import data, wiring
from amaranth.lib.wiring import In, Out

from ...params.raca import ADDR_BITS, REG_BITS, RacaParams


class RacaRegisters(wiring.Component):
    """READ_REG and WRITE_REG on the register map.

    Every register of `params.registers` is a port named like it (registers that share a name
    form an array port, indexed as `size[k]`): writable ones are held here and driven out,
    read-only ones are driven in by the core. A write sets its register at the end of the
    cycle if the value is in range; a write out of range, to a read-only register or to no
    register, and a read of no register, raise `bad` (combinationally) instead.

    Attributes: `addr`, `value` (in): the command's fields; `write`, `read` (in): a WRITE_REG or
    READ_REG is taken this cycle; `answer` (out): the register read; `bad` (out).
    """

    def __init__(self, params: RacaParams):
        self.params = params
        members = {"addr": In(ADDR_BITS), "value": In(params.cmd_data_width), "write": In(1),
                   "read": In(1), "answer": Out(REG_BITS), "bad": Out(1)}
        for name, group in groupby(params.registers, key=lambda r: r.name):
            group = list(group)
            flow = Out if group[0].writable else In
            if group[0].index is None:
                members[name] = flow(group[0].width, init=group[0].init)
            else:
                width = max(r.width for r in group)
                members[name] = flow(data.ArrayLayout(width, len(group)),
                                     init=[r.init for r in group])
        super().__init__(members)

    def port(self, register):
        value = getattr(self, register.name)
        return value if register.index is None else value[register.index]

    def elaborate(self, platform):
        m = Module()
        with m.If(self.write):
            with m.Switch(self.addr):
                for register in self.params.registers:
                    if not register.writable:
                        continue
                    with m.Case(register.address):
                        # Short comparisons: the bits above the range's width must be zero.
                        width = register.hi.bit_length()
                        low = self.value[:width]
                        with m.If((self.value[width:] == 0) & (low >= register.lo)
                                  & (low <= register.hi)):
                            m.d.sync += self.port(register).eq(low)
                        with m.Else():
                            m.d.comb += self.bad.eq(1)
                with m.Default():
                    m.d.comb += self.bad.eq(1)
        with m.If(self.read):
            with m.Switch(self.addr):
                for register in self.params.registers:
                    with m.Case(register.address):
                        m.d.comb += self.answer.eq(self.port(register))
                with m.Default():
                    m.d.comb += self.bad.eq(1)
        return m
