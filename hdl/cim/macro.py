"""FlexSpIM-style event-driven digital CIM macro (contract: `cimforge.golden.cim`).

Four-stage pipeline, one row slice per clock:

* **Issue** (stage A) takes commands from the queue, checks them (bad ones are dropped and
  counted), and walks ACC/FIRE commands one row slice per clock, presenting the two rows to
  read (membrane row, and weight or threshold row).
* **Read** (stage R): the array (`RowArray`) returns the rows into registers, with no logic
  after the block RAM (its clock-to-out is most of a cycle at 100 MHz on the ECP5).
* **Forward** (stage F): writes the array has not returned yet replace the rows read (see
  below); the result is registered for stage B.
* **Execute** (stage B) runs the column datapath (`CimColumns`) and writes the membrane slice
  back; it also does LOAD writes, STORE/COUNTER read-outs and counter updates, so every
  command's effects land in order.

The array has one write port and two read ports. A row read up to three cycles before a write
to it lands would be stale, so stage F takes the data of this cycle's write or of one of the
two writes before it when the row matches (forwarding): back-to-back ACCs on the same membrane
rows, FIRE right after ACC and LOAD over a row in use need no stall. On FPGAs the two read
ports become two copies of the array in block RAM; see README for the measured cost. COMMIT
waits until no slice is in flight, so a slice always runs under the configuration it was
issued in.

Timing (the >= 100 MHz ECP5 target): every decision is taken from registers. Commands are
decoded on their way into the queue (one-hot op, range flags), with their row data in a queue
of its own, so taking a command enables no row-wide register; whether a command is taken never
waits for the bounds check (a carry chain), which only chooses between walk and drop; the read
addresses come from registers through two muxes; the read-data room, the spike serializer's
idle flag and the mode check (in two steps) are registered; forwarding hits are compared at
issue and registered, so stage F is one mux between registers (the forwarded rows and the
array's banks); PLANE writes and COMMIT's configuration copy land a cycle late from registers; the
column counts go through a pipelined adder tree, and COUNTER/CLEAR wait until it has drained
(counted as WAITS).

Reset (`rst`) reaches control state only: valid bits, queues, counters, the walk. The array,
the row registers and the configuration keep their values (a reset on every flip-flop was a
chip-wide routing net that most placements of the 256-column macro could not route).
"""

from amaranth.hdl import Array, Cat, Module, Mux, Signal
from amaranth.lib import data, enum, stream, wiring
from amaranth.lib.fifo import SyncFIFO, SyncFIFOBuffered
from amaranth.lib.wiring import In, Out, flipped

from ...params.cim_macro import COLUMN_GROUP as GROUP
from ...params.cim_macro import (COMMIT_FLAGS, LSB, MSB, PROP, SATURATE_BUBBLES, CimMacroParams,
                                Counter, Op)
from .columns import CimColumns, Step, column_config, popcount_pipeline
from .lane_scan import named_signals
from .row_array import RowArray
from .spike_serializer import SpikeSerializer
from ..common.wire import struct_layout


class Walk(enum.Enum, shape=4):
    IDLE = 0
    ACC = 1
    FIXUP = 2
    COMPARE = 3
    RESET = 4
    BUBBLE = 5     # saturate mode: wait for the last slice's overflow flags and their OR
    CHECK = 7      # saturate mode: fix up if a lane overflowed, else go back to IDLE


class Late(enum.Enum, shape=3):
    """Non-slice work for stage B."""
    NONE = 0
    LOAD = 1
    STORE = 2
    COUNTER = 3
    CLEAR = 4
    DROP = 5


def mode_rules(mode: list, lane_limit: int) -> list:
    """The rules of a valid mode vector (see the golden model), one AND per column: the local
    ones, and no lane wider than `lane_limit`, i.e. no `lane_limit` consecutive columns that
    each open a lane towards the next (LSB or PROP), checked by the window starting there."""
    cols = len(mode)
    opens = [(mode[c] == LSB) | (mode[c] == PROP) for c in range(cols)]
    rules = []
    for c in range(cols):
        nxt = mode[c + 1] if c + 1 < cols else 0
        prev = mode[c - 1] if c else 0
        rules.append([~opens[c] | (nxt == PROP) | (nxt == MSB),
                      (mode[c] != PROP) | (prev == LSB) | (prev == PROP)])
    if lane_limit < cols:
        # runs[k][c]: columns c .. c + 2**k - 1 all open; any window is two such runs.
        runs, width = [opens], 1
        while 2 * width <= lane_limit:
            last = runs[-1]
            runs.append([last[c] & last[c + width] for c in range(len(last) - width)])
            width *= 2
        last = runs[-1]
        shift = lane_limit - width
        for c in range(len(last) - shift):
            rules[c].append(~(last[c] & last[c + shift]))
    return [Cat(*r).all() for r in rules]


class CimMacro(wiring.Component):
    """Streams: `cmd` in (encoded commands), `rdata` out (STORE rows, counter values),
    `spike` out (MSB column index of each fired lane)."""

    def __init__(self, params: CimMacroParams, *, forwarding: bool = True):
        if not isinstance(params, CimMacroParams):
            raise TypeError(f"CimMacro needs CimMacroParams, got {type(params).__name__}")
        self.params = params
        # `forwarding=False` exists only to measure what forwarding costs (`make bench`): the
        # macro is then wrong whenever a row is read within three cycles of a write to it.
        self.forwarding = forwarding
        super().__init__({
            "cmd": In(stream.Signature(struct_layout(params.command_format))),
            "rdata": Out(stream.Signature(params.data_width)),
            "spike": Out(stream.Signature(params.col_bits)),
        })

    def elaborate(self, platform):
        m = Module()
        p = self.params
        cols, aw, sb = p.cols, p.addr_width, p.slice_bits

        # -- command queue and fields of the head command --------------------------------
        # Commands are decoded on their way into the queue (everything that does not depend
        # on the configuration), so the issue stage starts from registered one-hot flags.
        # Their row data (LOAD, PLANE) waits in a queue of its own, popped in step: the head
        # register of a buffered queue is enabled by the issue decision, and that enable
        # across a whole row was the 256-column macro's critical path. The data queue's head
        # is a small memory read at its read pointer, registered every cycle downstream.
        planes = p.planes
        cmd = self.cmd.payload
        entry = data.StructLayout({
            "is_op": len(Op), "a": len(cmd.a), "b": len(cmd.b),
            "a_row": 1, "a_plane": 1, "a_counter": 1, "a_slices": 1,
        })
        m.submodules.cmd_queue = queue = SyncFIFOBuffered(width=entry.size, depth=p.cmd_depth)
        m.submodules.data_queue = data_queue = SyncFIFO(width=cols, depth=p.cmd_depth)
        accept = self.cmd.valid & self.cmd.ready
        incoming = Signal(entry)
        m.d.comb += [
            incoming.is_op.eq(Cat(cmd.op == op for op in Op)),
            incoming.a.eq(cmd.a),
            incoming.b.eq(cmd.b),
            incoming.a_row.eq(cmd.a < p.rows),
            incoming.a_plane.eq(cmd.a < planes),
            incoming.a_counter.eq(cmd.a < len(Counter)),
            incoming.a_slices.eq(cmd.a < p.max_slices),
            queue.w_data.eq(incoming), queue.w_en.eq(accept),
            data_queue.w_data.eq(cmd.data), data_queue.w_en.eq(accept),
            self.cmd.ready.eq(queue.w_rdy & data_queue.w_rdy),
        ]
        head = entry(queue.r_data)
        is_op = lambda op: head.is_op[op]
        a, b, row_data = head.a, head.b, data_queue.r_data

        # -- array, column datapath, outputs ---------------------------------------------
        m.submodules.array = array = RowArray(p.rows, cols)
        m.submodules.columns = columns = CimColumns(p)
        m.submodules.serializer = serializer = SpikeSerializer(cols)
        wiring.connect(m, serializer.spikes, flipped(self.spike))
        m.submodules.rdata_queue = rqueue = SyncFIFO(width=p.data_width,
                                                             depth=p.rdata_depth)
        m.d.comb += [self.rdata.payload.eq(rqueue.r_data), self.rdata.valid.eq(rqueue.r_rdy),
                     rqueue.r_en.eq(self.rdata.ready)]

        # -- configuration: shadow planes, committed configuration -------------------------
        # Like the array, the configuration is kept over a reset (a reset net to its 3.5k
        # flip-flops congested the 256-column build); it is set at power-up to its init.
        shadow = Signal(data.ArrayLayout(cols, planes), reset_less=True)
        config = Signal(column_config(p), reset_less=True)
        # (all of it: the planes and COMMIT's walk length and flags)
        walk_length = Signal(range(p.max_slices + 1), init=1, reset_less=True)
        # The last row a walk may start at, kept with the walk length: the bounds check of a
        # command is then one comparison, not an addition and a comparison.
        last_start = Signal(range(p.rows), init=p.rows - 1, reset_less=True)
        saturate = Signal(reset_less=True)
        subtract = Signal(reset_less=True)
        # Column c's configuration word is bit c of every plane.
        column = struct_layout(p.column_format)
        shadow_words = [column(Cat(shadow[i][c] for i in range(planes))) for c in range(cols)]
        shadow_mode = [word.mode for word in shadow_words]
        m.d.comb += [columns.config.eq(config), columns.saturate.eq(saturate),
                     columns.subtract.eq(subtract)]

        # -- stage A: issue ----------------------------------------------------------------
        walk = Signal(Walk)
        bubbles_left = Signal(range(SATURATE_BUBBLES))
        s = Signal(sb)
        v_base = Signal(aw)
        o_base = Signal(aw)
        # The rows of a walk's next slice, kept in registers: the array's read addresses come
        # from registers (and the head command's fields), with no adder or decision on the way.
        v_next = Signal(aw)
        o_next = Signal(aw)
        fire_pending = Signal()        # a FIRE whose spikes are not yet in the serializer

        # What a command carries down the pipeline, registered once per stage (R, F, then B).
        carried = data.StructLayout({
            "step": Step, "slice": sb, "late": Late, "row": aw, "o_row": aw,
            "index": range(len(Counter)), "acc_event": 1,
        })
        at_r = Signal(carried)
        at_f = Signal(carried)
        at_b = Signal(carried)
        # A LOAD's row rides along beside them, not reset (the step fields say it is unused).
        data_r, data_f, data_b = (Signal(cols, name=f"data_{stage}", reset_less=True)
                                  for stage in "rfb")
        b_step, b_slice, b_late, b_row = at_b.step, at_b.slice, at_b.late, at_b.row
        b_data, b_index, b_acc_event = data_b, at_b.index, at_b.acc_event

        issue_step = Signal(Step)
        issue_slice = Signal(sb)
        issue_late = Signal(Late)
        issue_event = Signal()
        issue_row = Signal(aw)          # membrane row (or LOAD/STORE row)
        issue_o_row = Signal(aw)        # weight/threshold row
        take = Signal()
        waiting = Signal()
        counts_settled = Signal()
        bubble = Signal()
        busy = Signal()

        last = s == walk_length - 1
        fits = lambda row: row <= last_start
        reads = lambda late: (late == Late.STORE) | (late == Late.COUNTER)
        drained = (at_r.step == Step.NONE) & (at_f.step == Step.NONE) & (at_b.step == Step.NONE)
        # The issue stage's other conditions come from registers. Read-data words reserved
        # (issued STORE/COUNTERs not yet taken from the queue): room for one more?
        reserved = Signal(range(p.rdata_depth + 1))
        m.d.sync += reserved.eq(reserved + reads(issue_late)
                                - (self.rdata.valid & self.rdata.ready))
        rdata_room = reserved < p.rdata_depth
        # No spike pending, as of the previous cycle (a FIRE keeps the walk busy for at least
        # that long, and `fire_pending` covers it until its spikes are in the serializer).
        spikes_idle = Signal()
        m.d.sync += spikes_idle.eq(serializer.idle & ~fire_pending)
        # PLANE writes and COMMIT's copy of the shadow planes land a cycle after the command
        # (from registers, which keeps the issue decision off their wide enables).
        plane_write = Signal(data.StructLayout({"en": 1, "index": range(planes)}))
        copy_config = Signal()
        with m.If(plane_write.en):
            m.d.sync += shadow[plane_write.index].eq(data_r)     # the PLANE's row
        with m.If(copy_config):
            m.d.sync += [config[c].eq(word) for c, word in enumerate(shadow_words)]
        # The written plane's index is taken every cycle (its data is `data_r`); only `en`
        # waits for the issue decision.
        m.d.sync += plane_write.index.eq(a)
        # The mode check, in two registered steps: per group of GROUP columns, then the row
        # (one wide AND after the shadow registers missed 100 MHz on 256 columns). A COMMIT
        # waits until both have seen the last PLANE write (`modes_fresh`).
        rules = mode_rules(shadow_mode, p.lane_limit)
        groups_ok = named_signals(m, "modes_ok_group", [Cat(*rules[g:g + GROUP]).all()
                                                        for g in range(0, cols, GROUP)], "sync")
        modes_ok = Signal()
        modes_fresh = Signal(2)
        m.d.sync += [modes_ok.eq(Cat(*groups_ok).all()),
                     modes_fresh.eq(Cat(~plane_write.en, modes_fresh[0])),
                     plane_write.en.eq(0), copy_config.eq(0)]

        def after_walk(step):
            """Where a walk of `step` goes after its last slice."""
            if step == Step.ACC:
                with m.If(saturate):
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
            m.d.comb += [issue_step.eq(step), issue_slice.eq(s), busy.eq(1),
                         issue_row.eq(v_next), issue_o_row.eq(o_next)]
            with m.If(last):
                after_walk(step)
            with m.Else():
                m.d.sync += [s.eq(s + 1), v_next.eq(v_next + 1), o_next.eq(o_next + 1)]

        def start_walk(step, walk_state, v_row, o_row):
            """Issue slice 0 now and walk the rest from the next cycle."""
            m.d.comb += [issue_step.eq(step), issue_slice.eq(0), issue_row.eq(v_row),
                         issue_o_row.eq(o_row)]
            m.d.sync += [v_base.eq(v_row), o_base.eq(o_row)]
            with m.If(walk_length == 1):
                after_walk(step)
                m.d.sync += [v_next.eq(v_row), o_next.eq(o_row)]
            with m.Else():
                m.d.sync += [walk.eq(walk_state), s.eq(1),
                             v_next.eq(v_row + 1), o_next.eq(o_row + 1)]

        def accept_command():
            with m.If(queue.r_rdy):
                m.d.comb += busy.eq(1)
                with m.If(is_op(Op.NOP)):
                    m.d.comb += take.eq(1)
                with m.If(is_op(Op.LOAD)):
                    m.d.comb += [take.eq(1), issue_row.eq(a)]
                    with m.If(head.a_row):
                        m.d.comb += issue_late.eq(Late.LOAD)
                    with m.Else():
                        m.d.comb += issue_late.eq(Late.DROP)
                with m.If(is_op(Op.STORE)):
                    with m.If(~head.a_row):
                        m.d.comb += [take.eq(1), issue_late.eq(Late.DROP)]
                    with m.Elif(rdata_room):
                        m.d.comb += [take.eq(1), issue_late.eq(Late.STORE), issue_row.eq(a)]
                    with m.Else():
                        m.d.comb += waiting.eq(1)
                with m.If(is_op(Op.ACC)):
                    m.d.comb += take.eq(1)
                    with m.If(fits(a) & fits(b)):
                        m.d.comb += issue_event.eq(1)
                        start_walk(Step.ACC, Walk.ACC, b, a)
                    with m.Else():
                        m.d.comb += issue_late.eq(Late.DROP)
                with m.If(is_op(Op.FIRE)):
                    # Even a FIRE out of bounds waits for the spikes of the one before: taking
                    # a command then never waits for the bounds check (an adder's carry).
                    with m.If(~spikes_idle):
                        m.d.comb += waiting.eq(1)
                    with m.Elif(fits(a) & fits(b)):
                        m.d.comb += take.eq(1)
                        m.d.sync += fire_pending.eq(1)
                        start_walk(Step.COMPARE, Walk.COMPARE, a, b)
                    with m.Else():
                        m.d.comb += [take.eq(1), issue_late.eq(Late.DROP)]
                with m.If(is_op(Op.PLANE)):
                    m.d.comb += take.eq(1)
                    with m.If(head.a_plane):
                        m.d.sync += plane_write.en.eq(1)
                    with m.Else():
                        m.d.comb += issue_late.eq(Late.DROP)
                with m.If(is_op(Op.COMMIT)):
                    with m.If(~drained | plane_write.en | ~modes_fresh.all()):
                        m.d.comb += waiting.eq(1)
                    with m.Elif(head.a_slices & modes_ok):
                        # The column flags are decoded from `config` a cycle after issue, so
                        # a copy a cycle late is still in time for the next command's slices.
                        m.d.comb += take.eq(1)
                        flags = struct_layout(COMMIT_FLAGS)(b[:COMMIT_FLAGS.size])
                        m.d.sync += [
                            walk_length.eq(a + 1),
                            last_start.eq(p.rows - 1 - a),
                            saturate.eq(flags.saturate),
                            subtract.eq(flags.subtract),
                            copy_config.eq(1),
                        ]
                    with m.Else():
                        m.d.comb += [take.eq(1), issue_late.eq(Late.DROP)]
                with m.If(is_op(Op.COUNTER)):
                    with m.If(~head.a_counter):
                        m.d.comb += [take.eq(1), issue_late.eq(Late.DROP)]
                    with m.Elif(rdata_room & spikes_idle & counts_settled):
                        m.d.comb += [take.eq(1), issue_late.eq(Late.COUNTER)]
                    with m.Else():
                        m.d.comb += waiting.eq(1)
                with m.If(is_op(Op.CLEAR)):
                    with m.If(spikes_idle & counts_settled):
                        m.d.comb += [take.eq(1), issue_late.eq(Late.CLEAR)]
                    with m.Else():
                        m.d.comb += waiting.eq(1)
                with m.If(head.is_op == 0):             # unknown op
                    m.d.comb += [take.eq(1), issue_late.eq(Late.DROP)]

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
                m.d.comb += [bubble.eq(1), busy.eq(1)]
                m.d.sync += bubbles_left.eq(bubbles_left - 1)
                with m.If(bubbles_left == 0):
                    m.d.sync += walk.eq(Walk.CHECK)
            with m.Case(Walk.CHECK):
                # A bubble of its own: the overflow flags' OR tree then only steers the walk.
                m.d.comb += [bubble.eq(1), busy.eq(1)]
                with m.If(columns.any_overflow):
                    m.d.sync += [walk.eq(Walk.FIXUP), s.eq(0)]
                with m.Else():
                    m.d.sync += walk.eq(Walk.IDLE)

        # Read addresses: the walk's next rows, or the head command's rows whether or not it
        # is taken this cycle (a read of a command that waits is simply not used).
        walking = walk.as_value().matches(Walk.ACC, Walk.FIXUP, Walk.COMPARE, Walk.RESET)
        head_is_acc = is_op(Op.ACC)
        read_v_addr, read_o_addr = array.read_addr
        m.d.comb += [
            queue.r_en.eq(take),
            data_queue.r_en.eq(take),
            read_v_addr.eq(Mux(walking, v_next, Mux(head_is_acc, b, a))),
            read_o_addr.eq(Mux(walking, o_next, Mux(head_is_acc, a, b))),
        ]
        m.d.sync += [
            at_r.step.eq(issue_step),
            at_r.slice.eq(issue_slice),
            at_r.late.eq(issue_late),
            at_r.row.eq(issue_row),
            at_r.o_row.eq(issue_o_row),
            data_r.eq(row_data),
            at_r.index.eq(a),
            at_r.acc_event.eq(issue_event),
            at_f.eq(at_r),
            at_b.eq(at_f),
            data_f.eq(data_r),
            data_b.eq(data_f),
        ]

        # -- stage R: the array registers the rows read, straight from the block RAM -------
        raw_v, raw_o = array.read_data

        # -- stage F: forward the writes the array missed, into the row registers ----------
        # A row read at issue (cycle t) misses the writes landing at the end of t (the slice
        # now in stage B), t + 1 (now in F) and t + 2 (now in R, written while this read is
        # in F: `array.write_data` itself). Whether each of them writes the row read is compared at
        # issue and registered down to stage F, where it picks one of four rows.
        rd_v = Signal(cols, reset_less=True)
        rd_o = Signal(cols, reset_less=True)
        last_write = Signal(cols, reset_less=True)
        older_write = Signal(cols, reset_less=True)
        m.d.sync += [last_write.eq(array.write_data), older_write.eq(last_write)]
        writes = lambda at: (at.late == Late.LOAD) | at.step.as_value().matches(
            Step.ACC, Step.FIXUP, Step.RESET)

        def forwarded(read_addr, from_array, name):
            hits = []
            for writer, when in ((at_r, "now"), (at_f, "last"), (at_b, "older")):
                at_issue = Signal(name=f"{name}_hit_{when}_r")
                hit = Signal(name=f"{name}_hit_{when}")
                m.d.sync += [at_issue.eq(writes(writer) & (writer.row == read_addr)),
                             hit.eq(at_issue)]
                hits.append(hit)
            now, last, older = hits
            return Mux(now, array.write_data, Mux(last, last_write, Mux(older, older_write,
                                                                 from_array)))

        if self.forwarding:
            m.d.sync += [rd_v.eq(forwarded(read_v_addr, raw_v, "v")),
                         rd_o.eq(forwarded(read_o_addr, raw_o, "o"))]
        else:
            m.d.sync += [rd_v.eq(raw_v), rd_o.eq(raw_o)]
        # The column datapath registers its flags for stage B from stage F's step and slice.
        b_load = Signal()
        m.d.sync += b_load.eq(at_f.late == Late.LOAD)
        m.d.comb += [columns.next_step.eq(at_f.step), columns.next_slice.eq(at_f.slice)]

        # -- stage B: execute --------------------------------------------------------------
        slice_op = b_step != Step.NONE
        m.d.comb += [
            columns.v_row.eq(rd_v),
            columns.o_row.eq(rd_o),
            columns.load.eq(b_load),
            columns.load_data.eq(b_data),
            array.write_addr.eq(b_row),
            array.write_data.eq(columns.wdata),
            array.write_en.eq(writes(at_b)),
        ]

        counters = Array(Signal(p.counter_width, name=f"count_{c.name.lower()}")
                         for c in Counter)

        # Column counts are a popcount of every column: a pipelined adder tree, a few cycles
        # behind stage B. COUNTER and CLEAR wait until no slice is on its way to the counters
        # (`counts_settled`, from registers), so a read sees every slice before it.
        active_count, idle_count, counting = popcount_pipeline(
            m, "active", columns.active, slice_op)
        m.d.comb += counts_settled.eq(drained & ~Cat(*counting).any())

        load_spikes = (b_step == Step.RESET) & (b_slice == 0)
        m.d.comb += [serializer.load.eq(load_spikes), serializer.mask.eq(columns.fired)]
        with m.If(load_spikes):
            m.d.sync += fire_pending.eq(0)

        increments = {
            Counter.ACC_EVENTS: b_acc_event,
            Counter.ACC_SLICES: (b_step == Step.ACC) | (b_step == Step.FIXUP),
            Counter.FIRE_SLICES: (b_step == Step.COMPARE) | (b_step == Step.RESET),
            Counter.ACTIVE_COLS: active_count,
            Counter.IDLE_COLS: idle_count,
            Counter.LOADS: b_late == Late.LOAD,
            Counter.STORES: b_late == Late.STORE,
            Counter.SPIKES: self.spike.valid & self.spike.ready,
            Counter.DROPPED: b_late == Late.DROP,
            Counter.BUBBLES: bubble,
            Counter.BUSY: busy,
            Counter.WAITS: waiting,
        }
        # Stage-A events land three cycles late, in step with stage B: a CLEAR (in stage B)
        # then starts them from the command after it, and a COUNTER never counts its own cycle.
        for counter in (Counter.BUBBLES, Counter.BUSY, Counter.WAITS):
            late = increments[counter]
            for stage in ("r", "f", "b"):
                delayed = Signal(name=f"{stage}_{counter.name.lower()}")
                m.d.sync += delayed.eq(late)
                late = delayed
            increments[counter] = late
        for counter, increment in increments.items():
            reg = counters[counter]
            m.d.sync += reg.eq(Mux(b_late == Late.CLEAR, 0, reg + increment))
        m.d.comb += [
            rqueue.w_en.eq(reads(at_b.late)),
            rqueue.w_data.eq(Mux(b_late == Late.STORE, rd_v, counters[b_index])),
        ]
        return m
