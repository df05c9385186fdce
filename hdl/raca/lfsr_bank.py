"""LFSR noise bank: `lanes` uniform `width`-bit words per cycle, as a stream.

Each lane is a Galois LFSR with its own primitive polynomial (contract and model:
`cimforge.golden.lfsr`). A lane advances `width` steps per accepted word through a
generation-time XOR network (leap-forward), so one word per lane per cycle costs no extra cycles.

The word is registered: the output stream is valid from reset on, and the XOR networks sit
between two registers, which keeps the critical path one network deep.
"""

from amaranth.hdl import Cat, Const, Module, Mux, Signal
from amaranth.lib import data, stream, wiring
from amaranth.lib.wiring import In, Out

from ...params.gf2 import apply_map
from ...params.lfsr_bank import LfsrBankParams, lane_maps, lane_state, salt
from ...params.lfsr_polynomials import polynomials


def xor_network(columns: tuple[int, ...], width: int, source) -> list:
    """The `width` output bits of a GF(2) linear map (given by its columns) applied to `source`."""
    bits = []
    for i in range(width):
        taken = [source[j] for j, column in enumerate(columns) if (column >> i) & 1]
        bits.append(Cat(*taken).xor() if taken else Const(0, 1))
    return bits


class LfsrBank(wiring.Component):
    """Noise source for stochastic neurons and traffic generators.

    * `noise`: out stream, payload `lanes` words of `width` bits (lane k in `payload[k]`); always
      valid, one new word per lane on every accepted transfer.
    * `seed`: in stream, payload `length` bits; always ready. A seed restarts every lane from
      its seeded state; the word transferred in the same cycle is still the old one.
    """

    def __init__(self, params: LfsrBankParams):
        if not isinstance(params, LfsrBankParams):
            raise TypeError(f"LfsrBank needs LfsrBankParams, got {type(params).__name__}")
        self.params = params
        super().__init__({
            "noise": Out(stream.Signature(data.ArrayLayout(params.width, params.lanes),
                                          always_valid=True)),
            "seed": In(stream.Signature(params.length, always_ready=True)),
        })

    def elaborate(self, platform):
        m = Module()
        p = self.params
        advance = self.seed.valid | self.noise.ready

        for lane, poly in enumerate(polynomials(p.length)[:p.lanes]):
            leap, word_map = lane_maps(poly, p.width)
            first = lane_state(p.reset_seed, lane, p.length)
            state = Signal(p.length, name=f"lane{lane}_state",
                           init=apply_map(leap, first))
            word = Signal(p.width, name=f"lane{lane}_word", init=apply_map(word_map, first))

            salted = Signal(p.length, name=f"lane{lane}_seeded")
            m.d.comb += salted.eq(self.seed.payload ^ salt(lane, p.length))
            seeded = Mux(salted == 0, 1, salted)        # the all-zero state would lock up
            source = Signal(p.length, name=f"lane{lane}_source")
            m.d.comb += source.eq(Mux(self.seed.valid, seeded, state))

            with m.If(advance):
                m.d.sync += [
                    state.eq(Cat(*xor_network(leap, p.length, source))),
                    word.eq(Cat(*xor_network(word_map, p.width, source))),
                ]
            m.d.comb += self.noise.payload[lane].eq(word)
        return m
