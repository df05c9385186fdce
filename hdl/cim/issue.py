"""The CIM macro's issue stage: takes commands, checks them, walks them one row slice a cycle."""

from amaranth.hdl import Module, Mux, Signal
from amaranth.lib import data, enum, stream, wiring
from amaranth.lib.wiring import In, Out

from ...params.cim_macro import SATURATE_BUBBLES, CimMacroParams, Counter, Op
from .columns import Step
from .command_queue import decoded_layout


class Walk(enum.Enum, shape=4):
    IDLE = 0
    ACC = 1
    FIXUP = 2
    COMPARE = 3
    RESET = 4
    BUBBLE = 5     # saturate mode: wait for the last slice's overflow flags and their OR
    CHECK = 7      # saturate mode: fix up if a lane overflowed, else go back to IDLE


class Late(enum.Enum, shape=3):
    """Work for stage B that is not a row slice."""
    NONE = 0
    LOAD = 1
    STORE = 2
    COUNTER = 3
    CLEAR = 4
    DROP = 5


def issued_layout(params: CimMacroParams) -> data.StructLayout:
    """What an issued command carries down the pipeline: a row slice (`step`, `slice`, the
    membrane `row` and the weight or threshold `o_row`) or other work (`late`, `row`), the
    counter `index` of a COUNTER, and whether it is an ACC event."""
    aw = params.addr_width
    return data.StructLayout({
        "step": Step, "slice": params.slice_bits, "late": Late, "row": aw, "o_row": aw,
        "index": range(len(Counter)), "acc_event": 1,
    })


class IssueStage(wiring.Component):
    """Stage A of the macro: one command or one row slice per cycle.

    From `head`, the decoded command queue, it takes a command when what the command needs is
    free, checks it (bad ones are issued as `Late.DROP`, to be counted) and walks ACC and FIRE
    one row slice per cycle: ACC over the membrane's slices (and again, as a fix-up, after
    `SATURATE_BUBBLES` bubbles in saturate mode when a lane overflowed), FIRE as a compare and
    a reset walk. Every decision is taken from registers and the head command's registered
    flags; taking a command never waits for the bounds check (a carry chain), which only
    chooses between walk and drop.

    Attributes, inputs unless said otherwise:
    * `head`: the decoded command stream (`decoded_layout`);
    * `walk_length`, `last_start`, `saturate`, `config_settled`, `modes_ok`: the active
      configuration and the shadow's state (`MacroConfig`);
    * `rdata_room`, `spikes_idle`, `mask_room`, `counts_settled`, `drained`: room for one
      more read-out, no spikes pending, room for one more FIRE's mask, the column counts
      landed, no slice in stages R, F or B;
    * `any_overflow`: a lane overflowed in the last slice of an ACC walk (saturate mode);
    * `issue` (out, `issued_layout`): what enters stage R this cycle;
    * `read_addr` (out): the two rows to read this cycle (membrane; weight or threshold);
    * `write_plane`, `commit`, `fire` (out): a PLANE, COMMIT or FIRE was taken;
    * `busy`, `waiting`, `bubble` (out): this cycle issues or works, a command waits for an
      output stream or the counts, a bubble (for the counters).
    """

    def __init__(self, params: CimMacroParams):
        self.params = params
        aw = params.addr_width
        super().__init__({
            "head": In(stream.Signature(decoded_layout(params))),
            "walk_length": In(range(params.max_slices + 1)),
            "last_start": In(range(params.rows)),
            "saturate": In(1),
            "config_settled": In(1),
            "modes_ok": In(1),
            "rdata_room": In(1),
            "spikes_idle": In(1),
            "mask_room": In(1),
            "counts_settled": In(1),
            "drained": In(1),
            "any_overflow": In(1),
            "issue": Out(issued_layout(params)),
            "read_addr": Out(data.ArrayLayout(aw, 2)),
            "write_plane": Out(1),
            "commit": Out(1),
            "fire": Out(1),
            "busy": Out(1),
            "waiting": Out(1),
            "bubble": Out(1),
        })

    def elaborate(self, platform):
        m = Module()
        p = self.params
        aw = p.addr_width
        head = self.head.payload
        is_op = lambda op: head.is_op[op]
        a, b, issue = head.a, head.b, self.issue

        walk = Signal(Walk)
        bubbles_left = Signal(range(SATURATE_BUBBLES))
        s = Signal(p.slice_bits)
        v_base = Signal(aw)
        o_base = Signal(aw)
        # The rows of a walk's next slice, kept in registers: the array's read addresses come
        # from registers (and the head command's fields), with no adder or decision on the way.
        v_next = Signal(aw)
        o_next = Signal(aw)
        take = self.head.ready
        last = s == self.walk_length - 1
        fits = lambda row: row <= self.last_start

        def after_walk(step):
            """Where a walk of `step` goes after its last slice."""
            if step == Step.ACC:
                with m.If(self.saturate):
                    # BUBBLE for all but the last bubble cycle, which is CHECK's.
                    m.d.sync += [walk.eq(Walk.BUBBLE), bubbles_left.eq(SATURATE_BUBBLES - 2)]
                with m.Else():
                    m.d.sync += walk.eq(Walk.IDLE)
            elif step == Step.COMPARE:
                m.d.sync += walk.eq(Walk.RESET)
            else:
                m.d.sync += walk.eq(Walk.IDLE)
            # A fix-up or reset walk of the same command starts from slice 0 again.
            m.d.sync += [s.eq(0), v_next.eq(v_base), o_next.eq(o_base)]

        def walk_slice(step):
            m.d.comb += [issue.step.eq(step), issue.slice.eq(s), self.busy.eq(1),
                         issue.row.eq(v_next), issue.o_row.eq(o_next)]
            with m.If(last):
                after_walk(step)
            with m.Else():
                m.d.sync += [s.eq(s + 1), v_next.eq(v_next + 1), o_next.eq(o_next + 1)]

        def start_walk(step, walk_state, v_row, o_row):
            """Issue slice 0 now and walk the rest from the next cycle."""
            m.d.comb += [issue.step.eq(step), issue.slice.eq(0), issue.row.eq(v_row),
                         issue.o_row.eq(o_row)]
            m.d.sync += [v_base.eq(v_row), o_base.eq(o_row)]
            with m.If(self.walk_length == 1):
                after_walk(step)
                m.d.sync += [v_next.eq(v_row), o_next.eq(o_row)]
            with m.Else():
                m.d.sync += [walk.eq(walk_state), s.eq(1),
                             v_next.eq(v_row + 1), o_next.eq(o_row + 1)]

        def drop():
            m.d.comb += [take.eq(1), issue.late.eq(Late.DROP)]

        def wait():
            m.d.comb += self.waiting.eq(1)

        def accept_command():
            with m.If(self.head.valid):
                m.d.comb += self.busy.eq(1)
                with m.If(is_op(Op.NOP)):
                    m.d.comb += take.eq(1)
                with m.If(is_op(Op.LOAD)):
                    with m.If(head.a_row):
                        m.d.comb += [take.eq(1), issue.late.eq(Late.LOAD), issue.row.eq(a)]
                    with m.Else():
                        drop()
                with m.If(is_op(Op.STORE)):
                    with m.If(~head.a_row):
                        drop()
                    with m.Elif(self.rdata_room):
                        m.d.comb += [take.eq(1), issue.late.eq(Late.STORE), issue.row.eq(a)]
                    with m.Else():
                        wait()
                with m.If(is_op(Op.ACC)):
                    with m.If(fits(a) & fits(b)):
                        m.d.comb += [take.eq(1), issue.acc_event.eq(1)]
                        start_walk(Step.ACC, Walk.ACC, b, a)
                    with m.Else():
                        drop()
                with m.If(is_op(Op.FIRE)):
                    # Even a FIRE out of bounds waits for room for its mask: taking a command
                    # then never waits for the bounds check (an adder's carry).
                    with m.If(~self.mask_room):
                        wait()
                    with m.Elif(fits(a) & fits(b)):
                        m.d.comb += [take.eq(1), self.fire.eq(1)]
                        start_walk(Step.COMPARE, Walk.COMPARE, a, b)
                    with m.Else():
                        drop()
                with m.If(is_op(Op.PLANE)):
                    with m.If(head.a_plane):
                        m.d.comb += [take.eq(1), self.write_plane.eq(1)]
                    with m.Else():
                        drop()
                with m.If(is_op(Op.COMMIT)):
                    # A slice always runs under the configuration it was issued in.
                    with m.If(~self.drained | ~self.config_settled):
                        wait()
                    with m.Elif(head.a_slices & self.modes_ok):
                        m.d.comb += [take.eq(1), self.commit.eq(1)]
                    with m.Else():
                        drop()
                with m.If(is_op(Op.COUNTER)):
                    with m.If(~head.a_counter):
                        drop()
                    with m.Elif(self.rdata_room & self.spikes_idle & self.counts_settled):
                        m.d.comb += [take.eq(1), issue.late.eq(Late.COUNTER)]
                    with m.Else():
                        wait()
                with m.If(is_op(Op.CLEAR)):
                    with m.If(self.spikes_idle & self.counts_settled):
                        m.d.comb += [take.eq(1), issue.late.eq(Late.CLEAR)]
                    with m.Else():
                        wait()
                with m.If(head.is_op == 0):             # unknown op
                    drop()

        with m.Switch(walk):
            with m.Case(Walk.IDLE):
                accept_command()
            with m.Case(Walk.ACC):
                walk_slice(Step.ACC)
            with m.Case(Walk.FIXUP):
                walk_slice(Step.FIXUP)
            with m.Case(Walk.COMPARE):
                walk_slice(Step.COMPARE)
            with m.Case(Walk.RESET):
                walk_slice(Step.RESET)
            with m.Case(Walk.BUBBLE):
                m.d.comb += [self.bubble.eq(1), self.busy.eq(1)]
                m.d.sync += bubbles_left.eq(bubbles_left - 1)
                with m.If(bubbles_left == 0):
                    m.d.sync += walk.eq(Walk.CHECK)
            with m.Case(Walk.CHECK):
                # A bubble of its own: the overflow flags' OR tree then only steers the walk.
                m.d.comb += [self.bubble.eq(1), self.busy.eq(1)]
                with m.If(self.any_overflow):
                    m.d.sync += [walk.eq(Walk.FIXUP), s.eq(0)]
                with m.Else():
                    m.d.sync += walk.eq(Walk.IDLE)

        # Read addresses: the walk's next rows, or the head command's rows whether or not it
        # is taken this cycle (a read of a command that waits is simply not used).
        walking = walk.as_value().matches(Walk.ACC, Walk.FIXUP, Walk.COMPARE, Walk.RESET)
        head_is_acc = is_op(Op.ACC)
        m.d.comb += [
            issue.index.eq(a),
            self.read_addr[0].eq(Mux(walking, v_next, Mux(head_is_acc, b, a))),
            self.read_addr[1].eq(Mux(walking, o_next, Mux(head_is_acc, a, b))),
        ]
        return m
