"""FlexSpIM-style event-driven digital CIM macro (contract: `cimforge.golden.cim`).

Four-stage pipeline, one row slice per clock, each stage a component of its own:

* **Issue** (stage A, `IssueStage`) takes commands from the `CommandQueue` (decoded on their
  way in), checks them (bad ones are dropped and counted), and walks ACC/FIRE commands one row
  slice per clock, presenting the two rows to read (membrane row, and weight or threshold row).
  PLANE and COMMIT go to the `MacroConfig`.
* **Read** (stage R): the `RowArray` returns the rows into registers, with no logic after the
  block RAM (its clock-to-out is most of a cycle at 100 MHz on the ECP5).
* **Forward** (stage F, `RowForwarding`): writes the array has not returned yet replace the
  rows read; the result is registered for stage B.
* **Execute** (stage B) runs the column datapath (`CimColumns`) and writes the membrane slice
  back; it also does LOAD writes, STORE/COUNTER read-outs and the `MacroCounters` updates, so
  every command's effects land in order. FIRE's fired lanes go to the `SpikeSerializer`
  through a queue of `fire_queue` masks, so back-to-back FIREs need not wait for each other's
  spikes.

The array has one write port and two read ports. A row read up to three cycles before a write
to it lands would be stale, so stage F forwards: back-to-back ACCs on the same membrane rows,
FIRE right after ACC and LOAD over a row in use need no stall. COMMIT waits until no slice is
in flight, so a slice always runs under the configuration it was issued in.

Timing (the >= 100 MHz ECP5 target): every decision is taken from registers. The read-data
room and the spike serializer's idle flag are registered here; the column counts go through a
pipelined adder tree, and COUNTER/CLEAR wait until it has drained (counted as WAITS). Each
component's docstring says what it registers and why.

Reset (`rst`) reaches control state only: valid bits, queues, counters, the walk. The array,
the row registers and the configuration keep their values (a reset on every flip-flop was a
chip-wide routing net that most placements of the 256-column macro could not route).
"""

from amaranth.hdl import Cat, Module, Mux, Signal
from amaranth.lib import stream, wiring
from amaranth.lib.fifo import SyncFIFO
from amaranth.lib.wiring import In, Out, connect, flipped

from ...params.cim_macro import COMMIT_FLAGS, CimMacroParams
from ..common.wire import struct_layout
from .columns import CimColumns, Step, popcount_pipeline
from .command_queue import CommandQueue
from .config import MacroConfig
from .counters import MacroCounters
from .forwarding import RowForwarding
from .issue import IssueStage, Late, issued_layout
from .row_array import RowArray
from .spike_serializer import SpikeSerializer


class CimMacro(wiring.Component):
    """The CIM macro: a `rows` x `cols` bit array holding weights, membranes and thresholds,
    and the column datapath that runs commands on it one row slice per clock.

    Parameters: `params` (`CimMacroParams`); `forwarding=False` builds a variant without
    stage F, only to measure what forwarding costs (`make bench`): it is wrong whenever a row
    is read within three cycles of a write to it.

    Attributes:
    * `cmd` (in): commands, `params.command_format` (`Op`: NOP, LOAD, STORE, ACC, FIRE, PLANE,
      COMMIT, COUNTER, CLEAR). Bad commands (rows out of range, unknown ops, a configuration
      whose lanes are invalid) are dropped and counted (`Counter.DROPPED`); nothing hangs;
    * `rdata` (out): STORE rows and COUNTER values, in command order;
    * `spike` (out): the MSB column of every lane a FIRE fired, lowest first.
    """

    def __init__(self, params: CimMacroParams, *, forwarding: bool = True):
        if not isinstance(params, CimMacroParams):
            raise TypeError(f"CimMacro needs CimMacroParams, got {type(params).__name__}")
        self.params = params
        self.forwarding = forwarding
        super().__init__({
            "cmd": In(stream.Signature(struct_layout(params.command_format))),
            "rdata": Out(stream.Signature(params.data_width)),
            "spike": Out(stream.Signature(params.col_bits)),
        })

    def elaborate(self, platform):
        m = Module()
        p = self.params
        cols = p.cols

        m.submodules.commands = commands = CommandQueue(p)
        m.submodules.issue = issue = IssueStage(p)
        m.submodules.config = config = MacroConfig(p)
        m.submodules.array = array = RowArray(p.rows, cols)
        m.submodules.columns = columns = CimColumns(p)
        m.submodules.serializer = serializer = SpikeSerializer(cols)
        m.submodules.counters = counters = MacroCounters(p)
        m.submodules.rdata_queue = rqueue = SyncFIFO(width=p.data_width, depth=p.rdata_depth)
        connect(m, flipped(self.cmd), commands.cmd)
        connect(m, commands.head, issue.head)
        connect(m, serializer.spikes, flipped(self.spike))
        m.d.comb += [self.rdata.payload.eq(rqueue.r_data), self.rdata.valid.eq(rqueue.r_rdy),
                     rqueue.r_en.eq(self.rdata.ready)]

        # -- stage A (`IssueStage`) and the pipeline registers of stages R, F and B ----------
        at_r, at_f, at_b = (Signal(issued_layout(p), name=f"at_{s}") for s in "rfb")
        # The row data of a LOAD or PLANE rides along beside them, not reset (the step fields
        # say whether it is used).
        data_r, data_f, data_b = (Signal(cols, name=f"data_{s}", reset_less=True) for s in "rfb")
        m.d.sync += [at_r.eq(issue.issue), at_f.eq(at_r), at_b.eq(at_f),
                     data_r.eq(commands.row_data), data_f.eq(data_r), data_b.eq(data_f)]

        reads = lambda late: (late == Late.STORE) | (late == Late.COUNTER)
        writes = lambda at: (at.late == Late.LOAD) | at.step.as_value().matches(
            Step.ACC, Step.FIXUP, Step.RESET)
        drained = (at_r.step == Step.NONE) & (at_f.step == Step.NONE) & (at_b.step == Step.NONE)
        # The issue stage's other conditions come from registers. Read-data words reserved
        # (issued STORE/COUNTERs not yet taken from the queue): room for one more?
        reserved = Signal(range(p.rdata_depth + 1))
        m.d.sync += reserved.eq(reserved + reads(issue.issue.late)
                                - (self.rdata.valid & self.rdata.ready))
        # FIREs issued whose fired-lane mask the serializer has not taken yet. With a mask
        # queue (`fire_queue` > 0) a FIRE may issue while earlier spikes still go out; it waits
        # only when every slot is promised. (A FIRE walks for at least two cycles, so the
        # count has caught up by the next one.) Without, it waits for `spikes_idle`.
        fired = Signal()                  # stage B: a FIRE's `columns.fired` is ready
        masks_owed = Signal(range(max(p.fire_queue, 1) + 1))
        if p.fire_queue:
            m.submodules.masks = masks = SyncFIFO(width=cols, depth=p.fire_queue)
            # A mask that finds the queue empty and the serializer idle goes straight in (a
            # cycle sooner than through the queue, as without one).
            from_queue = masks.r_rdy & serializer.idle
            direct = fired & serializer.idle & ~masks.r_rdy
            to_serializer = direct | from_queue
            m.d.comb += [masks.w_en.eq(fired & ~direct), masks.w_data.eq(columns.fired),
                         masks.r_en.eq(from_queue),
                         serializer.mask.eq(Mux(masks.r_rdy, masks.r_data, columns.fired))]
        else:
            to_serializer = fired
            m.d.comb += serializer.mask.eq(columns.fired)
        m.d.comb += serializer.load.eq(to_serializer)
        m.d.sync += masks_owed.eq(masks_owed + issue.fire - to_serializer)
        # No spike pending, as of the previous cycle (a FIRE keeps the walk busy for at least
        # that long, and `masks_owed` covers it until its spikes are in the serializer).
        spikes_idle = Signal()
        m.d.sync += spikes_idle.eq(serializer.idle & (masks_owed == 0))
        # Column counts are a popcount of every column: a pipelined adder tree, a few cycles
        # behind stage B. COUNTER and CLEAR wait until no slice is on its way to the counters,
        # so a read sees every slice before it.
        active_count, idle_count, counting = popcount_pipeline(
            m, "active", columns.active, at_b.step != Step.NONE)
        head = commands.head.payload
        m.d.comb += [
            issue.walk_length.eq(config.walk_length),
            issue.last_start.eq(config.last_start),
            issue.saturate.eq(config.saturate),
            issue.config_settled.eq(config.settled),
            issue.modes_ok.eq(config.modes_ok),
            issue.rdata_room.eq(reserved < p.rdata_depth),
            issue.spikes_idle.eq(spikes_idle),
            issue.mask_room.eq(masks_owed < p.fire_queue if p.fire_queue else spikes_idle),
            issue.counts_settled.eq(drained & ~Cat(*counting).any()),
            issue.drained.eq(drained),
            issue.any_overflow.eq(columns.any_overflow),
            config.write_plane.eq(issue.write_plane),
            config.plane.eq(head.a),
            config.plane_data.eq(data_r),            # the PLANE's row, a cycle after issue
            config.commit.eq(issue.commit),
            config.slices_minus_1.eq(head.a),
            config.flags.eq(head.b[:COMMIT_FLAGS.size]),
        ]

        # -- stage R: the array registers the rows read, straight from the block RAM -------
        # -- stage F: forward the writes the array missed, into the row registers ----------
        m.d.comb += [array.read_addr[i].eq(issue.read_addr[i]) for i in range(2)]
        if self.forwarding:
            m.submodules.forwarding = forwarding = RowForwarding(cols, p.addr_width)
            m.d.comb += [forwarding.read_addr.eq(issue.read_addr),
                         forwarding.raw.eq(Cat(*array.read_data)),
                         forwarding.write_data.eq(array.write_data)]
            for writer, at in zip(forwarding.writers, (at_r, at_f, at_b)):
                m.d.comb += [writer.en.eq(writes(at)), writer.row.eq(at.row)]
            rd_v, rd_o = forwarding.rows
        else:
            rd_v, rd_o = (Signal(cols, name=f"rd_{port}", reset_less=True) for port in "vo")
            m.d.sync += [rd_v.eq(array.read_data[0]), rd_o.eq(array.read_data[1])]
        # The column datapath registers its flags for stage B from stage F's step and slice.
        b_load = Signal()
        m.d.sync += b_load.eq(at_f.late == Late.LOAD)

        # -- stage B: execute --------------------------------------------------------------
        m.d.comb += fired.eq((at_b.step == Step.RESET) & (at_b.slice == 0))
        m.d.comb += [
            columns.config.eq(config.config),
            columns.saturate.eq(config.saturate),
            columns.subtract.eq(config.subtract),
            columns.next_step.eq(at_f.step),
            columns.next_slice.eq(at_f.slice),
            columns.v_row.eq(rd_v),
            columns.o_row.eq(rd_o),
            columns.load.eq(b_load),
            columns.load_data.eq(data_b),
            array.write_addr.eq(at_b.row),
            array.write_data.eq(columns.wdata),
            array.write_en.eq(writes(at_b)),
        ]

        # Stage-A events land three cycles late, in step with stage B: a CLEAR (in stage B)
        # then starts them from the command after it, and a COUNTER never counts its own cycle.
        def in_stage_b(event, name):
            for stage in "rfb":
                delayed = Signal(name=f"{stage}_{name}")
                m.d.sync += delayed.eq(event)
                event = delayed
            return event

        increments = counters.increments
        m.d.comb += [
            increments.acc_events.eq(at_b.acc_event),
            increments.acc_slices.eq(at_b.step.as_value().matches(Step.ACC, Step.FIXUP)),
            increments.fire_slices.eq(at_b.step.as_value().matches(Step.COMPARE, Step.RESET)),
            increments.active_cols.eq(active_count),
            increments.idle_cols.eq(idle_count),
            increments.loads.eq(at_b.late == Late.LOAD),
            increments.stores.eq(at_b.late == Late.STORE),
            increments.spikes.eq(self.spike.valid & self.spike.ready),
            increments.dropped.eq(at_b.late == Late.DROP),
            increments.bubbles.eq(in_stage_b(issue.bubble, "bubbles")),
            increments.busy.eq(in_stage_b(issue.busy, "busy")),
            increments.waits.eq(in_stage_b(issue.waiting, "waits")),
            counters.clear.eq(at_b.late == Late.CLEAR),
            counters.index.eq(at_b.index),
            rqueue.w_en.eq(reads(at_b.late)),
            rqueue.w_data.eq(Mux(at_b.late == Late.STORE, rd_v, counters.value)),
        ]
        return m
