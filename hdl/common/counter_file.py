"""Event counters with a read/clear command stream."""

from amaranth.hdl import Array, Const, Module, Signal
from amaranth.lib import data, stream, wiring
from amaranth.lib.wiring import In, Out


class CounterFile(wiring.Component):
    """`len(present)` counters of `width` bits, each incremented (wrapping) by its bit of
    `strobes`; slots whose `present` entry is False have no register and read as zero.

    `ctl` (index, clear) reads a counter onto `value` (one command in flight: `ctl` waits while
    `value` is held); with `clear` the counter restarts from the strobe being added, so no
    event is lost. Indices past the last slot read zero.

    Strobes are registered before they are added (a count shows one cycle after its event),
    so the logic that raises a strobe never shares a clock cycle with a counter's carry chain.
    """

    def __init__(self, present: list[bool], width: int, index_width: int):
        if (len(present) - 1).bit_length() > index_width:
            raise ValueError(f"{len(present)} counters need more than {index_width} index bits")
        self.present, self.width = list(present), width
        super().__init__({
            "strobes": In(len(present)),
            "ctl": In(stream.Signature(data.StructLayout({"index": index_width, "clear": 1}))),
            "value": Out(stream.Signature(width)),
        })

    def elaborate(self, platform):
        m = Module()
        counters = [Signal(self.width, name=f"counter{i}") if here else Const(0, self.width)
                    for i, here in enumerate(self.present)]
        strobes = Signal.like(self.strobes)
        m.d.sync += strobes.eq(self.strobes)
        index = self.ctl.payload.index
        take = self.ctl.valid & self.ctl.ready
        for i, (counter, here) in enumerate(zip(counters, self.present)):
            if not here:
                continue
            with m.If(take & self.ctl.payload.clear & (index == i)):
                m.d.sync += counter.eq(strobes[i])
            with m.Else():
                m.d.sync += counter.eq(counter + strobes[i])

        m.d.comb += self.ctl.ready.eq(~self.value.valid | self.value.ready)
        with m.If(self.value.ready):
            m.d.sync += self.value.valid.eq(0)
        with m.If(take):
            padded = counters + [Const(0, self.width)] * ((1 << len(index)) - len(counters))
            m.d.sync += [self.value.valid.eq(1), self.value.payload.eq(Array(padded)[index])]
        return m
