"""The CIM macro's event counters."""

from amaranth.hdl import Array, Module, Mux, Signal
from amaranth.lib import data, wiring
from amaranth.lib.wiring import In, Out

from ...params.cim_macro import CimMacroParams, Counter


def increments_layout(params: CimMacroParams) -> data.StructLayout:
    """One field per counter, named like it: the column counts are numbers of columns, every
    other counter counts one event per cycle at most."""
    wide = (Counter.ACTIVE_COLS, Counter.IDLE_COLS)
    return data.StructLayout({c.name.lower(): range(params.cols + 1) if c in wide else 1
                              for c in Counter})


class MacroCounters(wiring.Component):
    """`Counter`'s counters, `counter_width` bits each, wrapping.

    Attributes:
    * `increments` (`increments_layout`): added to every counter each cycle;
    * `clear`: every counter restarts from zero (this cycle's increments are not counted);
    * `index`, `value`: the value of counter `index`, combinationally.
    """

    def __init__(self, params: CimMacroParams):
        self.params = params
        super().__init__({
            "increments": In(increments_layout(params)),
            "clear": In(1),
            "index": In(range(len(Counter))),
            "value": Out(params.counter_width),
        })

    def elaborate(self, platform):
        m = Module()
        counters = Array(Signal(self.params.counter_width, name=f"count_{c.name.lower()}")
                         for c in Counter)
        for counter in Counter:
            reg, increment = counters[counter], self.increments[counter.name.lower()]
            m.d.sync += reg.eq(Mux(self.clear, 0, reg + increment))
        m.d.comb += self.value.eq(counters[self.index])
        return m
