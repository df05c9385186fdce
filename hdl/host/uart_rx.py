"""UART receiver: 8 data bits, no parity, 1 stop bit, LSB first, `divisor` clock cycles per bit."""

from amaranth.hdl import Module, Signal
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out


class UartRx(wiring.Component):
    """`rx` is the line (idle high). Each received byte is `data` with `valid` high for one
    cycle (no backpressure: the consumer must always take it); a byte whose stop bit is low is
    not delivered and pulses `framing_error` instead."""

    rx: In(1, init=1)
    data: Out(8)
    valid: Out(1)
    framing_error: Out(1)

    def __init__(self, divisor: int):
        if divisor < 4:
            raise ValueError(f"UartRx: divisor {divisor} is too small; at least 4 clock cycles "
                             f"per bit are needed")
        self.divisor = divisor
        super().__init__()

    def elaborate(self, platform):
        m = Module()
        # Two flip-flops against metastability: the line is asynchronous to the clock.
        meta, line = Signal(init=1), Signal(init=1)
        m.d.sync += [meta.eq(self.rx), line.eq(meta)]

        timer = Signal(range(self.divisor))
        bit = Signal(range(9))
        shift = Signal(8)
        m.d.sync += [self.valid.eq(0), self.framing_error.eq(0)]
        with m.FSM():
            with m.State("IDLE"):
                with m.If(~line):
                    m.d.sync += timer.eq(self.divisor // 2 - 1)
                    m.next = "START"
            with m.State("START"):              # sample the middle of the start bit
                m.d.sync += timer.eq(timer - 1)
                with m.If(timer == 0):
                    with m.If(line):
                        m.next = "IDLE"         # a glitch, not a start bit
                    with m.Else():
                        m.d.sync += [timer.eq(self.divisor - 1), bit.eq(0)]
                        m.next = "DATA"
            with m.State("DATA"):
                m.d.sync += timer.eq(timer - 1)
                with m.If(timer == 0):
                    m.d.sync += [timer.eq(self.divisor - 1), bit.eq(bit + 1)]
                    with m.If(bit == 8):        # the stop bit
                        with m.If(line):
                            m.d.sync += [self.data.eq(shift), self.valid.eq(1)]
                        with m.Else():
                            m.d.sync += self.framing_error.eq(1)
                        m.next = "STOP"
                    with m.Else():
                        m.d.sync += shift.eq(shift >> 1 | line << 7)
            with m.State("STOP"):               # wait for the line to return high
                with m.If(line):
                    m.next = "IDLE"
        return m
