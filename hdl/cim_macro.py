"""FlexSpIM-style event-driven digital CIM macro (contract: `cimforge.golden.cim_macro`).

Three-stage pipeline, one row slice per clock:

* **Issue** (stage A) takes commands from the queue, checks them (bad ones are dropped and
  counted), and walks ACC/FIRE commands one row slice per clock, presenting the two rows to
  read (membrane row, and weight or threshold row).
* **Read** (stage R): the array returns the rows; they are registered, which keeps block RAM
  clock-to-out off the adder's path.
* **Execute** (stage B) runs the column datapath (`CimColumns`) and writes the membrane slice
  back; it also does LOAD writes, STORE/COUNTER read-outs and counter updates, so every
  command's effects land in order.

The array is one `amaranth.lib.memory.Memory` with one write port and two read ports. A row
read one or two cycles before a write to it lands would be stale, so the read registers take
the data of this cycle's write or of the previous cycle's write when the row matches
(forwarding): back-to-back ACCs on the same membrane rows, FIRE right after ACC and LOAD over
a row in use need no stall. On FPGAs the two read ports become two copies of the array in
block RAM (yosys replicates a 2R1W memory); see README for the measured cost. COMMIT waits
until no slice is in flight, so a slice always runs under the configuration it was issued in.
"""

from amaranth.hdl import Array, Cat, Module, Mux, Signal, Value
from amaranth.lib import data, enum, stream, wiring
from amaranth.lib.fifo import SyncFIFO, SyncFIFOBuffered
from amaranth.lib.memory import Memory
from amaranth.lib.wiring import In, Out, flipped

from ..golden.cim_macro import LSB, MSB, PROP, Counter, Op, plane_count
from ..params.cim_macro import CimMacroParams
from .cim_columns import CimColumns, Step, column_config
from .spike_serializer import SpikeSerializer


class Walk(enum.Enum, shape=4):
    IDLE = 0
    ACC = 1
    FIXUP = 2
    COMPARE = 3
    RESET = 4
    BUBBLE = 5     # saturate mode: wait (two cycles) for the last slice's overflow flags
    BUBBLE2 = 6
    CHECK = 7      # saturate mode: fix up if a lane overflowed, else behave as IDLE


class Late(enum.Enum, shape=3):
    """Non-slice work for stage B."""
    NONE = 0
    LOAD = 1
    STORE = 2
    COUNTER = 3
    CLEAR = 4
    DROP = 5


def modes_valid(mode: list, lane_limit: int) -> Value:
    """The rules of a valid mode vector (see the golden model), AND-reduced: the local ones,
    and no lane wider than `lane_limit`, i.e. no `lane_limit` consecutive columns that each
    open a lane towards the next (LSB or PROP)."""
    cols = len(mode)
    ok = []
    opens = [(mode[c] == LSB) | (mode[c] == PROP) for c in range(cols)]
    for c in range(cols):
        nxt = mode[c + 1] if c + 1 < cols else 0
        prev = mode[c - 1] if c else 0
        ok.append(~opens[c] | (nxt == PROP) | (nxt == MSB))
        ok.append((mode[c] != PROP) | (prev == LSB) | (prev == PROP))
    if lane_limit < cols:
        # runs[k][c]: columns c .. c + 2**k - 1 all open; any window is two such runs.
        runs, width = [opens], 1
        while 2 * width <= lane_limit:
            last = runs[-1]
            runs.append([last[c] & last[c + width] for c in range(len(last) - width)])
            width *= 2
        last = runs[-1]
        shift = lane_limit - width
        ok += [~(last[c] & last[c + shift]) for c in range(len(last) - shift)]
    return Cat(*ok).all()


class CimMacro(wiring.Component):
    """Streams: `cmd` in (encoded commands), `rdata` out (STORE rows, counter values),
    `spike` out (MSB column index of each fired lane)."""

    def __init__(self, params: CimMacroParams):
        if not isinstance(params, CimMacroParams):
            raise TypeError(f"CimMacro needs CimMacroParams, got {type(params).__name__}")
        self.params = params
        super().__init__({
            "cmd": In(stream.Signature(params.cmd_width)),
            "rdata": Out(stream.Signature(params.data_width)),
            "spike": Out(stream.Signature(params.col_bits)),
        })

    def elaborate(self, platform):
        m = Module()
        p = self.params
        cols, aw, sb = p.cols, p.addr_width, p.slice_bits

        # -- command queue and fields of the head command --------------------------------
        m.submodules.cmd_queue = queue = SyncFIFOBuffered(width=p.cmd_width, depth=p.cmd_depth)
        m.d.comb += [queue.w_data.eq(self.cmd.payload), queue.w_en.eq(self.cmd.valid),
                     self.cmd.ready.eq(queue.w_rdy)]
        head = queue.r_data
        op, a, b = head[0:4], head[4:4 + aw], head[4 + aw:4 + 2 * aw]
        row_data = head[4 + 2 * aw:]

        # -- array, column datapath, outputs ---------------------------------------------
        m.submodules.array = array = Memory(shape=cols, depth=p.rows, init=[])
        write = array.write_port()
        read_v = array.read_port()
        read_o = array.read_port()
        m.submodules.columns = columns = CimColumns(p)
        m.submodules.serializer = serializer = SpikeSerializer(cols)
        wiring.connect(m, serializer.spikes, flipped(self.spike))
        m.submodules.rdata_queue = rqueue = SyncFIFO(width=p.data_width,
                                                             depth=p.rdata_depth)
        m.d.comb += [self.rdata.payload.eq(rqueue.r_data), self.rdata.valid.eq(rqueue.r_rdy),
                     rqueue.r_en.eq(self.rdata.ready)]

        # -- configuration: shadow planes, committed configuration -------------------------
        planes = plane_count(p)
        shadow = Signal(data.ArrayLayout(cols, planes))
        config = Signal(column_config(p))
        walk_length = Signal(range(p.max_slices + 1), init=1)
        # The last row a walk may start at, kept with the walk length: the bounds check of a
        # command is then one comparison, not an addition and a comparison.
        last_start = Signal(range(p.rows), init=p.rows - 1)
        saturate = Signal()
        subtract = Signal()
        shadow_mode = [Cat(shadow[0][c], shadow[1][c]) for c in range(cols)]
        m.d.comb += [columns.config.eq(config), columns.saturate.eq(saturate),
                     columns.subtract.eq(subtract)]

        # -- stage A: issue ----------------------------------------------------------------
        walk = Signal(Walk)
        s = Signal(sb)
        v_base = Signal(aw)
        o_base = Signal(aw)
        fire_pending = Signal()        # a FIRE whose spikes are not yet in the serializer

        # What a command carries down the pipeline, registered once per stage (R, then B).
        carried = data.StructLayout({
            "step": Step, "slice": sb, "late": Late, "row": aw, "o_row": aw, "data": cols,
            "index": range(len(Counter)), "acc_event": 1,
        })
        at_r = Signal(carried)
        at_b = Signal(carried)
        b_step, b_slice, b_late, b_row = at_b.step, at_b.slice, at_b.late, at_b.row
        b_data, b_index, b_acc_event = at_b.data, at_b.index, at_b.acc_event

        issue_step = Signal(Step)
        issue_slice = Signal(sb)
        issue_late = Signal(Late)
        issue_event = Signal()
        issue_row = Signal(aw)          # membrane row (or LOAD/STORE row)
        issue_o_row = Signal(aw)        # weight/threshold row
        take = Signal()
        waiting = Signal()
        bubble = Signal()
        busy = Signal()

        last = s == walk_length - 1
        fits = lambda row: row <= last_start
        reads = lambda late: (late == Late.STORE) | (late == Late.COUNTER)
        inflight_reads = reads(at_r.late) + reads(at_b.late)
        rdata_room = rqueue.level + inflight_reads < p.rdata_depth
        drained = (at_r.step == Step.NONE) & (at_b.step == Step.NONE)
        spikes_idle = serializer.idle & ~fire_pending

        def after_walk(step):
            """Where a walk of `step` goes after its last slice."""
            if step == Step.ACC:
                with m.If(saturate):
                    m.d.sync += walk.eq(Walk.BUBBLE)
                with m.Else():
                    m.d.sync += walk.eq(Walk.IDLE)
            elif step == Step.COMPARE:
                m.d.sync += walk.eq(Walk.RESET)
            else:
                m.d.sync += walk.eq(Walk.IDLE)
            m.d.sync += s.eq(0)

        def walk_slice(step):
            m.d.comb += [issue_step.eq(step), issue_slice.eq(s), busy.eq(1),
                         issue_row.eq(v_base + s), issue_o_row.eq(o_base + s)]
            with m.If(last):
                after_walk(step)
            with m.Else():
                m.d.sync += s.eq(s + 1)

        def start_walk(step, walk_state, v_row, o_row):
            """Issue slice 0 now and walk the rest from the next cycle."""
            m.d.comb += [issue_step.eq(step), issue_slice.eq(0), issue_row.eq(v_row),
                         issue_o_row.eq(o_row)]
            m.d.sync += [v_base.eq(v_row), o_base.eq(o_row)]
            with m.If(walk_length == 1):
                after_walk(step)
            with m.Else():
                m.d.sync += [walk.eq(walk_state), s.eq(1)]

        def accept_command():
            with m.If(queue.r_rdy):
                m.d.comb += busy.eq(1)
                with m.Switch(op):
                    with m.Case(Op.NOP):
                        m.d.comb += take.eq(1)
                    with m.Case(Op.LOAD):
                        m.d.comb += [take.eq(1), issue_row.eq(a)]
                        with m.If(a < p.rows):
                            m.d.comb += issue_late.eq(Late.LOAD)
                        with m.Else():
                            m.d.comb += issue_late.eq(Late.DROP)
                    with m.Case(Op.STORE):
                        with m.If(a >= p.rows):
                            m.d.comb += [take.eq(1), issue_late.eq(Late.DROP)]
                        with m.Elif(rdata_room):
                            m.d.comb += [take.eq(1), issue_late.eq(Late.STORE), issue_row.eq(a)]
                        with m.Else():
                            m.d.comb += waiting.eq(1)
                    with m.Case(Op.ACC):
                        m.d.comb += take.eq(1)
                        with m.If(fits(a) & fits(b)):
                            m.d.comb += issue_event.eq(1)
                            start_walk(Step.ACC, Walk.ACC, b, a)
                        with m.Else():
                            m.d.comb += issue_late.eq(Late.DROP)
                    with m.Case(Op.FIRE):
                        with m.If(~(fits(a) & fits(b))):
                            m.d.comb += [take.eq(1), issue_late.eq(Late.DROP)]
                        with m.Elif(spikes_idle):
                            m.d.comb += take.eq(1)
                            m.d.sync += fire_pending.eq(1)
                            start_walk(Step.COMPARE, Walk.COMPARE, a, b)
                        with m.Else():
                            m.d.comb += waiting.eq(1)
                    with m.Case(Op.PLANE):
                        m.d.comb += take.eq(1)
                        with m.If(a < planes):
                            m.d.sync += shadow[a].eq(row_data)
                        with m.Else():
                            m.d.comb += issue_late.eq(Late.DROP)
                    with m.Case(Op.COMMIT):
                        with m.If(~drained):
                            m.d.comb += waiting.eq(1)
                        with m.Elif((a < p.max_slices) & modes_valid(shadow_mode, p.lane_limit)):
                            m.d.comb += take.eq(1)
                            m.d.sync += [
                                walk_length.eq(a + 1),
                                last_start.eq(p.rows - 1 - a),
                                saturate.eq(b[0]),
                                subtract.eq(b[1]),
                                config.pad.eq(shadow[2]),
                            ]
                            for c in range(cols):
                                m.d.sync += [
                                    config.mode[c].eq(shadow_mode[c]),
                                    config.vlast[c].eq(Cat(shadow[3 + i][c] for i in range(sb))),
                                    config.wlast[c].eq(Cat(shadow[3 + sb + i][c]
                                                           for i in range(sb))),
                                ]
                        with m.Else():
                            m.d.comb += [take.eq(1), issue_late.eq(Late.DROP)]
                    with m.Case(Op.COUNTER):
                        with m.If(a >= len(Counter)):
                            m.d.comb += [take.eq(1), issue_late.eq(Late.DROP)]
                        with m.Elif(rdata_room & spikes_idle):
                            m.d.comb += [take.eq(1), issue_late.eq(Late.COUNTER)]
                        with m.Else():
                            m.d.comb += waiting.eq(1)
                    with m.Case(Op.CLEAR):
                        with m.If(spikes_idle):
                            m.d.comb += [take.eq(1), issue_late.eq(Late.CLEAR)]
                        with m.Else():
                            m.d.comb += waiting.eq(1)
                    with m.Default():
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
                m.d.sync += walk.eq(Walk.BUBBLE2)
            with m.Case(Walk.BUBBLE2):
                m.d.comb += [bubble.eq(1), busy.eq(1)]
                m.d.sync += walk.eq(Walk.CHECK)
            with m.Case(Walk.CHECK):
                with m.If(columns.any_overflow):
                    m.d.comb += [bubble.eq(1), busy.eq(1)]
                    m.d.sync += [walk.eq(Walk.FIXUP), s.eq(0)]
                with m.Else():
                    m.d.sync += walk.eq(Walk.IDLE)
                    accept_command()

        m.d.comb += [
            queue.r_en.eq(take),
            read_v.addr.eq(issue_row),
            read_o.addr.eq(issue_o_row),
        ]
        m.d.sync += [
            at_r.step.eq(issue_step),
            at_r.slice.eq(issue_slice),
            at_r.late.eq(issue_late),
            at_r.row.eq(issue_row),
            at_r.o_row.eq(issue_o_row),
            at_r.data.eq(row_data),
            at_r.index.eq(a),
            at_r.acc_event.eq(issue_event),
            at_b.eq(at_r),
        ]

        # -- stage R: register the rows read, forwarding writes the array has not returned --
        rd_v = Signal(cols)
        rd_o = Signal(cols)
        last_write = Signal(data.StructLayout({"en": 1, "addr": aw, "data": cols}))
        m.d.sync += [last_write.en.eq(write.en), last_write.addr.eq(write.addr),
                     last_write.data.eq(write.data)]

        def forwarded(row, from_array):
            return Mux(write.en & (write.addr == row), write.data,
                       Mux(last_write.en & (last_write.addr == row), last_write.data,
                           from_array))

        m.d.sync += [rd_v.eq(forwarded(at_r.row, read_v.data)),
                     rd_o.eq(forwarded(at_r.o_row, read_o.data))]
        m.d.comb += columns.issue_slice.eq(at_r.slice)      # flags registered on the way to B

        # -- stage B: execute --------------------------------------------------------------
        slice_op = b_step != Step.NONE
        m.d.comb += [
            columns.step.eq(b_step),
            columns.v_row.eq(rd_v),
            columns.o_row.eq(rd_o),
            write.addr.eq(b_row),
            write.data.eq(Mux(b_late == Late.LOAD, b_data, columns.wdata)),
            write.en.eq((b_late == Late.LOAD) | (b_step == Step.ACC) | (b_step == Step.FIXUP) |
                        (b_step == Step.RESET)),
        ]

        counters = Array(Signal(p.counter_width, name=f"count_{c.name.lower()}")
                         for c in Counter)

        load_spikes = (b_step == Step.RESET) & (b_slice == 0)
        m.d.comb += [serializer.load.eq(load_spikes), serializer.mask.eq(columns.fired)]
        with m.If(load_spikes):
            m.d.sync += fire_pending.eq(0)

        increments = {
            Counter.ACC_EVENTS: b_acc_event,
            Counter.ACC_SLICES: (b_step == Step.ACC) | (b_step == Step.FIXUP),
            Counter.FIRE_SLICES: (b_step == Step.COMPARE) | (b_step == Step.RESET),
            Counter.ACTIVE_COLS: Mux(slice_op, columns.active, 0),
            Counter.IDLE_COLS: Mux(slice_op, cols - columns.active, 0),
            Counter.LOADS: b_late == Late.LOAD,
            Counter.STORES: b_late == Late.STORE,
            Counter.SPIKES: self.spike.valid & self.spike.ready,
            Counter.DROPPED: b_late == Late.DROP,
            Counter.BUBBLES: bubble,
            Counter.BUSY: busy,
            Counter.WAITS: waiting,
        }
        # Stage-A events land two cycles late, in step with stage B: a CLEAR (in stage B) then
        # starts them from the command after it, and a COUNTER never counts its own cycle.
        for counter in (Counter.BUBBLES, Counter.BUSY, Counter.WAITS):
            late = increments[counter]
            for stage in ("r", "b"):
                delayed = Signal(name=f"{stage}_{counter.name.lower()}")
                m.d.sync += delayed.eq(late)
                late = delayed
            increments[counter] = late
        # Column counts are a popcount of every column: register them before they are added,
        # off the adder's carry chain. A read adds the count still pending, so a COUNTER sees
        # every slice before it, and a CLEAR drops it with the rest.
        pending = {}
        for counter in (Counter.ACTIVE_COLS, Counter.IDLE_COLS):
            pending[counter] = Signal(range(cols + 1), name=f"pending_{counter.name.lower()}")
            m.d.sync += pending[counter].eq(increments[counter])
            increments[counter] = pending[counter]
        for counter, increment in increments.items():
            reg = counters[counter]
            m.d.sync += reg.eq(Mux(b_late == Late.CLEAR, 0, reg + increment))
        readable = Array((counters[c] + pending[c])[:p.counter_width] if c in pending
                         else counters[c] for c in Counter)
        m.d.comb += [
            rqueue.w_en.eq(reads(at_b.late)),
            rqueue.w_data.eq(Mux(b_late == Late.STORE, rd_v, readable[b_index])),
        ]
        return m
