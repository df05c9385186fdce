"""The RACA core's register map in hardware, built from its declaration
(`RacaParams.registers`)."""

from itertools import groupby

from amaranth.hdl import Module
from amaranth.lib import data, wiring
from amaranth.lib.wiring import In, Out

from ...params.raca import ADDR_BITS, REG_BITS, RacaParams


def register_bus(params: RacaParams) -> wiring.Signature:
    """READ_REG and WRITE_REG as the command decoder drives them: the command's `addr` and
    `value`, `write` or `read` while one is taken; the register's `answer` and `bad` (no such
    register, read-only, or value out of range) come back in the same cycle."""
    return wiring.Signature({"addr": Out(ADDR_BITS), "value": Out(params.cmd_data_width),
                             "write": Out(1), "read": Out(1), "answer": In(REG_BITS),
                             "bad": In(1)})


class RacaRegisters(wiring.Component):
    """READ_REG and WRITE_REG on the register map.

    Every register of `params.registers` is a port named like it (registers that share a name
    form an array port, indexed as `size[k]`): writable ones are held here and driven out,
    read-only ones are driven in by the core. A write sets its register at the end of the
    cycle if the value is in range; a write out of range, to a read-only register or to no
    register, and a read of no register, raise `bad` (combinationally) instead.

    Attributes: `bus` (in, `register_bus`): the command decoder's reads and writes.
    """

    def __init__(self, params: RacaParams):
        self.params = params
        members = {"bus": In(register_bus(params))}
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
        bus = self.bus
        with m.If(bus.write):
            with m.Switch(bus.addr):
                for register in self.params.registers:
                    if not register.writable:
                        continue
                    with m.Case(register.address):
                        # Short comparisons: the bits above the range's width must be zero.
                        width = register.hi.bit_length()
                        low = bus.value[:width]
                        with m.If((bus.value[width:] == 0) & (low >= register.lo)
                                  & (low <= register.hi)):
                            m.d.sync += self.port(register).eq(low)
                        with m.Else():
                            m.d.comb += bus.bad.eq(1)
                with m.Default():
                    m.d.comb += bus.bad.eq(1)
        with m.If(bus.read):
            with m.Switch(bus.addr):
                for register in self.params.registers:
                    with m.Case(register.address):
                        m.d.comb += bus.answer.eq(self.port(register))
                with m.Default():
                    m.d.comb += bus.bad.eq(1)
        return m
