"""Round-robin merge of several streams into one (`StreamArbiter`)."""

from amaranth.hdl import Module, Mux, Signal
from amaranth.lib import stream, wiring
from amaranth.lib.wiring import In, Out

from .round_robin import RoundRobin


class StreamArbiter(wiring.Component):
    """Merges `count` streams of one payload `shape` into `out`, round-robin (`RoundRobin`).

    The grant is held while `out` is stalled, so `out` keeps the stream rules (payload stable
    while valid and not ready) whatever the inputs do; each input's order is kept. `out.valid`
    and the inputs' `ready` are combinational in the inputs' `valid` and `out.ready`.

    Attributes: `inputs[k]` (in), `out` (out).
    """

    def __init__(self, count: int, shape):
        if count < 1:
            raise ValueError(f"StreamArbiter needs at least one input, got {count}")
        self.count = count
        super().__init__({
            "inputs": In(stream.Signature(shape)).array(count),
            "out": Out(stream.Signature(shape)),
        })

    def elaborate(self, platform):
        m = Module()
        n = self.count
        m.submodules.round_robin = rr = RoundRobin(n)
        held = Signal(n)                        # the grant of a transfer that stalled
        valids = Signal(n)
        m.d.comb += [valids[k].eq(self.inputs[k].valid) for k in range(n)]
        # A stalled transfer keeps its grant: it is then the only request (its source holds
        # valid, as the stream rules say).
        m.d.comb += [rr.requests.eq(Mux(held.any(), held, valids)),
                     rr.advance.eq(self.out.ready), self.out.valid.eq(rr.valid)]
        for k in range(n):
            with m.If(rr.grant[k]):
                m.d.comb += self.out.payload.eq(self.inputs[k].payload)
            m.d.comb += self.inputs[k].ready.eq(rr.grant[k] & self.out.ready)
        m.d.sync += held.eq(Mux(self.out.valid & ~self.out.ready, rr.grant, 0))
        return m
