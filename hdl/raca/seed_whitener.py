"""Seed whitening between the SEED register and the noise bank (contract and model:
`cimforge.params.lfsr_bank.whiten`)."""

from amaranth.hdl import Array, Const, Module, Signal
from amaranth.lib import stream, wiring
from amaranth.lib.wiring import In, Out

from ...params.lfsr_bank import WHITEN_ROUNDS, whiten_constant, whiten_shifts


class SeedWhitener(wiring.Component):
    """`whitened` carries whiten(`raw`), WHITEN_ROUNDS cycles after `raw` turns valid: one
    round per clock, so the path is two adders and an XOR deep.

    `raw` is taken when its result is taken: the source holds `raw` valid (and its payload
    steady) until then, as a stream source must, and sees `raw.ready` in the cycle the
    whitened seed leaves.

    Parameters: `length` (bits of a seed).
    """

    def __init__(self, length: int):
        self.length = length
        super().__init__({
            "raw": In(stream.Signature(length)),
            "whitened": Out(stream.Signature(length)),
        })

    def elaborate(self, platform):
        m = Module()
        length = self.length
        a, b = whiten_shifts(length)
        constants = Array(Const(whiten_constant(r, length), length)
                          for r in range(WHITEN_ROUNDS))
        x = Signal(length)
        round_ = Signal(range(WHITEN_ROUNDS + 1))
        running = Signal()

        # One round of x (the first one straight from the raw seed).
        source = Signal(length)
        m.d.comb += source.eq(x)
        with m.If(~running):
            m.d.comb += source.eq(self.raw.payload)
        y = Signal(length)
        z = Signal(length)
        m.d.comb += [y.eq(source + constants[round_]), z.eq(y + (y << a))]
        rounded = z ^ (z >> b)

        with m.If(~running):
            with m.If(self.raw.valid):
                m.d.sync += [x.eq(rounded), round_.eq(1), running.eq(1)]
        with m.Elif(round_ != WHITEN_ROUNDS):
            m.d.sync += [x.eq(rounded), round_.eq(round_ + 1)]
        with m.Else():
            m.d.comb += [self.whitened.valid.eq(1), self.whitened.payload.eq(x),
                         self.raw.ready.eq(self.whitened.ready)]
            with m.If(self.whitened.ready):
                m.d.sync += [running.eq(0), round_.eq(0)]
        return m
