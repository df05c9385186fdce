"""The RACA core's crossbar-tile datapath: `tile_cols` exact sums, drained one a cycle."""

from amaranth.hdl import Module, Signal, signed
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out

from ...params.raca import MAX_SHIFT, RacaParams


class TileAccumulators(wiring.Component):
    """One column tile's pre-activations: preset with the biases, one weight row added per
    cycle, then shifted out one neuron per cycle through a two-stage pipeline (table shift,
    then for hidden layers the clamp to the table's argument range) towards the
    pre-activation memory. The sums are exact (`acc_width` bits never wrap).

    Attributes, inputs unless said otherwise:
    * `preset`, `biases`: load every accumulator with its bias (`tile_cols` signed words);
    * `weights_valid`, `weights`: a weight row (`tile_cols` signed words) to add; it is
      registered first and added the cycle after;
    * `drain`, `drain_addr`, `shift`, `clamp`: shift accumulator 0 out (right by `shift`, and
      clamped if `clamp`) to address `drain_addr`, the others down by one;
    * `z_valid`, `z_addr`, `z` (out): a drained pre-activation, two cycles after its `drain`.
    """

    def __init__(self, params: RacaParams, addr_width: int):
        self.params = params
        tc = params.tile_cols
        super().__init__({
            "preset": In(1),
            "biases": In(tc * params.bias_width),
            "weights_valid": In(1),
            "weights": In(tc * params.weight_width),
            "drain": In(1),
            "drain_addr": In(addr_width),
            "shift": In(range(MAX_SHIFT + 1)),
            "clamp": In(1),
            "z_valid": Out(1),
            "z_addr": Out(addr_width),
            "z": Out(signed(params.acc_width)),
        })

    def elaborate(self, platform):
        m = Module()
        p = self.params
        accs = [Signal(signed(p.acc_width), name=f"acc{c}") for c in range(p.tile_cols)]
        word = lambda bits, width, c: bits[c * width:(c + 1) * width].as_signed()

        row = Signal.like(self.weights)
        add = Signal()
        m.d.sync += [row.eq(self.weights), add.eq(self.weights_valid)]
        with m.If(self.preset):
            m.d.sync += [acc.eq(word(self.biases, p.bias_width, c)) for c, acc in enumerate(accs)]
        with m.Elif(add):
            m.d.sync += [acc.eq(acc + word(row, p.weight_width, c)) for c, acc in enumerate(accs)]

        # Drain: shift, then clamp (runs on while the next tile starts).
        shifted = Signal(signed(p.acc_width))
        shifted_addr = Signal.like(self.drain_addr)
        shifted_valid = Signal()
        half = 1 << (p.table_bits - 1)
        m.d.sync += [shifted_valid.eq(self.drain), self.z_valid.eq(shifted_valid),
                     self.z.eq(shifted), self.z_addr.eq(shifted_addr)]
        with m.If(self.clamp & (shifted < -half)):
            m.d.sync += self.z.eq(-half)
        with m.If(self.clamp & (shifted > half - 1)):
            m.d.sync += self.z.eq(half - 1)
        with m.If(self.drain):
            m.d.sync += [shifted.eq(accs[0] >> self.shift), shifted_addr.eq(self.drain_addr)]
            m.d.sync += [a.eq(b) for a, b in zip(accs, accs[1:])]
        return m
