"""One stochastic neuron decision per cycle: the hidden neurons' binarization and the output
layer's Gumbel score, from a pre-activation and one noise transfer.

Purely combinational; the tables are small ROMs built from the same functions the golden model
uses (`cimforge.golden.raca`), so the decisions are bit-identical by construction.
"""

from amaranth.hdl import Module, Signal, signed
from amaranth.lib import data, wiring
from amaranth.lib.memory import Memory
from amaranth.lib.wiring import In, Out

from ..golden.raca import MAX_SHIFT, gauss_table, gumbel_table, sigmoid_table, threshold_table
from ..params.raca import RacaParams


def _signed_width(values) -> int:
    return max(max(v.bit_length() for v in values), max((-v - 1).bit_length()
                                                        for v in values)) + 1


def _rom(m: Module, name: str, values, width: int):
    """An asynchronous ROM (LUTs) holding `values` as `width`-bit words; returns its read port."""
    rom = Memory(shape=width, depth=len(values), init=[v & ((1 << width) - 1) for v in values])
    m.submodules[name] = rom
    return rom.read_port(domain="comb")


class RacaNeuron(wiring.Component):
    """`z` (the exact pre-activation), `shift` (the layer's table scale) and `words` (one noise
    transfer) give `fire` (hidden-neuron decision) and `score` (output-layer Gumbel score)."""

    def __init__(self, params: RacaParams):
        self.params = params
        p = params
        self.gumbel = gumbel_table(p.noise_bits, p.frac_bits)
        self.score_width = max(p.acc_width, _signed_width(self.gumbel)) + 1
        super().__init__({
            "z": In(signed(p.acc_width)),
            "shift": In(range(MAX_SHIFT + 1)),
            "words": In(data.ArrayLayout(p.noise_bits, p.noise_words)),
            "fire": Out(1),
            "score": Out(signed(self.score_width)),
        })

    def elaborate(self, platform):
        m = Module()
        p = self.params
        half = 1 << (p.table_bits - 1)

        shifted = Signal(signed(p.acc_width))
        m.d.comb += shifted.eq(self.z >> self.shift)           # arithmetic: floor(z / 2^s)
        clamped = Signal(signed(p.table_bits + 1))              # one spare bit for TH = 2^(Z-1)
        with m.If(shifted < -half):
            m.d.comb += clamped.eq(-half)
        with m.Elif(shifted > half - 1):
            m.d.comb += clamped.eq(half - 1)
        with m.Else():
            m.d.comb += clamped.eq(shifted)

        first = self.words[0]
        if p.neuron == "sigmoid":
            prob = _rom(m, "prob", sigmoid_table(p.noise_bits, p.frac_bits), p.noise_bits + 1)
            # Table index: c + 2^(Z-1), i.e. c with its sign bit inverted.
            m.d.comb += [prob.addr.eq(clamped[:p.table_bits] ^ half),
                         self.fire.eq(first < prob.data)]
        else:
            if p.neuron == "threshold":
                table = threshold_table(p.noise_bits, p.frac_bits)
                index = first
            else:
                table = gauss_table(p.noise_bits, p.frac_bits, p.gauss_terms)
                index = sum(self.words[k] for k in range(p.noise_words))
            thresh = _rom(m, "thresh", table, p.table_bits + 1)
            m.d.comb += [thresh.addr.eq(index),
                         self.fire.eq(clamped >= thresh.data.as_signed())]

        gumbel_width = _signed_width(self.gumbel)
        gumbel = _rom(m, "gumbel", self.gumbel, gumbel_width)
        m.d.comb += [gumbel.addr.eq(first),
                     self.score.eq(shifted + gumbel.data.as_signed())]
        return m
