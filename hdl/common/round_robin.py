"""Round-robin arbiter: grants the first requester after the last one served."""

from amaranth.hdl import Module, Signal
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out


class RoundRobin(wiring.Component):
    """`grant` (one-hot, combinational) picks among `requests`, starting after the requester
    granted last; `advance` says the grant was used, which moves the priority on. A requester
    that keeps asking is served within `count` grants."""

    def __init__(self, count: int):
        if count < 1:
            raise ValueError(f"RoundRobin needs at least one requester, got {count}")
        self.count = count
        super().__init__({
            "requests": In(count),
            "grant": Out(count),
            "valid": Out(1),
            "advance": In(1),
        })

    def elaborate(self, platform):
        m = Module()
        n = self.count
        last = Signal(range(n), init=n - 1)
        m.d.comb += self.valid.eq(self.requests.any())
        with m.Switch(last):
            for previous in range(n):
                with m.Case(previous):
                    # Lowest priority to the requester served last.
                    for k in reversed(range(1, n + 1)):
                        i = (previous + k) % n
                        with m.If(self.requests[i]):
                            m.d.comb += self.grant.eq(1 << i)
        with m.If(self.advance & self.valid):
            for i in range(n):
                with m.If(self.grant[i]):
                    m.d.sync += last.eq(i)
        return m
