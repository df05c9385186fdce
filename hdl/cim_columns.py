"""The CIM macro's column datapath: one row slice per clock, lanes set per column at run time.

Per column: a full adder whose carry comes from the column below (PROP/MSB columns) or from the
lane's carry latch (LSB columns), the slice bookkeeping of its lane (active, top slice, weight
sign extension, pad re-extension), and the latches of the lane's state. The contract is
`cimforge.golden.cim_macro`; the comments below say how the hardware meets it.

Timing: a lane's carry ripples through its columns. To keep the critical path one lane long,
each lane adds with carry-in 0 and 1 at once (carry select) while the lane's carry latch, held
at its MSB column, is broadcast down the lane in parallel; the broadcasts of the other
per-lane latches run the same way, off the adder's path.
"""

from amaranth.hdl import Cat, Const, Module, Mux, Signal
from amaranth.lib import data, enum, wiring
from amaranth.lib.wiring import In, Out

from ..golden.cim_macro import LSB, MSB, PROP, STANDBY
from ..params.cim_macro import CimMacroParams


class Step(enum.Enum, shape=3):
    """What the column datapath does with the current slice."""
    NONE = 0
    ACC = 1       # V += W (slice), write back
    FIXUP = 2     # saturate fix-up: write clamped values of overflowed lanes
    COMPARE = 3   # FIRE pass 1: V - TH, no write, latch fired at the top slice
    RESET = 4     # FIRE pass 2: write zero or V - TH into fired lanes


def popcount(bits: list):
    """Number of set bits, as a balanced adder tree (log depth)."""
    level = list(bits)
    while len(level) > 1:
        level = [level[i] + level[i + 1] for i in range(0, len(level) - 1, 2)] + \
                ([level[-1]] if len(level) % 2 else [])
    return level[0]


def column_config(params: CimMacroParams) -> data.StructLayout:
    cols, sb = params.cols, params.slice_bits
    return data.StructLayout({
        "mode": data.ArrayLayout(2, cols),
        "pad": cols,
        "vlast": data.ArrayLayout(sb, cols),
        "wlast": data.ArrayLayout(sb, cols),
    })


class CimColumns(wiring.Component):
    """Inputs are the two rows read in the previous cycle (`v_row`, `o_row`: weight or
    threshold), the active configuration and the step; `wdata` is the row to write back."""

    def __init__(self, params: CimMacroParams):
        self.params = params
        cols, sb = params.cols, params.slice_bits
        super().__init__({
            "config": In(column_config(params)),
            "step": In(Step),
            "slice": In(sb),
            "saturate": In(1),
            "subtract": In(1),
            "v_row": In(cols),
            "o_row": In(cols),
            "wdata": Out(cols),
            "any_overflow": Out(1),     # a lane overflowed in the last ACC (saturate mode)
            "fired": Out(cols),         # fired lanes, at their MSB columns
            "active": Out(range(cols + 1)),   # active columns in this slice
        })

    def elaborate(self, platform):
        m = Module()
        p = self.params
        cols = p.cols
        cfg = self.config
        s = self.slice
        first = s == 0

        mode = [cfg.mode[c] for c in range(cols)]
        in_lane = [md != STANDBY for md in mode]
        is_msb = [md == MSB for md in mode]
        opens = [(md == LSB) | (md == PROP) for md in mode]      # lane goes on above
        # Column c takes its carry from c - 1 (a valid mode vector makes c - 1 an LSB or PROP).
        cont = [Const(0)] + [(mode[c] == PROP) | ((mode[c] == MSB) & opens[c - 1])
                             for c in range(1, cols)]
        top = [s == cfg.vlast[c] for c in range(cols)]
        active = [in_lane[c] & (s <= cfg.vlast[c]) for c in range(cols)]
        epad = [cfg.pad[c] & cont[c] for c in range(cols)]      # a lane's LSB is never a pad
        signpos = [in_lane[c] & ~epad[c] & (is_msb[c] | (epad[c + 1] if c + 1 < cols else 0))
                   for c in range(cols)]

        def broadcast(values, name):
            """Each column gets the value at its lane's MSB column (ripple down the lane)."""
            out = [None] * cols
            for c in reversed(range(cols)):
                below = out[c + 1] if c + 1 < cols else Const(0)
                sig = Signal(name=f"{name}_{c}")
                m.d.comb += sig.eq(Mux(opens[c], below, values[c]))
                out[c] = sig
            return out

        # Per-lane latches, meaningful at MSB columns (wsign at every column).
        carry = Signal(cols)
        wsign = Signal(cols)
        overflow = Signal(cols)
        vsign = Signal(cols)
        fired = Signal(cols)

        is_acc = self.step == Step.ACC
        is_fire = (self.step == Step.COMPARE) | (self.step == Step.RESET)
        adding = is_acc | is_fire

        v = [self.v_row[c] for c in range(cols)]
        o_in = [self.o_row[c] for c in range(cols)]
        operand = [Mux(is_fire, ~o_in[c], Mux(s <= cfg.wlast[c], o_in[c], wsign[c]))
                   for c in range(cols)]

        # Carry select: chains with lane carry-in 0 and 1.
        results = []
        carries = []
        for cin in (0, 1):
            carry_out, total = [], []
            for c in range(cols):
                ci = Mux(cont[c], carry_out[c - 1], cin) if c else Const(cin)
                total.append(v[c] ^ operand[c] ^ ci)
                co = Signal(name=f"c{cin}_{c}")
                m.d.comb += co.eq((v[c] & operand[c]) | (v[c] & ci) | (operand[c] & ci))
                carry_out.append(co)
            # In the top slice, pad columns copy the bit below: re-extends bit B_V - 1.
            ext = []
            for c in range(cols):
                bit = Signal(name=f"r{cin}_{c}")
                m.d.comb += bit.eq(Mux(epad[c] & top[c], ext[c - 1], total[c]) if c else total[c])
                ext.append(bit)
            results.append(ext)
            carries.append(carry_out)

        lane_carry = broadcast([carry[c] for c in range(cols)], "lane_carry")
        select = [Mux(first, is_fire, lane_carry[c]) for c in range(cols)]
        result = [Mux(select[c], results[1][c], results[0][c]) for c in range(cols)]
        carry_next = [Mux(select[c], carries[1][c], carries[0][c]) for c in range(cols)]

        msb_operand = broadcast(o_in, "msb_weight")
        lane_fired = broadcast([fired[c] for c in range(cols)], "lane_fired")
        lane_overflow = broadcast([overflow[c] for c in range(cols)], "lane_overflow")
        lane_vsign = broadcast([vsign[c] for c in range(cols)], "lane_vsign")

        wdata = []
        for c in range(cols):
            keep = v[c]
            clamp = Mux(top[c] & (epad[c] | signpos[c]), lane_vsign[c], ~lane_vsign[c])
            reset = Mux(self.subtract, result[c], 0)
            wdata.append(Mux(is_acc & active[c], result[c],
                         Mux((self.step == Step.FIXUP) & active[c] & lane_overflow[c], clamp,
                         Mux((self.step == Step.RESET) & active[c] & lane_fired[c], reset,
                             keep))))
        m.d.comb += self.wdata.eq(Cat(*wdata))

        for c in range(cols):
            with m.If(adding):
                m.d.sync += carry[c].eq(carry_next[c])
            with m.If(is_acc & (s <= cfg.wlast[c])):
                m.d.sync += wsign[c].eq(msb_operand[c])
            with m.If(is_acc & self.saturate):
                ovf = (v[c] == operand[c]) & (result[c] != v[c])
                m.d.sync += overflow[c].eq(Mux(top[c], ovf, overflow[c] & ~first))
                with m.If(top[c]):
                    m.d.sync += vsign[c].eq(v[c])
            with m.If(self.step == Step.COMPARE):
                ge = Mux(v[c] != o_in[c], ~v[c], ~result[c])
                m.d.sync += fired[c].eq(Mux(top[c], ge, fired[c] & ~first))

        msb_mask = Cat(*(in_lane[c] & is_msb[c] for c in range(cols)))
        m.d.comb += [
            self.any_overflow.eq((overflow & msb_mask).any()),
            self.fired.eq(fired & msb_mask),
            self.active.eq(popcount(active)),
        ]
        return m
