"""One core of the FlexSpIM accelerator: a CIM macro and the controller that turns a
timestep's events into its commands (contract: `cimforge.golden.snn.CoreModel`).

Per layer the controller configures the macro (PLANE rows from the buffer, COMMIT), then runs
the layer chunk by chunk of membrane groups (one chunk when they are resident): LOAD the
chunk's membranes and thresholds from the buffer (chunked only), ACC the bias, replay the
layer's events through `EventDecoder` and `TapWalker` (ACC per tap and channel group; an `os`
layer LOADs each weight operand from the buffer first), FIRE each group (fenced by a COUNTER
read), STORE the membranes back (chunked only). Fired lanes become the next layer's events,
pooled and encoded as it takes them (`event_format`), or leave on the spike port.

A descriptor with a zero count or size is refused when its layer comes up (skipped, counted in
`refused`): every loop then provably ends.
"""

from amaranth.hdl import Array, Cat, Module, Mux, Signal
from amaranth.lib import data, stream, wiring
from amaranth.lib.memory import Memory
from amaranth.lib.wiring import In, Out

from ...params.cim_macro import Counter, Op
from ...params.snn import CoreCounter, HostOp, SnnCoreParams
from ..cim.macro import CimMacro
from ..common.wire import struct_layout
from .events import EventDecoder, TapWalker, step_width
from .queues import EventQueues
from .spikes import SpikeEncoder


class SnnCore(wiring.Component):
    """Attributes:
    * `host` (in): host commands (`params.host_format`, `HostOp`);
    * `spike` (out): the last layer's spikes, then an end marker per timestep
      (`params.spike_format`);
    * `rdata` (out): read-data of the host's MACRO, COUNTER and READ commands, in order;
    * `dropped`, `refused` (out): the `CoreCounter`s of those names.

    At the top level (`AxisTop`) a timestep's spikes are one AXI4-Stream frame: `tlast` on its
    end marker (`axis_last`).
    """

    axis_last = {"spike": "end"}

    def __init__(self, params: SnnCoreParams):
        if not isinstance(params, SnnCoreParams):
            raise TypeError(f"SnnCore needs SnnCoreParams, got {type(params).__name__}")
        self.params = params
        self.macro = CimMacro(params.macro)
        super().__init__({
            "host": In(stream.Signature(struct_layout(params.host_format))),
            "spike": Out(stream.Signature(struct_layout(params.spike_format))),
            "rdata": Out(stream.Signature(params.macro.data_width)),
            "dropped": Out(32),
            "refused": Out(32),
        })

    def elaborate(self, platform):
        m = Module()
        p = self.params
        mp = p.macro
        m.submodules.macro = macro = self.macro
        m.submodules.decoder = decoder = EventDecoder(p)
        m.submodules.walker = walker = TapWalker(p)
        m.submodules.encoder = encoder = SpikeEncoder(p)
        host = self.host.payload
        cmd = macro.cmd.payload
        width = step_width(p)

        m.submodules.descriptors = descriptors = Memory(
            shape=p.descriptor_format.size, depth=p.max_layers, init=[])
        m.submodules.buffer = buffer = Memory(shape=p.cols, depth=p.buffer_rows, init=[])
        m.submodules.queues = queues = EventQueues(p)
        d_wr, d_rd = descriptors.write_port(), descriptors.read_port()
        b_wr, b_rd = buffer.write_port(), buffer.read_port()

        desc = Signal(struct_layout(p.descriptor_format))
        layers = Signal(range(p.max_layers + 1), init=1)
        layer = Signal(range(p.max_layers + 1))
        count_in = Signal.like(queues.count)     # events of the current layer
        plane = Signal(range(mp.planes + 1))
        counters = Array(Signal(mp.counter_width, name=f"counter_{c.name.lower()}")
                         for c in CoreCounter)

        def tally(counter, amount=1):
            m.d.sync += counters[counter].eq(counters[counter] + amount)

        m.d.comb += [self.dropped.eq(counters[CoreCounter.DROPPED]),
                     self.refused.eq(counters[CoreCounter.REFUSED])]
        with m.If(macro.cmd.valid & ~macro.cmd.ready):
            tally(CoreCounter.STALLS)
        with m.If(self.spike.valid & ~self.spike.ready):
            tally(CoreCounter.SPIKE_WAITS)
        last_layer = layer == layers - 1
        flags = Cat(desc.saturate, desc.subtract)

        m.d.comb += [decoder.desc.eq(desc), walker.desc.eq(desc), decoder.count.eq(count_in),
                     queues.read_index.eq(decoder.queue_index),
                     queues.read_en.eq(decoder.queue_en), decoder.queue_data.eq(queues.read_data)]
        tally(CoreCounter.DROPPED, queues.dropped)
        wiring.connect(m, decoder.starts, walker.starts)
        target = walker.targets.payload

        def issue(op, a=0, b=0, data=0):
            m.d.comb += [macro.cmd.valid.eq(1), cmd.op.eq(op), cmd.a.eq(a), cmd.b.eq(b),
                         cmd.data.eq(data)]
            return macro.cmd.ready

        # -- the chunk: membrane rows [m0, m0 + rows) of the layer ---------------------------
        m0 = Signal(width)
        g0 = Signal.like(desc.groups)            # its first membrane group
        w_first = Signal(width)                  # linear: its first group's weight offset
        rows = Signal(width)
        m.d.comb += [walker.m0.eq(m0), walker.m1.eq(m0 + desc.chunk_rows),
                     walker.w_first.eq(w_first),
                     walker.v_first.eq(Mux(desc.conv, 0, m0)),
                     walker.cg_first.eq(Mux(desc.conv, 0, g0)),
                     walker.cg_last.eq(Mux(desc.conv, desc.channel_groups - 1,
                                           g0 + desc.chunk - 1))]
        r = Signal(width)                        # a row of the chunk (LOAD, bias, FIRE, STORE)
        os_membrane = Signal(mp.addr_width)      # os: the ACC's membrane row, while the walker
                                                 # has moved on to the next target
        r_back = Signal(width)                   # STORE: rows written back to the buffer
        odd = Signal()                           # LOAD: the threshold row of row r

        # Bias operands go round the channel groups, carried over from chunk to chunk.
        bias_cg = Signal.like(desc.channel_groups)
        bias_row = Signal(mp.addr_width)

        # -- spikes: the encoder's events go to the next layer's queue or the spike port -----
        m.d.comb += encoder.desc.eq(desc)
        wiring.connect(m, macro.spike, encoder.columns)
        event = encoder.events
        spike_out = Signal()
        with m.If(event.valid):
            with m.If(last_layer):
                m.d.comb += [spike_out.eq(1), event.ready.eq(self.spike.ready)]
                with m.If(self.spike.ready):
                    tally(CoreCounter.EVENTS_OUT)
            with m.Else():
                m.d.comb += [event.ready.eq(1), queues.to_next.valid.eq(1),
                             queues.to_next.payload.eq(event.payload)]
                tally(CoreCounter.EVENTS_OUT)

        malformed = Cat(*(getattr(desc, name) == 0 for name in (
            "lane_width", "lanes", "channels", "channel_groups", "groups", "chunk", "s_w", "s_v",
            "out_h", "out_w", "kh", "kw", "stride_y", "stride_x", "total_rows", "chunk_rows",
            "position_rows", "pool_y", "pool_x"))).any()

        # Read-data the macro still owes the host: a COUNTER or READ answer waits for it, so
        # that answers leave in the order their commands came.
        owed = Signal(range(64))
        host_cmd = data.View(struct_layout(mp.command_format),
                             host.data[:mp.command_format.size])
        asks = (host_cmd.op == Op.STORE) | (host_cmd.op == Op.COUNTER)
        reply_row = Signal.like(host.a)
        reply = Signal(mp.counter_width)
        reply_read = Signal()

        # -- the controller -----------------------------------------------------------------
        with m.FSM():
            with m.State("IDLE"):
                m.d.comb += self.host.ready.eq(1)
                m.d.comb += [self.rdata.valid.eq(macro.rdata.valid),
                             self.rdata.payload.eq(macro.rdata.payload),
                             macro.rdata.ready.eq(self.rdata.ready)]
                take = self.host.valid
                gave = macro.rdata.valid & self.rdata.ready
                took = take & self.host.ready & (host.op == HostOp.MACRO) & asks
                m.d.sync += owed.eq(owed + took - gave)
                with m.Switch(host.op):
                    with m.Case(HostOp.LAYER):
                        m.d.comb += [d_wr.addr.eq(host.a), d_wr.data.eq(host.data),
                                     d_wr.en.eq(take & (host.a < p.max_layers))]
                        with m.If(take & (host.a >= p.max_layers)):
                            tally(CoreCounter.BAD_COMMANDS)
                    with m.Case(HostOp.BUFFER):
                        m.d.comb += [b_wr.addr.eq(host.a), b_wr.data.eq(host.data),
                                     b_wr.en.eq(take & (host.a < p.buffer_rows))]
                        with m.If(take & (host.a >= p.buffer_rows)):
                            tally(CoreCounter.BAD_COMMANDS)
                    with m.Case(HostOp.MACRO):
                        m.d.comb += [macro.cmd.valid.eq(take),
                                     macro.cmd.payload.as_value().eq(host.data),
                                     self.host.ready.eq(macro.cmd.ready)]
                        with m.If(take & macro.cmd.ready & (host_cmd.op == Op.CLEAR)):
                            m.d.sync += [c.eq(0) for c in counters]
                    with m.Case(HostOp.COUNTER, HostOp.READ):
                        m.d.comb += [self.host.ready.eq(owed == 0),
                                     b_rd.addr.eq(host.a)]
                        with m.If(take & (owed == 0)):
                            # Out of range: still answered (zero, or some row), and counted.
                            with m.If(Mux(host.op == HostOp.READ, host.a >= p.buffer_rows,
                                          host.a >= len(CoreCounter))):
                                tally(CoreCounter.BAD_COMMANDS)
                            m.d.sync += [reply_row.eq(host.a),
                                         reply_read.eq(host.op == HostOp.READ),
                                         reply.eq(Mux(host.a < len(CoreCounter),
                                                      counters[host.a], 0))]
                            m.next = "REPLY"
                    with m.Case(HostOp.EVENT):
                        m.d.comb += [queues.to_current.valid.eq(take),
                                     queues.to_current.payload.eq(host.a)]
                    with m.Case(HostOp.LAYERS):
                        with m.If(take & (host.a >= 1) & (host.a <= p.max_layers)):
                            m.d.sync += layers.eq(host.a)
                        with m.Elif(take):
                            tally(CoreCounter.BAD_COMMANDS)
                    with m.Case(HostOp.STEP):
                        with m.If(take):
                            m.d.sync += layer.eq(0)
                            m.next = "DESC"

            with m.State("REPLY"):               # a counter, or a buffer row read last cycle
                m.d.comb += [b_rd.addr.eq(reply_row), self.rdata.valid.eq(1),
                             self.rdata.payload.eq(Mux(reply_read, b_rd.data, reply))]
                with m.If(self.rdata.ready):
                    m.next = "IDLE"

            with m.State("DESC"):                # the descriptor is read this cycle
                m.d.comb += d_rd.addr.eq(layer)
                m.next = "DESC_HELD"

            with m.State("DESC_HELD"):
                m.d.comb += d_rd.addr.eq(layer)
                m.d.sync += [desc.eq(d_rd.data), plane.eq(0), count_in.eq(queues.count)]
                m.next = "CHECK"

            with m.State("CHECK"):
                with m.If(malformed):
                    tally(CoreCounter.REFUSED)
                    m.next = "NEXT"
                with m.Else():
                    tally(CoreCounter.LAYERS)
                    tally(CoreCounter.EVENTS_IN, count_in)
                    m.next = "PLANE_READ"

            with m.State("PLANE_READ"):          # the plane's row is read from the buffer
                m.d.comb += b_rd.addr.eq(desc.buffer_planes + plane)
                m.next = "PLANE"

            with m.State("PLANE"):
                m.d.comb += b_rd.addr.eq(desc.buffer_planes + plane)
                with m.If(issue(Op.PLANE, plane, 0, b_rd.data)):
                    tally(CoreCounter.BUFFER_READS)
                    m.d.sync += plane.eq(plane + 1)
                    with m.If(plane == mp.planes - 1):
                        m.next = "COMMIT"
                    with m.Else():
                        m.next = "PLANE_READ"

            with m.State("COMMIT"):
                with m.If(issue(Op.COMMIT, desc.s_v - 1, flags)):
                    m.d.comb += encoder.start.eq(1)
                    m.d.sync += [m0.eq(0), g0.eq(0), w_first.eq(0),
                                 bias_cg.eq(0), bias_row.eq(desc.bias_rows)]
                    m.next = "CHUNK"

            with m.State("CHUNK"):
                m.d.sync += [rows.eq(Mux(desc.total_rows - m0 < desc.chunk_rows,
                                         desc.total_rows - m0, desc.chunk_rows)),
                             r.eq(0), odd.eq(0), r_back.eq(0)]
                with m.If(~desc.resident):
                    m.next = "LOAD_READ"
                with m.Else():
                    m.next = "CHUNK_LOADED"

            # Chunked: membrane row r, then its threshold row, from the buffer; the read runs
            # one row ahead so that a LOAD can go every cycle.
            def load_source(row, threshold):
                return Mux(threshold, desc.buffer_thresholds, desc.buffer_membranes) + m0 + row

            with m.State("LOAD_READ"):
                m.d.comb += b_rd.addr.eq(load_source(r, odd))
                m.next = "LOADS"

            with m.State("LOADS"):
                done = odd & (r + 1 == rows)
                target_row = Mux(odd, desc.threshold_rows, desc.membrane_rows) + r
                m.d.comb += b_rd.addr.eq(load_source(r, odd))
                with m.If(issue(Op.LOAD, target_row, 0, b_rd.data)):
                    tally(CoreCounter.BUFFER_READS)
                    m.d.comb += b_rd.addr.eq(load_source(r + odd, ~odd))
                    m.d.sync += [odd.eq(~odd), r.eq(r + odd)]
                    with m.If(done):
                        m.d.sync += r.eq(0)
                        m.next = "CHUNK_LOADED"

            with m.State("CHUNK_LOADED"):
                with m.If(desc.has_bias):
                    m.next = "BIAS"
                with m.Else():
                    m.next = "EVENTS"

            with m.State("BIAS"):
                with m.If(issue(Op.ACC, bias_row, desc.membrane_rows + r)):
                    m.d.sync += r.eq(r + desc.s_v)
                    with m.If(bias_cg == desc.channel_groups - 1):
                        m.d.sync += [bias_cg.eq(0), bias_row.eq(desc.bias_rows)]
                    with m.Else():
                        m.d.sync += [bias_cg.eq(bias_cg + 1), bias_row.eq(bias_row + desc.s_w)]
                    with m.If(r + desc.s_v >= rows):
                        m.next = "EVENTS"

            with m.State("EVENTS"):
                m.d.comb += [decoder.start.eq(1), walker.restart.eq(1)]
                with m.If(count_in == 0):
                    m.next = "FIRES"
                with m.Else():
                    m.next = "ACCS"

            with m.State("ACCS"):
                with m.If(~walker.done & ~walker.targets.valid):
                    tally(CoreCounter.TAP_WAITS)
                with m.If(walker.done):
                    m.next = "FIRES"
                with m.Elif(desc.os):
                    m.d.sync += r.eq(0)
                    m.next = "OS_READ"
                with m.Elif(walker.targets.valid):
                    m.d.comb += walker.targets.ready.eq(
                        issue(Op.ACC, desc.weight_rows + target.weights, target.membrane))

            # Output-stationary: the target's weight operand, row by row, from the buffer into
            # the macro's one-operand slot (the read runs one row ahead), then its ACC. The
            # walker moves on with the last LOAD, so the next target's first row is read
            # while the ACC goes (S_W + 1 cycles per target).
            with m.State("OS_READ"):
                m.d.comb += b_rd.addr.eq(desc.buffer_weights + target.weights)
                with m.If(~walker.done & ~walker.targets.valid):
                    tally(CoreCounter.TAP_WAITS)
                with m.If(walker.done):
                    m.next = "FIRES"
                with m.Elif(walker.targets.valid):
                    m.next = "OS_LOAD"

            with m.State("OS_LOAD"):
                m.d.comb += b_rd.addr.eq(desc.buffer_weights + target.weights + r)
                with m.If(issue(Op.LOAD, desc.weight_rows + r, 0, b_rd.data)):
                    tally(CoreCounter.BUFFER_READS)
                    m.d.comb += b_rd.addr.eq(desc.buffer_weights + target.weights + r + 1)
                    m.d.sync += r.eq(r + 1)
                    with m.If(r + 1 == desc.s_w):
                        m.d.comb += walker.targets.ready.eq(1)
                        m.d.sync += os_membrane.eq(target.membrane)
                        m.next = "OS_ACC"

            with m.State("OS_ACC"):
                m.d.comb += b_rd.addr.eq(desc.buffer_weights + target.weights)
                with m.If(issue(Op.ACC, desc.weight_rows, os_membrane)):
                    m.d.sync += r.eq(0)
                    with m.If(walker.done):
                        m.next = "FIRES"
                    with m.Elif(walker.targets.valid):
                        m.next = "OS_LOAD"
                    with m.Else():
                        m.next = "OS_READ"

            with m.State("FIRES"):
                m.d.sync += r.eq(0)
                m.next = "FIRE"

            with m.State("FIRE"):
                with m.If(issue(Op.FIRE, desc.membrane_rows + r, desc.threshold_rows + r)):
                    m.next = "FENCE"

            with m.State("FENCE"):
                with m.If(issue(Op.COUNTER, Counter.SPIKES)):
                    m.next = "FENCE_WAIT"

            with m.State("FENCE_WAIT"):          # every spike of this FIRE is out
                m.d.comb += macro.rdata.ready.eq(1)
                with m.If(~macro.rdata.valid):
                    tally(CoreCounter.FENCE_WAITS)
                with m.If(macro.rdata.valid):
                    m.d.comb += encoder.next_group.eq(1)
                    m.d.sync += r.eq(r + desc.s_v)
                    with m.If(r + desc.s_v < rows):
                        m.next = "FIRE"
                    with m.Elif(desc.resident):
                        m.next = "CHUNK_NEXT"
                    with m.Else():
                        m.d.sync += r.eq(0)
                        m.next = "STORES"

            # Chunked: STORE each membrane row; its read-data goes back to the buffer.
            with m.State("STORES"):
                with m.If(r < rows):
                    with m.If(issue(Op.STORE, desc.membrane_rows + r)):
                        m.d.sync += r.eq(r + 1)
                m.d.comb += [macro.rdata.ready.eq(1),
                             b_wr.addr.eq(desc.buffer_membranes + m0 + r_back),
                             b_wr.data.eq(macro.rdata.payload),
                             b_wr.en.eq(macro.rdata.valid)]
                with m.If(macro.rdata.valid):
                    tally(CoreCounter.BUFFER_WRITES)
                    m.d.sync += r_back.eq(r_back + 1)
                    with m.If(r_back + 1 == rows):
                        m.next = "CHUNK_NEXT"

            with m.State("CHUNK_NEXT"):
                m.d.sync += [m0.eq(m0 + desc.chunk_rows), g0.eq(g0 + desc.chunk),
                             w_first.eq(w_first + desc.chunk_weights)]
                with m.If(m0 + desc.chunk_rows >= desc.total_rows):
                    m.next = "NEXT"
                with m.Else():
                    m.next = "CHUNK"

            with m.State("NEXT"):
                # The layer's queue is used up; the next layer reads the one its spikes filled
                # (once the encoder's last event is in it, or out on the spike port).
                with m.If(~encoder.events.valid):
                    m.d.comb += queues.swap.eq(1)
                    m.d.sync += layer.eq(layer + 1)
                    with m.If(last_layer):
                        m.next = "END"
                    with m.Else():
                        m.next = "DESC"

            with m.State("END"):
                m.d.comb += [self.spike.valid.eq(1), self.spike.payload.end.eq(1)]
                with m.If(self.spike.ready):
                    m.next = "IDLE"

        with m.If(spike_out):
            m.d.comb += [self.spike.valid.eq(1), self.spike.payload.address.eq(event.payload)]
        return m
