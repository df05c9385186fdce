"""UART transmitter: 8 data bits, no parity, 1 stop bit, LSB first, `divisor` cycles per bit."""

from amaranth.hdl import Cat, Const, Module, Signal
from amaranth.lib import stream, wiring
from amaranth.lib.wiring import In, Out


class UartTx(wiring.Component):
    """Bytes in on the `data` stream, the line out on `tx` (idle high)."""

    data: In(stream.Signature(8))
    tx: Out(1, init=1)

    def __init__(self, divisor: int):
        if divisor < 1:
            raise ValueError(f"UartTx: divisor {divisor} must be at least 1")
        self.divisor = divisor
        super().__init__()

    def elaborate(self, platform):
        m = Module()
        timer = Signal(range(self.divisor))
        frame = Signal(10, init=0x3FF)      # stop bit, data, start bit; shifted out LSB first
        left = Signal(range(11))
        m.d.comb += [self.data.ready.eq(left == 0), self.tx.eq(frame[0])]
        with m.If(self.data.valid & self.data.ready):
            m.d.sync += [frame.eq(Cat(Const(0, 1), self.data.payload, Const(1, 1))),
                         left.eq(10), timer.eq(self.divisor - 1)]
        with m.Elif(left != 0):
            m.d.sync += timer.eq(timer - 1)
            with m.If(timer == 0):
                m.d.sync += [frame.eq(Cat(frame[1:], Const(1, 1))), left.eq(left - 1),
                             timer.eq(self.divisor - 1)]
        return m
