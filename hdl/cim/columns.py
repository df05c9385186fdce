"""The CIM macro's column datapath: one row slice per clock, lanes set per column at run time.

Per column: a full adder whose carry comes from the column below (PROP/MSB columns) or from the
lane's carry latch (LSB columns), the slice bookkeeping of its lane (active, top slice, weight
sign extension, sign re-extension into pad columns), and the latches of the lane's state. The
contract is `cimforge.golden.cim`; the comments below say how the hardware meets it.

Timing: lanes are set at run time and may be up to `max_lane` columns wide (the whole row if
so generated), so every carry and every per-lane broadcast is a log-depth segmented scan
(`lane_scan`), never a ripple: the critical path is ceil(log2(max_lane)) levels whatever the
lane shape. Everything that does not depend on the rows just read is decided a cycle ahead and
registered (the step as one-hot flags, copied per group of columns, the per-column slice
flags, the lanes' carry-in), so the adder's path is: operand and generate/propagate (one
LUT), scan leaves (one), the scan, and one LUT that both adds the carry and picks the
written bit.
"""

from amaranth.hdl import Cat, Const, Module, Mux, Signal
from amaranth.lib import data, enum, wiring
from amaranth.lib.wiring import In, Out

from ...params.cim_macro import COLUMN_GROUP as GROUP
from ...params.cim_macro import LSB, MSB, PROP, STANDBY, CimMacroParams
from ..common.wire import struct_layout
from .lane_scan import broadcast_down, carry_prefix, carry_suffix, named_signals


class Step(enum.Enum, shape=3):
    """What the column datapath does with the current slice."""
    NONE = 0
    ACC = 1       # V += W (slice), write back
    FIXUP = 2     # saturate fix-up: write clamped values of overflowed lanes
    COMPARE = 3   # FIRE pass 1: V - TH, no write, latch fired at the top slice
    RESET = 4     # FIRE pass 2: write zero or V - TH into fired lanes


def popcount_pipeline(m, name: str, bits, valid, levels_per_stage: int = 2):
    """Number of set bits of `bits` when `valid`, else 0, as a balanced adder tree registered
    every `levels_per_stage` levels. Returns (count, cols - count), both registered and 0
    unless valid, and the valid flag of every register stage on the way (all clear: the
    counts of every earlier cycle have come out)."""
    cols = len(bits)
    level = [bits[i] for i in range(cols)]
    stage_valid = valid
    stages = []

    def register(values, valid, index):
        regs = [Signal.like(v, name=f"{name}_s{index}_{i}", reset_less=True)
                for i, v in enumerate(values)]
        flag = Signal(name=f"{name}_s{index}_valid")
        m.d.sync += [r.eq(v) for r, v in zip(regs, values)] + [flag.eq(valid)]
        stages.append(flag)
        return regs, flag

    depth = 0
    while len(level) > 1:
        level = [level[i] + level[i + 1] for i in range(0, len(level) - 1, 2)] + \
                ([level[-1]] if len(level) % 2 else [])
        depth += 1
        if depth % levels_per_stage == 0 and len(level) > 1:
            level, stage_valid = register(level, stage_valid, len(stages))
    total = Signal(range(cols + 1), name=f"{name}_total")
    total_valid = Signal(name=f"{name}_total_valid")
    m.d.sync += [total.eq(Mux(stage_valid, level[0], 0)), total_valid.eq(stage_valid)]
    stages.append(total_valid)
    count = Signal(range(cols + 1), name=f"{name}_count")
    idle = Signal(range(cols + 1), name=f"{name}_idle")
    count_valid = Signal(name=f"{name}_count_valid")
    m.d.sync += [count.eq(total), idle.eq(Mux(total_valid, cols - total, 0)),
                 count_valid.eq(total_valid)]
    stages.append(count_valid)
    return count, idle, stages


def column_config(params: CimMacroParams) -> data.ArrayLayout:
    """Every column's configuration word (`CimMacroParams.column_format`)."""
    return data.ArrayLayout(struct_layout(params.column_format), params.cols)


class CimColumns(wiring.Component):
    """Inputs are the two rows read in the previous cycle (`v_row`, `o_row`: weight or
    threshold), the active configuration and the step; `wdata` is the row to write back."""

    def __init__(self, params: CimMacroParams):
        self.params = params
        cols, sb = params.cols, params.slice_bits
        super().__init__({
            "config": In(column_config(params)),
            # The step and slice one stage ahead (registered here into flags for this stage).
            "next_step": In(Step),
            "next_slice": In(sb),
            "load": In(1),              # write `load_data` (a LOAD in this stage)
            "load_data": In(cols),
            "saturate": In(1),
            "subtract": In(1),
            "v_row": In(cols),
            "o_row": In(cols),
            "wdata": Out(cols),
            # A lane overflowed in the last ACC (saturate mode); valid a cycle after its flags.
            "any_overflow": Out(1),
            "fired": Out(cols),         # fired lanes, at their MSB columns
            "active": Out(cols),        # active columns in this slice
        })

    def elaborate(self, platform):
        m = Module()
        p = self.params
        cols = p.cols
        cfg = self.config
        # Per-column slice flags are computed from the slice one stage ahead and registered,
        # so the comparisons against vlast/wlast are off the adder's path; so is the step.
        s = self.next_slice
        next_fire = (self.next_step == Step.COMPARE) | (self.next_step == Step.RESET)
        first = Signal(reset_less=True)
        m.d.sync += first.eq(s == 0)
        # Nothing here is reset (only the pipeline's step registers are): every flag is
        # recomputed each cycle and every latch is written by a walk before it is read, and a
        # reset net to thousands of flip-flops is what congests the 256-column build.
        flags = lambda name, values: named_signals(m, name, values, "sync", reset_less=True)

        # The step flags drive every column, and a single register's fan-out across 256
        # columns lay on the adder's path. So every group of GROUP columns has its own copies,
        # cleared while the whole group is standby (no lane there: nothing to do), which also
        # keeps synthesis from merging them back into one register.
        mode = [cfg[c].mode for c in range(cols)]
        lane_cols = [md != STANDBY for md in mode]
        groups = range(0, cols, GROUP)
        group_used = [Cat(*lane_cols[g:g + GROUP]).any() for g in groups]

        def step_flags(name, value):
            copies = flags(name, [value & used for used in group_used])
            return [copies[c // GROUP] for c in range(cols)]
        is_acc = step_flags("acc", self.next_step == Step.ACC)
        is_fire = step_flags("fire", next_fire)
        is_fixup = step_flags("fixup", self.next_step == Step.FIXUP)
        is_compare = step_flags("compare", self.next_step == Step.COMPARE)
        is_reset = step_flags("reset", self.next_step == Step.RESET)
        # The configuration only changes at COMMIT, well before the next slice gets here.
        saturating = step_flags("acc_sat", (self.next_step == Step.ACC) & self.saturate)
        subtracting = step_flags("reset_sub", (self.next_step == Step.RESET) & self.subtract)

        # The lane structure only changes at COMMIT, which waits until no slice is in flight;
        # the first slice after it reaches this stage at least three cycles after the
        # configuration registers change (test_acc_right_after_commit checks it). So the flags
        # decoded from the modes are registered, which takes the decoding off the adder's path.
        lsb_or_prop = [(md == LSB) | (md == PROP) for md in mode]
        # Column c takes its carry from c - 1 (a valid mode vector makes c - 1 an LSB or PROP).
        takes_carry = [(mode[c] == PROP) | ((mode[c] == MSB) & lsb_or_prop[c - 1])
                       for c in range(1, cols)]
        in_lane = flags("in_lane", lane_cols)
        is_msb = flags("is_msb", [md == MSB for md in mode])
        opens = flags("opens", lsb_or_prop)                       # lane goes on above
        cont = [Const(0)] + flags("cont", takes_carry)
        # A lane's LSB is never a pad.
        is_pad = [Const(0)] + [cfg[c].pad & takes_carry[c - 1] for c in range(1, cols)]
        is_top = [s == cfg[c].vlast for c in range(cols)]
        in_weight = [s <= cfg[c].wlast for c in range(cols)]
        epad = flags("epad", is_pad)
        top = flags("top", is_top)
        active = flags("active", [(mode[c] != STANDBY) & (s <= cfg[c].vlast)
                                  for c in range(cols)])
        use_weight = flags("use_w", in_weight)
        # The operand is the other row's bit (weight while s <= wlast, threshold in a FIRE),
        # else the lane's weight sign.
        use_o = flags("use_o", [w | next_fire for w in in_weight])
        # In the top slice a pad column takes the carry into the column below it, so pads
        # repeat the sign bit's sum: the sign of bit B_V - 1 is re-extended (wrap-around).
        passthru = flags("passthru", [pad & t for pad, t in zip(is_pad, is_top)])
        signpos = [in_lane[c] & ~epad[c] & (is_msb[c] | (epad[c + 1] if c + 1 < cols else 0))
                   for c in range(cols)]

        # Per-lane latches: the others at MSB columns, wsign everywhere. `lane_cin` is the
        # carry into the lane's LSB for this slice, set a cycle ahead: the step's carry-in
        # (0 for ACC, 1 for FIRE: V + ~TH + 1) at a walk's first slice, else the lane's carry
        # out of the slice before (slices of one walk are issued back to back).
        lane_cin = Signal(cols, reset_less=True)
        wsign = Signal(cols, reset_less=True)
        overflow = Signal(cols, reset_less=True)
        vsign = Signal(cols, reset_less=True)
        fired = Signal(cols, reset_less=True)

        v = [self.v_row[c] for c in range(cols)]
        o_in = [self.o_row[c] for c in range(cols)]
        operand = [Mux(use_o[c], o_in[c], wsign[c]) ^ is_fire[c] for c in range(cols)]
        gen = [v[c] & operand[c] for c in range(cols)]
        prop = [v[c] ^ operand[c] for c in range(cols)]

        # Carry into every column: a lane starts at its LSB with the lane's carry-in.
        # Leaf c maps the carry into column c - 1 to the carry into column c.
        leaves = [(lane_cin[0], Const(0))] + [
            (Mux(cont[c], Mux(passthru[c], 0, gen[c - 1]), lane_cin[c]),
             cont[c] & (passthru[c] | prop[c - 1]))
            for c in range(1, cols)]
        span = p.lane_limit
        carry_in = carry_prefix(m, "carry", leaves, span)
        result = [prop[c] ^ carry_in[c] for c in range(cols)]

        # The lane's carry out of its MSB, composed up from each column (log depth), is
        # latched at the LSB for the next slice: no broadcast on the adder's path.
        transfer = [(Mux(passthru[c + 1], 0, gen[c]), Mux(passthru[c + 1], 1, prop[c]))
                    if c + 1 < cols else (gen[c], prop[c]) for c in range(cols)]
        ends = [~opens[c] for c in range(cols)]
        lane = carry_suffix(m, "lane", transfer, ends, span)
        lane_cout = [lane[c][0] | (lane[c][1] & lane_cin[c]) for c in range(cols)]
        m.d.sync += lane_cin.eq(Mux(s == 0, next_fire.replicate(cols), Cat(*lane_cout)))

        msb_operand, lane_fired, lane_overflow, lane_vsign = zip(*broadcast_down(
            m, "msb", [(o_in[c], fired[c], overflow[c], vsign[c]) for c in range(cols)], ends,
            span))

        # The written bit: the sum (ACC, or subtract-reset of a fired lane) or something that
        # does not wait for the carries; the sum's XOR and this choice share the last LUT.
        wdata = []
        for c in range(cols):
            takes_sum = active[c] & (is_acc[c] | subtracting[c] & lane_fired[c])
            clamp = Mux(top[c] & (epad[c] | signpos[c]), lane_vsign[c], ~lane_vsign[c])
            other = Mux(self.load, self.load_data[c],
                    Mux(is_fixup[c] & active[c] & lane_overflow[c], clamp,
                    Mux(is_reset[c] & active[c] & lane_fired[c], 0, v[c])))
            wdata.append(Mux(takes_sum, result[c], other))
        m.d.comb += self.wdata.eq(Cat(*wdata))

        for c in range(cols):
            with m.If(is_acc[c] & use_weight[c]):
                m.d.sync += wsign[c].eq(msb_operand[c])
            with m.If(saturating[c]):
                ovf = (v[c] == operand[c]) & (result[c] != v[c])
                m.d.sync += overflow[c].eq(Mux(top[c], ovf, overflow[c] & ~first))
                with m.If(top[c]):
                    m.d.sync += vsign[c].eq(v[c])
            with m.If(is_compare[c]):
                ge = Mux(v[c] != o_in[c], ~v[c], ~result[c])
                m.d.sync += fired[c].eq(Mux(top[c], ge, fired[c] & ~first))

        msb_mask = Cat(*(in_lane[c] & is_msb[c] for c in range(cols)))
        # The OR of every lane's overflow flag steers the walk. Over 256 columns it is a tree
        # across the whole chip (the 256-column macro's critical path), so it is registered
        # in groups of GROUP columns and the walk waits a cycle more for it.
        lane_ovf = overflow & msb_mask
        group_ovf = Signal(len(groups))
        m.d.sync += group_ovf.eq(Cat(*(lane_ovf[g:g + GROUP].any() for g in groups)))
        m.d.comb += [
            self.any_overflow.eq(group_ovf.any()),
            self.fired.eq(fired & msb_mask),
            self.active.eq(Cat(*active)),
        ]
        return m
