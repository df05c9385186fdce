"""The stochastic neuron decision: the hidden neurons' binarization and the output layer's
Gumbel score, from a table argument and one noise transfer, one neuron per cycle.

Two pipeline stages, each ending in registers: (1) the inputs are registered and a gauss-form
noise sum is formed; (2) the table lookup and the comparison (or the score addition). The
tables are small ROMs built from the same functions the golden model uses
(`cimforge.params.raca_tables`), so the decisions are bit-identical by construction.
"""

from amaranth.hdl import Module, Signal, signed
from amaranth.lib import data, wiring
from amaranth.lib.memory import Memory
from amaranth.lib.wiring import In, Out

from ...params.raca import RacaParams
from ...params.raca_tables import gauss_table, gumbel_table, sigmoid_table, threshold_table

LATENCY = 2


def signed_width(values) -> int:
    return max(max(v.bit_length() for v in values),
               max((-v - 1).bit_length() for v in values)) + 1


def _rom(m: Module, name: str, values, width: int):
    """An asynchronous ROM (LUTs) holding `values` as `width`-bit words; returns its read port."""
    rom = Memory(shape=width, depth=len(values), init=[v & ((1 << width) - 1) for v in values])
    m.submodules[name] = rom
    return rom.read_port(domain="comb")


class RacaNeuron(wiring.Component):
    """In: `valid`, `z` (the table argument z' = z >> shift, already clamped for hidden
    layers), `words` (one noise transfer), `tag`. Out, `LATENCY` cycles later: `out_valid`,
    `fire` (hidden decision, from the clamped argument), `score` (z' + G[word 0]), `out_tag`."""

    def __init__(self, params: RacaParams, tag_width: int):
        self.params = params
        p = params
        self.gumbel = gumbel_table(p.noise_bits, p.frac_bits)
        self.score_width = max(p.acc_width, signed_width(self.gumbel)) + 1
        super().__init__({
            "valid": In(1),
            "z": In(signed(p.acc_width)),
            "words": In(data.ArrayLayout(p.noise_bits, p.noise_words)),
            "tag": In(tag_width),
            "out_valid": Out(1),
            "fire": Out(1),
            "score": Out(signed(self.score_width)),
            "out_tag": Out(tag_width),
        })

    def elaborate(self, platform):
        m = Module()
        p = self.params

        # Stage 1: register the inputs (and the gauss form's noise sum).
        valid = Signal()
        z = Signal.like(self.z)
        first = Signal(p.noise_bits)
        tag = Signal.like(self.tag)
        m.d.sync += [valid.eq(self.valid), z.eq(self.z), first.eq(self.words[0]),
                     tag.eq(self.tag)]
        if p.neuron == "gauss":
            noise_sum = Signal(range(p.noise_words * ((1 << p.noise_bits) - 1) + 1))
            m.d.sync += noise_sum.eq(sum(self.words[k] for k in range(p.noise_words)))

        # Stage 2: look up and compare.
        clamped = z[:p.table_bits + 1].as_signed()        # hidden arguments are pre-clamped
        if p.neuron == "sigmoid":
            prob = _rom(m, "prob", sigmoid_table(p.noise_bits, p.frac_bits), p.noise_bits + 1)
            # Table index: c + 2^(Z-1), i.e. c with its sign bit inverted.
            m.d.comb += prob.addr.eq(z[:p.table_bits] ^ (1 << (p.table_bits - 1)))
            fire = first < prob.data
        else:
            if p.neuron == "threshold":
                table, index = threshold_table(p.noise_bits, p.frac_bits), first
            else:
                table = gauss_table(p.noise_bits, p.frac_bits, p.gauss_terms)
                index = noise_sum
            thresh = _rom(m, "thresh", table, p.table_bits + 1)
            m.d.comb += thresh.addr.eq(index)
            fire = clamped >= thresh.data.as_signed()
        gumbel = _rom(m, "gumbel", self.gumbel, signed_width(self.gumbel))
        m.d.comb += gumbel.addr.eq(first)
        m.d.sync += [self.out_valid.eq(valid), self.fire.eq(fire),
                     self.score.eq(z + gumbel.data.as_signed()), self.out_tag.eq(tag)]
        return m
